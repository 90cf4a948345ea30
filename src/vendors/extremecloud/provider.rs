//! ExtremeCloud behind the engine's [`Provider`] trait.

use futures::future::BoxFuture;

use super::Extreme;
use super::refresh::Snapshot;
use super::resolve::resolve;
use super::run::RunEnv;
use super::steps::{ExtremeStep, compile};
use crate::model::Desired;
use crate::providers::{
    ApplyCtx, Owned, PlanOptions, Provider, ProviderError, Refresh, Refreshed, StepReport,
    StepRunner, run_steps,
};

struct Runner<'a> {
    client: &'a Extreme,
    env: RunEnv,
}

impl StepRunner<ExtremeStep> for Runner<'_> {
    async fn run(&mut self, step: &ExtremeStep) -> Result<(), ProviderError> {
        self.client.run_step(step, &mut self.env).await
    }
}

impl Provider for Extreme {
    fn key(&self) -> &str {
        Extreme::key(self)
    }
    fn type_name(&self) -> &'static str {
        "extremecloud"
    }
    fn calls(&self) -> u64 {
        Extreme::calls(self)
    }
    fn rate_limited(&self) -> u64 {
        Extreme::rate_limited(self)
    }
    fn refresh<'a>(
        &'a self,
        desired: &'a Desired,
        owned: &'a Owned,
        _options: &'a PlanOptions,
    ) -> BoxFuture<'a, Result<Box<dyn Refreshed>, ProviderError>> {
        Box::pin(async move {
            let snapshot = self.snapshot(desired).await?;
            let resolved = resolve(Extreme::key(self), desired, &snapshot, owned);
            let calls = snapshot.calls;
            Ok(Refresh::boxed(snapshot, resolved, calls))
        })
    }
    fn apply<'a>(
        &'a self,
        refreshed: &'a dyn Refreshed,
        ctx: ApplyCtx<'a>,
    ) -> BoxFuture<'a, (Vec<StepReport>, bool)> {
        Box::pin(async move {
            let Some(r) = Refresh::<Snapshot>::of(refreshed) else {
                return (Vec::new(), false);
            };
            let steps = compile(
                Extreme::key(self),
                ctx.actions,
                ctx.desired,
                &r.snapshot,
                &r.resolved.ids,
            );
            let env = RunEnv::new(ctx.store.clone(), r.resolved.ids.clone());
            let mut runner = Runner { client: self, env };
            run_steps(Extreme::key(self), &steps, &mut runner, ctx.stop).await
        })
    }
}
