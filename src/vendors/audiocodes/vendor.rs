//! AudioCodes Live Platform as a [`Vendor`]: its registration (capabilities,
//! docs), its schema hooks, and the calls into this folder's client, resolve,
//! steps and run.

use std::sync::Arc;

use super::Client;
use super::model::{AudiocodesAuth, AudiocodesCustomer, AudiocodesSettings};
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
        steps_in_flight: 1,
        per_customer_reads: &[],
    };

    type Settings = AudiocodesSettings;
    type Customer = AudiocodesCustomer;
    type Client = Client;
    type Snapshot = Snapshot;
    type Op = StepOp;
    type Env = RunEnv;

    const PROVIDER_KEYS: &'static [&'static str] = super::config::PROVIDER_KEYS;
    const CUSTOMER_KEYS: &'static [&'static str] = super::config::CUSTOMER_KEYS;

    fn settings(input: &ProviderInput<'_>, sink: &mut Sink) -> Option<AudiocodesSettings> {
        super::config::settings(input, sink)
    }

    fn customer(
        _settings: Option<&AudiocodesSettings>,
        input: &CustomerInput<'_>,
        sink: &mut Sink,
    ) -> Option<AudiocodesCustomer> {
        super::config::customer(input, sink)
    }

    fn check_customers(customers: &[(&CustomerInput<'_>, &AudiocodesCustomer)], sink: &mut Sink) {
        super::config::check_unique_short_names(customers, sink);
    }

    fn repoint(settings: &mut AudiocodesSettings, map: &dyn Fn(&str) -> String) {
        if let AudiocodesAuth::ClientCredentials { token_url, .. } = &mut settings.auth {
            *token_url = map(token_url);
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
