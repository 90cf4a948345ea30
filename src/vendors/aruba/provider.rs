//! Aruba Central behind the engine's [`Provider`] trait.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::future::BoxFuture;

use super::Aruba;
use super::resolve::resolve;
use super::run::RunEnv;
use super::steps::{Step, compile};
use crate::live::LiveSnapshot;
use crate::model::Desired;
use crate::providers::{
    ApplyCtx, Owned, PlanOptions, Provider, ProviderError, Refresh, Refreshed, StepInfo,
    StepReport, StepRunner, run_steps,
};

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
            let Some(r) = Refresh::<LiveSnapshot>::of(refreshed) else {
                return (Vec::new(), false);
            };
            let steps = compile(ctx.actions, ctx.desired, &r.snapshot);
            let env = RunEnv::new(ctx.store.clone(), r.resolved.ids.clone(), &r.snapshot);
            // Ctrl-C also cuts short the waits for moves inside a step.
            let interrupted = env.interrupted.clone();
            let mut runner = Runner { client: self, env };
            let watch = async {
                loop {
                    if ctx.stop.load(Ordering::SeqCst) {
                        interrupted.store(true, Ordering::SeqCst);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            tokio::select! {
                done = run_steps(Aruba::key(self), &steps, &mut runner, ctx.stop) => done,
                never = watch => never,
            }
        })
    }
}
