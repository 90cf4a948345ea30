//! Aruba Central as a [`Vendor`]: its registration (capabilities, docs), what
//! a plan reads, and the calls into this folder's client, resolve and steps. Its
//! schema is in `config` ([`VendorConfig`](crate::vendor::VendorConfig)), its
//! steps run in `run` and its import in `import`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Client;
use super::api::ASSOCIATION_CHUNK;
use super::live::{LiveCustomer, LiveSnapshot};
use super::refresh::{Contents, Narrow};
use super::run::RunEnv;
use super::steps::{LICENSE_CHUNK, StepOp};
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
        steps_in_flight: 8,
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
    /// owns by id, and of them only what the scope wants — their sites where
    /// their sites are wanted and read this run, their auto-licence setting only
    /// where it is managed (declared, or recorded in state) and read this run.
    async fn refresh<'a>(
        client: &'a Client,
        ctx: Ctx<'a, Self>,
    ) -> Result<LiveSnapshot, ProviderError> {
        let scope = ctx.scope();
        let key_of_name: BTreeMap<&str, &str> = ctx
            .customers()
            .map(|(k, c, _)| (c.name.as_str(), k))
            .collect();
        let key_of_id: BTreeMap<&str, &str> = ctx
            .owned()
            .filter_map(|(a, r)| match a {
                Address::Customer(key) => Some((r.vendor_id.as_deref()?, key.as_str())),
                _ => None,
            })
            .collect();
        let key_of = |c: &LiveCustomer| {
            key_of_id
                .get(c.id.as_str())
                .or_else(|| key_of_name.get(c.name.as_str()))
                .copied()
        };
        let contents = |c: &LiveCustomer| match key_of(c) {
            Some(key) => Contents {
                sites: scope.wants_sites(key) && scope.deep(key),
                auto_license: scope.wants_customer(key)
                    && scope.deep(key)
                    && manages_auto_license(ctx, key),
            },
            None => Contents::default(),
        };
        let narrow = scope.addresses().map(|_| narrow(ctx, &key_of_id));
        client.snapshot(narrow.as_ref(), contents).await
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

    fn estimate(steps: &[Step<StepOp>]) -> u64 {
        estimate(steps)
    }
}

/// The calls these steps are expected to make: one per write (licences per 100
/// serials, associations per 20), plus the shared reads the waits make — one
/// customer-list pass for the customers provisioning together (a page per 100)
/// and one device-list pass for the moves settling together.
pub fn estimate(steps: &[Step<StepOp>]) -> u64 {
    let mut calls = 0u64;
    let mut awaits = 0u64;
    let mut moves = false;
    for step in steps {
        calls += match &step.op {
            StepOp::CreateCustomer { .. } => 2,
            StepOp::PostCustomer { .. }
            | StepOp::UpdateCustomer { .. }
            | StepOp::DeleteCustomer { .. }
            | StepOp::CreateSite { .. }
            | StepOp::UpdateSite { .. }
            | StepOp::DeleteSite { .. } => 1,
            StepOp::AwaitCustomer { .. } => {
                awaits += 1;
                0
            }
            StepOp::Record { .. } | StepOp::Forget { .. } | StepOp::AwaitMove { .. } => 0,
            StepOp::AutoLicense {
                enable, disable, ..
            } => u64::from(!enable.is_empty()) + u64::from(!disable.is_empty()),
            StepOp::MoveDevices { .. } => {
                moves = true;
                1
            }
            StepOp::Licenses { serials, .. } => serials.len().div_ceil(LICENSE_CHUNK).max(1) as u64,
            StepOp::Associate { serials, .. } | StepOp::Unassociate { serials, .. } => {
                serials.len().div_ceil(ASSOCIATION_CHUNK).max(1) as u64
            }
        };
    }
    calls + awaits.div_ceil(100) + u64::from(moves)
}

/// Whether mspform manages customer `key`'s auto-licence setting: the files
/// declare `auto_license`, or state recorded one (an undeclared field is not
/// managed, as in Terraform).
pub fn manages_auto_license(ctx: Ctx<'_, Aruba>, key: &str) -> bool {
    ctx.spec
        .customers
        .get(key)
        .is_some_and(|c| c.auto_license_declared)
        || ctx
            .owned
            .get(&Address::customer(key))
            .is_some_and(|r| r.provider == ctx.key && r.facts.contains_key("auto_license"))
}

/// What a targeted refresh wants: the customers and devices in scope.
fn narrow<'a>(ctx: Ctx<'a, Aruba>, key_of_id: &BTreeMap<&'a str, &'a str>) -> Narrow<'a> {
    let scope = ctx.scope();
    let mut n = Narrow::default();
    let mut declared = 0;
    for (key, c, _) in ctx.customers() {
        declared += 1;
        if scope.wants_customer(key) {
            n.names.insert(c.name.as_str());
        }
    }
    for (id, key) in key_of_id {
        if scope.wants_customer(key) {
            n.ids.insert(id);
            n.nameless |= !ctx.spec.customers.contains_key(*key);
        }
    }
    for d in ctx.devices() {
        if scope.wants(&Address::device(&d.serial)) {
            n.serials.insert(d.serial.as_str());
        }
    }
    for (address, r) in ctx.owned() {
        if let Address::Device(serial) = address
            && scope.wants(address)
        {
            n.serials
                .insert(r.vendor_id.as_deref().unwrap_or(serial.as_str()));
        }
    }
    n.known_customers = declared.max(key_of_id.len());
    n.known_devices = ctx.devices().count();
    n
}
