//! The simulator's starting inventory (TOML): the MSP account, its device inventory,
//! licence pools and behaviour switches. Parsing and validation only; no HTTP.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::aruba::ArubaSwitches;
use super::ruckus::RuckusInventory;

/// Everything the simulated clouds start with.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    pub aruba: ArubaInventory,
    #[serde(default)]
    pub ruckus: RuckusInventory,
}

/// The Aruba Central MSP account.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArubaInventory {
    /// The MSP's own customer id (32 lowercase hex).
    pub msp_id: String,
    #[serde(default = "default_msp_name")]
    pub msp_name: String,
    /// Static bearer tokens that are always valid.
    #[serde(default = "default_tokens")]
    pub tokens: Vec<String>,
    #[serde(default)]
    pub oauth: OauthClient,
    /// MSP-level groups, ids 1, 2, ... in this order.
    #[serde(default = "default_groups")]
    pub groups: Vec<String>,
    /// Licence pools by service name.
    #[serde(default)]
    pub licenses: BTreeMap<String, LicensePool>,
    #[serde(default)]
    pub switches: ArubaSwitches,
    #[serde(default)]
    pub devices: Vec<InventoryDevice>,
}

/// The OAuth client the refresh flow accepts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OauthClient {
    pub client_id: String,
    pub client_secret: String,
    /// The initial refresh token.
    pub refresh_token: String,
}

impl Default for OauthClient {
    fn default() -> Self {
        OauthClient {
            client_id: "sim-client".into(),
            client_secret: "sim-secret".into(),
            refresh_token: "sim-refresh".into(),
        }
    }
}

/// A licence pool: how many tokens exist for a service.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicensePool {
    pub tokens: u32,
    /// "IAP" | "SWITCH" | "CONTROLLER": the device type the service applies to (any when absent).
    #[serde(default)]
    pub device_type: Option<String>,
}

/// One device of the MSP inventory.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryDevice {
    pub serial: String,
    pub mac: String,
    /// "IAP" | "SWITCH" | "CONTROLLER".
    #[serde(rename = "type")]
    pub device_type: String,
    pub model: String,
    pub part: String,
}

fn default_msp_name() -> String {
    "Simulated MSP".into()
}

fn default_tokens() -> Vec<String> {
    vec!["sim-token".into()]
}

fn default_groups() -> Vec<String> {
    [
        "default",
        "coffee_shop_group",
        "retail_group",
        "msp_default",
    ]
    .map(String::from)
    .to_vec()
}

pub(crate) const DEVICE_TYPES: [&str; 3] = ["IAP", "SWITCH", "CONTROLLER"];

impl Inventory {
    /// The inventory shipped in `examples/sim-inventory.toml`.
    pub fn embedded() -> Inventory {
        Self::from_toml_str(include_str!("../../examples/sim-inventory.toml"))
            .expect("the embedded simulator inventory is valid (checked by tests)")
    }

    pub fn from_file(path: &Path) -> anyhow::Result<Inventory> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read simulator inventory {}", path.display()))?;
        Self::from_toml_str(&text)
            .with_context(|| format!("invalid simulator inventory {}", path.display()))
    }

    pub fn from_toml_str(s: &str) -> anyhow::Result<Inventory> {
        let inv: Inventory = toml::from_str(s).context("simulator inventory is not valid TOML")?;
        inv.validate()?;
        Ok(inv)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.ruckus.validate()?;
        let a = &self.aruba;
        if a.msp_id.len() != 32
            || !a
                .msp_id
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        {
            bail!("aruba.msp_id must be 32 lowercase hex characters");
        }
        if a.groups.is_empty() {
            bail!("aruba.groups must name at least one group");
        }
        for (name, pool) in &a.licenses {
            if let Some(t) = &pool.device_type
                && !DEVICE_TYPES.contains(&t.as_str())
            {
                bail!("aruba.licenses.{name}.device_type must be one of IAP, SWITCH, CONTROLLER");
            }
        }
        let mut serials = BTreeSet::new();
        for d in &a.devices {
            if d.serial.is_empty() || !serials.insert(d.serial.as_str()) {
                bail!(
                    "aruba.devices: serial {:?} is empty or listed twice",
                    d.serial
                );
            }
            if !DEVICE_TYPES.contains(&d.device_type.as_str()) {
                bail!(
                    "aruba.devices: {} has type {:?}; expected IAP, SWITCH or CONTROLLER",
                    d.serial,
                    d.device_type
                );
            }
            if normalize_mac(&d.mac).is_none() {
                bail!("aruba.devices: {} has an invalid MAC {:?}", d.serial, d.mac);
            }
        }
        Ok(())
    }
}

/// A MAC as 12 uppercase hex digits, whatever the separators; `None` when malformed.
pub(crate) fn normalize_mac(mac: &str) -> Option<String> {
    let hex: String = mac
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    (hex.len() == 12 && hex.chars().all(|c| c.is_ascii_hexdigit())).then(|| hex.to_uppercase())
}
