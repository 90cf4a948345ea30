//! The `[extreme]` table of the simulator inventory: the MSP account, its administrators,
//! owned entitlements, and the tenants and partners it starts with. Parsing and
//! validation only; no HTTP.

use std::collections::BTreeSet;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::switches::ExtremeSwitches;
use super::validate;

/// The ExtremeCloud MSP account.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtremeInventory {
    /// The MSP's own id, `Msp-tenantid-<16 alnum>`.
    pub msp_id: String,
    pub msp_name: String,
    /// Static bearer tokens that are always valid (power admin, no expiry, no idle timeout).
    pub tokens: Vec<String>,
    /// Administrators who can log in with the password grant.
    pub users: Vec<ExtremeUser>,
    /// Administrator ids taken elsewhere in ExtremeCloud (a new `userId` must avoid them).
    pub foreign_user_ids: Vec<String>,
    /// Device entitlements assigned to the MSP.
    pub entitlements: Vec<ExtremeEntitlement>,
    pub tenants: Vec<ExtremeInventoryTenant>,
    pub partners: Vec<ExtremeInventoryPartner>,
    pub switches: ExtremeSwitches,
}

/// An administrator of the MSP account.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExtremeUser {
    pub user_id: String,
    pub password: String,
    pub role: Role,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// MSP Power Admin: every MSP operation.
    PowerAdmin,
    /// Read-only admin: GET only.
    ReadOnly,
}

/// One entitlement (subscription on one device serial).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExtremeEntitlement {
    pub entitlement_id: String,
    pub serial_number: String,
}

/// A tenant (end customer) that exists when the simulator starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtremeInventoryTenant {
    /// `MspEndCustomer-tenantid-<16 alnum>`.
    pub cust_id: String,
    pub account_name: String,
    pub country: String,
    pub time_zone: String,
    pub contact_name: String,
    pub contact_email: String,
    #[serde(default)]
    pub contact_phone: String,
    /// The tenant's first power admin.
    pub user_id: String,
}

/// A partner that exists when the simulator starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtremeInventoryPartner {
    /// `MspPartner-tenantid-<16 alnum>`.
    pub cust_id: String,
    pub account_name: String,
    pub country: String,
    pub time_zone: String,
    pub contact_name: String,
    pub contact_email: String,
    #[serde(default)]
    pub contact_phone: String,
    pub user_id: String,
    /// `cust_id`s of tenants this partner manages.
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Entitlements (from the MSP's list) assigned to this partner.
    #[serde(default)]
    pub entitlements: Vec<ExtremeEntitlement>,
}

impl Default for ExtremeInventory {
    fn default() -> Self {
        ExtremeInventory {
            msp_id: "Msp-tenantid-Nc5YXfsVtOKdMmsj".into(),
            msp_name: "Simulated MSP".into(),
            tokens: vec!["sim-token".into()],
            users: vec![
                ExtremeUser {
                    user_id: "msp-admin@example.net".into(),
                    password: "sim-password".into(),
                    role: Role::PowerAdmin,
                },
                ExtremeUser {
                    user_id: "msp-viewer@example.net".into(),
                    password: "sim-password".into(),
                    role: Role::ReadOnly,
                },
            ],
            foreign_user_ids: Vec::new(),
            entitlements: Vec::new(),
            tenants: Vec::new(),
            partners: Vec::new(),
            switches: ExtremeSwitches::default(),
        }
    }
}

fn check_id(id: &str, prefix: &str, what: &str) -> anyhow::Result<()> {
    let ok = id
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 16 && rest.chars().all(|c| c.is_ascii_alphanumeric()));
    if !ok {
        bail!("extreme: {what} id {id:?} must be {prefix}<16 letters or digits>");
    }
    Ok(())
}

fn check_fields(
    what: &str,
    name: &str,
    country: &str,
    time_zone: &str,
    contact_name: &str,
    contact_email: &str,
    user_id: &str,
) -> anyhow::Result<()> {
    let checks = [
        validate::account_name(name),
        validate::country(country).map(|_| ()),
        validate::time_zone(time_zone),
        validate::contact_name(contact_name),
        validate::email(contact_email, "contactEmail"),
        validate::user_id(user_id),
    ];
    for c in checks {
        if let Err(e) = c {
            bail!("extreme: {what} {name:?}: {e}");
        }
    }
    Ok(())
}

impl ExtremeInventory {
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        check_id(&self.msp_id, super::MSP_ID_PREFIX, "msp")?;
        if let Err(e) = self.switches.validate() {
            bail!("extreme.switches: {e}");
        }
        let mut user_ids = BTreeSet::new();
        let users = self.users.iter().map(|u| u.user_id.as_str());
        let owned = self.tenants.iter().map(|t| t.user_id.as_str());
        let partner_users = self.partners.iter().map(|p| p.user_id.as_str());
        for u in users.chain(owned).chain(partner_users) {
            if !user_ids.insert(u.to_ascii_lowercase()) {
                bail!("extreme: user id {u:?} is used twice");
            }
        }
        let mut ents = BTreeSet::new();
        for e in &self.entitlements {
            if !ents.insert(e.entitlement_id.as_str()) {
                bail!(
                    "extreme.entitlements: {:?} is listed twice",
                    e.entitlement_id
                );
            }
        }
        let mut ids = BTreeSet::new();
        for t in &self.tenants {
            check_id(&t.cust_id, super::TENANT_ID_PREFIX, "tenant")?;
            if !ids.insert(t.cust_id.as_str()) {
                bail!("extreme: id {:?} is used twice", t.cust_id);
            }
            check_fields(
                "tenant",
                &t.account_name,
                &t.country,
                &t.time_zone,
                &t.contact_name,
                &t.contact_email,
                &t.user_id,
            )?;
        }
        let mut held_tenants = BTreeSet::new();
        let mut held_ents = BTreeSet::new();
        for p in &self.partners {
            check_id(&p.cust_id, super::PARTNER_ID_PREFIX, "partner")?;
            if !ids.insert(p.cust_id.as_str()) {
                bail!("extreme: id {:?} is used twice", p.cust_id);
            }
            check_fields(
                "partner",
                &p.account_name,
                &p.country,
                &p.time_zone,
                &p.contact_name,
                &p.contact_email,
                &p.user_id,
            )?;
            for t in &p.tenants {
                if !self.tenants.iter().any(|x| &x.cust_id == t) {
                    bail!(
                        "extreme: partner {:?} names tenant {t:?}, which is not in extreme.tenants",
                        p.account_name
                    );
                }
                if !held_tenants.insert(t.as_str()) {
                    bail!("extreme: tenant {t:?} is in two partners");
                }
            }
            for e in &p.entitlements {
                if !self.entitlements.contains(e) {
                    bail!(
                        "extreme: partner {:?} holds entitlement {:?}, which is not in extreme.entitlements",
                        p.account_name,
                        e.entitlement_id
                    );
                }
                if !held_ents.insert(e.entitlement_id.as_str()) {
                    bail!(
                        "extreme: entitlement {:?} is on two partners",
                        e.entitlement_id
                    );
                }
            }
        }
        Ok(())
    }
}
