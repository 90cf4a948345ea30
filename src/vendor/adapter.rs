//! The one generic adapter: a [`Vendor`] as the engine's [`Provider`]. Its
//! refresh result keeps the typed client and snapshot, so the apply needs no
//! downcast: the [`Refreshed`] the engine holds applies itself.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::import::ImportCtx;
use super::steps::run_steps;
use super::{
    Apply, ApplyCtx, Ctx, Import, Imported, Ledger, Owned, PlanOptions, Provider, ProviderError,
    Refreshed, Resolved, Spec, StepReport, Vendor, VendorClient, VendorInfo,
};
use crate::diff::Action;
use crate::model::Desired;

/// A configured provider account of vendor `V`.
pub struct Adapter<V: Vendor> {
    inner: Arc<Inner<V>>,
}

struct Inner<V: Vendor> {
    key: String,
    spec: Arc<Spec<V>>,
    client: V::Client,
}

impl<V: Vendor> Adapter<V> {
    pub fn new(key: &str, spec: Arc<Spec<V>>, client: V::Client) -> Adapter<V> {
        Adapter {
            inner: Arc::new(Inner {
                key: key.to_string(),
                spec,
                client,
            }),
        }
    }

    /// The typed client (for tests and the vendor's own tools).
    pub fn client(&self) -> &V::Client {
        &self.inner.client
    }
}

/// One refresh of vendor `V`: what it read, how it resolved, and the client to apply with.
struct Refresh<V: Vendor> {
    inner: Arc<Inner<V>>,
    snapshot: V::Snapshot,
    resolved: Resolved,
    calls: u64,
}

impl<V: Vendor> Provider for Adapter<V> {
    fn key(&self) -> &str {
        &self.inner.key
    }
    fn info(&self) -> &'static VendorInfo {
        &V::INFO
    }
    fn calls(&self) -> u64 {
        self.inner.client.calls()
    }
    fn transport(&self) -> &super::transport::Transport {
        self.inner.client.transport()
    }
    fn rate_limited(&self) -> u64 {
        self.inner.client.rate_limited()
    }
    fn refresh<'a>(
        &'a self,
        desired: &'a Desired,
        owned: &'a Owned,
        options: &'a PlanOptions,
    ) -> BoxFuture<'a, Result<Box<dyn Refreshed>, ProviderError>> {
        Box::pin(async move {
            let inner = &self.inner;
            let ctx = Ctx {
                key: &inner.key,
                spec: &inner.spec,
                desired,
                owned,
                options,
            };
            let start = inner.client.calls();
            let snapshot = V::refresh(&inner.client, ctx).await?;
            let resolved = V::resolve(ctx, &snapshot);
            let calls = inner.client.calls() - start;
            Ok(Box::new(Refresh::<V> {
                inner: self.inner.clone(),
                snapshot,
                resolved,
                calls,
            }) as Box<dyn Refreshed>)
        })
    }
    fn import<'a>(
        &'a self,
        desired: &'a Desired,
        names: &'a [String],
    ) -> BoxFuture<'a, Result<Imported, ProviderError>> {
        Box::pin(async move {
            let inner = &self.inner;
            let ctx = ImportCtx {
                key: &inner.key,
                spec: &inner.spec,
                desired,
                names,
            };
            inner.client.import(ctx).await
        })
    }
}

impl<V: Vendor> Refreshed for Refresh<V> {
    fn resolved(&self) -> &Resolved {
        &self.resolved
    }
    fn calls(&self) -> u64 {
        self.calls
    }
    fn estimate(
        &self,
        desired: &Desired,
        owned: &Owned,
        options: &PlanOptions,
        actions: &[Action],
    ) -> u64 {
        if actions.is_empty() {
            return 0;
        }
        let inner = &self.inner;
        let ctx = Ctx {
            key: &inner.key,
            spec: &inner.spec,
            desired,
            owned,
            options,
        };
        V::estimate(&V::compile(ctx, &self.snapshot, &self.resolved, actions))
    }
    fn apply<'a>(&'a self, ctx: ApplyCtx<'a>) -> BoxFuture<'a, (Vec<StepReport>, bool)> {
        Box::pin(async move {
            let inner = &self.inner;
            let read = Ctx {
                key: &inner.key,
                spec: &inner.spec,
                desired: ctx.desired,
                owned: ctx.owned,
                options: ctx.options,
            };
            let steps = V::compile(read, &self.snapshot, &self.resolved, ctx.actions);
            let ledger = Ledger::new(
                &inner.key,
                ctx.store.clone(),
                self.resolved.ids.clone(),
                ctx.stop.clone(),
            );
            let env = inner.client.env(&self.snapshot, &self.resolved, ledger);
            let client = &inner.client;
            let env = &env;
            run_steps(
                &inner.key,
                &steps,
                |step| Box::pin(client.run(env, step)),
                &ctx.stop,
                V::INFO.steps_in_flight,
            )
            .await
        })
    }
}
