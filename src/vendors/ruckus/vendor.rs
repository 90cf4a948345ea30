//! RUCKUS One as a [`Vendor`]: its registration (capabilities, docs), its
//! schema hooks, and the calls into this folder's client, resolve, steps and run.

use std::sync::Arc;

use super::Client;
use super::model::{RuckusCustomer, RuckusSettings};
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
        steps_in_flight: 1,
        per_customer_reads: &[],
    };

    type Settings = RuckusSettings;
    type Customer = RuckusCustomer;
    type Client = Client;
    type Snapshot = Snapshot;
    type Op = StepOp;
    type Env = RunEnv;

    const PROVIDER_KEYS: &'static [&'static str] = super::config::PROVIDER_KEYS;
    const CUSTOMER_KEYS: &'static [&'static str] = super::config::CUSTOMER_KEYS;

    fn settings(input: &ProviderInput<'_>, sink: &mut Sink) -> Option<RuckusSettings> {
        super::config::settings(input, sink)
    }

    fn customer(
        _settings: Option<&RuckusSettings>,
        input: &CustomerInput<'_>,
        sink: &mut Sink,
    ) -> Option<RuckusCustomer> {
        super::config::customer(input, sink)
    }

    fn repoint(settings: &mut RuckusSettings, map: &dyn Fn(&str) -> String) {
        if let Some(url) = &mut settings.token_url {
            *url = map(url);
        }
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

    /// Also records the invitations an earlier run posted without seeing the
    /// answer, as the refresh read them (the plan treated them as sent); on
    /// failure they stay in doubt for the next run.
    fn env(client: &Client, snapshot: &Snapshot, _resolved: &Resolved, ledger: Ledger) -> RunEnv {
        let env = RunEnv::new(ledger);
        if let Err(e) = client.settle_doubtful_invitations(snapshot, &env) {
            tracing::error!(provider = %client.key(), error = %e, "could not record the invitations in doubt; the next run settles them");
        }
        env
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SecretRef;
    use crate::vendors::ruckus::model::RuckusAuth;

    #[test]
    fn the_demo_repoints_a_token_url_and_leaves_none_alone() {
        let mut s = RuckusSettings::new(
            "8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60".into(),
            RuckusAuth::Token(SecretRef::Env("T".into())),
        );
        let map = |url: &str| url.replace("http://127.0.0.1:8080", "http://127.0.0.1:9");
        Ruckus::repoint(&mut s, &map);
        assert_eq!(
            s.token_url, None,
            "the base URL is used: nothing to rewrite"
        );
        s.token_url = Some("http://127.0.0.1:8080/ruckus".into());
        Ruckus::repoint(&mut s, &map);
        assert_eq!(s.token_url.as_deref(), Some("http://127.0.0.1:9/ruckus"));
    }
}
