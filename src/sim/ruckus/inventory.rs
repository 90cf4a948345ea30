//! The `[ruckus]` table of the simulator inventory: the MSP tenant, its API client,
//! tech partners and pre-existing ECs. Parsing and validation only.

use std::collections::BTreeSet;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::dates::normalize_date;
use super::switches::RuckusSwitches;

/// The RUCKUS One MSP account the simulator starts with.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuckusInventory {
    /// The MSP's own tenant id (32 lowercase hex).
    pub msp_tenant_id: String,
    pub msp_name: String,
    /// `msp_label` in EC views.
    pub msp_label: String,
    /// Static bearer tokens that are always valid and act as the MSP.
    pub tokens: Vec<String>,
    pub oauth: RuckusOauth,
    pub tech_partners: Vec<TechPartnerInventory>,
    pub ecs: Vec<EcInventory>,
    pub switches: RuckusSwitches,
}

/// The MSP's API client (an application token's client id and secret).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RuckusOauth {
    pub client_id: String,
    pub client_secret: String,
}

impl Default for RuckusOauth {
    fn default() -> Self {
        RuckusOauth {
            client_id: "sim-r1-client".into(),
            client_secret: "sim-r1-secret".into(),
        }
    }
}

/// A tech partner (integrator or installer) tenant of the MSP.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TechPartnerInventory {
    pub id: String,
    pub name: String,
    /// "MSP_INTEGRATOR" | "MSP_INSTALLER".
    #[serde(rename = "type")]
    pub partner_type: String,
}

/// An EC that exists before any client call.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcInventory {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub street_address: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub service_effective_date: Option<String>,
    #[serde(default)]
    pub service_expiration_date: Option<String>,
    #[serde(default)]
    pub admin_email: Option<String>,
    #[serde(default)]
    pub tier: Option<String>,
    /// Ids of tech partners the EC is assigned to (ACCEPTED delegations).
    #[serde(default)]
    pub tech_partners: Vec<String>,
}

impl Default for RuckusInventory {
    fn default() -> Self {
        RuckusInventory {
            msp_tenant_id: "8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60".into(),
            msp_name: "Simulated R1 MSP".into(),
            msp_label: "simmsp".into(),
            tokens: vec!["sim-token".into()],
            oauth: RuckusOauth::default(),
            tech_partners: Vec::new(),
            ecs: Vec::new(),
            switches: RuckusSwitches::default(),
        }
    }
}

pub(crate) fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

pub(crate) const PARTNER_TYPES: [&str; 2] = ["MSP_INTEGRATOR", "MSP_INSTALLER"];

impl RuckusInventory {
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        if !is_hex32(&self.msp_tenant_id) {
            bail!("ruckus.msp_tenant_id must be 32 lowercase hex characters");
        }
        if self.oauth.client_id.is_empty() || self.oauth.client_secret.is_empty() {
            bail!("ruckus.oauth needs a client_id and a client_secret");
        }
        let mut ids = BTreeSet::from([self.msp_tenant_id.as_str()]);
        for p in &self.tech_partners {
            if !is_hex32(&p.id) || !ids.insert(p.id.as_str()) {
                bail!(
                    "ruckus.tech_partners: id {:?} is not 32 lowercase hex or is used twice",
                    p.id
                );
            }
            if !PARTNER_TYPES.contains(&p.partner_type.as_str()) {
                bail!(
                    "ruckus.tech_partners: {} has type {:?}; expected MSP_INTEGRATOR or MSP_INSTALLER",
                    p.id,
                    p.partner_type
                );
            }
        }
        let partners: BTreeSet<&str> = self.tech_partners.iter().map(|p| p.id.as_str()).collect();
        for e in &self.ecs {
            if !is_hex32(&e.id) || !ids.insert(e.id.as_str()) {
                bail!(
                    "ruckus.ecs: id {:?} is not 32 lowercase hex or is used twice",
                    e.id
                );
            }
            if e.name.trim().is_empty() {
                bail!("ruckus.ecs: {} has an empty name", e.id);
            }
            for d in [&e.service_effective_date, &e.service_expiration_date]
                .into_iter()
                .flatten()
            {
                if normalize_date(d).is_none() {
                    bail!("ruckus.ecs: {} has an invalid date {d:?}", e.id);
                }
            }
            for p in &e.tech_partners {
                if !partners.contains(p.as_str()) {
                    bail!("ruckus.ecs: {} names unknown tech partner {p:?}", e.id);
                }
            }
        }
        Ok(())
    }
}
