//! Out-of-band "portal" edits to the simulated Aruba account, for drift tests: what an
//! engineer could change by hand in the Central UI behind mspform's back.

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::SimState;
use super::super::common::text;
use super::super::control::SimVendor;
use super::customers::valid_country;
use super::sites::remove_site;
use super::{ArubaState, ArubaSwitches};

/// One portal edit (`POST /_sim/aruba/edit`, tagged by `"op"`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ArubaEdit {
    /// Change one field of a customer: description, customer_name, lock_msp_ssids, group
    /// (group name), country_name, street_address, city, state, zip_postal_code.
    CustomerField {
        customer_name: String,
        field: String,
        value: Value,
    },
    /// Move a device to another site of the same tenant (by site name).
    MoveDeviceSite { serial: String, site_name: String },
    /// Delete a site of a customer (its associations go with it).
    DeleteSite {
        customer_name: String,
        site_name: String,
    },
    /// Take one licence off a device.
    UnlicenseDevice { serial: String, service: String },
    /// Put a device back in the MSP inventory (unlicensed, no site).
    MoveDeviceToMsp { serial: String },
}

impl SimVendor for ArubaState {
    const NAME: &'static str = "aruba";
    type Switches = ArubaSwitches;
    type Edit = ArubaEdit;
    fn of(st: &mut SimState) -> &mut Self {
        &mut st.aruba
    }
    fn switches(&mut self) -> &mut ArubaSwitches {
        &mut self.switches
    }
    /// Apply a portal edit.
    fn edit(&mut self, edit: ArubaEdit, now_ms: u64) -> anyhow::Result<Option<String>> {
        self.settle(now_ms);
        match edit {
            ArubaEdit::CustomerField {
                customer_name,
                field,
                value,
            } => {
                let i = self.customer_by_name(&customer_name)?;
                let v = text(&value);
                if field == "group" && self.group_id(&v).is_none() {
                    bail!("group {v:?} does not exist");
                }
                let c = &mut self.customers[i];
                match field.as_str() {
                    "description" => c.description = v,
                    "customer_name" => c.customer_name = v,
                    "lock_msp_ssids" => {
                        c.lock_msp_ssids =
                            v.parse().context("lock_msp_ssids must be true or false")?;
                    }
                    "group" | "group_name" => c.group = v,
                    "country_name" => {
                        c.country_code = valid_country(&v)
                            .ok_or_else(|| anyhow!("{v:?} is not an ISO 3166-1 alpha-2 code"))?;
                    }
                    "street_address" => c.street_address = v,
                    "city" => c.city = v,
                    "state" => c.state = v,
                    "zip_postal_code" => c.zip = v,
                    other => bail!("unknown customer field {other:?}"),
                }
                c.updated_at_ms = now_ms;
            }
            ArubaEdit::MoveDeviceSite { serial, site_name } => {
                let d = self
                    .devices
                    .get(&serial)
                    .ok_or_else(|| anyhow!("no device {serial}"))?;
                let owner = d.customer_id.clone();
                let site = self
                    .sites
                    .iter()
                    .find(|s| s.owner == owner && s.site_name == site_name)
                    .ok_or_else(|| anyhow!("the device's tenant has no site {site_name:?}"))?
                    .site_id;
                if let Some(d) = self.devices.get_mut(&serial) {
                    d.site_id = Some(site);
                }
            }
            ArubaEdit::DeleteSite {
                customer_name,
                site_name,
            } => {
                let i = self.customer_by_name(&customer_name)?;
                let owner = Some(self.customers[i].customer_id.clone());
                let site = self
                    .sites
                    .iter()
                    .find(|s| s.owner == owner && s.site_name == site_name)
                    .ok_or_else(|| anyhow!("{customer_name} has no site {site_name:?}"))?
                    .site_id;
                remove_site(self, site);
            }
            ArubaEdit::UnlicenseDevice { serial, service } => {
                let d = self
                    .devices
                    .get_mut(&serial)
                    .ok_or_else(|| anyhow!("no device {serial}"))?;
                let before = d.services.len();
                d.services.retain(|s| !s.eq_ignore_ascii_case(&service));
                if d.services.len() == before {
                    bail!("device {serial} has no {service} licence");
                }
            }
            ArubaEdit::MoveDeviceToMsp { serial } => {
                if !self.devices.contains_key(&serial) {
                    bail!("no device {serial}");
                }
                self.place_device(&serial, None);
            }
        }
        Ok(None)
    }
}

impl ArubaState {
    fn customer_by_name(&self, name: &str) -> anyhow::Result<usize> {
        self.customers
            .iter()
            .position(|c| c.customer_name == name)
            .ok_or_else(|| anyhow!("no customer named {name:?}"))
    }
}
