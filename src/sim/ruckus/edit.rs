//! Out-of-band "portal" edits to the simulated RUCKUS One account, for drift tests: what
//! an engineer could change by hand in the R1 UI behind mspform's back. Edits act at
//! once (no activity).

use anyhow::{anyhow, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::SimState;
use super::super::control::SimVendor;
use super::activities::USE_CASES;
use super::{FailRule, RuckusState, RuckusSwitches};

/// One portal edit (`POST /_sim/ruckus/edit`, tagged by `"op"`). `tenant` names an EC by
/// tenant id or exact name; `tech_partner` a tech partner by id or exact name.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RuckusEdit {
    /// Change one EC field by its wire name: name, street_address, city, state, country,
    /// postal_code, phone_number, fax_number, mapping_url, service_effective_date,
    /// service_expiration_date, tier, is_active, admin_email (null clears optional ones).
    EcField {
        tenant: String,
        field: String,
        value: Value,
    },
    /// Delete an EC (its delegations become REVOKED).
    DeleteEc { tenant: String },
    /// Take an EC away from a tech partner (its active delegations become REVOKED).
    RemoveFromTechPartner {
        tenant: String,
        tech_partner: String,
    },
    /// Assign an EC to a tech partner (a new delegation, ACCEPTED unless `status` says
    /// INVITED).
    AddToTechPartner {
        tenant: String,
        tech_partner: String,
        #[serde(default)]
        status: Option<String>,
    },
    /// The EC's administrator revokes (`delegated: false`) or restores the MSP's
    /// delegated access to the EC: without it, `x-rks-tenantid` naming the EC is 403.
    MspDelegation { tenant: String, delegated: bool },
    /// Make the next `count` activities (of `use_case`, e.g. "ADD_MSP_EC", or any) FAIL.
    FailNextActivities {
        count: u32,
        #[serde(default)]
        use_case: Option<String>,
    },
}

impl SimVendor for RuckusState {
    const NAME: &'static str = "ruckus";
    type Switches = RuckusSwitches;
    type Edit = RuckusEdit;
    fn of(st: &mut SimState) -> &mut Self {
        &mut st.ruckus
    }
    fn switches(&mut self) -> &mut RuckusSwitches {
        &mut self.switches
    }
    /// Apply a portal edit.
    fn edit(&mut self, edit: RuckusEdit, now: u64) -> anyhow::Result<Option<String>> {
        self.settle(now);
        match edit {
            RuckusEdit::EcField {
                tenant,
                field,
                value,
            } => {
                let i = self.ec_by_ref(&tenant)?;
                if matches!(field.as_str(), "tenant_id" | "tenant_type" | "account_id") {
                    bail!("{field} cannot be edited");
                }
                let mut ec = self.ecs[i].clone();
                super::tenants::set_field(&mut ec, &field, &value).map_err(|m| anyhow!(m))?;
                ec.updated_ms = now;
                self.ecs[i] = ec;
            }
            RuckusEdit::DeleteEc { tenant } => {
                let i = self.ec_by_ref(&tenant)?;
                let id = self.ecs[i].tenant_id.clone();
                self.remove_ec(&id, now);
            }
            RuckusEdit::RemoveFromTechPartner {
                tenant,
                tech_partner,
            } => {
                let ec_id = self.ecs[self.ec_by_ref(&tenant)?].tenant_id.clone();
                let (pid, _) = self.partner_by_ref(&tech_partner)?;
                let mut hit = false;
                for d in self.delegations.iter_mut() {
                    if d.ec_id == ec_id && d.partner_id == pid && d.active() {
                        d.status = "REVOKED".into();
                        d.updated_ms = now;
                        hit = true;
                    }
                }
                if !hit {
                    bail!("{tenant} is not assigned to {tech_partner}");
                }
            }
            RuckusEdit::AddToTechPartner {
                tenant,
                tech_partner,
                status,
            } => {
                let ec_id = self.ecs[self.ec_by_ref(&tenant)?].tenant_id.clone();
                let (pid, ptype) = self.partner_by_ref(&tech_partner)?;
                let status = status.unwrap_or_else(|| "ACCEPTED".into());
                if status != "ACCEPTED" && status != "INVITED" {
                    bail!("status must be ACCEPTED or INVITED");
                }
                if self
                    .delegations
                    .iter()
                    .any(|d| d.ec_id == ec_id && d.partner_id == pid && d.active())
                {
                    bail!("{tenant} is already assigned to {tech_partner}");
                }
                self.add_delegation(&ec_id, &pid, &ptype, &status, None, now);
            }
            RuckusEdit::MspDelegation { tenant, delegated } => {
                let i = self.ec_by_ref(&tenant)?;
                self.ecs[i].delegated_to_msp = delegated;
                self.ecs[i].updated_ms = now;
            }
            RuckusEdit::FailNextActivities { count, use_case } => {
                if let Some(u) = &use_case
                    && !USE_CASES.contains(&u.as_str())
                {
                    bail!("use_case must be one of {}", USE_CASES.join(", "));
                }
                if count > 0 {
                    self.fail_rules.push(FailRule {
                        use_case,
                        remaining: count,
                    });
                }
            }
        }
        Ok(None)
    }
}

impl RuckusState {
    fn ec_by_ref(&self, r: &str) -> anyhow::Result<usize> {
        self.ecs
            .iter()
            .position(|e| e.tenant_id == r)
            .or_else(|| self.ecs.iter().position(|e| e.name == r))
            .ok_or_else(|| anyhow!("no MSP-EC with id or name {r:?}"))
    }

    fn partner_by_ref(&self, r: &str) -> anyhow::Result<(String, String)> {
        self.tech_partners
            .iter()
            .find(|p| p.id == r)
            .or_else(|| self.tech_partners.iter().find(|p| p.name == r))
            .map(|p| (p.id.clone(), p.partner_type.clone()))
            .ok_or_else(|| anyhow!("no tech partner with id or name {r:?}"))
    }
}
