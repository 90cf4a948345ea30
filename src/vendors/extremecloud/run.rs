//! Running ExtremeCloud apply steps. Contract: every step tolerates running twice
//! or being cut off part-way. A tenant create whose answer was lost looks the
//! tenant up by exact name before posting again; a partner PUT is computed from
//! the partner as it is right now (read fresh), sends nothing when the partner
//! already holds the right tenants, and is checked against the echoed document.
//! State is updated and flushed as each part succeeds.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::Extreme;
use super::steps::{ExtremeStep, Stage, StepOp};
use super::wire;
use crate::providers::customer_address;
use crate::providers::http::{ProviderError, WriteCtx};
use crate::state::{JournalStatus, OwnedRecord, StateStore, now_unix};

/// What a step needs while it runs, shared across the steps of one apply.
pub struct RunEnv {
    pub store: Arc<dyn StateStore>,
    /// Address → vendor id; grows as creates succeed.
    pub ids: BTreeMap<String, String>,
}

impl RunEnv {
    pub fn new(store: Arc<dyn StateStore>, ids: BTreeMap<String, String>) -> RunEnv {
        RunEnv { store, ids }
    }

    fn ctx(&self, address: &str, action: &str, natural_key: Option<&str>) -> WriteCtx {
        WriteCtx {
            store: self.store.clone(),
            address: address.to_string(),
            action: action.to_string(),
            natural_key: natural_key.map(str::to_string),
        }
    }

    /// Records ownership (keeping an earlier origin) and settles the journal
    /// entries of the address.
    fn own(
        &self,
        provider: &str,
        address: &str,
        vendor_id: String,
        origin: &str,
    ) -> Result<(), ProviderError> {
        let origin = match self.store.get_owned(address)? {
            Some(r) if r.vendor_id.as_deref() == Some(vendor_id.as_str()) => r.origin,
            _ => origin.to_string(),
        };
        self.store.put_owned(
            address,
            &OwnedRecord {
                provider: provider.to_string(),
                vendor_id: Some(vendor_id),
                parent_id: None,
                since: now_unix(),
                origin,
                facts: BTreeMap::new(),
            },
        )?;
        for (id, entry) in self.store.journal()? {
            if entry.address == address
                && matches!(
                    entry.status,
                    JournalStatus::Pending | JournalStatus::Succeeded
                )
            {
                self.store.journal_finish(
                    id,
                    JournalStatus::Settled,
                    Some("object recorded as owned".into()),
                )?;
            }
        }
        Ok(())
    }

    /// An earlier run journaled a create of this address that never got recorded.
    fn open_create(&self, address: &str) -> Result<bool, ProviderError> {
        Ok(self.store.journal()?.iter().any(|(_, e)| {
            e.address == address
                && e.action == "create"
                && matches!(e.status, JournalStatus::Pending | JournalStatus::Succeeded)
        }))
    }
}

/// A 403 on a write means the login lacks the role the vendor requires.
fn explain_forbidden(e: ProviderError) -> ProviderError {
    match e {
        ProviderError::Http {
            provider,
            call,
            status: 403,
            body,
        } => ProviderError::Other {
            provider,
            message: format!(
                "{call} answered HTTP 403: {body}; writes need an administrator with the MSP Power Admin role (read-only administrators may only read)"
            ),
        },
        other => other,
    }
}

impl Extreme {
    fn other(&self, message: String) -> ProviderError {
        ProviderError::Other {
            provider: self.key.clone(),
            message,
        }
    }

