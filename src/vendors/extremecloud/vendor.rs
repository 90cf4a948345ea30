//! ExtremeCloud as a [`Vendor`]: its registration (capabilities, docs), its
//! schema hooks, and the calls into this folder's client, resolve, steps and run.

use std::sync::Arc;

use super::Client;
use super::model::{ExtremeCustomer, ExtremeSettings};
use super::refresh::Snapshot;
use super::run::RunEnv;
use super::steps::StepOp;
use crate::config::Sink;
use crate::diff::Action;
use crate::state::StateStore;
use crate::vendor::{
    Capabilities, Ctx, CustomerInput, ImportCtx, Imported, Ledger, ProviderError, ProviderInput,
    Resolved, Spec, Step, Vendor, VendorInfo,
};

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
        steps_in_flight: 1,
        per_customer_reads: &[],
    };

    type Settings = ExtremeSettings;
    type Customer = ExtremeCustomer;
    type Client = Client;
    type Snapshot = Snapshot;
    type Op = StepOp;
    type Env = RunEnv;

    const PROVIDER_KEYS: &'static [&'static str] = super::config::PROVIDER_KEYS;
    const CUSTOMER_KEYS: &'static [&'static str] = super::config::CUSTOMER_KEYS;

    fn settings(input: &ProviderInput<'_>, sink: &mut Sink) -> Option<ExtremeSettings> {
        super::config::settings(input, sink)
    }

    fn customer(
        _settings: Option<&ExtremeSettings>,
        input: &CustomerInput<'_>,
        sink: &mut Sink,
    ) -> Option<ExtremeCustomer> {
        super::config::customer(input, sink)
    }

    fn repoint(settings: &mut ExtremeSettings, map: &dyn Fn(&str) -> String) {
        // A full token URL (a path is relative to `base_url`, repointed already).
        if settings.token_path.starts_with("http://") || settings.token_path.starts_with("https://")
        {
            settings.token_path = map(&settings.token_path);
        }
    }

    fn connect(
        key: &str,
        base_url: &str,
        spec: &Spec<Self>,
        _store: Arc<dyn StateStore>,
    ) -> Result<Client, ProviderError> {
        Client::new(key, base_url, &spec.settings)
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
    ) -> Result<Snapshot, ProviderError> {
        client.refresh(ctx).await
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

    fn env(_client: &Client, _snapshot: &Snapshot, _resolved: &Resolved, ledger: Ledger) -> RunEnv {
        RunEnv::new(ledger)
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
