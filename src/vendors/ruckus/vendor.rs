//! RUCKUS One as a [`Vendor`]: its registration (capabilities, docs), what a
//! plan reads, and the calls into this folder's client, resolve and steps. Its
//! schema is in `config` ([`VendorConfig`](crate::vendor::VendorConfig)), its
//! steps run in `run` and its import in `import`.

use std::sync::Arc;

use super::Client;
use super::refresh::Snapshot;
use super::run::RunEnv;
use super::steps::StepOp;
use crate::diff::Action;
use crate::state::StateStore;
use crate::vendor::{Capabilities, Ctx, ProviderError, Resolved, Spec, Step, Vendor, VendorInfo};

/// The RUCKUS One vendor (`type = "ruckus-one"`).
pub struct Ruckus;

impl Vendor for Ruckus {
    const INFO: VendorInfo = VendorInfo {
        type_name: "ruckus-one",
        title: "RUCKUS One",
        sim_prefix: "ruckus",
        docs: "src/vendors/ruckus/README.md",
        capabilities: Capabilities {
            update_in_place: true,
            delete: true,
            sites: false,
            devices: false,
            partners: true,
            // Tech partners: MSP_INTEGRATOR and MSP_INSTALLER tenants.
            partner_roles: &["integrator", "installer"],
            // A tenant may be delegated to an integrator and an installer at once.
            partner_exclusive: false,
            // Writes answer 202 + requestId; activities are polled.
            async_jobs: true,
        },
        steps_in_flight: 16,
        per_customer_reads: &[],
    };

    type Client = Client;
    type Snapshot = Snapshot;
    type Op = StepOp;
    type Env = RunEnv;

    fn connect(
        key: &str,
        base_url: &str,
        spec: &Spec<Self>,
        store: Arc<dyn StateStore>,
    ) -> Result<Client, ProviderError> {
        Client::new(key, base_url, &spec.settings, store)
    }

    async fn refresh<'a>(
        client: &'a Client,
        ctx: Ctx<'a, Self>,
    ) -> Result<Snapshot, ProviderError> {
        client.snapshot(ctx).await
    }

    fn resolve(ctx: Ctx<'_, Self>, snapshot: &Snapshot) -> Resolved {
        super::resolve::resolve(ctx, snapshot)
    }

    fn compile(
        ctx: Ctx<'_, Self>,
        snapshot: &Snapshot,
        resolved: &Resolved,
        actions: &[Action],
    ) -> Vec<Step<StepOp>> {
        super::steps::compile(ctx, snapshot, resolved, actions)
    }
}
