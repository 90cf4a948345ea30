//! Running AudioCodes apply steps. Contract: every step tolerates running twice
//! or being cut off part-way. A create is not idempotent at the vendor, so
//! whenever its outcome is unknown (an earlier run's open journal entry, a lost
//! answer) the customer is looked up by short name before posting (again).
//! Ownership is recorded (and flushed) as each write succeeds.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::Audiocodes;
use super::Client;
use super::model::{ScriptParam, check_resolved_parameter};
use super::refresh::Snapshot;
use super::refresh::{LiveCustomer, live_customers};
use super::resolve::{failed_state, same_short_name};
use super::steps::{CreateSpec, StepOp};
use super::wire::{CreateBody, Created, SiteBody};
use crate::address::Address;
use crate::vendor::VendorClient;
use crate::vendor::http::{ProviderError, resolve_secret};
use crate::vendor::{Apply, Ledger, Resolved, Step};

/// What steps share during one apply.
pub struct RunEnv {
    pub ledger: Ledger,
    /// Address → GUID deleted in this apply (a replacement's create must not find it).
    deleted: Mutex<BTreeMap<Address, String>>,
}

impl RunEnv {
    pub fn new(ledger: Ledger) -> RunEnv {
        RunEnv {
            ledger,
            deleted: Mutex::new(BTreeMap::new()),
        }
    }

    fn deleted(&self, address: &Address) -> Option<String> {
        self.deleted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(address)
            .cloned()
    }

    fn own(
        &self,
        address: &Address,
        guid: &str,
        origin: &str,
        facts: BTreeMap<String, serde_json::Value>,
    ) -> Result<(), ProviderError> {
        self.ledger.own(address, Some(guid), None, origin, facts)
    }
}

/// The create body with its secrets resolved, and those secrets (to scrub from
/// errors). Errors name the parameter and the reference, never a value.
pub fn build_body(
    provider: &str,
    address: &Address,
    spec: &CreateSpec,
) -> Result<(CreateBody, Vec<String>), ProviderError> {
    let mut params = BTreeMap::new();
    let mut secrets = Vec::new();
    for (name, p) in &spec.customer.script_parameters {
        let value = match p {
            ScriptParam::Value(v) => v.clone(),
            ScriptParam::Secret(r) => {
                let v = resolve_secret(r).map_err(|m| ProviderError::Other {
                    provider: provider.to_string(),
                    message: format!("{address}: script parameter {name}: {m}"),
                })?;
                secrets.push(v.clone());
                v
            }
        };
        check_resolved_parameter(name, &value).map_err(|m| ProviderError::Other {
            provider: provider.to_string(),
            message: format!("{address}: {m}; nothing was sent"),
        })?;
        params.insert(name.clone(), value);
    }
    let body = CreateBody {
        short_name: spec.customer.short_name.clone(),
        full_name: spec.full_name.clone(),
        site_location: SiteBody {
            sbc_id: spec.customer.site.sbc_id,
            sbc_onboarding_script: spec.customer.site.onboarding_script,
            sbc_cleanup_script: spec.customer.site.cleanup_script,
        },
        ovoc_customer_type: spec.customer.customer_type.clone(),
        ms_tenant_id: spec.customer.ms_tenant_id.clone(),
        channel_id: spec.customer.channel_id.clone(),
        lc_customer_id: spec.customer.lc_customer_id.clone(),
        script_parameters: params,
    };
    Ok((body, secrets))
}

impl Apply<Audiocodes> for Client {
    fn env(&self, _snapshot: &Snapshot, _resolved: &Resolved, ledger: Ledger) -> RunEnv {
        RunEnv::new(ledger)
    }

    /// Runs one step. State is updated (and flushed) as each part succeeds.
    async fn run<'a>(
        &'a self,
        env: &'a RunEnv,
        step: &'a Step<StepOp>,
    ) -> Result<(), ProviderError> {
        match &step.op {
            StepOp::Create { address, spec, .. } => self.run_create(env, address, spec).await,
            StepOp::Delete { address, .. } => self.run_delete(env, address).await,
            StepOp::Adopt { address, facts } => {
                let guid = env.ledger.id(address)?;
                env.own(address, &guid, "adopted", facts.clone())
            }
            StepOp::Forget { address } => env.ledger.forget(address),
        }
    }
}

