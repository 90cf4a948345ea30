//! Vendor clients: one module per vendor with the same inner shape, the shared
//! HTTP plumbing, and the [`Provider`] trait the engine drives them through.
//! The only place that imports reqwest.
//!
//! Every vendor module follows one layout: `mod.rs` (transport and auth),
//! `wire.rs` (its own lenient serde types), `refresh.rs` (live read),
//! `resolve.rs` (pure: live objects → stable addresses and desired records),
//! `steps.rs` (pure: plan actions → ordered [`Step`]s) and `run.rs` (executes
//! steps). The engine never sees a vendor type: it gets a [`Refreshed`] to
//! diff, and hands the plan's actions back to [`Provider::apply`].

pub mod aruba;
pub mod audiocodes;
pub mod extreme;
pub mod http;
pub mod ruckus;
pub mod transport;

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::BoxFuture;
use tracing::Instrument;

use crate::diff::{Action, Record, Unmanaged};
use crate::model::{Desired, Provider as ProviderConfig, ProviderKind};
use crate::state::{OwnedRecord, StateStore};

pub use http::ProviderError;

/// Ownership records by address, as read from state at the start of a run.
pub type Owned = BTreeMap<String, OwnedRecord>;

/// What the user asked for beyond the files, that changes what a plan contains.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Customer addresses whose administrator invitation is to be sent again.
    pub resend_invitations: BTreeSet<String>,
    /// Providers the files no longer declare whose owned objects are to be forgotten.
    pub allow_provider_removal: BTreeSet<String>,
}

/// A provider's live state mapped onto stable addresses, ready to diff.
#[derive(Debug, Default, Clone)]
pub struct Resolved {
    pub desired: Vec<Record>,
    pub live: BTreeMap<String, Record>,
    /// Address → vendor id of every live object that maps to an address.
    pub ids: BTreeMap<String, String>,
    /// Problems that make a plan impossible (e.g. a device not in the MSP inventory).
    pub errors: Vec<String>,
    /// Live customer ids whose contents mspform manages.
    pub managed_customers: BTreeSet<String>,
    /// Unmanaged things the diff cannot see on its own (e.g. an undeclared tenant
    /// sitting in a declared partner): reported with the plan, left alone.
    pub notes: Vec<Unmanaged>,
    /// Address → fields that cannot change in place: a change to one of them is
    /// planned as a replacement (delete, then create).
    pub replace_on: BTreeMap<String, Vec<String>>,
}

/// What one provider's refresh produced. Vendor modules keep their own snapshot
/// behind it and get it back by downcasting in [`Provider::apply`].
pub trait Refreshed: Send + Sync {
    fn resolved(&self) -> &Resolved;
    /// API calls the refresh spent.
    fn calls(&self) -> u64;
    fn as_any(&self) -> &dyn Any;
}

/// A vendor's snapshot with its resolution: the one [`Refreshed`] every vendor
/// returns; [`Provider::apply`] gets its own snapshot type back with [`Refresh::of`].
pub struct Refresh<S> {
    pub snapshot: S,
    pub resolved: Resolved,
    /// API calls the refresh spent.
    pub calls: u64,
}

impl<S: Send + Sync + 'static> Refresh<S> {
    pub fn boxed(snapshot: S, resolved: Resolved, calls: u64) -> Box<dyn Refreshed> {
        Box::new(Refresh {
            snapshot,
            resolved,
            calls,
        })
    }

    /// This vendor's refresh, or `None` when it came from another vendor.
    pub fn of(refreshed: &dyn Refreshed) -> Option<&Refresh<S>> {
        refreshed.as_any().downcast_ref::<Refresh<S>>()
    }
}

impl<S: Send + Sync + 'static> Refreshed for Refresh<S> {
    fn resolved(&self) -> &Resolved {
        &self.resolved
    }
    fn calls(&self) -> u64 {
        self.calls
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Everything an apply needs besides the refresh it is based on.
pub struct ApplyCtx<'a> {
    /// This provider's actions from the plan.
    pub actions: &'a [Action],
    pub desired: &'a Desired,
    pub store: Arc<dyn StateStore>,
    /// Set by Ctrl-C: start no new step.
    pub stop: &'a AtomicBool,
}

