//! Out-of-band "portal" edits to the simulated ExtremeCloud account (for drift tests),
//! and its [`SimVendor`] registration for the `/_sim/extreme/…` control endpoints.

use anyhow::{anyhow, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::SimState;
use super::super::common::text;
use super::super::control::SimVendor;
use super::validate;
use super::{Contact, ExtremeState, ExtremeSwitches, TENANT_ID_PREFIX, Tenant};

/// One portal edit (`POST /_sim/extreme/edit`, tagged by `"op"`). Tenants and partners
/// are named by `custId` or by `accountName`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ExtremeEdit {
    /// Take a tenant off a partner (it stays a tenant of the MSP).
    RemoveTenantFromPartner { partner: String, tenant: String },
    /// Give a tenant to a partner (detached from any other partner).
    AddTenantToPartner { partner: String, tenant: String },
    /// Change one field of a tenant: accountName, country, timeZone, contactName,
    /// contactEmail or contactPhoneNumber. Field rules apply.
    TenantField {
        tenant: String,
        field: String,
        value: Value,
    },
    /// Delete a tenant (and take it off its partner).
    DeleteTenant { tenant: String },
    /// Create a tenant, in no partner. `user_id` defaults to `admin-<n>@tenant.invalid`;
    /// `cust_id` to a fresh `MspEndCustomer-tenantid-…`.
    CreateTenant {
        account_name: String,
        country: String,
        time_zone: String,
        #[serde(default)]
        contact_name: Option<String>,
        #[serde(default)]
        contact_email: Option<String>,
        #[serde(default)]
        contact_phone: Option<String>,
        #[serde(default)]
        user_id: Option<String>,
        #[serde(default)]
        cust_id: Option<String>,
    },
}

impl SimVendor for ExtremeState {
    const NAME: &'static str = "extreme";
    type Switches = ExtremeSwitches;
    type Edit = ExtremeEdit;
    fn of(st: &mut SimState) -> &mut Self {
        &mut st.extreme
    }
    fn switches(&mut self) -> &mut ExtremeSwitches {
        &mut self.switches
    }
    /// Apply a portal edit.
    fn edit(&mut self, edit: ExtremeEdit, _now_ms: u64) -> anyhow::Result<Option<String>> {
        match edit {
            ExtremeEdit::RemoveTenantFromPartner { partner, tenant } => {
                let p = self.find_partner(&partner)?;
                let t = self.tenants[self.find_tenant(&tenant)?].cust_id.clone();
                let list = &mut self.partners[p].tenants;
                if !list.contains(&t) {
                    bail!("partner {partner:?} does not manage tenant {tenant:?}");
                }
                list.retain(|x| *x != t);
            }
            ExtremeEdit::AddTenantToPartner { partner, tenant } => {
                let p = self.find_partner(&partner)?;
                let t = self.tenants[self.find_tenant(&tenant)?].cust_id.clone();
                for other in &mut self.partners {
                    other.tenants.retain(|x| *x != t);
                }
                self.partners[p].tenants.push(t);
            }
            ExtremeEdit::TenantField {
                tenant,
                field,
                value,
            } => {
                let i = self.find_tenant(&tenant)?;
                let v = text(&value);
                let err = |e: validate::FieldError| anyhow!("{e}");
                let t = &mut self.tenants[i];
                let blank = || Contact {
                    email: String::new(),
                    name: String::new(),
                    phone: String::new(),
                };
                match field.as_str() {
                    "accountName" | "account_name" => {
                        validate::account_name(&v).map_err(err)?;
                        t.account_name = v;
                    }
                    "country" => t.country = validate::country(&v).map_err(err)?,
                    "timeZone" | "time_zone" => {
                        validate::time_zone(&v).map_err(err)?;
                        t.time_zone = v;
                    }
                    "contactName" | "contact_name" => {
                        validate::contact_name(&v).map_err(err)?;
                        t.contact.get_or_insert_with(blank).name = v;
                    }
                    "contactEmail" | "contact_email" => {
                        validate::email(&v, "contactEmail").map_err(err)?;
                        t.contact.get_or_insert_with(blank).email = v;
                    }
                    "contactPhoneNumber" | "contact_phone" => {
                        t.contact.get_or_insert_with(blank).phone = v;
                    }
                    other => bail!("unknown tenant field {other:?}"),
                }
            }
            ExtremeEdit::DeleteTenant { tenant } => {
                let id = self.tenants[self.find_tenant(&tenant)?].cust_id.clone();
                self.remove_tenant(&id);
            }
            ExtremeEdit::CreateTenant {
                account_name,
                country,
                time_zone,
                contact_name,
                contact_email,
                contact_phone,
                user_id,
                cust_id,
            } => {
                let err = |e: validate::FieldError| anyhow!("{e}");
                validate::account_name(&account_name).map_err(err)?;
                let country = validate::country(&country).map_err(err)?;
                validate::time_zone(&time_zone).map_err(err)?;
                let user_id = match user_id {
                    Some(u) => u,
                    None => format!("admin-{}@tenant.invalid", self.tenants.len() + 1),
                };
                if self.user_id_taken(&user_id) {
                    bail!("user id {user_id:?} is already used");
                }
                let cust_id = match cust_id {
                    Some(id) => {
                        let well_formed = id.strip_prefix(TENANT_ID_PREFIX).is_some_and(|r| {
                            r.len() == 16 && r.chars().all(|c| c.is_ascii_alphanumeric())
                        });
                        if !well_formed {
                            bail!("cust_id must be {TENANT_ID_PREFIX}<16 letters or digits>");
                        }
                        if self.tenant_index(&id).is_some() || self.partner_index(&id).is_some() {
                            bail!("id {id:?} is already used");
                        }
                        id
                    }
                    None => self.new_id(TENANT_ID_PREFIX),
                };
                let contact = Contact {
                    name: contact_name.unwrap_or_else(|| account_name.clone()),
                    email: contact_email.unwrap_or_else(|| user_id.clone()),
                    phone: contact_phone.unwrap_or_default(),
                };
                self.tenants.push(Tenant {
                    cust_id,
                    account_name,
                    country,
                    time_zone,
                    contact: Some(contact),
                    user_id,
                });
            }
        }
        Ok(None)
    }
    fn check(switches: &ExtremeSwitches) -> Result<(), String> {
        switches.validate()
    }
}

impl ExtremeState {
    fn find_tenant(&self, key: &str) -> anyhow::Result<usize> {
        if let Some(i) = self.tenant_index(key) {
            return Ok(i);
        }
        let hits: Vec<usize> = (0..self.tenants.len())
            .filter(|&i| self.tenants[i].account_name == key)
            .collect();
        match hits.as_slice() {
            [i] => Ok(*i),
            [] => bail!("no tenant with custId or accountName {key:?}"),
            _ => bail!("several tenants are named {key:?}; use the custId"),
        }
    }

    fn find_partner(&self, key: &str) -> anyhow::Result<usize> {
        if let Some(i) = self.partner_index(key) {
            return Ok(i);
        }
        let hits: Vec<usize> = (0..self.partners.len())
            .filter(|&i| self.partners[i].account_name == key)
            .collect();
        match hits.as_slice() {
            [i] => Ok(*i),
            [] => bail!("no partner with custId or accountName {key:?}"),
            _ => bail!("several partners are named {key:?}; use the custId"),
        }
    }
}
