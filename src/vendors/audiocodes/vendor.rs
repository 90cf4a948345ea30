//! AudioCodes Live Platform as a [`Vendor`]: its registration (capabilities,
//! docs), what a plan reads, and the calls into this folder's client, resolve
//! and steps. Its schema is in `config` ([`VendorConfig`](crate::vendor::VendorConfig)),
//! its steps run in `run` and its import in `import`.

use std::sync::Arc;

use super::Client;
use super::refresh::Snapshot;
use super::run::RunEnv;
use super::steps::StepOp;
use crate::diff::Action;
use crate::state::StateStore;
use crate::vendor::{Capabilities, Ctx, ProviderError, Resolved, Spec, Step, Vendor, VendorInfo};

/// The AudioCodes Live Platform vendor (`type = "audiocodes-live"`).
pub struct Audiocodes;

impl Vendor for Audiocodes {
    const INFO: VendorInfo = VendorInfo {
        type_name: "audiocodes-live",
        title: "AudioCodes Live Platform",
        sim_prefix: "audiocodes",
        docs: "src/vendors/audiocodes/README.md",
        capabilities: Capabilities {
            // No documented update call: every change is a replacement.
            update_in_place: false,
            delete: true,
            sites: false,
            devices: false,
            partners: false,
            partner_roles: &[],
            partner_exclusive: false,
            async_jobs: false,
        },
        steps_in_flight: 8,
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
        _store: Arc<dyn StateStore>,
    ) -> Result<Client, ProviderError> {
        Client::new(key, base_url, &spec.settings)
    }

    async fn refresh<'a>(
        client: &'a Client,
        _ctx: Ctx<'a, Self>,
    ) -> Result<Snapshot, ProviderError> {
        client.snapshot().await
    }

    fn resolve(ctx: Ctx<'_, Self>, snapshot: &Snapshot) -> Resolved {
        super::resolve::resolve(ctx, snapshot)
    }

    fn compile(
        ctx: Ctx<'_, Self>,
        _snapshot: &Snapshot,
        _resolved: &Resolved,
        actions: &[Action],
    ) -> Vec<Step<StepOp>> {
        super::steps::compile(ctx, actions)
    }

    /// The calls of these steps: one per create (synchronous: it answers once
    /// the site is onboarded) and one per delete; adoptions and forgets call
    /// nothing.
    fn estimate(steps: &[Step<StepOp>]) -> u64 {
        steps
            .iter()
            .filter(|s| matches!(s.op, StepOp::Create { .. } | StepOp::Delete { .. }))
            .count() as u64
    }
}