/// One vendor account: refreshes live state and applies a plan's actions.
pub trait Provider: Send + Sync {
    /// The key in `[providers.<key>]`.
    fn key(&self) -> &str;
    fn type_name(&self) -> &'static str;
    /// API calls sent so far (every attempt counts, as vendors count them).
    fn calls(&self) -> u64;
    /// 429 answers received so far.
    fn rate_limited(&self) -> u64 {
        0
    }
    /// Reads live state and resolves it against the desired state. Never writes.
    fn refresh<'a>(
        &'a self,
        desired: &'a Desired,
        owned: &'a Owned,
        options: &'a PlanOptions,
    ) -> BoxFuture<'a, Result<Box<dyn Refreshed>, ProviderError>>;
    /// Runs this provider's actions. Independent steps carry on past a failure;
    /// steps depending on a failed one are skipped. Returns the step reports and
    /// whether Ctrl-C stopped it early.
    fn apply<'a>(
        &'a self,
        refreshed: &'a dyn Refreshed,
        ctx: ApplyCtx<'a>,
    ) -> BoxFuture<'a, (Vec<StepReport>, bool)>;
}

/// Builds the client for one configured provider. Reads the credentials it
/// names (environment or file); makes no call.
pub fn connect(
    config: &ProviderConfig,
    store: Arc<dyn StateStore>,
) -> Result<Arc<dyn Provider>, ProviderError> {
    Ok(match &config.kind {
        ProviderKind::ArubaCentral(_) => Arc::new(aruba::Aruba::new(config, store)?),
        ProviderKind::ExtremeCloud(_) => Arc::new(extreme::Extreme::new(config, store)?),
        ProviderKind::RuckusOne(_) => Arc::new(ruckus::Ruckus::new(config, store)?),
        ProviderKind::AudiocodesLive(_) => Arc::new(audiocodes::Audiocodes::new(config, store)?),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    Done,
    Failed(String),
    Skipped(String),
    /// Some of the action's steps ran (their vendor writes went through), the
    /// rest never started (Ctrl-C): labels of each.
    Partial {
        done: Vec<String>,
        not_started: Vec<String>,
    },
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StepReport {
    pub provider: String,
    pub step: String,
    pub addresses: Vec<String>,
    pub outcome: Outcome,
}

/// What the generic runner needs to know about a vendor's step.
pub trait StepInfo {
    fn id(&self) -> usize;
    /// Steps that must have succeeded before this one runs.
    fn deps(&self) -> &[usize];
    /// The plan actions this step serves.
    fn addresses(&self) -> &[String];
    fn label(&self) -> String;
}

/// Executes one vendor step.
pub trait StepRunner<S> {
    fn run(&mut self, step: &S) -> impl Future<Output = Result<(), ProviderError>> + Send;
}

/// A vendor step: what to do (`op`), which plan actions it serves, and what it waits for.
#[derive(Debug, Clone)]
pub struct Step<O> {
    pub id: usize,
    pub deps: Vec<usize>,
    pub addresses: Vec<String>,
    pub label: String,
    pub op: O,
}

impl<O> StepInfo for Step<O> {
    fn id(&self) -> usize {
        self.id
    }
    fn deps(&self) -> &[usize] {
        &self.deps
    }
    fn addresses(&self) -> &[String] {
        &self.addresses
    }
    fn label(&self) -> String {
        self.label.clone()
    }
}

/// Collects steps in execution order.
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
    /// Appends a step and returns its id.
    pub fn push(
        &mut self,
        deps: Vec<usize>,
        addresses: Vec<String>,
        label: impl Into<String>,
        op: O,
    ) -> usize {
        let id = self.steps.len();
        self.steps.push(Step {
            id,
            deps,
            addresses,
            label: label.into(),
            op,
        });
        id
    }
}

/// Runs steps in order: a step whose dependency did not succeed is skipped, a
/// failure is reported and independent work carries on, and Ctrl-C (`stop`)
/// skips everything not yet started.
pub async fn run_steps<S, R>(
    provider: &str,
    steps: &[S],
    runner: &mut R,
    stop: &AtomicBool,
) -> (Vec<StepReport>, bool)
where
    S: StepInfo + Sync,
    R: StepRunner<S> + Send,
{
    let mut done: BTreeMap<usize, bool> = BTreeMap::new();
    let mut reports = Vec::new();
    let mut interrupted = false;
    for step in steps {
        let label = step.label();
        let blocked = step.deps().iter().find(|d| done.get(d) != Some(&true));
        let outcome = if stop.load(Ordering::SeqCst) {
            interrupted = true;
            Outcome::Skipped("interrupted before it started".into())
        } else if let Some(dep) = blocked {
            let what = steps
                .iter()
                .find(|s| s.id() == *dep)
                .map(|s| s.label())
                .unwrap_or_default();
            Outcome::Skipped(format!("depends on \"{what}\", which did not succeed"))
        } else {
            let span = tracing::info_span!("step", provider = %provider, step = %label);
            match runner.run(step).instrument(span).await {
                Ok(()) => Outcome::Done,
                Err(e) => Outcome::Failed(e.to_string()),
            }
        };
        done.insert(step.id(), outcome == Outcome::Done);
        reports.push(StepReport {
            provider: provider.to_string(),
            step: label,
            addresses: step.addresses().to_vec(),
            outcome,
        });
    }
    (reports, interrupted)
}

/// Stable addresses, the same for every vendor.
pub fn customer_address(key: &str) -> String {
    format!("customer.{key}")
}

pub fn partner_address(key: &str) -> String {
    format!("partner.{key}")
}

/// How an undeclared live object is named: `customer["Name"]`.
pub fn unmanaged_address(kind: &str, name: &str) -> String {
    format!("{kind}[{}]", serde_json::Value::String(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Script {
        fail: Vec<usize>,
        ran: Vec<usize>,
    }

    impl StepRunner<Step<()>> for Script {
        async fn run(&mut self, step: &Step<()>) -> Result<(), ProviderError> {
            self.ran.push(step.id);
            if self.fail.contains(&step.id) {
                return Err(ProviderError::Other {
                    provider: "p".into(),
                    message: format!("step {} failed", step.id),
                });
            }
            Ok(())
        }
    }

    fn steps() -> Vec<Step<()>> {
        let mut b = Steps::default();
        let a = b.push(vec![], vec!["customer.a".into()], "create a", ());
        b.push(vec![a], vec!["partner.p".into()], "assign a", ());
        b.push(vec![], vec!["customer.b".into()], "create b", ());
        b.steps
    }

    #[tokio::test]
    async fn a_failure_skips_only_its_dependents() {
        let mut runner = Script {
            fail: vec![0],
            ran: vec![],
        };
        let (reports, interrupted) =
            run_steps("p", &steps(), &mut runner, &AtomicBool::new(false)).await;
        assert!(!interrupted);
        assert_eq!(runner.ran, [0, 2]);
        assert!(matches!(reports[0].outcome, Outcome::Failed(_)));
        assert!(matches!(&reports[1].outcome, Outcome::Skipped(why) if why.contains("create a")));
        assert_eq!(reports[2].outcome, Outcome::Done);
    }

    #[tokio::test]
    async fn a_stop_starts_nothing_new() {
        let mut runner = Script {
            fail: vec![],
            ran: vec![],
        };
        let (reports, interrupted) =
            run_steps("p", &steps(), &mut runner, &AtomicBool::new(true)).await;
        assert!(interrupted);
        assert!(runner.ran.is_empty());
        assert!(
            reports
                .iter()
                .all(|r| matches!(r.outcome, Outcome::Skipped(_)))
        );
    }
}
