//! Steps: what a vendor's compile produces and the runner executes. A step
//! says what to do (`op`, the vendor's type), which plan actions it serves,
//! and which steps must have succeeded first — dependencies are data, not
//! phases. The runner skips a step whose dependency did not succeed, carries on
//! with independent work past a failure, and starts nothing new after Ctrl-C.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::BoxFuture;
use tracing::Instrument;

use super::ProviderError;
use crate::address::Address;
use crate::diff::{Action, Op};

/// Ctrl-C: once set, nothing new starts, and waits (activities, moves,
/// provisioning) end early. Cheap to clone; every clone sees the same flag.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Asks everything holding a clone to stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A vendor step.
#[derive(Debug, Clone)]
pub struct Step<O> {
    pub id: usize,
    /// Steps that must have succeeded before this one runs.
    pub deps: Vec<usize>,
    /// The plan actions this step serves.
    pub addresses: Vec<Address>,
    pub label: String,
    pub op: O,
    /// A step that mostly waits for the vendor to show an earlier write (a
    /// device move settling): the runner starts it only when no other ready
    /// step is waiting for a slot, so such waits gather and one shared read
    /// answers many of them, while the writes keep the rate limit busy.
    pub background: bool,
}

/// Collects steps; ids are positions.
#[derive(Debug)]
pub struct Steps<O> {
    pub steps: Vec<Step<O>>,
}

impl<O> Default for Steps<O> {
    fn default() -> Self {
        Steps { steps: Vec::new() }
    }
}

impl<O> Steps<O> {
    /// Appends a step and returns its id. Dependencies are kept sorted and
    /// unique; a dependency must already exist (steps come in an order a
    /// single runner can follow).
    pub fn push(
        &mut self,
        deps: impl IntoIterator<Item = usize>,
        addresses: Vec<Address>,
        label: impl Into<String>,
        op: O,
    ) -> usize {
        self.add(deps, addresses, label.into(), op, false)
    }

    /// Appends a [`Step::background`] step (see there) and returns its id.
    pub fn push_background(
        &mut self,
        deps: impl IntoIterator<Item = usize>,
        addresses: Vec<Address>,
        label: impl Into<String>,
        op: O,
    ) -> usize {
        self.add(deps, addresses, label.into(), op, true)
    }

    fn add(
        &mut self,
        deps: impl IntoIterator<Item = usize>,
        addresses: Vec<Address>,
        label: String,
        op: O,
        background: bool,
    ) -> usize {
        let id = self.steps.len();
        let mut deps: Vec<usize> = deps.into_iter().filter(|d| *d < id).collect();
        deps.sort_unstable();
        deps.dedup();
        self.steps.push(Step {
            id,
            deps,
            addresses,
            label,
            op,
            background,
        });
        id
    }

    /// One independent step per `forget` action (state lets go of an object
    /// gone from both the files and the vendor: no vendor call).
    pub fn forgets(&mut self, actions: &[Action], op: impl Fn(Address) -> O) {
        for a in actions.iter().filter(|a| a.op == Op::Forget) {
            let address = a.address.clone();
            let label = format!("forget {address}");
            self.push([], vec![address.clone()], label, op(address));
        }
    }

