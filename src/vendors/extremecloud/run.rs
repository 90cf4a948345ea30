//! Running ExtremeCloud apply steps. Contract: every step tolerates running twice
//! or being cut off part-way. A tenant create whose answer was lost looks the
//! tenant up by exact name before posting again; a partner PUT is computed from
//! the partner as it is right now (read fresh), sends nothing when the partner
//! already holds the right tenants, and is checked against the echoed document.
//! Ownership goes through the Ledger (flushed) as each part succeeds.

use std::collections::BTreeSet;

use super::Client;
use super::steps::{Stage, StepOp};
use super::wire::{self, TenantBody};
use super::{ExtremeCloud, Snapshot};
use crate::address::Address;
use crate::vendor::VendorClient;
use crate::vendor::http::ProviderError;
use crate::vendor::{Apply, Ledger, Resolved, Step};

/// What the steps of one apply share: state, through the Ledger (ids learned
/// as creates succeed included), and the partner list as this apply read it.
pub struct RunEnv {
    pub ledger: Ledger,
    /// Every partner, read once by the first partner step of the apply (after
    /// the creates it waits for) and kept up to date by each PUT: the steps of
    /// one partner never overlap (they depend on each other), so each keeps
    /// its own entry right, and one list read serves every partner.
    partners: tokio::sync::Mutex<Option<Vec<wire::Partner>>>,
}

