//! RUCKUS One behind the engine's [`Provider`] trait.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::future::BoxFuture;

use super::Ruckus;
use super::refresh::Snapshot;
use super::resolve::resolve;
use super::run::RunEnv;
use super::steps::{RuckusStep, compile};
use crate::model::Desired;
use crate::providers::{
    ApplyCtx, Owned, PlanOptions, Provider, ProviderError, Refresh, Refreshed, StepReport,
    StepRunner, run_steps,
};

struct Runner<'a> {
    client: &'a Ruckus,
    env: RunEnv,
}

impl StepRunner<RuckusStep> for Runner<'_> {
    async fn run(&mut self, step: &RuckusStep) -> Result<(), ProviderError> {
        self.client.run_step(step, &mut self.env).await
    }
}

impl Provider for Ruckus {
    fn key(&self) -> &str {
        Ruckus::key(self)
    }
    fn type_name(&self) -> &'static str {
        "ruckus-one"
    }
    fn calls(&self) -> u64 {
        Ruckus::calls(self)
    }
    fn rate_limited(&self) -> u64 {
        Ruckus::rate_limited(self)
    }
    fn refresh<'a>(
        &'a self,
        desired: &'a Desired,
        owned: &'a Owned,
        options: &'a PlanOptions,
    ) -> BoxFuture<'a, Result<Box<dyn Refreshed>, ProviderError>> {
        Box::pin(async move {
            let snapshot = self.snapshot(desired, owned).await?;
            let resolved = resolve(Ruckus::key(self), desired, &snapshot, owned, options);
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
            let steps = compile(ctx.actions, ctx.desired, &r.snapshot, &r.resolved);
            let env = RunEnv::new(ctx.store.clone(), r.resolved.ids.clone());
            // Invitations whose answer an earlier run lost, as the refresh read them.
            // On failure they stay in doubt (and treated as sent) for the next run.
            if let Err(e) = self.settle_doubtful_invitations(&r.snapshot, &env) {
                tracing::error!(provider = %Ruckus::key(self), error = %e, "could not record the invitations in doubt; the next run settles them");
            }
            let mut runner = Runner { client: self, env };
            // Ctrl-C also cuts short the waits for activities inside a step.
            let interrupted = self.interrupted.clone();
            interrupted.store(false, Ordering::SeqCst);
            let watch = async {
                loop {
                    if ctx.stop.load(Ordering::SeqCst) {
                        interrupted.store(true, Ordering::SeqCst);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            tokio::select! {
                done = run_steps(Ruckus::key(self), &steps, &mut runner, ctx.stop) => done,
                never = watch => never,
            }
        })
    }
}
