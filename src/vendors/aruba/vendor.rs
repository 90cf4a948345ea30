//! Aruba Central as a [`Vendor`]: its registration (capabilities, docs), its
//! schema hooks, and the calls into this folder's client, resolve, steps and run.

use std::sync::Arc;

use super::Client;
use super::live::LiveSnapshot;
use super::model::{ArubaCustomer, ArubaSettings};
use super::run::RunEnv;
use super::steps::StepOp;
use crate::config::Sink;
use crate::diff::Action;
use crate::state::StateStore;
use crate::vendor::{
    Capabilities, Ctx, CustomerInput, ImportCtx, Imported, Ledger, ProviderError, ProviderInput,
    Resolved, Spec, Step, Vendor, VendorInfo,
};

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

    type Settings = ArubaSettings;
    type Customer = ArubaCustomer;
    type Client = Client;
    type Snapshot = LiveSnapshot;
    type Op = StepOp;
    type Env = RunEnv;

    const PROVIDER_KEYS: &'static [&'static str] = super::config::PROVIDER_KEYS;
    const CUSTOMER_KEYS: &'static [&'static str] = super::config::CUSTOMER_KEYS;

    fn settings(input: &ProviderInput<'_>, sink: &mut Sink) -> Option<ArubaSettings> {
        super::config::settings(input, sink)
    }

    fn customer(
        settings: Option<&ArubaSettings>,
        input: &CustomerInput<'_>,
        sink: &mut Sink,
    ) -> Option<ArubaCustomer> {
        super::config::customer(settings, input, sink)
    }

    fn license_names(settings: &ArubaSettings) -> Option<Vec<String>> {
        settings.license_services.clone()
    }

    fn connect(
        key: &str,
        base_url: &str,
        spec: &Spec<Self>,
        store: Arc<dyn StateStore>,
    ) -> Result<Client, ProviderError> {
        Client::new(key, base_url, &spec.settings, store)
    }

    fn calls(client: &Client) -> u64 {
        client.calls()
    }

    fn rate_limited(client: &Client) -> u64 {
        client.rate_limited()
    }

    async fn refresh<'a>(
        client: &'a Client,
        ctx: Ctx<'a, Self>,
    ) -> Result<LiveSnapshot, ProviderError> {
        client.refresh(ctx).await
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

    fn env(
        _client: &Client,
        snapshot: &LiveSnapshot,
        _resolved: &Resolved,
        ledger: Ledger,
    ) -> RunEnv {
        RunEnv::new(ledger, snapshot)
    }

    async fn run<'a>(
        client: &'a Client,
        env: &'a RunEnv,
        step: &'a Step<StepOp>,
    ) -> Result<(), ProviderError> {
        client.run_step(step, env).await
    }

    async fn import<'a>(
        client: &'a Client,
        ctx: ImportCtx<'a, Self>,
    ) -> Result<Imported, ProviderError> {
        super::import::import(client, ctx).await
    }
}
