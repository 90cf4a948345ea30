//! Out-of-band "portal" edits to the simulated Live Platform, for drift tests: what an
//! operator could change by hand in the Live Platform UI behind mspform's back.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail};
use serde::{Deserialize, Serialize};

use super::super::SimState;
use super::super::control::SimVendor;
use super::inventory::OVOC_TYPES;
use super::{AudiocodesState, AudiocodesSwitches, Customer, Site, SiteState};

/// One portal edit (`POST /_sim/audiocodes/edit`, tagged by `"op"`). `customer` is the
/// customer GUID or its shortName (case-insensitive; must be unambiguous); `site` is a
/// site GUID or name (the customer's first site when absent).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AudiocodesEdit {
    /// Rename a customer's full name (no character checks: the portal is the portal).
    SetFullName { customer: String, full_name: String },
    /// Delete a customer and its sites at once.
    DeleteCustomer { customer: String },
    /// Set a site's deployment state: `Deployed`, `Failed` (or the failed-state switch
    /// value), `InProgress`, `Deleting`.
    SetSiteState {
        customer: String,
        #[serde(default)]
        site: Option<String>,
        state: String,
    },
    /// Remove a site at once.
    DeleteSite {
        customer: String,
        #[serde(default)]
        site: Option<String>,
    },
    /// Create a customer with one deployed site (defaults: IPGROUP_TYPE, the first SBC
    /// and scripts of the inventory, no msTenantId).
    CreateCustomer {
        short_name: String,
        #[serde(default)]
        full_name: Option<String>,
        #[serde(default)]
        ms_tenant_id: Option<String>,
        #[serde(default)]
        ovoc_customer_type: Option<String>,
        #[serde(default)]
        channel_id: Option<String>,
        #[serde(default)]
        sbc_id: Option<i64>,
        #[serde(default)]
        onboarding_script: Option<i64>,
        #[serde(default)]
        cleanup_script: Option<i64>,
    },
}

impl SimVendor for AudiocodesState {
    const NAME: &'static str = "audiocodes";
    type Switches = AudiocodesSwitches;
    type Edit = AudiocodesEdit;
    fn of(st: &mut SimState) -> &mut Self {
        &mut st.audiocodes
    }
    fn switches(&mut self) -> &mut AudiocodesSwitches {
        &mut self.switches
    }
    /// Apply a portal edit; returns the new customer's id for `create_customer`.
    fn edit(&mut self, edit: AudiocodesEdit, now_ms: u64) -> anyhow::Result<Option<String>> {
        self.settle(now_ms);
        match edit {
            AudiocodesEdit::SetFullName {
                customer,
                full_name,
            } => {
                let id = self.find_customer(&customer)?;
                if let Some(c) = self.customers.iter_mut().find(|c| c.id == id) {
                    c.full_name = full_name;
                }
            }
            AudiocodesEdit::DeleteCustomer { customer } => {
                let id = self.find_customer(&customer)?;
                self.remove_customer(&id);
            }
            AudiocodesEdit::SetSiteState {
                customer,
                site,
                state,
            } => {
                let id = self.find_customer(&customer)?;
                let st = SiteState::parse(&state, &self.switches)
                    .ok_or_else(|| anyhow!("unknown site state {state:?}"))?;
                let i = self.find_site(&id, site.as_deref())?;
                self.sites[i].state = st;
            }
            AudiocodesEdit::DeleteSite { customer, site } => {
                let id = self.find_customer(&customer)?;
                let i = self.find_site(&id, site.as_deref())?;
                self.sites.remove(i);
            }
            AudiocodesEdit::CreateCustomer {
                short_name,
                full_name,
                ms_tenant_id,
                ovoc_customer_type,
                channel_id,
                sbc_id,
                onboarding_script,
                cleanup_script,
            } => {
                let ovoc = ovoc_customer_type.unwrap_or_else(|| "IPGROUP_TYPE".into());
                if !OVOC_TYPES.contains(&ovoc.as_str()) {
                    bail!("ovoc_customer_type must be IPGROUP_TYPE or TENANT_TYPE");
                }
                let sbc = sbc_id
                    .or_else(|| self.sbcs.first().map(|s| s.id))
                    .ok_or_else(|| anyhow!("the inventory has no SBC"))?;
                let on = onboarding_script
                    .or_else(|| self.onboarding_scripts.first().map(|s| s.id))
                    .ok_or_else(|| anyhow!("the inventory has no onboarding script"))?;
                let off = cleanup_script
                    .or_else(|| self.cleanup_scripts.first().map(|s| s.id))
                    .ok_or_else(|| anyhow!("the inventory has no cleanup script"))?;
                if self.sbc(sbc).is_none() {
                    bail!("no SBC {sbc}");
                }
                let id = self.new_guid();
                let site_id = self.new_guid();
                self.customers.push(Customer {
                    id: id.clone(),
                    full_name: full_name.unwrap_or_else(|| short_name.clone()),
                    short_name: short_name.clone(),
                    license_type: self.switches.license_type,
                    licensed_users_count: 0,
                    active_user_count: 0,
                    live_hub_active_users_count: 0,
                    live_hub_simple_users_count: 0,
                    ms_tenant_id: ms_tenant_id.map(|t| t.to_lowercase()),
                    ovoc_customer_type: ovoc.clone(),
                    channel_id,
                    lc_customer_id: None,
                });
                self.sites.push(Site {
                    id: site_id,
                    customer_id: id.clone(),
                    name: short_name,
                    sbc_id: sbc,
                    onboarding_script: on,
                    cleanup_script: off,
                    ovoc_customer_type: ovoc,
                    script_parameters: BTreeMap::new(),
                    carrier_password_fnv1a: None,
                    state: SiteState::Deployed,
                    pending_tasks: Vec::new(),
                });
                return Ok(Some(id));
            }
        }
        Ok(None)
    }
}

impl AudiocodesState {
    fn find_customer(&self, key: &str) -> anyhow::Result<String> {
        let key = key.trim();
        if let Some(c) = self.customer(key) {
            return Ok(c.id.clone());
        }
        let hits: Vec<&Customer> = self
            .customers
            .iter()
            .filter(|c| c.short_name.eq_ignore_ascii_case(key))
            .collect();
        match hits.as_slice() {
            [c] => Ok(c.id.clone()),
            [] => Err(anyhow!("no customer {key:?}")),
            _ => Err(anyhow!(
                "{} customers are named {key:?}; use the GUID",
                hits.len()
            )),
        }
    }

    fn find_site(&self, customer_id: &str, site: Option<&str>) -> anyhow::Result<usize> {
        self.sites
            .iter()
            .position(|s| {
                s.customer_id == customer_id
                    && site.is_none_or(|k| {
                        s.id.eq_ignore_ascii_case(k.trim()) || s.name.eq_ignore_ascii_case(k.trim())
                    })
            })
            .ok_or_else(|| anyhow!("the customer has no site {}", site.unwrap_or("at all")))
    }
}
