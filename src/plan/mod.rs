//! The plan as data: ordered actions with before/after values, unmanaged notes,
//! and what the refresh cost. Serialisable (JSON schema `format_version` 1, see
//! docs/plan-json.md); rendering lives in `render`. Pure: no I/O.

pub mod render;

use serde::{Deserialize, Serialize};

use crate::diff::{Action, Op, Unmanaged};

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderRead {
    pub provider: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// API calls the refresh of this provider spent.
    pub calls: u64,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub mspform_version: String,
    pub providers: Vec<ProviderRead>,
    /// The `--target` addresses the plan was restricted to (empty: everything).
    #[serde(default)]
    pub targets: Vec<String>,
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
        let count = |op: Op| actions.iter().filter(|a| a.op == op).count();
        let summary = Summary {
            create: count(Op::Create),
            update: count(Op::Update),
            delete: count(Op::Delete),
            adopt: count(Op::Adopt),
            forget: count(Op::Forget),
            replace: count(Op::Replace),
            unmanaged: unmanaged.len(),
            refresh_calls: providers.iter().map(|p| p.calls).sum(),
        };
        Plan {
            format_version: FORMAT_VERSION,
            mspform_version: env!("CARGO_PKG_VERSION").to_string(),
            providers,
            targets: Vec::new(),
            resend_invitations: Vec::new(),
            allow_provider_removal: Vec::new(),
            unavailable: Vec::new(),
            actions,
            unmanaged,
            summary,
        }
    }

    /// Whether applying would change anything at a vendor or in state.
    pub fn has_changes(&self) -> bool {
        !self.actions.is_empty()
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
        fresh.resend_invitations = std::mem::take(&mut self.resend_invitations);
        fresh.unavailable = std::mem::take(&mut self.unavailable);
        fresh.allow_provider_removal = std::mem::take(&mut self.allow_provider_removal);
        *self = fresh;
    }
}
