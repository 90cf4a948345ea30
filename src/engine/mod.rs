//! Orchestration: build the provider clients, refresh every vendor concurrently,
//! resolve and diff into a [`Plan`], and (for apply) run the compiled steps.
//! The one place that ties config, providers, state, diff and plan together.

pub mod saved;
mod select;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::address::Address;
use crate::diff::{self, Action, Op};
use crate::model::{Desired, Ownership};
use crate::plan::{Plan, ProviderRead, Unavailable, protect};

use crate::state::{JournalStatus, StateError, StateStore, pending};
use crate::vendor::{ApplyCtx, Owned, Provider, ProviderError, Refreshed};
pub use crate::vendor::{Outcome, PlanOptions, StepReport, Stop};
pub use select::{Dependencies, Selected, Selection};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Provider(#[from] ProviderError),
    #[error("{0}")]
    State(#[from] StateError),
    #[error("the plan cannot be made:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Plan(Vec<String>),
}

/// How often a refresh in progress reports its call count (`refresh_progress`
/// with `done: false`), when it changed.
const REFRESH_PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Runs a provider's refresh, reporting its calls so far while it runs (a
/// large portfolio's refresh takes minutes: the progress display counts them).
async fn watch_refresh<T>(
    client: &dyn Provider,
    refresh: impl std::future::Future<Output = T>,
) -> T {
    tokio::pin!(refresh);
    let mut tick = tokio::time::interval(REFRESH_PROGRESS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reported = 0;
    loop {
        tokio::select! {
            result = &mut refresh => return result,
            _ = tick.tick() => {
                let calls = client.calls();
                if calls != reported {
                    reported = calls;
                    crate::events::emit(crate::events::Event::RefreshProgress {
                        provider: client.key().to_string(),
                        calls,
                        ok: true,
                        done: false,
                    });
                }
            }
        }
    }
}

/// Finished journal entries kept after an apply, as a short history.
const JOURNAL_KEEP: usize = 1000;

/// One provider's part of a plan: its client and what its refresh saw.
pub struct Part {
    pub client: Arc<dyn Provider>,
    pub refreshed: Box<dyn Refreshed>,
}

/// A provider that could not be read (its client could not be built, or its
/// refresh failed): nothing is planned for it, and its objects are left alone.
pub struct Unreadable {
    pub provider: String,
    pub error: ProviderError,
}

pub struct Prepared {
    pub plan: Plan,
    /// Replacements of protected objects: `plan` and `apply` fail with them
    /// ([`Prepared::refuse_protected`]); `drift` reports them as warnings.
    pub refused: Vec<String>,
    pub parts: Vec<Part>,
    /// Providers that could not be read; `plan.unavailable` says the same in words.
    pub unreadable: Vec<Unreadable>,
    /// What state owned and the options the plan was made with (the apply compiles against them).
    pub owned: Owned,
    pub options: PlanOptions,
    /// The live objects the plan was made from (within its selection), by address.
    pub live: BTreeMap<Address, diff::Record>,
}

impl Prepared {
    /// The plan only when it replaces no protected object: a plan error naming
    /// each one otherwise.
    pub fn refuse_protected(self) -> Result<Prepared, EngineError> {
        if self.refused.is_empty() {
            Ok(self)
        } else {
            Err(EngineError::Plan(self.refused))
        }
    }

    /// The plan only when every provider could be read: the first failure otherwise.
    pub fn require_all(mut self) -> Result<Prepared, EngineError> {
        match self.unreadable.len() {
            0 => Ok(self),
            1 => Err(self.unreadable.remove(0).error.into()),
            _ => Err(EngineError::Plan(
                self.unreadable
                    .iter()
                    .map(|u| u.error.to_string())
                    .collect(),
            )),
        }
    }
}

/// The customers and partners the files declare `protect = true`.
fn declared_protections(desired: &Desired) -> BTreeMap<Address, protect::Declared> {
    desired
        .protected
        .iter()
        .filter_map(|(address, place)| {
            let provider = match address {
                Address::Customer(k) => desired.customers.get(k).map(|c| &c.provider),
                Address::Partner(k) => desired.partners.get(k).map(|p| &p.provider),
                _ => None,
            }?;
            Some((
                address.clone(),
                protect::Declared {
                    provider: provider.clone(),
                    place: place.clone(),
                },
            ))
        })
        .collect()
}

/// State's protections by address (a key that is not an address is left alone).
fn recorded_protections(
    store: &dyn StateStore,
) -> Result<BTreeMap<Address, crate::state::Protection>, StateError> {
    Ok(store
        .protections()?
        .into_iter()
        .filter_map(|(k, p)| k.parse().ok().map(|a| (a, p)))
        .collect())
}

/// State's ownership records by address. A key that is not an address (a state
/// written by something else) is left alone, with a warning.
pub fn owned(store: &dyn StateStore) -> Result<Owned, StateError> {
    let mut out = Owned::new();
    for (key, record) in store.owned()? {
        match key.parse::<Address>() {
            Ok(address) => {
                out.insert(address, record);
            }
            Err(e) => {
                tracing::warn!(key = %key, error = %e, "a state record whose key is not an address is left alone")
            }
        }
    }
    Ok(out)
}

/// Refreshes every provider and computes the plan; fails when any provider
/// cannot be read. Makes no vendor write.
pub async fn plan(
    desired: &Desired,
    store: Arc<dyn StateStore>,
    selection: &Selection,
) -> Result<Prepared, EngineError> {
    plan_with(desired, store, selection, &PlanOptions::default())
        .await?
        .require_all()?
        .refuse_protected()
}

/// Refreshes every provider and computes the plan, with options beyond the
/// files (e.g. invitations to send again). A provider that cannot be read does
/// not stop the others: the plan covers the readable ones and lists it in
/// `plan.unavailable` (never planning a delete or a forget for it). A
/// selection (`--target`, `--exclude`) narrows what is read as well as what
/// is planned.
pub async fn plan_with(
    desired: &Desired,
    store: Arc<dyn StateStore>,
    selection: &Selection,
    options: &PlanOptions,
) -> Result<Prepared, EngineError> {
    let unknown: Vec<String> = options
        .max_calls
        .per_provider
        .keys()
        .filter(|k| !desired.providers.contains_key(*k))
        .map(|k| {
            let hint = crate::config::text::did_you_mean(
                k,
                desired.providers.keys().map(String::as_str),
            );
            format!("--max-calls {k}=…: no provider `{k}` in the files; {hint}the keys are those of [providers.KEY]")
        })
        .collect();
    if !unknown.is_empty() {
        return Err(EngineError::Plan(unknown));
    }
    let owned = owned(store.as_ref())?;
    let selected = selection
        .resolve(desired, &owned)
        .map_err(EngineError::Plan)?;
    let mut options = options.clone();
    if let Some(only) = &selected.only {
        options.scope = options.scope.clone().restricted(only.clone());
    }
    let options = &options;
    let open = pending(store.as_ref())?;
    if !open.is_empty() {
        tracing::warn!(
            count = open.len(),
            "an earlier apply was interrupted; its unfinished writes are settled by reading live state first"
        );
    }
    let removed = removed_providers(desired, &owned, options)?;
    let mut clients = Vec::new();
    let mut unreadable = Vec::new();
    // A selection that covers nothing of a provider does not read it.
    let providers = desired.providers.values().filter(|p| {
        selected
            .providers
            .as_ref()
            .is_none_or(|set| set.contains(&p.key))
    });
    for p in providers {
        match p.spec.clone().connect(&p.key, &p.base_url, store.clone()) {
            Ok(client) => clients.push(client),
            Err(error) => unreadable.push(Unreadable {
                provider: p.key.clone(),
                error,
            }),
        }
    }
    // `--max-calls`: every call of the run (refresh and apply) counts.
    let budgets = options.max_calls.budgets();
    for c in &clients {
        budgets.attach(c.transport());
    }
    // Every vendor is read at once, each under its own rate limit.
    let reads = clients.iter().map(|c| async {
        let refresh = c.refresh(desired, &owned, options);
        let result = if crate::events::wanted() {
            watch_refresh(c.as_ref(), refresh).await
        } else {
            refresh.await
        };
        crate::events::emit(crate::events::Event::RefreshProgress {
            provider: c.key().to_string(),
            calls: c.calls(),
            ok: result.is_ok(),
            done: true,
        });
        result
    });
    let refreshes = futures::future::join_all(reads).await;
    let mut parts = Vec::new();
    let mut errors = Vec::new();
    for (client, refreshed) in clients.into_iter().zip(refreshes) {
        match refreshed {
            Ok(refreshed) => {
                errors.extend(refreshed.resolved().errors.iter().cloned());
                parts.push(Part { client, refreshed });
            }
            // A failed read is never taken as "empty": it would plan deletes.
            Err(error) => unreadable.push(Unreadable {
                provider: client.key().to_string(),
                error,
            }),
        }
    }
    unreadable.sort_by(|a, b| a.provider.cmp(&b.provider));
    if !errors.is_empty() {
        return Err(EngineError::Plan(errors));
    }
    let mut desired_records = Vec::new();
    let mut live = BTreeMap::new();
    let mut notes = Vec::new();
    let mut replace_on = BTreeMap::new();
    let mut explain = BTreeMap::new();
    let mut defaults = BTreeMap::new();
    let mut unread = BTreeSet::new();
    for part in &parts {
        let resolved = part.refreshed.resolved();
        replace_on.extend(resolved.replace_on.clone());
        explain.extend(resolved.explain.clone());
        defaults.extend(resolved.defaults.clone());
        desired_records.extend(resolved.desired.iter().cloned());
        live.extend(resolved.live.iter().map(|(k, v)| (k.clone(), v.clone())));
        notes.extend(resolved.notes.iter().cloned());
        unread.extend(resolved.unread.iter().cloned());
    }
    // Outside the selection, or not read this run: nothing is planned. A
    // vendor may read more than it was asked (a page holds other customers
    // too); what it read beyond the selection is not looked at.
    let covered = |a: &Address| selected.covers(a) && !unread.contains(a);
    desired_records.retain(|r| covered(&r.address));
    live.retain(|a, _| covered(a));
    notes.retain(|n| covered(&n.address));
    let owned_set: BTreeSet<Address> = owned.keys().cloned().collect();
    let exclusive: BTreeSet<String> = desired
        .providers
        .values()
        .filter(|p| p.ownership == Ownership::Exclusive)
        .map(|p| p.key.clone())
        .collect();
    let (mut actions, mut unmanaged) = diff::diff(&desired_records, &live, &owned_set, &exclusive);
    unmanaged.extend(notes);
    diff::mark_replacements(&mut actions, &replace_on);
    for a in &mut actions {
        a.note = explain.get(&a.address).cloned();
        if matches!(a.op, Op::Create | Op::Replace)
            && let Some(fields) = defaults.get(&a.address)
        {
            a.defaults = a
                .changes
                .iter()
                .filter(|c| fields.contains(&c.field))
                .map(|c| c.field.clone())
                .collect();
        }
    }
    let read: BTreeSet<&str> = parts.iter().map(|p| p.client.key()).collect();
    let guarded = protect::guard(
        &mut actions,
        &live,
        &declared_protections(desired),
        &recorded_protections(store.as_ref())?,
        &|provider| read.contains(provider),
    );
    let stranded = stranded_by_deletes(&actions, &unmanaged, &live);
    if !stranded.is_empty() {
        return Err(EngineError::Plan(stranded));
    }
    let declared: BTreeSet<&Address> = desired_records.iter().map(|r| &r.address).collect();
    for (address, record) in owned.iter().filter(|(a, _)| covered(a)) {
        // Gone from the files and the vendor (as read), or left behind by a
        // provider the files no longer declare (allowed by the user).
        let gone = read.contains(record.provider.as_str())
            && !declared.contains(address)
            && !live.contains_key(address);
        if gone || removed.contains(&record.provider) {
            actions.push(forget(address, &record.provider));
        }
    }
    actions.retain(|a| covered(&a.address));
    let held = select::hold_back_deletes(
        &mut actions,
        &selected,
        &select::Dependencies::new(desired, &owned),
    );
    unmanaged.retain(|u| covered(&u.address));
    let bulk = crate::plan::bulk::check(&actions, &owned, desired.bulk);
    let reads = parts
        .iter()
        .map(|p| {
            let mine: Vec<Action> = actions
                .iter()
                .filter(|a| a.provider == p.client.key())
                .cloned()
                .collect();
            let apply_calls = p.refreshed.estimate(desired, &owned, options, &mine);
            let transport = p.client.transport();
            ProviderRead {
                provider: p.client.key().to_string(),
                kind: p.client.info().type_name.into(),
                calls: p.refreshed.calls(),
                apply_calls,
                apply_seconds: transport.limiter().time_for(apply_calls).as_secs(),
                calls_per_second: transport.limiter().per_second(),
                day_quota: transport.day_quota(),
            }
        })
        .collect();
    let mut plan = Plan::new(reads, actions, unmanaged);
    (plan.targets, plan.excludes) = selection.texts();
    plan.pulled_in = selected.pulled_in.iter().cloned().collect();
    plan.dragged_out = selected.dragged_out.iter().cloned().collect();
    plan.unchecked = unread
        .iter()
        .filter(|a| selected.covers(a))
        .cloned()
        .collect();
    let wanted = |a: &Address| selected.covers(a);
    plan.kept = guarded
        .kept
        .into_iter()
        .filter(|k| wanted(&k.address))
        .collect();
    plan.protect = guarded
        .protect
        .into_iter()
        .filter(|p| wanted(&p.address))
        .collect();
    plan.warnings = guarded.warnings;
    plan.warnings.extend(held);
    plan.bulk = bulk;
    plan.inputs = saved::inputs(&plan.actions, &live, &Dependencies::new(desired, &owned));
    plan.recount();
    plan.resend_invitations = options.resend_invitations.iter().cloned().collect();
    plan.allow_provider_removal = options.allow_provider_removal.iter().cloned().collect();
    plan.unavailable = unreadable
        .iter()
        .map(|u| Unavailable {
            provider: u.provider.clone(),
            kind: desired
                .providers
                .get(&u.provider)
                .map(|p| p.type_name().to_string())
                .unwrap_or_default(),
            error: u.error.to_string(),
        })
        .collect();
    Ok(Prepared {
        plan,
        refused: guarded.refused,
        parts,
        unreadable,
        owned,
        options: options.clone(),
        live,
    })
}

fn forget(address: &Address, provider: &str) -> Action {
    Action {
        address: address.clone(),
        kind: address.kind(),
        provider: provider.to_string(),
        op: Op::Forget,
        changes: Vec::new(),
        replace_because: Vec::new(),
        note: None,
        defaults: Vec::new(),
    }
}

/// Providers that state still owns objects of but the files no longer declare.
/// Removing a provider's configuration cannot delete anything (mspform could
/// no longer reach it), so it is refused unless the user names the provider in
/// `--allow-provider-removal`; the objects are then forgotten and left as they are.
fn removed_providers(
    desired: &Desired,
    owned: &Owned,
    options: &PlanOptions,
) -> Result<BTreeSet<String>, EngineError> {
    let mut orphans: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (address, record) in owned {
        if !desired.providers.contains_key(&record.provider) {
            orphans
                .entry(record.provider.as_str())
                .or_default()
                .push(address.to_string());
        }
    }
    let mut errors = Vec::new();
    let mut removed = BTreeSet::new();
    for (provider, addresses) in orphans {
        if options.allow_provider_removal.contains(provider) {
            removed.insert(provider.to_string());
            continue;
        }
        let shown: Vec<&str> = addresses.iter().take(5).map(String::as_str).collect();
        let more = if addresses.len() > shown.len() {
            format!(", and {} more", addresses.len() - shown.len())
        } else {
            String::new()
        };
        errors.push(format!(
            "state owns {} object(s) of provider `{provider}` ({}{more}), but the configuration no longer declares [providers.{provider}]. Removing a provider's configuration deletes nothing at the vendor: mspform can no longer reach it. Restore [providers.{provider}] to keep managing them (to delete them, remove its customers and apply first), or re-run with --allow-provider-removal {provider} to forget them and leave them as they are",
            addresses.len(),
            shown.join(", ")
        ));
    }
    for unknown in options
        .allow_provider_removal
        .iter()
        .filter(|p| desired.providers.contains_key(*p))
    {
        errors.push(format!(
            "--allow-provider-removal {unknown}: the configuration still declares [providers.{unknown}]; remove it from the files first"
        ));
    }
    if errors.is_empty() {
        Ok(removed)
    } else {
        Err(EngineError::Plan(errors))
    }
}

/// Deleting a customer takes everything inside it along. mspform only deletes
/// what it owns, so a customer holding objects nobody declared (devices or sites
/// added by hand) is not deleted: the plan stops and says what is in the way.
fn stranded_by_deletes(
    actions: &[Action],
    unmanaged: &[diff::Unmanaged],
    live: &BTreeMap<Address, diff::Record>,
) -> Vec<String> {
    let mut errors = Vec::new();
    for a in actions
        .iter()
        .filter(|a| a.kind == diff::Kind::Customer && a.op == Op::Delete)
    {
        let key = a.address.key();
        let inside: Vec<String> = unmanaged
            .iter()
            .filter(|u| {
                (u.address != a.address && u.address.is_within(&a.address))
                    || live
                        .get(&u.address)
                        .and_then(|r| r.fields.get("customer"))
                        .is_some_and(|c| c == key)
            })
            .map(|u| u.address.to_string())
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

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ApplyReport {
    pub steps: Vec<StepReport>,
    /// Per plan action: the worst outcome of the steps that serve it.
    pub actions: BTreeMap<Address, Outcome>,
    /// API calls the apply spent (refresh excluded).
    pub calls: u64,
    pub interrupted: bool,
}

/// An action's outcome from the steps that serve it: the first failure, else
/// done when every step is, else partly done when some ran and the rest was
/// skipped (Ctrl-C, or a step it depends on in another action failed), else skipped.
fn action_outcome(steps: &[&StepReport]) -> Outcome {
    if let Some(failed) = steps
        .iter()
        .find(|s| matches!(s.outcome, Outcome::Failed(_)))
    {
        return failed.outcome.clone();
    }
    let (done, rest): (Vec<&&StepReport>, Vec<&&StepReport>) =
        steps.iter().partition(|s| s.outcome == Outcome::Done);
    match (done.is_empty(), rest.first()) {
        (_, None) => Outcome::Done,
        (true, Some(first)) => first.outcome.clone(),
        (false, Some(_)) => Outcome::Partial {
            done: done.iter().map(|s| s.step.clone()).collect(),
            not_started: rest
                .iter()
                .map(|s| match &s.outcome {
                    Outcome::Skipped(why) => format!("{} ({why})", s.step),
                    _ => s.step.clone(),
                })
                .collect(),
        },
    }
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
    pub fn partial(&self) -> usize {
        self.actions
            .values()
            .filter(|o| matches!(o, Outcome::Partial { .. }))
            .count()
    }
    pub fn ok(&self) -> bool {
        self.failed() == 0 && self.skipped() == 0 && self.partial() == 0 && !self.interrupted
    }
}

/// Settles the writes an interrupted run left pending. The plan was computed from
/// freshly read live state, so whatever those writes did is already reflected in
/// it; only creates the plan still wants are left open, so their step looks the
/// object up by name before creating it again. Entries of providers that could
/// not be read stay pending: nothing has looked at their live state.
fn settle_journal(prepared: &Prepared, store: &dyn StateStore) -> Result<(), StateError> {
    let read: BTreeSet<&str> = prepared.parts.iter().map(|p| p.client.key()).collect();
    let creating: BTreeSet<String> = prepared
        .plan
        .actions
        .iter()
        .filter(|a| a.op == Op::Create)
        .map(|a| a.address.to_string())
        .collect();
    for (id, entry) in pending(store)? {
        if !read.contains(entry.provider.as_str())
            || (entry.action == "create" && creating.contains(&entry.address))
        {
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

/// Forgets the owned objects of providers the files no longer declare (the plan
/// has them only when `--allow-provider-removal` named the provider): there is
/// no client to run them, and they need none.
fn forget_removed(prepared: &Prepared, store: &dyn StateStore, report: &mut ApplyReport) {
    let read: BTreeSet<&str> = prepared.parts.iter().map(|p| p.client.key()).collect();
    for a in prepared
        .plan
        .actions
        .iter()
        .filter(|a| a.op == Op::Forget && !read.contains(a.provider.as_str()))
    {
        let outcome = match forget_record(store, &a.address) {
            Ok(()) => Outcome::Done,
            Err(e) => Outcome::Failed(e.to_string()),
        };
        report.steps.push(StepReport {
            provider: a.provider.clone(),
            step: format!("forget {}", a.address),
            addresses: vec![a.address.clone()],
            outcome,
            started: None,
            settled: crate::vendor::steps::unix_now(),
        });
    }
}

fn forget_record(store: &dyn StateStore, address: &Address) -> Result<(), StateError> {
    let key = address.to_string();
    store.remove_owned(&key)?;
    for (id, entry) in pending(store)? {
        if entry.address == key {
            store.journal_finish(
                id,
                JournalStatus::Settled,
                Some("forgotten with its provider's configuration".into()),
            )?;
        }
    }
    Ok(())
}

/// Records the protections the plan lists, for the objects that now exist and
/// are owned (a create that failed is protected by the next apply).
fn record_protections(prepared: &Prepared, store: &dyn StateStore, report: &mut ApplyReport) {
    for p in &prepared.plan.protect {
        let key = p.address.to_string();
        let outcome = match store.get_owned(&key) {
            Ok(Some(record)) => {
                let protection = crate::state::Protection {
                    provider: record.provider,
                    since: crate::clock::now_unix(),
                    declared_at: Some(p.declared_at.clone()),
                };
                match store.set_protection(&key, &protection) {
                    Ok(()) => Outcome::Done,
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            }
            Ok(None) => Outcome::Skipped(
                "not owned yet (its create or adoption did not finish); the next apply protects it"
                    .into(),
            ),
            Err(e) => Outcome::Failed(e.to_string()),
        };
        report.steps.push(StepReport {
            provider: p.provider.clone(),
            step: format!("protect {}", p.address),
            addresses: vec![p.address.clone()],
            outcome: outcome.clone(),
            started: None,
            settled: crate::vendor::steps::unix_now(),
        });
        match report.actions.get(&p.address) {
            // The action's own outcome (e.g. its failed create) says more.
            Some(existing) if *existing != Outcome::Done => {}
            _ => {
                report.actions.insert(p.address.clone(), outcome);
            }
        }
    }
}

/// Executes a prepared plan: independent work carries on past a failure, work
/// that depends on a failed step is skipped, and every outcome is reported.
pub async fn apply(
    prepared: &Prepared,
    desired: &Desired,
    store: Arc<dyn StateStore>,
    stop: &Stop,
) -> ApplyReport {
    if let Err(e) = settle_journal(prepared, store.as_ref()) {
        tracing::error!(error = %e, "cannot settle the journal; applying nothing");
        let mut report = ApplyReport::default();
        for a in &prepared.plan.actions {
            report
                .actions
                .insert(a.address.clone(), Outcome::Failed(e.to_string()));
        }
        return report;
    }
    let mut report = ApplyReport::default();
    forget_removed(prepared, store.as_ref(), &mut report);
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
                owned: &prepared.owned,
                options: &prepared.options,
                store,
                stop: stop.clone(),
            };
            part.refreshed.apply(ctx).await
        }
    });
    let results = futures::future::join_all(runs).await;
    for (steps, interrupted) in results {
        report.interrupted |= interrupted;
        report.steps.extend(steps);
    }
    // Steps by the (provider, address) they serve, once: matching every action
    // against every step cost actions × steps at 1,000 customers.
    let mut by_action: BTreeMap<(&str, &Address), Vec<&StepReport>> = BTreeMap::new();
    for s in &report.steps {
        for a in &s.addresses {
            by_action
                .entry((s.provider.as_str(), a))
                .or_default()
                .push(s);
        }
    }
    let outcomes: Vec<(Address, Outcome)> = prepared
        .plan
        .actions
        .iter()
        .map(|a| {
            let mine = by_action
                .get(&(a.provider.as_str(), &a.address))
                .map(Vec::as_slice)
                .unwrap_or_default();
            (a.address.clone(), action_outcome(mine))
        })
        .collect();
    report.actions.extend(outcomes);
    record_protections(prepared, store.as_ref(), &mut report);
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
