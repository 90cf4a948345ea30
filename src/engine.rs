//! Orchestration: build the provider clients, refresh every vendor concurrently,
//! resolve and diff into a [`Plan`], and (for apply) run the compiled steps.
//! The one place that ties config, providers, state, diff and plan together.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::diff::{self, Action, Op};
use crate::live::LiveSnapshot;
use crate::model::{Desired, Ownership, ProviderKind};
use crate::plan::{Plan, ProviderRead};
use crate::providers::ProviderError;
use crate::providers::aruba::Aruba;
use crate::providers::aruba::resolve::{Resolved, resolve};
use crate::providers::aruba::run::RunEnv;
use crate::providers::aruba::steps::{Step, compile};
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
    pub client: Aruba,
    pub snapshot: LiveSnapshot,
    pub resolved: Resolved,
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
        match &p.kind {
            ProviderKind::ArubaCentral(_) => clients.push(Aruba::new(p, store.clone())?),
        }
    }
    let reads = clients.iter().map(|c| c.snapshot(desired, &owned));
    let snapshots = futures::future::join_all(reads).await;
    let mut parts = Vec::new();
    let mut errors = Vec::new();
    let mut failures = Vec::new();
    for (client, snap) in clients.into_iter().zip(snapshots) {
        match snap {
            Ok(snapshot) => {
                let resolved = resolve(client.key(), desired, &snapshot, &owned);
                errors.extend(resolved.errors.iter().cloned());
                parts.push(Part {
                    client,
                    snapshot,
                    resolved,
                });
            }
            Err(e) => failures.push(e),
        }
    }
    if let Some(first) = failures.into_iter().next() {
        // A failed read is never taken as "empty": it would plan deletes.
        return Err(first.into());
    }
    if !errors.is_empty() {
        return Err(EngineError::Plan(errors));
    }
    let mut desired_records = Vec::new();
    let mut live = BTreeMap::new();
    for part in &parts {
        desired_records.extend(part.resolved.desired.iter().cloned());
        live.extend(
            part.resolved
                .live
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    let owned_set: BTreeSet<String> = owned.keys().cloned().collect();
    let exclusive: BTreeSet<String> = desired
        .providers
        .values()
        .filter(|p| p.ownership == Ownership::Exclusive)
        .map(|p| p.key.clone())
        .collect();
    let (mut actions, unmanaged) = diff::diff(&desired_records, &live, &owned_set, &exclusive);
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
            });
        }
    }
    let actions = target(actions, targets);
    let reads = parts
        .iter()
        .map(|p| ProviderRead {
            provider: p.client.key().to_string(),
            kind: "aruba-central".into(),
            calls: p.snapshot.calls,
        })
        .collect();
    let mut plan = Plan::new(reads, actions, unmanaged);
    plan.targets = targets.to_vec();
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
    } else {
        diff::Kind::Device
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    Done,
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StepReport {
    pub provider: String,
    pub step: String,
    pub addresses: Vec<String>,
    pub outcome: Outcome,
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

async fn run_part(
    part: &Part,
    actions: &[Action],
    desired: &Desired,
    store: Arc<dyn StateStore>,
    stop: &AtomicBool,
) -> (Vec<StepReport>, bool) {
    let steps: Vec<Step> = compile(actions, desired, &part.snapshot);
    let mut env = RunEnv::new(store, part.resolved.ids.clone(), &part.snapshot);
    let mut done: BTreeMap<usize, bool> = BTreeMap::new();
    let mut reports = Vec::new();
    let mut interrupted = false;
    for step in &steps {
        let label = step.label();
        let blocked = step.deps.iter().find(|d| done.get(d) != Some(&true));
        let outcome = if stop.load(Ordering::SeqCst) {
            interrupted = true;
            Outcome::Skipped("interrupted before it started".into())
        } else if let Some(dep) = blocked {
            let what = steps
                .iter()
                .find(|s| s.id == *dep)
                .map(|s| s.label())
                .unwrap_or_default();
            Outcome::Skipped(format!("depends on \"{what}\", which did not succeed"))
        } else {
            let span = tracing::info_span!("step", provider = %part.client.key(), step = %label);
            let _enter = span.enter();
            match part.client.run_step(step, &mut env).await {
                Ok(()) => Outcome::Done,
                Err(e) => Outcome::Failed(e.to_string()),
            }
        };
        done.insert(step.id, outcome == Outcome::Done);
        reports.push(StepReport {
            provider: part.client.key().to_string(),
            step: label,
            addresses: step.addresses.clone(),
            outcome,
        });
    }
    (reports, interrupted)
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
    let runs = prepared.parts.iter().map(|part| {
        let actions: Vec<Action> = prepared
            .plan
            .actions
            .iter()
            .filter(|a| a.provider == part.client.key())
            .cloned()
            .collect();
        let store = store.clone();
        async move { run_part(part, &actions, desired, store, stop).await }
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
