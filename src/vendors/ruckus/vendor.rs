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
        steps_in_flight: 100,
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

    /// The calls of these steps: a `POST /tenants` per ≤100 creates, one
    /// read per activity once it has settled plus [`FIRST_ACTIVITY_POLLS`] for
    /// the first one (the others wait to learn how long it took), an
    /// invitation per new tenant with an administrator, one call per update,
    /// invitation, delete and changed partner assignment. Adoptions, forgets
    /// and refusals call nothing.
    fn estimate(steps: &[Step<StepOp>]) -> u64 {
        let calls: u64 = steps.iter().map(|s| step_calls(&s.op)).sum();
        let learning = if steps
            .iter()
            .any(|s| step_calls(&s.op) > 0 && has_activity(&s.op))
        {
            FIRST_ACTIVITY_POLLS
        } else {
            0
        };
        calls + learning
    }
}

/// Reads of an activity once its time is known (the pace the first one set).
const ACTIVITY_READS: u64 = 1;
/// Extra reads of the first activity of a run: polled at once, then after
/// `poll_interval_ms`, doubling; an activity of a second or two (how long the
/// vendor's take is not documented [assumed]) is seen done on the fourth.
pub const FIRST_ACTIVITY_POLLS: u64 = 3;

fn has_activity(op: &StepOp) -> bool {
    matches!(
        op,
        StepOp::AwaitCreate { .. }
            | StepOp::Update { .. }
            | StepOp::Delete { .. }
            | StepOp::Assign { patch: true, .. }
    )
}

fn step_calls(op: &StepOp) -> u64 {
    match op {
        StepOp::CreateBatch { tenants } => {
            tenants.len().div_ceil(super::steps::BATCH).max(1) as u64
        }
        StepOp::AwaitCreate { tenant, .. } => ACTIVITY_READS + u64::from(tenant.admin.is_some()),
        StepOp::Adopt { admin, ours, .. } => u64::from(*ours && admin.is_some()),
        StepOp::Update { .. } | StepOp::Delete { .. } => 1 + ACTIVITY_READS,
        StepOp::Invite { .. } => 1,
        StepOp::Assign { patch, .. } => {
            if *patch {
                1 + ACTIVITY_READS
            } else {
                0
            }
        }
        StepOp::Forget { .. } | StepOp::Refuse { .. } => 0,
    }
}
