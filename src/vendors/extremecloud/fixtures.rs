//! Test fixtures shared by the pure modules: a desired state from TOML, live
//! tenants and partners, ownership records, and the diff between them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::ExtremeCloud;
use super::refresh::Snapshot;
use super::resolve::resolve;
use super::wire::{Contact, Partner, Tenant};
use crate::address::Address;
use crate::diff::{Action, Op, diff, mark_replacements};
use crate::model::Desired;
use crate::state::OwnedRecord;
use crate::vendor::{Ctx, Owned, PlanOptions, Resolved};

pub const PROVIDER: &str = r#"
[providers.ext]
type = "extremecloud"
base_url = "https://api.ezcloudx.com"
login = { user = "msp-admin@example.net", password = { env = "EXTREME_PASSWORD" } }
"#;

static OPTIONS: PlanOptions = PlanOptions {
    resend_invitations: BTreeSet::new(),
    allow_provider_removal: BTreeSet::new(),
    scope: crate::vendor::Scope::everything(),
    max_calls: crate::vendor::CallLimits::none(),
};

/// A declared customer `key` named `name` in the TOML of [`desired`].
pub fn customer_toml(key: &str, name: &str) -> String {
    format!(
        r#"
[customers.{key}]
provider = "ext"
name = "{name}"
country = "NL"
time_zone = "Europe/Amsterdam"
contact = {{ email = "noc@{key}.example", name = "{name} NOC", phone = "+31 20 555 0000" }}
admin_user = "admin@{key}.example"
"#
    )
}

pub fn partner_toml(key: &str, name: &str, customers: &[&str]) -> String {
    format!(
        "\n[partners.{key}]\nprovider = \"ext\"\nname = \"{name}\"\ncustomers = {}\n",
        json!(customers)
    )
}

pub fn desired(toml: &str) -> Desired {
    desired_with(PROVIDER, toml)
}

/// A desired state with its own provider table.
pub fn desired_with(provider: &str, toml: &str) -> Desired {
    let text = format!("{provider}{toml}");
    crate::config::load_sources(&[("t.toml".into(), text)]).expect("fixture loads")
}

/// What resolve, compile and import see of provider `ext`.
pub fn ctx<'a>(d: &'a Desired, owned: &'a Owned) -> Ctx<'a, ExtremeCloud> {
    Ctx {
        key: "ext",
        spec: d.spec::<ExtremeCloud>("ext").expect("provider ext"),
        desired: d,
        owned,
        options: &OPTIONS,
    }
}

/// An address from its text.
pub fn a(text: &str) -> Address {
    text.parse().expect("an address")
}

/// The live tenant a declared customer `key` named `name` becomes.
pub fn tenant(id: &str, key: &str, name: &str) -> Tenant {
    Tenant {
        id: id.into(),
        name: name.into(),
        country: "NL".into(),
        time_zone: "Europe/Amsterdam".into(),
        contact: Contact {
            email: format!("noc@{key}.example"),
            name: format!("{name} NOC"),
            phone: "+31 20 555 0000".into(),
        },
        user_id: None,
    }
}

pub fn partner(id: &str, name: &str, tenants: &[&str]) -> Partner {
    let doc = json!({"custId": id, "id": null, "accountName": name, "country": "NL",
        "timeZone": "Europe/Amsterdam", "userId": null, "tenants": tenants, "entitlements": []});
    Partner {
        id: id.into(),
        name: name.into(),
        tenants: tenants.iter().map(|t| t.to_string()).collect(),
        doc,
    }
}

pub fn snapshot(tenants: Vec<Tenant>, partners: Option<Vec<Partner>>) -> Snapshot {
    Snapshot {
        tenants,
        partners,
        calls: 0,
    }
}

/// Ownership of `(address, vendor id)` pairs by provider `ext`.
pub fn owned(pairs: &[(&str, &str)]) -> Owned {
    pairs
        .iter()
        .map(|(address, id)| {
            (
                a(address),
                OwnedRecord {
                    provider: "ext".into(),
                    vendor_id: Some(id.to_string()),
                    parent_id: None,
                    since: 1,
                    origin: "created".into(),
                    facts: BTreeMap::new(),
                },
            )
        })
        .collect()
}

/// Resolves and diffs as the engine does (notes from `explain` included).
pub fn plan(desired: &Desired, snap: &Snapshot, owned: &Owned) -> (Resolved, Vec<Action>) {
    let r = resolve(ctx(desired, owned), snap);
    let owned_set: BTreeSet<Address> = owned.keys().cloned().collect();
    let (mut actions, _) = diff(&r.desired, &r.live, &owned_set, &BTreeSet::new());
    mark_replacements(&mut actions, &r.replace_on);
    for action in &mut actions {
        action.note = r.explain.get(&action.address).cloned();
    }
    (r, actions)
}

/// (address, op) of each action, for table-style assertions.
pub fn ops(actions: &[Action]) -> Vec<(String, Op)> {
    actions
        .iter()
        .map(|a| (a.address.to_string(), a.op))
        .collect()
}

pub fn op(address: &str, op: Op) -> (String, Op) {
    (address.to_string(), op)
}
