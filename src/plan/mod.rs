//! The plan as data: ordered actions with before/after values, unmanaged notes,
//! protections (kept objects, protections to record), bulk changes over the
//! threshold, and what the refresh cost. Serialisable (JSON schema
//! `format_version` 1, see docs/plan-json.md); rendering lives in `render`,
//! the drift filters (ignore rules, new-only) in `drift`, the bulk check in
//! `bulk`. Pure: no I/O.

pub mod bulk;
pub mod drift;
pub mod protect;
pub mod render;
pub mod rolling;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::diff::{Action, Kind, Op, Unmanaged};

pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderRead {
    pub provider: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// API calls the refresh of this provider spent.
    pub calls: u64,
    /// API calls applying this plan is expected to make at this provider.
    #[serde(default)]
    pub apply_calls: u64,
    /// Seconds those calls take at the provider's rate limit (waits for
    /// provisioning and activities not counted).
    #[serde(default)]
    pub apply_seconds: u64,
    /// The provider's sustained rate limit, in calls per second.
    #[serde(default)]
    pub calls_per_second: f64,
    /// What the vendor's headers last said about the day's quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_quota: Option<crate::vendor::DayQuota>,
}

impl ProviderRead {
    pub fn new(provider: &str, kind: &str, calls: u64) -> ProviderRead {
        ProviderRead {
            provider: provider.into(),
            kind: kind.into(),
            calls,
            apply_calls: 0,
            apply_seconds: 0,
            calls_per_second: 0.0,
            day_quota: None,
        }
    }
}

/// A provider whose live state could not be read: nothing is planned for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailable {
    pub provider: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// What failed: the call, the status and the cause.
    pub error: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub adopt: usize,
    pub forget: usize,
    #[serde(default)]
    pub replace: usize,
    pub unmanaged: usize,
    pub refresh_calls: u64,
    /// Protected objects kept although the files no longer declare them
    /// (omitted when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub kept: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A protected object whose delete the plan leaves out: the files no longer
/// declare it, but state keeps its protection (`state unprotect` lifts it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub address: Address,
    pub kind: Kind,
    pub provider: String,
    /// When the protection was recorded (Unix seconds).
    pub protected_since: u64,
    /// Objects inside it whose delete is left out with it (sites, devices).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<Address>,
}

/// A declared `protect = true` object whose protection the apply records in
/// state (once it exists and is owned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protect {
    pub address: Address,
    pub provider: String,
    /// Where the files declare it (`file:line:column`).
    pub declared_at: String,
}

/// Deletes and replacements of one provider and kind over the bulk threshold:
/// apply refuses the plan unless `--force-bulk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkChange {
    pub provider: String,
    pub kind: Kind,
    /// Deletes plus replacements of this kind.
    pub changes: usize,
    /// Objects of this kind the provider owns in state.
    pub owned: usize,
    /// The threshold, in percent of `owned`.
    pub threshold_percent: u32,
}

/// What a drift report left out (set on drift reports only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftNotes {
    /// Drifted fields (or objects) an active `[[ignore]]` rule matched: counted, not shown.
    pub ignored: usize,
    /// With `--new-only`: drifted fields (or objects) the previous drift run saw already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_before: Option<usize>,
    /// With `--full-every`: what this run read fully, per provider.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<rolling::Coverage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub mspform_version: String,
    pub providers: Vec<ProviderRead>,
    /// The `--target` globs the plan was restricted to (empty: everything).
    #[serde(default)]
    pub targets: Vec<String>,
    /// The `--exclude` globs the plan left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excludes: Vec<String>,
    /// Objects a target depends on, read and planned with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pulled_in: Vec<Address>,
    /// Objects left out because they depend on an excluded one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dragged_out: Vec<Address>,
    /// Objects this run did not read (a rolling drift check reads some
    /// customers' per-customer parts another time): nothing is planned for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<Address>,
    /// Fingerprints of the live objects the actions depend on (the action's
    /// own object and what it depends on; `absent` when it does not exist):
    /// `apply PLANFILE` re-reads only these and applies the actions whose
    /// inputs are unchanged.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<Address, String>,
    /// The `--resend-invitation` addresses the plan was made with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resend_invitations: Vec<crate::address::Address>,
    /// The `--allow-provider-removal` providers the plan was made with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_provider_removal: Vec<String>,
    /// Providers that could not be read (omitted when every one was).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<Unavailable>,
    pub actions: Vec<Action>,
    pub unmanaged: Vec<Unmanaged>,
    /// Declared `protect = true` objects whose protection this apply records in state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protect: Vec<Protect>,
    /// Protected objects kept although the files no longer declare them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<Kept>,
    /// Deletes and replacements over the bulk threshold (apply needs `--force-bulk`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bulk: Vec<BulkChange>,
    /// Things to know that are not changes (an expired ignore rule, a protection
    /// the files no longer declare).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// On a drift report: what it left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftNotes>,
    pub summary: Summary,
}

