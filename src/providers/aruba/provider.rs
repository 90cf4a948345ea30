//! Aruba Central behind the engine's [`Provider`] trait.

use std::any::Any;

use futures::future::BoxFuture;

use super::Aruba;
use super::resolve::resolve;
use super::run::RunEnv;
use super::steps::{Step, compile};
use crate::live::LiveSnapshot;
use crate::model::Desired;
use crate::providers::{
    ApplyCtx, Owned, PlanOptions, Provider, ProviderError, Refreshed, Resolved, StepInfo,
    StepReport, StepRunner, run_steps,
};

/// What an Aruba refresh read, and how it maps onto addresses.
pub struct ArubaRefresh {
    pub snapshot: LiveSnapshot,
    pub resolved: Resolved,
}

impl Refreshed for ArubaRefresh {
    fn resolved(&self) -> &Resolved {
        &self.resolved
    }
    fn calls(&self) -> u64 {
        self.snapshot.calls
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl StepInfo for Step {
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
        Step::label(self)
    }
}

struct Runner<'a> {
    client: &'a Aruba,
    env: RunEnv,
}

impl StepRunner<Step> for Runner<'_> {
    async fn run(&mut self, step: &Step) -> Result<(), ProviderError> {
        self.client.run_step(step, &mut self.env).await
    }
}

impl Provider for Aruba {
    fn key(&self) -> &str {
        Aruba::key(self)
    }
    fn type_name(&self) -> &'static str {
        "aruba-central"
    }
    fn calls(&self) -> u64 {
        Aruba::calls(self)
    }
    fn rate_limited(&self) -> u64 {
        Aruba::rate_limited(self)
    }
    fn refresh<'a>(
        &'a self,
        desired: &'a Desired,
        owned: &'a Owned,
        _options: &'a PlanOptions,
    ) -> BoxFuture<'a, Result<Box<dyn Refreshed>, ProviderError>> {
        Box::pin(async move {
            let snapshot = self.snapshot(desired, owned).await?;
            let resolved = resolve(Aruba::key(self), desired, &snapshot, owned);
            Ok(Box::new(ArubaRefresh { snapshot, resolved }) as Box<dyn Refreshed>)
        })
    }
    fn apply<'a>(
        &'a self,
        refreshed: &'a dyn Refreshed,
        ctx: ApplyCtx<'a>,
    ) -> BoxFuture<'a, (Vec<StepReport>, bool)> {
        Box::pin(async move {
            let Some(r) = refreshed.as_any().downcast_ref::<ArubaRefresh>() else {
                return (Vec::new(), false);
            };
            let steps = compile(ctx.actions, ctx.desired, &r.snapshot);
            let env = RunEnv::new(ctx.store.clone(), r.resolved.ids.clone(), &r.snapshot);
            let mut runner = Runner { client: self, env };
            run_steps(Aruba::key(self), &steps, &mut runner, ctx.stop).await
        })
    }
}