impl RunEnv {
    pub fn new(ledger: Ledger) -> RunEnv {
        RunEnv {
            ledger,
            partners: tokio::sync::Mutex::new(None),
        }
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

impl Apply<ExtremeCloud> for Client {
    fn env(&self, _snapshot: &Snapshot, _resolved: &Resolved, ledger: Ledger) -> RunEnv {
        RunEnv::new(ledger)
    }

    /// Runs one step. State is updated (and flushed) as each part succeeds.
    async fn run<'a>(
        &'a self,
        env: &'a RunEnv,
        step: &'a Step<StepOp>,
    ) -> Result<(), ProviderError> {
        let ledger = &env.ledger;
        match &step.op {
            StepOp::CreateTenant { address, body } => self
                .create_step(ledger, address, body)
                .await
                .map_err(explain_forbidden),
            StepOp::Own { address } => {
                let id = ledger.id(address)?;
                ledger.own(address, Some(&id), None, "adopted", Default::default())
            }
            StepOp::Refuse { message, .. } => Err(self.other(message.clone())),
            StepOp::Forget { address } => ledger.forget(address),
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
}

impl Client {
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

    /// Creates a tenant. A create whose answer was lost is never repeated
    /// blindly: the tenant is looked for by name first, and posted a second time
    /// only when it is not there.
    async fn create_step(
        &self,
        ledger: &Ledger,
        address: &Address,
        body: &TenantBody,
    ) -> Result<(), ProviderError> {
        let name = body.account_name.as_str();
        let found =
            |id: String| ledger.own(address, Some(&id), None, "created", Default::default());
        if ledger.open_create(address)? {
            tracing::info!(provider = %self.key(), %address, "an earlier run may have created this tenant; looking for it first");
            if let Some(id) = self.tenant_named(name).await? {
                return found(id);
            }
        }
        let mut lost = None;
        for _ in 0..2 {
            let ctx = ledger.write(address, "create", Some(name));
            match self.create_tenant(body, &ctx).await {
                Ok(Some(id)) => return found(id),
                Ok(None) => {
                    return match self.tenant_named(name).await? {
                        Some(id) => found(id),
                        None => Err(self.other(format!(
                            "the create of tenant {name:?} was accepted, but neither nametoidmap nor the tenant list shows it yet; re-run apply to pick it up (it will not be created twice)"
                        ))),
                    };
                }
                Err(e) if e.maybe_committed() => {
                    tracing::warn!(provider = %self.key(), %address, error = %e, "the create may have reached the vendor; looking for the tenant before anything else");
                    if let Some(id) = self.tenant_named(name).await? {
                        return found(id);
                    }
                    lost = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(lost.unwrap_or_else(|| self.other("the create did not complete")))
    }

    /// The tenant ids a partner must hold after this PUT, from the partner as it
    /// is now; None when a wanted customer has no tenant yet (final stage).
    fn tenant_list(
        &self,
        ledger: &Ledger,
        live: &[String],
        want: &[String],
        managed: &[String],
        stage: Stage,
    ) -> Result<Vec<String>, ProviderError> {
        let mut want_ids = Vec::new();
        for k in want {
            match ledger.try_id(&Address::customer(k.as_str())) {
                Some(id) => want_ids.push(id),
                None if stage == Stage::Remove => {}
                None => {
                    return Err(self.other(format!(
                        "customer.{k} has no ExtremeCloud tenant yet (its create did not succeed, or was not part of this apply), so it cannot be given to this partner"
                    )));
                }
            }
        }
        let managed_ids: Vec<String> = managed
            .iter()
            .filter_map(|k| ledger.try_id(&Address::customer(k.as_str())))
            .collect();
        let managed_ids: BTreeSet<&str> = managed_ids.iter().map(String::as_str).collect();
        Ok(partner_tenants(live, &want_ids, &managed_ids, stage))
    }

    /// Partner `id` as this apply knows it: from the partner list read by the
    /// apply's first partner step (fresh: someone in the portal may have
    /// changed it since the plan), with this apply's PUTs applied.
    async fn partner_now(&self, env: &RunEnv, id: &str) -> Result<wire::Partner, ProviderError> {
        let mut cached = env.partners.lock().await;
        if cached.is_none() {
            *cached = Some(self.list_partners().await?);
        }
        cached
            .as_ref()
            .and_then(|all| all.iter().find(|p| p.id == id))
            .cloned()
            .ok_or_else(|| {
                self.other(format!(
                    "partner {id} is no longer in the account (GET {}/msppartners)",
                    self.settings.msp_prefix
                ))
            })
    }

    async fn put_partner_step(
        &self,
        env: &RunEnv,
        address: &Address,
        partner_id: &str,
        want: &[String],
        managed: &[String],
        stage: Stage,
    ) -> Result<(), ProviderError> {
        let ledger = &env.ledger;
        let live = self.partner_now(env, partner_id).await?;
        let live = &live;
        let tenants = self.tenant_list(ledger, &live.tenants, want, managed, stage)?;
        if !same(&tenants, &live.tenants) {
            let doc = wire::partner_with_tenants(&live.doc, &tenants);
            let ctx = ledger.write(address, "update", Some(&live.name));
            let echo = self.put_partner(partner_id, &doc, &ctx).await?;
            let echoed = match echo.get("tenants").filter(|v| !v.is_null()) {
                Some(list) => wire::tenant_ids(Some(list)),
                // No echo to check against: read it back.
                None => self
                    .list_partners()
                    .await?
                    .into_iter()
                    .find(|p| p.id == partner_id)
                    .map(|p| p.tenants)
                    .unwrap_or_default(),
            };
            if !same(&echoed, &tenants) {
                // What the partner holds now is unknown: the next step on it reads again.
                *env.partners.lock().await = None;
                return Err(self.other(format!(
                    "PUT of partner {:?} answered with tenants [{}] instead of [{}]; re-run plan to see where it stands",
                    live.name,
                    echoed.join(", "),
                    tenants.join(", ")
                )));
            }
            if let Some(p) = env
                .partners
                .lock()
                .await
                .as_mut()
                .and_then(|all| all.iter_mut().find(|p| p.id == partner_id))
            {
                p.doc = doc;
                p.tenants = tenants;
            }
        }
        if stage == Stage::Final {
            ledger.own(
                address,
                Some(partner_id),
                None,
                "adopted",
                Default::default(),
            )?;
        }
        Ok(())
    }
}

/// The same tenants, in any order.
fn same(a: &[String], b: &[String]) -> bool {
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
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
