//! ExtremeCloud client (vendor-apis.md). Placeholder until the client lands.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::{ApplyCtx, Owned, PlanOptions, Provider, ProviderError, Refreshed, StepReport};
use crate::model::{Desired, Provider as ProviderConfig};
use crate::state::StateStore;

pub struct Extreme {
    key: String,
}

impl Extreme {
    pub fn new(
        provider: &ProviderConfig,
        _store: Arc<dyn StateStore>,
    ) -> Result<Extreme, ProviderError> {
        Ok(Extreme {
            key: provider.key.clone(),
        })
    }
}

impl Provider for Extreme {
    fn key(&self) -> &str {
        &self.key
    }
    fn type_name(&self) -> &'static str {
        "extreme"
    }
    fn calls(&self) -> u64 {
        0
    }
    fn refresh<'a>(
        &'a self,
        _desired: &'a Desired,
        _owned: &'a Owned,
        _options: &'a PlanOptions,
    ) -> BoxFuture<'a, Result<Box<dyn Refreshed>, ProviderError>> {
        Box::pin(async move {
            Err(ProviderError::Other {
                provider: self.key.clone(),
                message: "this provider type is not implemented yet".into(),
            })
        })
    }
    fn apply<'a>(
        &'a self,
        _refreshed: &'a dyn Refreshed,
        _ctx: ApplyCtx<'a>,
    ) -> BoxFuture<'a, (Vec<StepReport>, bool)> {
        Box::pin(async move { (Vec::new(), false) })
    }
}
