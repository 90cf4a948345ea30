//! Aruba Central as a [`Vendor`]: its registration (capabilities, docs), what
//! a plan reads, and the calls into this folder's client, resolve and steps. Its
//! schema is in `config` ([`VendorConfig`](crate::vendor::VendorConfig)), its
//! steps run in `run` and its import in `import`.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::Client;
use super::live::LiveSnapshot;
use super::run::RunEnv;
use super::steps::StepOp;
use crate::address::Address;
use crate::diff::Action;
use crate::state::StateStore;
use crate::vendor::{Capabilities, Ctx, ProviderError, Resolved, Spec, Step, Vendor, VendorInfo};

/// The HPE Aruba Networking Central vendor (`type = "aruba-central"`).
pub struct Aruba;

impl Vendor for Aruba {
    const INFO: VendorInfo = VendorInfo {
        type_name: "aruba-central",
        title: "HPE Aruba Networking Central (MSP mode)",
        sim_prefix: "aruba",
        docs: "src/vendors/aruba/README.md",
        capabilities: Capabilities {
            update_in_place: true,
            delete: true,
            sites: true,
            devices: true,
            partners: false,
            partner_roles: &[],
            partner_exclusive: false,
            // Customers provision, device moves and licence jobs settle later.
            async_jobs: true,
        },
        steps_in_flight: 1,
        per_customer_reads: &["sites", "auto-licence setting"],
    };

    type Client = Client;
    type Snapshot = LiveSnapshot;
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

    /// Reads what the plan needs: the customers declared by name and those state
    /// owns by id are read in full (sites, auto-licence).
    async fn refresh<'a>(
        client: &'a Client,
        ctx: Ctx<'a, Self>,
    ) -> Result<LiveSnapshot, ProviderError> {
        let names: BTreeSet<&str> = ctx.customers().map(|(_, c, _)| c.name.as_str()).collect();
        let owned_ids: BTreeSet<&str> = ctx
            .owned()
            .filter(|(a, _)| matches!(a, Address::Customer(_)))
            .filter_map(|(_, r)| r.vendor_id.as_deref())
            .collect();
        client
            .snapshot(|c| names.contains(c.name.as_str()) || owned_ids.contains(c.id.as_str()))
            .await
    }

    fn resolve(ctx: Ctx<'_, Self>, snapshot: &LiveSnapshot) -> Resolved {
        super::resolve::resolve(ctx, snapshot)
    }

    fn compile(
        ctx: Ctx<'_, Self>,
        snapshot: &LiveSnapshot,
        _resolved: &Resolved,
        actions: &[Action],
    ) -> Vec<Step<StepOp>> {
        super::steps::compile(ctx, snapshot, actions)
    }
}
