//! Test fixtures shared by the pure modules: a desired state from TOML, live
//! tenants and partners, ownership records, and the diff between them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::refresh::Snapshot;
use super::resolve::resolve;
use super::wire::{Contact, Partner, Tenant};
use crate::diff::{Action, diff, mark_replacements};
use crate::model::Desired;
use crate::providers::{Owned, Resolved};
use crate::state::OwnedRecord;

pub const PROVIDER: &str = r#"
[providers.ext]
type = "extremecloud"
base_url = "https://api.ezcloudx.com"
login = { user = "msp-admin@example.net", password = { env = "EXTREME_PASSWORD" } }
"#;

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
    let text = format!("{PROVIDER}{toml}");
    crate::config::load_sources(&[("t.toml".into(), text)]).expect("fixture loads")
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
        .map(|(a, id)| {
            (
                a.to_string(),
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

/// Resolves and diffs as the engine does.
pub fn plan(desired: &Desired, snap: &Snapshot, owned: &Owned) -> (Resolved, Vec<Action>) {
    let r = resolve("ext", desired, snap, owned);
    let owned_set: BTreeSet<String> = owned.keys().cloned().collect();
    let (mut actions, _) = diff(&r.desired, &r.live, &owned_set, &BTreeSet::new());
    mark_replacements(&mut actions, &r.replace_on);
    (r, actions)
}