    pub fn into_vec(self) -> Vec<Step<O>> {
        self.steps
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    Done,
    Failed(String),
    Skipped(String),
    /// Some of the action's steps ran (their vendor writes went through), the
    /// rest did not start: labels of each (with why, for those skipped).
    Partial {
        done: Vec<String>,
        not_started: Vec<String>,
    },
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StepReport {
    pub provider: String,
    pub step: String,
    pub addresses: Vec<Address>,
    pub outcome: Outcome,
    /// When it started and settled (Unix seconds); `started` is `None` for a
    /// step that never ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<f64>,
    pub settled: f64,
}

/// The time now in Unix seconds (for step reports).
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// What a running step said it waits on ([`wait_for`]).
#[derive(Debug, Clone)]
struct Declared {
    what: String,
    limit: std::time::Duration,
    since: std::time::Instant,
}

type WaitSlot = Arc<std::sync::Mutex<Option<Declared>>>;

/// The runner's view of the step being polled, for [`wait_for`]: which
/// actions it serves and where a declared wait goes.
#[derive(Clone)]
struct StepCtx {
    provider: String,
    /// The actions it serves: address, operation, when the action started.
    actions: Arc<Vec<(Address, String, std::time::Instant)>>,
    wait: WaitSlot,
}

tokio::task_local! {
    static STEP: StepCtx;
}

/// A declared wait; the step is no longer waiting on it once this is dropped.
#[must_use = "the wait lasts as long as the guard"]
pub struct WaitGuard(Option<WaitSlot>);

impl Drop for WaitGuard {
    fn drop(&mut self) {
        if let Some(slot) = &self.0 {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }
}

/// A step declares what it waits on and the longest it waits (the vendor's
/// bound, as configured): e.g. `wait_for("customer \"Acme\" to finish
/// provisioning", 600 s)`. The actions the step serves report it at once and
/// every few seconds after (`Event::Waiting` with `what` and
/// `limit_seconds`; a step serving several actions, on the first of them),
/// until the guard is dropped. Outside a step run by
/// [`run_steps`] (a unit test calling a client directly) it does nothing.
pub fn wait_for(what: impl Into<String>, limit: std::time::Duration) -> WaitGuard {
    let what = what.into();
    STEP.try_with(|ctx| {
        let declared = Declared {
            what,
            limit,
            since: std::time::Instant::now(),
        };
        *ctx.wait.lock().unwrap_or_else(|e| e.into_inner()) = Some(declared.clone());
        // A batch (a device move serving ten devices) is one wait: reported
        // on its first action, not once per device.
        if let Some((address, op, started)) = ctx.actions.first() {
            crate::events::emit(waiting_event(
                &ctx.provider,
                address,
                op,
                *started,
                Some(&declared),
            ));
        }
        WaitGuard(Some(ctx.wait.clone()))
    })
    .unwrap_or(WaitGuard(None))
}

fn waiting_event(
    provider: &str,
    address: &Address,
    op: &str,
    started: std::time::Instant,
    declared: Option<&Declared>,
) -> crate::events::Event {
    crate::events::Event::Waiting {
        provider: provider.to_string(),
        address: address.clone(),
        op: op.to_string(),
        seconds: started.elapsed().as_secs_f64(),
        what: declared.map(|d| d.what.clone()),
        limit_seconds: declared.map(|d| d.limit.as_secs()),
        waited_seconds: declared.map(|d| d.since.elapsed().as_secs_f64()),
    }
}

/// Runs steps as a dependency graph: a step starts once every step it
/// depends on has succeeded, up to `max_in_flight` at once (lowest id first
/// among those ready, [`Step::background`] steps after all others); a step whose dependency did not succeed is skipped with
/// its own dependents, a failure is reported and independent work carries on,
/// and Ctrl-C (`stop`) starts nothing new while the steps in flight finish.
/// A step that finds the provider's daily quota or the run's call budget
/// spent stops it: nothing new starts, the rest is reported as not started.
/// Reports come in the order steps finished (or were skipped). Returns them
/// and whether it stopped. `ops` names each action's operation for the
/// progress events (`crate::events`): an action starts with its first step
/// and finishes with its last.
pub async fn run_steps<'a, O: Sync>(
    provider: &str,
    steps: &'a [Step<O>],
    mut run: impl FnMut(&'a Step<O>) -> BoxFuture<'a, Result<(), ProviderError>>,
    stop: &Stop,
    max_in_flight: usize,
    ops: &BTreeMap<Address, String>,
) -> (Vec<StepReport>, bool) {
    use futures::stream::{FuturesUnordered, StreamExt};
    use std::collections::BTreeSet;

    let index: BTreeMap<usize, usize> = steps.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let mut waiting: Vec<usize> = steps.iter().map(|s| s.deps.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (i, s) in steps.iter().enumerate() {
        for d in &s.deps {
            match index.get(d) {
                Some(&j) => dependents[j].push(i),
                None => waiting[i] = usize::MAX,
            }
        }
    }
    // Ready steps, background ones last, then lowest id first.
    let key = |i: usize| (steps[i].background, i);
    let mut ready: BTreeSet<(bool, usize)> = (0..steps.len())
        .filter(|i| waiting[*i] == 0)
        .map(key)
        .collect();
    let mut running = FuturesUnordered::new();
    let mut t = Tracker::new(provider, steps, ops);
    if !t.total.is_empty() {
        crate::events::emit(crate::events::Event::ApplyStarted {
            provider: provider.to_string(),
            actions: t.total.len(),
        });
    }
    let mut interrupted = false;
    // Set when a step found the provider's daily quota or the run's budget
    // spent: nothing new starts, and the rest is reported as not started.
    let mut halted: Option<String> = None;
    let mut tick = tokio::time::interval(WAITING_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.reset();
    loop {
        if stop.is_set() {
            interrupted |= !ready.is_empty() || t.settled.iter().any(|s| !s);
            for (_, i) in std::mem::take(&mut ready) {
                t.settle(i, Outcome::Skipped("interrupted before it started".into()));
            }
        }
        if let Some(why) = &halted {
            for (_, i) in std::mem::take(&mut ready) {
                t.settle(i, Outcome::Skipped(format!("not started: {why}")));
            }
        }
        while running.len() < max_in_flight.max(1) && !stop.is_set() && halted.is_none() {
            let Some((_, i)) = ready.pop_first() else {
                break;
            };
            let ctx = t.start(i);
            let span = tracing::info_span!("step", provider = %provider, step = %steps[i].label);
            let fut = STEP.scope(ctx, run(&steps[i]).instrument(span));
            running.push(async move { (i, fut.await) });
        }
        if running.is_empty() {
            break;
        }
        let (i, result) = tokio::select! {
            next = running.next() => match next {
                Some(done) => done,
                None => break,
            },
            _ = tick.tick() => {
                t.still_running();
                continue;
            }
        };
        let ok = result.is_ok();
        if let Err(e) = &result
            && e.halts_provider()
            && halted.is_none()
        {
            halted = Some(e.to_string());
        }
        t.settle(
            i,
            match result {
                Ok(()) => Outcome::Done,
                Err(e) => Outcome::Failed(e.to_string()),
            },
        );
        if ok {
            for &j in &dependents[i] {
                waiting[j] = waiting[j].saturating_sub(1);
                if waiting[j] == 0 && !t.settled[j] {
                    ready.insert(key(j));
                }
            }
        } else if halted.is_none() {
            skip_dependents(steps, &dependents, i, &mut t);
        }
        // Once halted, what waited on a failed step is reported below as not
        // started for the halt's reason (steps run concurrently: several may
        // meet the spent quota at once).
    }
    for i in 0..steps.len() {
        if !t.settled[i] {
            let outcome = if stop.is_set() {
                interrupted = true;
                Outcome::Skipped("interrupted before it started".into())
            } else if let Some(why) = &halted {
                Outcome::Skipped(format!("not started: {why}"))
            } else {
                Outcome::Skipped(blocked_by(steps, &index, i))
            };
            t.settle(i, outcome);
        }
    }
    (t.reports, interrupted)
}

/// How often an action still running is reported (`Event::Waiting`).
const WAITING_EVERY: std::time::Duration = std::time::Duration::from_secs(10);
/// How many running actions of a provider get a `Waiting` event each time
/// (the longest-running ones); the others are counted in `StillRunning`.
const WAITING_LISTED: usize = 5;

/// The runner's book-keeping: which steps settled, their reports, and the
/// actions they serve (for the progress events).
struct Tracker<'a, O> {
    provider: &'a str,
    steps: &'a [Step<O>],
    ops: &'a BTreeMap<Address, String>,
    settled: Vec<bool>,
    reports: Vec<StepReport>,
    /// Address → steps serving it not settled yet.
    left: BTreeMap<&'a Address, usize>,
    /// Address → steps serving it.
    total: BTreeMap<&'a Address, usize>,
    /// Address → when its first step started.
    started: BTreeMap<&'a Address, std::time::Instant>,
    /// The actions started and not finished, oldest first: what a tick
    /// reports reads only these, not every action started so far.
    running: std::collections::BTreeSet<(std::time::Instant, &'a Address)>,
    /// Step → when it started (Unix seconds).
    step_started: BTreeMap<usize, f64>,
    /// Address → its steps' outcomes so far (done, failed: the first failure).
    outcomes: BTreeMap<&'a Address, (usize, usize, Option<String>)>,
    /// Running step → what it declared it waits on ([`wait_for`]).
    waits: BTreeMap<usize, WaitSlot>,
}

impl<'a, O> Tracker<'a, O> {
    fn new(provider: &'a str, steps: &'a [Step<O>], ops: &'a BTreeMap<Address, String>) -> Self {
        let mut left = BTreeMap::new();
        for s in steps {
            for a in &s.addresses {
                *left.entry(a).or_insert(0) += 1;
            }
        }
        Tracker {
            provider,
            steps,
            ops,
            settled: vec![false; steps.len()],
            reports: Vec::new(),
            total: left.clone(),
            left,
            started: BTreeMap::new(),
            running: Default::default(),
            step_started: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            waits: BTreeMap::new(),
        }
    }

    fn op(&self, address: &Address) -> String {
        self.ops.get(address).cloned().unwrap_or_default()
    }

    /// Marks step `i` started (and the actions it is the first step of), and
    /// returns its context for [`wait_for`].
    fn start(&mut self, i: usize) -> StepCtx {
        self.step_started.insert(i, unix_now());
        let mut actions = Vec::with_capacity(self.steps[i].addresses.len());
        for a in &self.steps[i].addresses {
            let at = *self.started.entry(a).or_insert_with(|| {
                crate::events::emit(crate::events::Event::ActionStarted {
                    provider: self.provider.to_string(),
                    address: a.clone(),
                    op: self.ops.get(a).cloned().unwrap_or_default(),
                });
                let now = std::time::Instant::now();
                self.running.insert((now, a));
                now
            });
            actions.push((a.clone(), self.op(a), at));
        }
        let wait = WaitSlot::default();
        self.waits.insert(i, wait.clone());
        StepCtx {
            provider: self.provider.to_string(),
            actions: Arc::new(actions),
            wait,
        }
    }

    /// Started and not finished: in [`Tracker::running`].
    fn is_running(&self, a: &Address) -> bool {
        self.started
            .get(a)
            .is_some_and(|at| self.running.contains(&(*at, a)))
    }

    fn still_running(&self) {
        for e in self.still_running_events() {
            crate::events::emit(e);
        }
    }

    /// What every tick reports of the actions still running: a `Waiting`
    /// event for each of the [`WAITING_LISTED`] longest-running ones — with
    /// the wait a step of it declared ([`wait_for`]; a batch's declared wait
    /// on the first action its step serves, the others of the batch are part
    /// of it) — and one `StillRunning` with the count when more run: with a
    /// thousand customers in flight, an event for each every 10 s would be a
    /// wall of lines (and cost as much as the plan at every tick).
    fn still_running_events(&self) -> Vec<crate::events::Event> {
        let mut declared: BTreeMap<&Address, Declared> = BTreeMap::new();
        let mut covered: std::collections::BTreeSet<&Address> = Default::default();
        for (i, slot) in &self.waits {
            if let Some(d) = slot.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                let served = &self.steps[*i].addresses;
                if let Some(first) = served.first() {
                    declared.entry(first).or_insert_with(|| d.clone());
                }
                covered.extend(served.iter());
            }
        }
        // An action that is part of a batch's declared wait (not its first)
        // is neither listed nor counted: the batch is one wait. Those are
        // few (the steps in flight serve them), so the count is the running
        // set's size less them, and listing reads the oldest few only.
        let part_of_batch = |a: &Address| covered.contains(a) && !declared.contains_key(a);
        let hidden = covered
            .iter()
            .filter(|a| part_of_batch(a) && self.is_running(a))
            .count();
        let running = self.running.len().saturating_sub(hidden);
        let mut out: Vec<crate::events::Event> = self
            .running
            .iter()
            .filter(|(_, a)| !part_of_batch(a))
            .take(WAITING_LISTED)
            .map(|(at, a)| waiting_event(self.provider, a, &self.op(a), *at, declared.get(*a)))
            .collect();
        let listed = out.len();
        if running > listed {
            out.push(crate::events::Event::StillRunning {
                provider: self.provider.to_string(),
                running,
                listed,
            });
        }
        out
    }

    fn settle(&mut self, i: usize, outcome: Outcome) {
        if self.settled[i] {
            return;
        }
        self.settled[i] = true;
        self.waits.remove(&i);
        let step = &self.steps[i];
        for a in &step.addresses {
            let seen = self.outcomes.entry(a).or_insert((0, 0, None));
            match &outcome {
                Outcome::Done => seen.0 += 1,
                Outcome::Failed(e) => {
                    seen.1 += 1;
                    seen.2.get_or_insert_with(|| e.clone());
                }
                Outcome::Skipped(why) => {
                    seen.2.get_or_insert_with(|| why.clone());
                }
                Outcome::Partial { .. } => {}
            }
            let left = self.left.entry(a).or_insert(1);
            *left = left.saturating_sub(1);
            if *left == 0 {
                if let Some(at) = self.started.get(a) {
                    self.running.remove(&(*at, a));
                }
                let (done, failed, why) = self.outcomes.get(a).cloned().unwrap_or_default();
                // Counted once up front: scanning the steps here made each
                // settle cost as much as the whole plan.
                let total = self.total.get(a).copied().unwrap_or(0);
                let word = if failed > 0 {
                    "failed"
                } else if done == total {
                    "done"
                } else if done == 0 {
                    "skipped"
                } else {
                    "partial"
                };
                crate::events::emit(crate::events::Event::ActionFinished {
                    provider: self.provider.to_string(),
                    address: a.clone(),
                    op: self.op(a),
                    outcome: word.into(),
                    detail: if word == "done" { None } else { why },
                    seconds: self
                        .started
                        .get(a)
                        .map_or(0.0, |at| at.elapsed().as_secs_f64()),
                });
            }
        }
        self.reports.push(StepReport {
            provider: self.provider.to_string(),
            step: step.label.clone(),
            addresses: step.addresses.clone(),
            outcome,
            started: self.step_started.get(&i).copied(),
            settled: unix_now(),
        });
    }
}

/// Skips, transitively, what depends on the failed step.
fn skip_dependents<O>(
    steps: &[Step<O>],
    dependents: &[Vec<usize>],
    failed: usize,
    t: &mut Tracker<'_, O>,
) {
    let mut queue = vec![failed];
    while let Some(k) = queue.pop() {
        for &j in &dependents[k] {
            if !t.settled[j] {
                t.settle(
                    j,
                    Outcome::Skipped(format!(
                        "depends on \"{}\", which did not succeed",
                        steps[k].label
                    )),
                );
                queue.push(j);
            }
        }
    }
}

fn blocked_by<O>(steps: &[Step<O>], index: &BTreeMap<usize, usize>, i: usize) -> String {
    let what = steps[i]
        .deps
        .iter()
        .find(|d| !index.contains_key(d))
        .map(|d| format!("step {d}"))
        .unwrap_or_else(|| "a step".into());
    format!("depends on \"{what}\", which did not succeed")
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn steps() -> Vec<Step<()>> {
        let mut b = Steps::default();
        let a = b.push([], vec![Address::customer("a")], "create a", ());
        b.push([a], vec![Address::partner("p")], "assign a", ());
        b.push([], vec![Address::customer("b")], "create b", ());
        b.into_vec()
    }

    async fn run(fail: &[usize], stop: bool) -> (Vec<StepReport>, bool, Vec<usize>) {
        let ran = Mutex::new(Vec::new());
        let steps = steps();
        let (reports, interrupted) = run_steps(
            "p",
            &steps,
            |step| {
                ran.lock().unwrap().push(step.id);
                let failed = fail.contains(&step.id);
                Box::pin(async move {
                    if failed {
                        Err(ProviderError::Other {
                            provider: "p".into(),
                            message: format!("step {} failed", step.id),
                        })
                    } else {
                        Ok(())
                    }
                })
            },
            &{
                let s = Stop::new();
                if stop {
                    s.stop();
                }
                s
            },
            1,
            &BTreeMap::new(),
        )
        .await;
        (reports, interrupted, ran.into_inner().unwrap())
    }

    #[tokio::test]
    async fn a_failure_skips_only_its_dependents() {
        let (reports, interrupted, ran) = run(&[0], false).await;
        assert!(!interrupted);
        assert_eq!(ran, [0, 2]);
        assert!(matches!(reports[0].outcome, Outcome::Failed(_)));
        assert!(matches!(&reports[1].outcome, Outcome::Skipped(why) if why.contains("create a")));
        assert_eq!(reports[2].outcome, Outcome::Done);
    }

    #[tokio::test]
    async fn a_stop_starts_nothing_new() {
        let (reports, interrupted, ran) = run(&[], true).await;
        assert!(interrupted);
        assert!(ran.is_empty());
        assert!(
            reports
                .iter()
                .all(|r| matches!(r.outcome, Outcome::Skipped(_)))
        );
    }

    #[tokio::test]
    async fn a_spent_daily_quota_starts_nothing_more_of_the_provider() {
        let ran = Mutex::new(Vec::new());
        let steps = steps();
        let (reports, interrupted) = run_steps(
            "p",
            &steps,
            |step| {
                ran.lock().unwrap().push(step.id);
                Box::pin(async move {
                    Err(ProviderError::DailyQuota {
                        provider: "p".into(),
                        call: "POST /x".into(),
                        resets_at: "2026-12-06 00:00 UTC".into(),
                    })
                })
            },
            &Stop::new(),
            1,
            &BTreeMap::new(),
        )
        .await;
        assert!(!interrupted);
        // The first step met the spent quota; the independent "create b" was not started.
        assert_eq!(ran.into_inner().unwrap(), [0]);
        let b = reports.iter().find(|r| r.step == "create b").unwrap();
        assert!(
            matches!(&b.outcome, Outcome::Skipped(why) if why.starts_with("not started: ") && why.contains("resets at")),
            "{:?}",
            b.outcome
        );
        assert_eq!(reports.len(), 3);
    }

    #[tokio::test]
    async fn background_steps_start_after_every_other_ready_step() {
        // Two writes, a wait on the first, and work depending on the wait:
        // the wait (lower id) runs only once nothing else is ready.
        let mut b: Steps<()> = Steps::default();
        let w1 = b.push([], vec![], "write 1", ());
        let wait = b.push_background([w1], vec![], "wait for write 1", ());
        b.push([wait], vec![], "after the wait", ());
        b.push([], vec![], "write 2", ());
        b.push([], vec![], "write 3", ());
        let steps = b.into_vec();
        let ran = Mutex::new(Vec::new());
        let (reports, _) = run_steps(
            "p",
            &steps,
            |step| {
                ran.lock().unwrap().push(step.label.clone());
                Box::pin(async { Ok(()) })
            },
            &Stop::new(),
            1,
            &BTreeMap::new(),
        )
        .await;
        assert_eq!(
            ran.into_inner().unwrap(),
            [
                "write 1",
                "write 2",
                "write 3",
                "wait for write 1",
                "after the wait"
            ]
        );
        assert!(reports.iter().all(|r| r.outcome == Outcome::Done));
    }

    #[test]
    fn only_the_longest_running_actions_are_listed_while_they_wait() {
        use crate::events::Event;
        let mut b: Steps<()> = Steps::default();
        for n in 0..12 {
            b.push(
                [],
                vec![Address::customer(format!("c{n:02}"))],
                "create",
                (),
            );
        }
        let steps = b.into_vec();
        let ops = BTreeMap::new();
        let mut t = Tracker::new("p", &steps, &ops);
        for i in (0..12).rev() {
            t.start(i);
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        t.settle(11, Outcome::Done);
        let events = t.still_running_events();
        let waiting: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                Event::Waiting { address, .. } => Some(address.to_string()),
                _ => None,
            })
            .collect();
        // Started last to first: c10 is the oldest still running (c11 is done).
        assert_eq!(
            waiting,
            [
                "customer.c10",
                "customer.c09",
                "customer.c08",
                "customer.c07",
                "customer.c06"
            ]
        );
        assert_eq!(
            events.last(),
            Some(&Event::StillRunning {
                provider: "p".into(),
                running: 11,
                listed: 5
            })
        );
        assert_eq!(events.len(), 6);
        // A finished action leaves the set a tick reads: with every action
        // done there is nothing to report and nothing left to look at.
        for i in 0..11 {
            t.settle(i, Outcome::Done);
        }
        assert!(t.running.is_empty());
        assert!(t.still_running_events().is_empty());
    }

    #[test]
    fn a_batch_under_one_declared_wait_is_listed_and_counted_once() {
        use crate::events::Event;
        let mut b: Steps<()> = Steps::default();
        // Step 0 moves three devices and declares one wait; steps 1-6 are
        // single customers that declare none.
        b.push(
            [],
            (1..=3).map(|n| Address::device(format!("S{n}"))).collect(),
            "move",
            (),
        );
        for n in 0..6 {
            b.push([], vec![Address::customer(format!("c{n}"))], "create", ());
        }
        let steps = b.into_vec();
        let ops = BTreeMap::new();
        let mut t = Tracker::new("p", &steps, &ops);
        let ctx = t.start(0);
        *ctx.wait.lock().unwrap() = Some(Declared {
            what: "the move to land".into(),
            limit: std::time::Duration::from_secs(60),
            since: std::time::Instant::now(),
        });
        for i in 1..7 {
            std::thread::sleep(std::time::Duration::from_millis(1));
            t.start(i);
        }
        let events = t.still_running_events();
        let waiting: Vec<(String, Option<String>)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Waiting { address, what, .. } => Some((address.to_string(), what.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            waiting,
            [
                (
                    "device.S1".to_string(),
                    Some("the move to land".to_string())
                ),
                ("customer.c0".to_string(), None),
                ("customer.c1".to_string(), None),
                ("customer.c2".to_string(), None),
                ("customer.c3".to_string(), None),
            ]
        );
        // Seven waits run (the move and six creates), not nine actions.
        assert_eq!(
            events.last(),
            Some(&Event::StillRunning {
                provider: "p".into(),
                running: 7,
                listed: 5
            })
        );
        // Once the move is done its devices are neither listed nor counted.
        t.settle(0, Outcome::Done);
        assert_eq!(
            t.still_running_events().last(),
            Some(&Event::StillRunning {
                provider: "p".into(),
                running: 6,
                listed: 5
            })
        );
    }

    /// The waiting events of provider `provider` (events are process-wide:
    /// other tests' providers are filtered out).
    fn waits_of(provider: &'static str) -> Arc<Mutex<Vec<crate::events::Event>>> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        crate::events::subscribe(move |e| {
            if e.event.provider() == Some(provider)
                && matches!(e.event, crate::events::Event::Waiting { .. })
            {
                sink.lock().unwrap().push(e.event.clone());
            }
        });
        seen
    }

    #[tokio::test(start_paused = true)]
    async fn a_declared_wait_is_reported_at_once_and_while_it_lasts_with_what_and_bound() {
        let seen = waits_of("p-declared-wait");
        let mut b = Steps::default();
        // One batch step serving two actions, and an action that never declares a wait.
        b.push(
            [],
            vec![Address::device("D1"), Address::device("D2")],
            "move",
            true,
        );
        b.push([], vec![Address::customer("plain")], "plain", false);
        let steps = b.into_vec();
        let (reports, _) = run_steps(
            "p-declared-wait",
            &steps,
            |step| {
                let declares = step.op;
                Box::pin(async move {
                    let _w = declares.then(|| {
                        wait_for("2 devices to land", std::time::Duration::from_secs(300))
                    });
                    tokio::time::sleep(std::time::Duration::from_secs(25)).await;
                    Ok(())
                })
            },
            &Stop::new(),
            2,
            &BTreeMap::new(),
        )
        .await;
        assert!(reports.iter().all(|r| r.outcome == Outcome::Done));
        let seen = seen.lock().unwrap().clone();
        let on = |address: &Address| -> Vec<(Option<String>, Option<u64>)> {
            seen.iter()
                .filter_map(|e| match e {
                    crate::events::Event::Waiting {
                        address: a,
                        what,
                        limit_seconds,
                        ..
                    } if a == address => Some((what.clone(), *limit_seconds)),
                    _ => None,
                })
                .collect()
        };
        let declared = (Some("2 devices to land".to_string()), Some(300));
        // At once, then at 10 s and 20 s of the 25 s wait.
        assert_eq!(
            on(&Address::device("D1")),
            vec![declared.clone(); 3],
            "{seen:?}"
        );
        assert!(
            on(&Address::device("D2")).is_empty(),
            "a batch is one wait: {seen:?}"
        );
        assert_eq!(
            on(&Address::customer("plain")),
            vec![(None, None); 2],
            "{seen:?}"
        );
    }

    #[test]
    fn a_wait_declared_outside_a_step_does_nothing() {
        let seen = waits_of("p-no-step");
        drop(wait_for("nothing", std::time::Duration::from_secs(1)));
        assert!(seen.lock().unwrap().is_empty());
    }

    #[test]
    fn dependencies_are_sorted_unique_and_earlier() {
        let mut b: Steps<()> = Steps::default();
        let a = b.push([], vec![], "a", ());
        let c = b.push([a, a, 7], vec![], "c", ());
        assert_eq!(b.steps[c].deps, [a]);
    }
}
