//! Orchestration: build the provider clients, refresh every vendor concurrently,
//! resolve and diff into a [`Plan`], and (for apply) run the compiled steps.
//! The one place that ties config, providers, state, diff and plan together.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::diff::{self, Action, Op};
use crate::model::{Desired, Ownership};
use crate::plan::{Plan, ProviderRead};
use crate::providers::{ApplyCtx, Provider, ProviderError, Refreshed, connect};
pub use crate::providers::{Outcome, PlanOptions, StepReport};
use crate::state::{JournalStatus, StateError, StateStore, pending};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Provider(#[from] ProviderError),
    #[error("{0}")]
    State(#[from] StateError),
    #[error("the plan cannot be made:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Plan(Vec<String>),
}

/// Finished journal entries kept after an apply, as a short history.
const JOURNAL_KEEP: usize = 1000;

/// One provider's part of a plan: its client and what its refresh saw.
pub struct Part {
    pub client: Arc<dyn Provider>,
    pub refreshed: Box<dyn Refreshed>,
}

pub struct Prepared {
    pub plan: Plan,
    pub parts: Vec<Part>,
}

/// Restricts a plan to addresses (or address prefixes such as `customer.acme`).
pub fn target(actions: Vec<Action>, targets: &[String]) -> Vec<Action> {
    if targets.is_empty() {
        return actions;
    }
    actions
        .into_iter()
        .filter(|a| {
            targets.iter().any(|t| {
                a.address == *t
                    || a.address.starts_with(&format!("{t}/"))
                    || (t.starts_with("customer.")
                        && a.address
                            .starts_with(&format!("site.{}/", &t["customer.".len()..])))
            })
        })
        .collect()
}

/// Refreshes every provider and computes the plan. Makes no vendor write.
pub async fn plan(
    desired: &Desired,
    store: Arc<dyn StateStore>,
    targets: &[String],
) -> Result<Prepared, EngineError> {
    plan_with(desired, store, targets, &PlanOptions::default()).await
}

/// [`plan`] with options beyond the files (e.g. invitations to send again).
pub async fn plan_with(
    desired: &Desired,
    store: Arc<dyn StateStore>,
    targets: &[String],
    options: &PlanOptions,
) -> Result<Prepared, EngineError> {
    let owned = store.owned()?;
    let open = pending(store.as_ref())?;
    if !open.is_empty() {
        tracing::warn!(
            count = open.len(),
            "an earlier apply was interrupted; its unfinished writes are settled by reading live state first"
        );
    }
    let mut clients = Vec::new();
    for p in desired.providers.values() {
        clients.push(connect(p, store.clone())?);
    }
    // Every vendor is read at once, each under its own rate limit.
    let reads = clients.iter().map(|c| c.refresh(desired, &owned, options));
    let refreshes = futures::future::join_all(reads).await;
    let mut parts = Vec::new();
    let mut errors = Vec::new();
    let mut failures = Vec::new();
    for (client, refreshed) in clients.into_iter().zip(refreshes) {
        match refreshed {
            Ok(refreshed) => {
                errors.extend(refreshed.resolved().errors.iter().cloned());
                parts.push(Part { client, refreshed });
            }
            Err(e) => failures.push(e),
        }
    }
    // A failed read is never taken as "empty": it would plan deletes.
    match failures.len() {
        0 => {}
        1 => return Err(failures.remove(0).into()),
        _ => {
            return Err(EngineError::Plan(
                failures.iter().map(ToString::to_string).collect(),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(EngineError::Plan(errors));
    }
    let mut desired_records = Vec::new();
    let mut live = BTreeMap::new();
    let mut notes = Vec::new();
    let mut replace_on = BTreeMap::new();
    for part in &parts {
        let resolved = part.refreshed.resolved();
        replace_on.extend(resolved.replace_on.clone());
        desired_records.extend(resolved.desired.iter().cloned());
        live.extend(resolved.live.iter().map(|(k, v)| (k.clone(), v.clone())));
        notes.extend(resolved.notes.iter().cloned());
    }
    let owned_set: BTreeSet<String> = owned.keys().cloned().collect();
    let exclusive: BTreeSet<String> = desired
        .providers
        .values()
        .filter(|p| p.ownership == Ownership::Exclusive)
        .map(|p| p.key.clone())
        .collect();
    let (mut actions, mut unmanaged) = diff::diff(&desired_records, &live, &owned_set, &exclusive);
    unmanaged.extend(notes);
    diff::mark_replacements(&mut actions, &replace_on);
    let stranded = stranded_by_deletes(&actions, &unmanaged, &live);
    if !stranded.is_empty() {
        return Err(EngineError::Plan(stranded));
    }
    let declared: BTreeSet<&str> = desired_records.iter().map(|r| r.address.as_str()).collect();
    for (address, record) in &owned {
        if !declared.contains(address.as_str())
            && !live.contains_key(address)
            && desired.providers.contains_key(&record.provider)
        {
            actions.push(Action {
                address: address.clone(),
                kind: kind_of(address),
                provider: record.provider.clone(),
                op: Op::Forget,
                changes: Vec::new(),
                replace_because: Vec::new(),
            });
        }
    }
    let actions = target(actions, targets);
    let reads = parts
        .iter()
        .map(|p| ProviderRead {
            provider: p.client.key().to_string(),
            kind: p.client.type_name().into(),
            calls: p.refreshed.calls(),
        })
        .collect();
    let mut plan = Plan::new(reads, actions, unmanaged);
    plan.targets = targets.to_vec();
    plan.resend_invitations = options.resend_invitations.iter().cloned().collect();
    Ok(Prepared { plan, parts })
}

/// Deleting a customer takes everything inside it along. mspform only deletes
/// what it owns, so a customer holding objects nobody declared (devices or sites
/// added by hand) is not deleted: the plan stops and says what is in the way.
fn stranded_by_deletes(
    actions: &[Action],
    unmanaged: &[diff::Unmanaged],
    live: &BTreeMap<String, diff::Record>,
) -> Vec<String> {
    let mut errors = Vec::new();
    for a in actions
        .iter()
        .filter(|a| a.kind == diff::Kind::Customer && a.op == Op::Delete)
    {
        let key = a.address.trim_start_matches("customer.");
        let inside: Vec<&str> = unmanaged
            .iter()
            .filter(|u| {
                u.address.starts_with(&format!("site.{key}/"))
                    || live
                        .get(&u.address)
                        .and_then(|r| r.fields.get("customer"))
                        .is_some_and(|c| c == key)
            })
            .map(|u| u.address.as_str())
            .collect();
        if !inside.is_empty() {
            errors.push(format!(
                "{}: deleting it would also remove {} that mspform does not manage ({}); declare them, move them out in the portal, or keep the customer in the files",
                a.address,
                inside.len(),
                inside.join(", ")
            ));
        }
    }
    errors
}

fn kind_of(address: &str) -> diff::Kind {
    if address.starts_with("customer") {
        diff::Kind::Customer
    } else if address.starts_with("site.") {
        diff::Kind::Site
    } else if address.starts_with("partner.") {
        diff::Kind::Partner
    } else {
        diff::Kind::Device
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ApplyReport {
    pub steps: Vec<StepReport>,
    /// Per plan action: the worst outcome of the steps that serve it.
    pub actions: BTreeMap<String, Outcome>,
    /// API calls the apply spent (refresh excluded).
    pub calls: u64,
    pub interrupted: bool,
}

impl ApplyReport {
    pub fn failed(&self) -> usize {
        self.actions
            .values()
            .filter(|o| matches!(o, Outcome::Failed(_)))
            .count()
    }
    pub fn skipped(&self) -> usize {
        self.actions
            .values()
            .filter(|o| matches!(o, Outcome::Skipped(_)))
            .count()
    }
    pub fn ok(&self) -> bool {
        self.failed() == 0 && self.skipped() == 0 && !self.interrupted
    }
}

/// Settles the writes an interrupted run left pending. The plan was computed from
/// freshly read live state, so whatever those writes did is already reflected in
/// it; only creates the plan still wants are left open, so their step looks the
/// object up by name before creating it again.
fn settle_journal(plan: &Plan, store: &dyn StateStore) -> Result<(), StateError> {
    let creating: BTreeSet<&str> = plan
        .actions
        .iter()
        .filter(|a| a.op == Op::Create)
        .map(|a| a.address.as_str())
        .collect();
    for (id, entry) in pending(store)? {
        if entry.action == "create" && creating.contains(entry.address.as_str()) {
            continue;
        }
        store.journal_finish(
            id,
            JournalStatus::Settled,
            Some("settled from live state read before a later apply".into()),
        )?;
    }
    Ok(())
}

/// Executes a prepared plan: independent work carries on past a failure, work
/// that depends on a failed step is skipped, and every outcome is reported.
pub async fn apply(
    prepared: &Prepared,
    desired: &Desired,
    store: Arc<dyn StateStore>,
    stop: &AtomicBool,
) -> ApplyReport {
    if let Err(e) = settle_journal(&prepared.plan, store.as_ref()) {
        tracing::error!(error = %e, "cannot settle the journal; applying nothing");
        let mut report = ApplyReport::default();
        for a in &prepared.plan.actions {
            report
                .actions
                .insert(a.address.clone(), Outcome::Failed(e.to_string()));
        }
        return report;
    }
    let before: u64 = prepared.parts.iter().map(|p| p.client.calls()).sum();
    // Every vendor is applied at once, each under its own rate limit.
    let runs = prepared.parts.iter().map(|part| {
        let actions: Vec<Action> = prepared
            .plan
            .actions
            .iter()
            .filter(|a| a.provider == part.client.key())
            .cloned()
            .collect();
        let store = store.clone();
        async move {
            let ctx = ApplyCtx {
                actions: &actions,
                desired,
                store,
                stop,
            };
            part.client.apply(part.refreshed.as_ref(), ctx).await
        }
    });
    let results = futures::future::join_all(runs).await;
    let mut report = ApplyReport::default();
    for (steps, interrupted) in results {
        report.interrupted |= interrupted;
        report.steps.extend(steps);
    }
    for a in &prepared.plan.actions {
        let mine: Vec<&StepReport> = report
            .steps
            .iter()
            .filter(|s| s.provider == a.provider && s.addresses.contains(&a.address))
            .collect();
        let outcome = mine
            .iter()
            .find_map(|s| matches!(s.outcome, Outcome::Failed(_)).then(|| s.outcome.clone()))
            .or_else(|| {
                mine.iter().find_map(|s| {
                    matches!(s.outcome, Outcome::Skipped(_)).then(|| s.outcome.clone())
                })
            })
            .unwrap_or(Outcome::Done);
        report.actions.insert(a.address.clone(), outcome);
    }
    let after: u64 = prepared.parts.iter().map(|p| p.client.calls()).sum();
    report.calls = after - before;
    // The journal is for recovery and a short history, not an archive.
    if let Err(e) = store.journal_prune(JOURNAL_KEEP) {
        tracing::warn!(error = %e, "could not prune the journal");
    }
    // Entries still pending belong to writes whose answer never came; the next run settles them.
    if let Ok(open) = pending(store.as_ref())
        && !open.is_empty()
    {
        tracing::warn!(
            count = open.len(),
            "writes with unknown outcome remain in the journal; the next plan/apply settles them from live state"
        );
    }
    report
}