impl Plan {
    pub fn new(
        providers: Vec<ProviderRead>,
        mut actions: Vec<Action>,
        mut unmanaged: Vec<Unmanaged>,
    ) -> Plan {
        crate::diff::sort_actions(&mut actions);
        unmanaged.sort_by_cached_key(|u| (u.kind.rank(), u.address.to_string()));
        let summary = Summary {
            refresh_calls: providers.iter().map(|p| p.calls).sum(),
            ..Summary::default()
        };
        let mut plan = Plan {
            format_version: FORMAT_VERSION,
            mspform_version: env!("CARGO_PKG_VERSION").to_string(),
            providers,
            targets: Vec::new(),
            excludes: Vec::new(),
            pulled_in: Vec::new(),
            dragged_out: Vec::new(),
            unchecked: Vec::new(),
            inputs: BTreeMap::new(),
            resend_invitations: Vec::new(),
            allow_provider_removal: Vec::new(),
            unavailable: Vec::new(),
            actions,
            unmanaged,
            protect: Vec::new(),
            kept: Vec::new(),
            bulk: Vec::new(),
            warnings: Vec::new(),
            drift: None,
            summary,
        };
        plan.recount();
        plan
    }

    /// Recounts the summary after the actions, unmanaged or kept lists changed.
    pub fn recount(&mut self) {
        let count = |op: Op| self.actions.iter().filter(|a| a.op == op).count();
        self.summary = Summary {
            create: count(Op::Create),
            update: count(Op::Update),
            delete: count(Op::Delete),
            adopt: count(Op::Adopt),
            forget: count(Op::Forget),
            replace: count(Op::Replace),
            unmanaged: self.unmanaged.len(),
            refresh_calls: self.summary.refresh_calls,
            kept: self.kept.len(),
        };
    }

    /// Whether applying would change anything at a vendor or in state.
    pub fn has_changes(&self) -> bool {
        !self.actions.is_empty() || !self.protect.is_empty()
    }

    /// Drops the actions of these providers (e.g. ones a reviewed plan could not
    /// read), recounting the summary.
    pub fn drop_providers(&mut self, providers: &[String]) {
        if providers.is_empty() {
            return;
        }
        let actions = std::mem::take(&mut self.actions)
            .into_iter()
            .filter(|a| !providers.contains(&a.provider))
            .collect();
        let mut fresh = Plan::new(
            self.providers.clone(),
            actions,
            std::mem::take(&mut self.unmanaged),
        );
        fresh.targets = std::mem::take(&mut self.targets);
        fresh.excludes = std::mem::take(&mut self.excludes);
        fresh.pulled_in = std::mem::take(&mut self.pulled_in);
        fresh.dragged_out = std::mem::take(&mut self.dragged_out);
        fresh.unchecked = std::mem::take(&mut self.unchecked);
        fresh.inputs = std::mem::take(&mut self.inputs);
        fresh.resend_invitations = std::mem::take(&mut self.resend_invitations);
        fresh.unavailable = std::mem::take(&mut self.unavailable);
        fresh.allow_provider_removal = std::mem::take(&mut self.allow_provider_removal);
        fresh.protect = std::mem::take(&mut self.protect);
        fresh.kept = std::mem::take(&mut self.kept);
        fresh.bulk = std::mem::take(&mut self.bulk);
        fresh.warnings = std::mem::take(&mut self.warnings);
        fresh.drift = self.drift.take();
        fresh.kept.retain(|k| !providers.contains(&k.provider));
        fresh.protect.retain(|p| !providers.contains(&p.provider));
        fresh.bulk.retain(|b| !providers.contains(&b.provider));
        fresh.recount();
        *self = fresh;
    }
}
