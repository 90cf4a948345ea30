//! ExtremeCloud as a [`Vendor`]: its registration (capabilities, docs), what a
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

/// The ExtremeCloud vendor (`type = "extremecloud"`).
pub struct ExtremeCloud;

impl Vendor for ExtremeCloud {
    const INFO: VendorInfo = VendorInfo {
        type_name: "extremecloud",
        title: "ExtremeCloud",
        sim_prefix: "extreme",
        docs: "src/vendors/extremecloud/README.md",
        capabilities: Capabilities {
            // No documented tenant update. A changed tenant is still planned as an
            // update (never a replacement: there is no delete either), with a note
            // saying it can only be changed in the portal; its step fails saying so.
            update_in_place: false,
            // No documented tenant delete: removing an owned tenant is a plan error.
            delete: false,
            sites: false,
            devices: false,
            partners: true,
            partner_roles: &[],
            // A tenant is managed by one partner at a time.
            partner_exclusive: true,
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
        ctx: Ctx<'a, Self>,
    ) -> Result<Snapshot, ProviderError> {
        // The partners only when the files declare some the run's scope wants.
        let partners = ctx
            .partners()
            .any(|p| ctx.scope().wants(&crate::address::Address::partner(&p.key)));
        client.snapshot(partners).await
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
        super::steps::compile(ctx, snapshot, &resolved.ids, actions)
    }

    /// The calls of these steps: one `POST` per tenant create (its answer
    /// carries the id), one `PUT` per partner step, and one partner-list read
    /// for all the partner steps of the apply. Adoptions, forgets and
    /// refusals call nothing.
    fn estimate(steps: &[Step<StepOp>]) -> u64 {
        let mut calls = 0;
        let mut partners = false;
        for s in steps {
            match &s.op {
                StepOp::CreateTenant { .. } => calls += 1,
                StepOp::PutPartner { .. } => {
                    calls += 1;
                    partners = true;
                }
                StepOp::Own { .. } | StepOp::Refuse { .. } | StepOp::Forget { .. } => {}
            }
        }
        calls + u64::from(partners)
    }
}
