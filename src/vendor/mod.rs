//! The vendor kit: the traits a vendor implements ([`Vendor`], with its
//! client, snapshot and step types as associated types, and beside it
//! [`VendorConfig`] for its schema, [`VendorClient`], [`Apply`] and [`Import`]
//! for its client), the generic adapter that turns it into what the engine
//! drives ([`Provider`], [`Refreshed`]), and what every vendor shares: the HTTP
//! transport and rate limiter (`transport`, `http`), steps and their runner
//! (`steps`), the one "record ownership, settle the journal" path (`ledger`),
//! and import documents (`import`). Names no vendor; the vendors live in
//! `crate::vendors`, and `crate::vendors` (the registry) lists them.
//!
//! A vendor folder implements each trait once, in the file that holds the
//! code (`config.rs`, `mod.rs`, `run.rs`, `import.rs`, `vendor.rs`);
//! everything else is generic: configuration goes through `config` (its schema
//! hooks get the spanned TOML), the engine sees only `dyn Provider` /
//! `dyn Refreshed`, and no vendor type is ever recovered by a downcast — the
//! refresh result carries its own typed snapshot and client and applies itself.

mod adapter;
pub mod config;
pub mod http;
pub mod import;
pub mod ledger;
pub mod scope;
pub mod steps;
pub mod transport;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::address::Address;
use crate::config::Sink;
use crate::diff::{Action, Record, Unmanaged};
use crate::model::Desired;
use crate::state::{OwnedRecord, StateStore};

pub use adapter::Adapter;
pub use config::{CustomerInput, ProviderInput, Spec};
pub use http::ProviderError;
pub use import::{ImportCtx, Imported};
pub use ledger::Ledger;
pub use scope::Scope;
pub use steps::{Outcome, Step, StepReport, Steps, Stop, WaitGuard, wait_for};
pub use transport::{CallBudget, CallLimits, DayQuota, VendorClient};

/// Ownership records by address, as read from state at the start of a run.
pub type Owned = BTreeMap<Address, OwnedRecord>;

/// What the user asked for beyond the files, that changes what a plan contains.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Customer addresses whose administrator invitation is to be sent again.
    pub resend_invitations: BTreeSet<Address>,
    /// Providers the files no longer declare whose owned objects are to be forgotten.
    pub allow_provider_removal: BTreeSet<String>,
    /// What the refresh reads: everything, or a targeted part.
    pub scope: Scope,
    /// `--max-calls`: the calls this run may send (refresh and apply together).
    pub max_calls: CallLimits,
}

/// What a vendor can do, for the engine, the config checks and the docs table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Fields can change in place (otherwise a change is a replacement).
    pub update_in_place: bool,
    /// Owned customers can be deleted through the API.
    pub delete: bool,
    /// Customers have `sites` (`site.X/Y`).
    pub sites: bool,
    /// `[devices.*]` can be assigned to its customers.
    pub devices: bool,
    /// `[partners.*]` (partner accounts managing customers) exist.
    pub partners: bool,
    /// The `role` values a partner may have (empty: no `role` key).
    pub partner_roles: &'static [&'static str],
    /// A customer is managed by at most one partner.
    pub partner_exclusive: bool,
    /// Writes finish later (activities, provisioning) and are polled.
    pub async_jobs: bool,
}

/// A vendor's registration: who it is and what it can do.
#[derive(Debug, Clone, Copy)]
pub struct VendorInfo {
    /// `type = "…"` in `[providers.<key>]`.
    pub type_name: &'static str,
    /// The product name, for docs and messages.
    pub title: &'static str,
    /// The path prefix the simulator serves this vendor under (`/<prefix>`).
    pub sim_prefix: &'static str,
    /// The vendor's page, relative to the repository.
    pub docs: &'static str,
    pub capabilities: Capabilities,
    /// How many of one provider's steps may run at once (the transport's rate
    /// limit still paces the calls). 1 runs them one after another; more is
    /// for vendors whose `run` is proven safe when steps overlap.
    pub steps_in_flight: usize,
    /// What the API only answers one customer at a time (e.g. a tenant's
    /// sites), in words; empty when every read is MSP-wide. A rolling drift
    /// check (`drift --full-every`) makes these reads for a slice of the
    /// customers per run, and counts one call per entry per customer.
    pub per_customer_reads: &'static [&'static str],
}