impl Client {
    /// The live customer with this short name (narrowed by tenant), leaving out
    /// one just deleted. Several → an error: never guess.
    async fn find(
        &self,
        spec: &CreateSpec,
        exclude: Option<&str>,
    ) -> Result<Option<LiveCustomer>, ProviderError> {
        let all = live_customers(self.list_customers().await?);
        let candidates = all
            .iter()
            .filter(|c| exclude.is_none_or(|g| !c.guid.eq_ignore_ascii_case(g)));
        match same_short_name(candidates, &spec.customer.short_name, spec.customer.ms_tenant_id.as_deref())
            .as_slice()
        {
            [] => Ok(None),
            [one] => Ok(Some((*one).clone())),
            many => Err(self.other(format!(
                "{} customers with the short name {:?} exist ({}); refusing to guess which one mspform created",
                many.len(),
                spec.customer.short_name,
                many.iter()
                    .map(|c| c.guid.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Takes a customer found by short name as the one this create made.
    fn found(
        &self,
        env: &RunEnv,
        address: &Address,
        spec: &CreateSpec,
        c: &LiveCustomer,
    ) -> Result<(), ProviderError> {
        tracing::info!(provider = %self.key(), %address, guid = %c.guid, "found the customer an earlier attempt created");
        env.own(address, &c.guid, "created", spec.facts.clone())?;
        match failed_state(c) {
            None => Ok(()),
            Some(state) => Err(self.other(format!(
                "{address}: the customer exists (created by an earlier attempt) but its site's deployment state is {state:?}; it is recorded as owned, so the next plan shows it for replacement"
            ))),
        }
    }

    async fn run_create(
        &self,
        env: &RunEnv,
        address: &Address,
        spec: &CreateSpec,
    ) -> Result<(), ProviderError> {
        let (body, secrets) = build_body(self.key(), address, spec)?;
        let exclude = env.deleted(address);
        let exclude = exclude.as_deref();
        if env.ledger.open_create(address)? {
            tracing::info!(provider = %self.key(), %address, "an earlier run may have created this customer; looking for it first");
            if let Some(c) = self.find(spec, exclude).await? {
                return self.found(env, address, spec, &c);
            }
        }
        let ctx = env
            .ledger
            .write(address, "create", Some(&spec.customer.short_name));
        let mut lost: Option<ProviderError> = None;
        for _ in 0..2 {
            match self.create_customer(&body, &secrets, &ctx).await {
                Ok(created) => return self.created(env, address, spec, created, exclude).await,
                Err(e) if e.maybe_committed() => {
                    tracing::warn!(provider = %self.key(), %address, error = %e, "the create may have reached the vendor; looking for the customer before anything else");
                    if let Some(c) = self.find(spec, exclude).await? {
                        return self.found(env, address, spec, &c);
                    }
                    lost = Some(e);
                }
                // A repeat after a lost answer that the vendor refuses as a
                // duplicate: the first one did land after all.
                Err(e) if lost.is_some() && matches!(e.status(), Some(400..=499)) => {
                    if let Some(c) = self.find(spec, exclude).await? {
                        return self.found(env, address, spec, &c);
                    }
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(lost.unwrap_or_else(|| self.other(format!("{address}: the create did not complete"))))
    }

    /// A 200 from the create: record the customer, then judge its deployment.
    async fn created(
        &self,
        env: &RunEnv,
        address: &Address,
        spec: &CreateSpec,
        created: Created,
        exclude: Option<&str>,
    ) -> Result<(), ProviderError> {
        let guid = match &created.id {
            Some(id) => Some(id.to_lowercase()),
            None => self.find(spec, exclude).await?.map(|c| c.guid),
        };
        if let Some(guid) = &guid {
            env.own(address, guid, "created", spec.facts.clone())?;
        }
        if !created.deployed() {
            let state = created
                .deployment_state
                .clone()
                .unwrap_or_else(|| "(none)".into());
            let details = created
                .error_details
                .clone()
                .unwrap_or_else(|| "no errorDetails given".into());
            return Err(self.other(format!(
                "{address}: POST /api/v2/customer answered HTTP 200 with deploymentState {state:?}: {details}. {}",
                if guid.is_some() {
                    "The customer the vendor left behind is recorded as owned; the next plan shows it for replacement."
                } else {
                    "No customer was left behind."
                }
            )));
        }
        if guid.is_none() {
            return Err(self.other(format!(
                "{address}: the create answered without an id and the customer is not in the list; re-run apply (it looks for the customer before creating again)"
            )));
        }
        Ok(())
    }

    async fn run_delete(&self, env: &RunEnv, address: &Address) -> Result<(), ProviderError> {
        let guid = env.ledger.id(address)?;
        let gone = self
            .delete_customer(&guid, &env.ledger.write(address, "delete", None))
            .await?;
        if gone == super::api::Deleted::AlreadyGone {
            tracing::info!(provider = %self.key(), %address, "already deleted");
        }
        env.ledger.forget(address)?;
        env.deleted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(address.clone(), guid);
        Ok(())
    }
}
