//! AudioCodes Live Platform behind the engine's [`Provider`] trait.

use futures::future::BoxFuture;

use super::Audiocodes;
use super::refresh::Snapshot;
use super::resolve::resolve;
use super::run::RunEnv;
use super::steps::{StepOp, compile};
use crate::model::Desired;
use crate::providers::{
    ApplyCtx, Owned, PlanOptions, Provider, ProviderError, Refresh, Refreshed, Step, StepReport,
    StepRunner, run_steps,
};

struct Runner<'a> {
    client: &'a Audiocodes,
    env: RunEnv,
}

impl StepRunner<Step<StepOp>> for Runner<'_> {
    async fn run(&mut self, step: &Step<StepOp>) -> Result<(), ProviderError> {
        self.client.run_step(step, &mut self.env).await
    }
}

impl Provider for Audiocodes {
    fn key(&self) -> &str {
        Audiocodes::key(self)
    }
    fn type_name(&self) -> &'static str {
        "audiocodes-live"
    }
    fn calls(&self) -> u64 {
        Audiocodes::calls(self)
    }
    fn rate_limited(&self) -> u64 {
        Audiocodes::rate_limited(self)
    }
    fn refresh<'a>(
        &'a self,
        desired: &'a Desired,
        owned: &'a Owned,
        _options: &'a PlanOptions,
    ) -> BoxFuture<'a, Result<Box<dyn Refreshed>, ProviderError>> {
        Box::pin(async move {
            let snapshot = self.snapshot().await?;
            let resolved = resolve(Audiocodes::key(self), desired, &snapshot, owned);
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
            let steps = compile(Audiocodes::key(self), ctx.actions, ctx.desired);
            let env = RunEnv::new(ctx.store.clone(), r.resolved.ids.clone());
            let mut runner = Runner { client: self, env };
            run_steps(Audiocodes::key(self), &steps, &mut runner, ctx.stop).await
        })
    }
}