/// A provider's live state mapped onto stable addresses, ready to diff.
#[derive(Debug, Default, Clone)]
pub struct Resolved {
    pub desired: Vec<Record>,
    pub live: BTreeMap<Address, Record>,
    /// Address → vendor id of every live object that maps to an address.
    pub ids: BTreeMap<Address, String>,
    /// Problems that make a plan impossible (e.g. a device not in the MSP inventory).
    pub errors: Vec<String>,
    /// Live customer ids whose contents mspform manages.
    pub managed_customers: BTreeSet<String>,
    /// Unmanaged things the diff cannot see on its own (e.g. an undeclared tenant
    /// sitting in a declared partner): reported with the plan, left alone.
    pub notes: Vec<Unmanaged>,
    /// Address → fields that cannot change in place: a change to one of them is
    /// planned as a replacement (delete, then create).
    pub replace_on: BTreeMap<Address, Vec<String>>,
    /// Address → what a change of it means, when the fields alone do not tell.
    pub explain: BTreeMap<Address, String>,
    /// Address → desired fields the files did not declare: the value is the
    /// default that a create sends (shown as such in a plan, not as declared).
    pub defaults: BTreeMap<Address, BTreeSet<String>>,
    /// Objects in scope whose live state this refresh did not read (e.g. the
    /// sites of customers a rolling drift check reads another time): nothing
    /// is planned for them, and they are reported as not checked.
    pub unread: BTreeSet<Address>,
}

/// What a vendor's refresh, resolve and compile see: its own provider's typed
/// configuration, the whole desired state, what state owns, and the options.
pub struct Ctx<'a, V: Vendor> {
    /// The key in `[providers.<key>]`.
    pub key: &'a str,
    pub spec: &'a Spec<V>,
    pub desired: &'a Desired,
    pub owned: &'a Owned,
    pub options: &'a PlanOptions,
}

impl<V: Vendor> Clone for Ctx<'_, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<V: Vendor> Copy for Ctx<'_, V> {}

impl<'a, V: Vendor> Ctx<'a, V> {
    /// What this refresh reads.
    pub fn scope(&self) -> &'a Scope {
        &self.options.scope
    }

    /// This provider's customers: key, the common part, the vendor's part.
    pub fn customers(
        &self,
    ) -> impl Iterator<Item = (&'a str, &'a crate::model::Customer, &'a V::Customer)> + 'a {
        let desired = self.desired;
        self.spec.customers.iter().filter_map(move |(key, spec)| {
            desired
                .customers
                .get(key)
                .map(|common| (key.as_str(), common, spec))
        })
    }

    /// This provider's owned records (by address).
    pub fn owned(&self) -> impl Iterator<Item = (&'a Address, &'a OwnedRecord)> + 'a {
        let key = self.key;
        self.owned.iter().filter(move |(_, r)| r.provider == key)
    }

    /// This provider's partners.
    pub fn partners(&self) -> impl Iterator<Item = &'a crate::model::Partner> + 'a {
        let key = self.key;
        self.desired
            .partners
            .values()
            .filter(move |p| p.provider == key)
    }

    /// This provider's devices.
    pub fn devices(&self) -> impl Iterator<Item = &'a crate::model::Device> + 'a {
        let desired = self.desired;
        let spec = self.spec;
        desired
            .devices
            .values()
            .filter(move |d| spec.customers.contains_key(&d.customer))
    }
}