    /// The one tenant named exactly `name`, if any; several is an error.
    async fn tenant_named(&self, name: &str) -> Result<Option<String>, ProviderError> {
        let ids = self.tenant_ids_named(name).await?;
        match ids.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            many => Err(self.other(format!(
                "{} tenants named {name:?} exist ({}); refusing to guess which one is mspform's. Rename the extras in the portal.",
                many.len(),
                many.join(", ")
            ))),
        }
    }

    /// Runs one step. State is updated (and flushed) as each part succeeds.
    pub async fn run_step(
        &self,
        step: &ExtremeStep,
        env: &mut RunEnv,
    ) -> Result<(), ProviderError> {
        let key = self.key.clone();
        match &step.op {
            StepOp::CreateTenant { address, body } => {
                let name = body.account_name.as_str();
                let found = |env: &mut RunEnv, id: String| -> Result<(), ProviderError> {
                    env.own(&key, address, id.clone(), "created")?;
                    env.ids.insert(address.clone(), id);
                    Ok(())
                };
                if env.open_create(address)? {
                    tracing::info!(provider = %key, %address, "an earlier run may have created this tenant; looking for it first");
                    if let Some(id) = self.tenant_named(name).await? {
                        return found(env, id);
                    }
                }
                // A create whose answer was lost is never repeated blindly: the
                // tenant is looked for by name first, and posted a second time
                // only when it is not there.
                let mut lost = None;
                for _ in 0..2 {
                    let ctx = env.ctx(address, "create", Some(name));
                    match self.create_tenant(body, &ctx).await {
                        Ok(Some(id)) => return found(env, id),
                        Ok(None) => {
                            return match self.tenant_named(name).await? {
                                Some(id) => found(env, id),
                                None => Err(self.other(format!(
                                    "the create of tenant {name:?} was accepted, but neither nametoidmap nor the tenant list shows it yet; re-run apply to pick it up (it will not be created twice)"
                                ))),
                            };
                        }
                        Err(e) if e.maybe_committed() => {
                            tracing::warn!(provider = %key, %address, error = %e, "the create may have reached the vendor; looking for the tenant before anything else");
                            if let Some(id) = self.tenant_named(name).await? {
                                return found(env, id);
                            }
                            lost = Some(e);
                        }
                        Err(e) => return Err(explain_forbidden(e)),
                    }
                }
                Err(lost.unwrap_or_else(|| self.other("the create did not complete".into())))
            }
            StepOp::Own { address, .. } => {
                let id = env
                    .ids
                    .get(address)
                    .cloned()
                    .ok_or_else(|| self.other(format!("no vendor id known for {address}")))?;
                env.own(&key, address, id, "adopted")
            }
            StepOp::Refuse { message, .. } => Err(self.other(message.clone())),
            StepOp::Forget { address } => {
                env.store.remove_owned(address)?;
                Ok(())
            }
            StepOp::PutPartner {
                address,
                partner_id,
                want,
                managed,
                stage,
            } => self
                .put_partner_step(env, address, partner_id, want, managed, *stage)
                .await
                .map_err(explain_forbidden),
        }
    }

    async fn put_partner_step(
        &self,
        env: &mut RunEnv,
        address: &str,
        partner_id: &str,
        want: &[String],
        managed: &[String],
        stage: Stage,
    ) -> Result<(), ProviderError> {
        // Fresh: another partner's PUT in this run (or someone in the portal) may
        // have changed it since the plan.
        let partners = self.list_partners().await?;
        let live = partners
            .iter()
            .find(|p| p.id == partner_id)
            .ok_or_else(|| {
                self.other(format!(
                    "partner {partner_id} is no longer in the account (GET {}/msppartners)",
                    self.settings.msp_prefix
                ))
            })?;
        let mut want_ids = Vec::new();
        for k in want {
            match env.ids.get(&customer_address(k)) {
                Some(id) => want_ids.push(id.clone()),
                None if stage == Stage::Remove => {}
                None => {
                    return Err(self.other(format!(
                        "customer.{k} has no ExtremeCloud tenant yet (its create did not succeed, or was not part of this apply), so it cannot be given to this partner"
                    )));
                }
            }
        }
        let managed_ids: BTreeSet<&str> = managed
            .iter()
            .filter_map(|k| env.ids.get(&customer_address(k)))
            .map(String::as_str)
            .collect();
        let tenants = partner_tenants(&live.tenants, &want_ids, &managed_ids, stage);
        let same = |a: &[String], b: &[String]| {
            a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
        };
        if !same(&tenants, &live.tenants) {
            let doc = wire::partner_with_tenants(&live.doc, &tenants);
            let ctx = env.ctx(address, "update", Some(&live.name));
            let echo = self.put_partner(partner_id, &doc, &ctx).await?;
            let echoed = match echo.get("tenants").filter(|v| !v.is_null()) {
                Some(list) => wire::tenant_ids(Some(list)),
                None => {
                    // No echo to check against: read it back.
                    self.list_partners()
                        .await?
                        .into_iter()
                        .find(|p| p.id == partner_id)
                        .map(|p| p.tenants)
                        .unwrap_or_default()
                }
            };
            if !same(&echoed, &tenants) {
                return Err(self.other(format!(
                    "PUT of partner {:?} answered with tenants [{}] instead of [{}]; re-run plan to see where it stands",
                    live.name,
                    echoed.join(", "),
                    tenants.join(", ")
                )));
            }
        }
        if stage == Stage::Final {
            env.own(&self.key, address, partner_id.to_string(), "adopted")?;
        }
        Ok(())
    }
}

/// The tenant list to send: the live list in its order, without the managed
/// tenants the partner must not hold, plus (final stage) the wanted ones.
/// Tenants nobody declared stay.
pub fn partner_tenants(
    live: &[String],
    want: &[String],
    managed: &BTreeSet<&str>,
    stage: Stage,
) -> Vec<String> {
    let mut out: Vec<String> = live
        .iter()
        .filter(|t| !managed.contains(t.as_str()) || want.contains(t))
        .cloned()
        .collect();
    if stage == Stage::Final {
        for t in want {
            if !out.contains(t) {
                out.push(t.clone());
            }
        }
    }
    let mut seen = BTreeSet::new();
    out.retain(|t| seen.insert(t.clone()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn undeclared_tenants_stay_and_managed_ones_follow_the_files() {
        let managed: BTreeSet<&str> = ["A", "B", "C"].into();
        let live = s(&["X", "A", "B"]);
        assert_eq!(
            partner_tenants(&live, &s(&["B", "C"]), &managed, Stage::Final),
            s(&["X", "B", "C"])
        );
        assert_eq!(
            partner_tenants(&live, &s(&["B", "C"]), &managed, Stage::Remove),
            s(&["X", "B"])
        );
        assert_eq!(
            partner_tenants(&live, &[], &managed, Stage::Final),
            s(&["X"])
        );
    }

    #[test]
    fn a_partner_already_right_gets_the_same_list() {
        let managed: BTreeSet<&str> = ["A"].into();
        let live = s(&["A", "X"]);
        assert_eq!(
            partner_tenants(&live, &s(&["A"]), &managed, Stage::Final),
            live
        );
    }
}