/// A vendor's configuration schema: what its `[providers.<key>]` and
/// `[customers.<key>]` tables may hold and how they parse. Implemented in the
/// vendor folder's `config.rs`; the loader reaches it through [`Vendor`].
pub trait VendorConfig: Sized + Send + Sync + 'static {
    /// `[providers.<key>]` beyond `type`, `base_url` and `ownership`.
    type Settings: Debug + Clone + Send + Sync + 'static;
    /// The vendor's part of a `[customers.<key>]` (beyond `provider`, `name`, `sites`).
    type Customer: Debug + Clone + Send + Sync + 'static;

    /// The JSON Schema mirror of the provider table's vendor keys (those of
    /// `PROVIDER_KEYS`, exactly: the vendor's `schema.rs` tests it), for
    /// `mspform schema` and editors. Doc comments become descriptions.
    type ProviderSchema: schemars::JsonSchema;
    /// The JSON Schema mirror of the vendor's customer keys (`CUSTOMER_KEYS`).
    type CustomerSchema: schemars::JsonSchema;

    /// Keys `[providers.<key>]` may hold beyond the common ones.
    const PROVIDER_KEYS: &'static [&'static str];
    /// Keys `[customers.<key>]` may hold beyond `provider`, `name` (and `sites`).
    const CUSTOMER_KEYS: &'static [&'static str];

    /// Parses the provider table (unknown keys are already reported).
    fn settings(input: &ProviderInput<'_>, sink: &mut Sink) -> Option<Self::Settings>;
    /// Parses the vendor's part of one customer (unknown keys are already
    /// reported); `settings` is `None` when the provider's own keys had errors.
    fn customer(
        settings: Option<&Self::Settings>,
        input: &CustomerInput<'_>,
        sink: &mut Sink,
    ) -> Option<Self::Customer>;
    /// Checks across this provider's customers (e.g. names unique ignoring case).
    fn check_customers(_customers: &[(&CustomerInput<'_>, &Self::Customer)], _sink: &mut Sink) {}
    /// Licence names devices of this provider may use (`None`: not checked).
    fn license_names(_settings: &Self::Settings) -> Option<Vec<String>> {
        None
    }
    /// Rewrites the URLs in the settings besides `base_url` (e.g. a token URL)
    /// with `map`; the demo points them at its embedded simulator this way.
    fn repoint(_settings: &mut Self::Settings, _map: &dyn Fn(&str) -> String) {}
}

/// One vendor: its registration, its configuration schema ([`VendorConfig`]),
/// its client, and how it reads, resolves and compiles. Its client applies
/// steps ([`Apply`]) and imports ([`Import`]). Implemented once per vendor
/// folder; the generic [`Adapter`] and the config loader do the rest.
pub trait Vendor: VendorConfig {
    const INFO: VendorInfo;

    /// The HTTP client of one provider account: it counts the calls it sends,
    /// runs this vendor's steps and reads customers for `import`.
    type Client: VendorClient + Apply<Self> + Import<Self> + Send + Sync + 'static;
    /// What a refresh read.
    type Snapshot: Send + Sync + 'static;
    /// One step's operation.
    type Op: Debug + Send + Sync + 'static;
    /// What the steps of one apply share (ids learned as creates succeed, …).
    type Env: Send + Sync + 'static;

    /// Builds the client; reads the credentials it names. Makes no call.
    fn connect(
        key: &str,
        base_url: &str,
        spec: &Spec<Self>,
        store: Arc<dyn StateStore>,
    ) -> Result<Self::Client, ProviderError>;
    /// Reads live state. Never writes; a failed read is an error, never "empty".
    fn refresh<'a>(
        client: &'a Self::Client,
        ctx: Ctx<'a, Self>,
    ) -> impl Future<Output = Result<Self::Snapshot, ProviderError>> + Send + 'a;
    /// Pure: live objects → stable addresses, and the desired records to diff.
    fn resolve(ctx: Ctx<'_, Self>, snapshot: &Self::Snapshot) -> Resolved;
    /// Pure: the plan's actions for this provider → steps with their dependencies.
    fn compile(
        ctx: Ctx<'_, Self>,
        snapshot: &Self::Snapshot,
        resolved: &Resolved,
        actions: &[Action],
    ) -> Vec<Step<Self::Op>>;
    /// How many API calls these steps are expected to make (for the plan's
    /// cost estimate and `--max-calls`); by default one per step.
    fn estimate(steps: &[Step<Self::Op>]) -> u64 {
        steps.len() as u64
    }
}

/// How a vendor's client applies the steps its compile produced. Implemented
/// in the vendor folder's `run.rs`.
///
/// Contract for [`Apply::run`]: a step must tolerate running twice or being
/// cut off part-way (a crash, Ctrl-C); every vendor write goes through the
/// transport with a journal context (journaled and flushed before it is sent).
pub trait Apply<V: Vendor> {
    /// What the steps of one apply share.
    fn env(&self, snapshot: &V::Snapshot, resolved: &Resolved, ledger: Ledger) -> V::Env;
    /// Runs one step.
    fn run<'a>(
        &'a self,
        env: &'a V::Env,
        step: &'a Step<V::Op>,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send + 'a;
}

/// How a vendor's client reads every live customer (or those named) as
/// configuration, for `mspform import`. Implemented in the vendor folder's `import.rs`.
pub trait Import<V: Vendor> {
    fn import<'a>(
        &'a self,
        ctx: ImportCtx<'a, V>,
    ) -> impl Future<Output = Result<Imported, ProviderError>> + Send + 'a;
}

/// Everything an apply needs besides the refresh it is based on.
pub struct ApplyCtx<'a> {
    /// This provider's actions from the plan.
    pub actions: &'a [Action],
    pub desired: &'a Desired,
    pub owned: &'a Owned,
    pub options: &'a PlanOptions,
    pub store: Arc<dyn StateStore>,
    /// Set by Ctrl-C: start no new step, end waits early.
    pub stop: Stop,
}

/// One configured provider account, as the engine drives it.
pub trait Provider: Send + Sync {
    /// The key in `[providers.<key>]`.
    fn key(&self) -> &str;
    fn info(&self) -> &'static VendorInfo;
    /// API calls sent so far (every attempt counts, as vendors count them).
    fn calls(&self) -> u64;
    /// The transport its calls go through: its rate limit, call budgets and
    /// what the vendor said about its quota.
    fn transport(&self) -> &transport::Transport;
    /// 429 answers received so far.
    fn rate_limited(&self) -> u64;
    /// Reads live state and resolves it against the desired state. Never writes.
    fn refresh<'a>(
        &'a self,
        desired: &'a Desired,
        owned: &'a Owned,
        options: &'a PlanOptions,
    ) -> BoxFuture<'a, Result<Box<dyn Refreshed>, ProviderError>>;
    /// Live customers as configuration (all, or those named).
    fn import<'a>(
        &'a self,
        desired: &'a Desired,
        names: &'a [String],
    ) -> BoxFuture<'a, Result<Imported, ProviderError>>;
}

/// What one provider's refresh produced: its resolution for the diff, and the
/// way back to its own client and snapshot for the apply.
pub trait Refreshed: Send + Sync {
    fn resolved(&self) -> &Resolved;
    /// API calls the refresh spent.
    fn calls(&self) -> u64;
    /// API calls applying these actions is expected to make.
    fn estimate(
        &self,
        desired: &Desired,
        owned: &Owned,
        options: &PlanOptions,
        actions: &[Action],
    ) -> u64;
    /// Runs this provider's actions. Independent steps carry on past a failure;
    /// steps depending on a failed one are skipped. Returns the step reports and
    /// whether Ctrl-C stopped it early.
    fn apply<'a>(&'a self, ctx: ApplyCtx<'a>) -> BoxFuture<'a, (Vec<StepReport>, bool)>;
}
