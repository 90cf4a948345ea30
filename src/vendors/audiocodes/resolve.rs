//! Pure: maps the Live Platform's customers onto stable addresses, given the
//! desired state and the ownership records, and builds the records to diff.
//! No I/O.
//!
//! The API shows a customer's full name, short name, Microsoft tenant id and its
//! site's SBC id and deployment state. What the create call takes but no read
//! returns (customer type, channel, Live Platform customer id, scripts, script
//! parameters) is write-only: the values sent are recorded in the owned record's
//! `facts` at create (secrets only by reference) and diffed against; without a
//! fact (an adopted customer) the live value is taken to be the desired one.
//! There is no update call, so every field forces a replacement.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::Audiocodes;
use super::model::{AudiocodesCustomer, ScriptParam};
use super::refresh::{LiveCustomer, Snapshot};
use super::wire::DEPLOYED;
use crate::address::Address;
use crate::diff::{Fields, Kind, Record, Unmanaged};
use crate::model::Customer;
use crate::vendor::{Ctx, Resolved};

/// Fields no read returns: taken from the owned record's facts.
pub const WRITE_ONLY: &[&str] = &[
    "customer_type",
    "channel_id",
    "lc_customer_id",
    "onboarding_script",
    "cleanup_script",
];
/// `script_parameters.<Name>`: one field per parameter, write-only too.
pub const PARAM_PREFIX: &str = "script_parameters.";

pub fn is_write_only(field: &str) -> bool {
    WRITE_ONLY.contains(&field) || field.starts_with(PARAM_PREFIX)
}

/// How a secret script parameter shows in plans and facts (never its value).
pub fn secret_display(param: &ScriptParam) -> String {
    match param {
        ScriptParam::Value(v) => v.clone(),
        ScriptParam::Secret(r) => format!("(secret from {r})"),
    }
}

/// The declared customers of this provider, by key.
pub fn declared<'a>(ctx: Ctx<'a, Audiocodes>) -> Declared<'a> {
    ctx.customers().map(|(k, c, a)| (k, (c, a))).collect()
}

/// The fields mspform manages for a declared customer. Optional ones (tenant id,
/// channel, Live Platform customer id, each script parameter) only when declared
/// (or when recorded at create, see [`resolve`]); the deployment must be `Deployed`.
pub fn desired_fields(c: &Customer, a: &AudiocodesCustomer) -> Fields {
    let mut fields = BTreeMap::from([
        ("name".to_string(), json!(c.name)),
        ("short_name".to_string(), json!(a.short_name)),
        ("customer_type".to_string(), json!(a.customer_type)),
        ("sbc_id".to_string(), json!(a.site.sbc_id)),
        (
            "onboarding_script".to_string(),
            json!(a.site.onboarding_script),
        ),
        ("cleanup_script".to_string(), json!(a.site.cleanup_script)),
        ("deployment".to_string(), json!(DEPLOYED)),
    ]);
    if let Some(t) = &a.ms_tenant_id {
        fields.insert("ms_tenant_id".into(), json!(t.to_lowercase()));
    }
    for (k, v) in [
        ("channel_id", &a.channel_id),
        ("lc_customer_id", &a.lc_customer_id),
    ] {
        if let Some(v) = v {
            fields.insert(k.into(), json!(v));
        }
    }
    for (name, p) in &a.script_parameters {
        fields.insert(format!("{PARAM_PREFIX}{name}"), json!(secret_display(p)));
    }
    fields
}

/// The write-only part of a customer's fields: what is recorded as facts.
pub fn facts_of(fields: &Fields) -> BTreeMap<String, Value> {
    fields
        .iter()
        .filter(|(k, v)| is_write_only(k) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The site that is the customer's: the first one listed.
pub fn main_site(c: &LiveCustomer) -> Option<&super::refresh::LiveSite> {
    c.sites.first()
}

/// The live `deployment` value: the site's state string. A number (whose
/// meaning no document gives) cannot be judged, so it is taken as `want`.
pub fn deployment(c: &LiveCustomer, want: Option<&Value>) -> Value {
    match main_site(c).and_then(|s| s.state.clone()) {
        Some(Value::String(s)) => json!(s),
        Some(Value::Number(n)) => want.cloned().unwrap_or(json!(n.to_string())),
        _ => Value::Null,
    }
}

/// Whether a live customer's site reports a state other than deployed.
pub fn failed_state(c: &LiveCustomer) -> Option<String> {
    match main_site(c).and_then(|s| s.state.clone()) {
        Some(Value::String(s)) if !s.eq_ignore_ascii_case(DEPLOYED) => Some(s),
        None => Some("(no site location)".to_string()).filter(|_| c.sites.is_empty()),
        _ => None,
    }
}

fn live_fields(c: &LiveCustomer) -> Fields {
    let site = main_site(c);
    BTreeMap::from([
        ("name".to_string(), json!(c.full_name)),
        ("short_name".to_string(), json!(c.short_name)),
        (
            "ms_tenant_id".to_string(),
            c.ms_tenant_id.as_ref().map_or(Value::Null, |t| json!(t)),
        ),
        (
            "sbc_id".to_string(),
            site.and_then(|s| s.sbc_id)
                .map_or(Value::Null, |i| json!(i)),
        ),
        ("deployment".to_string(), deployment(c, None)),
    ])
}

/// Live customers with this short name, narrowed by Microsoft tenant when that
/// leaves fewer (the vendor keeps short names unique per tenant only).
pub fn same_short_name<'a>(
    customers: impl IntoIterator<Item = &'a LiveCustomer>,
    short_name: &str,
    ms_tenant_id: Option<&str>,
) -> Vec<&'a LiveCustomer> {
    let found: Vec<&LiveCustomer> = customers
        .into_iter()
        .filter(|c| c.short_name == short_name)
        .collect();
    match ms_tenant_id {
        Some(t) if found.len() > 1 => {
            let t = t.to_lowercase();
            found
                .into_iter()
                .filter(|c| c.ms_tenant_id.as_deref() == Some(t.as_str()))
                .collect()
        }
        _ => found,
    }
}

type Declared<'a> = BTreeMap<&'a str, (&'a Customer, &'a AudiocodesCustomer)>;

pub fn resolve(ctx: Ctx<'_, Audiocodes>, snap: &Snapshot) -> Resolved {
    let mut out = Resolved::default();
    let customers = declared(ctx);
    let key_of = match_customers(ctx, snap, &customers, &mut out.errors);
    for c in &snap.customers {
        let mut fields = live_fields(c);
        let address = match key_of.get(&c.guid) {
            Some(key) => {
                out.managed_customers.insert(c.guid.clone());
                let address = Address::customer(key);
                let want = customers
                    .get(key.as_str())
                    .map(|(c, a)| desired_fields(c, a));
                if let Some(want) = &want {
                    fields.insert("deployment".into(), deployment(c, want.get("deployment")));
                }
                write_only_fields(ctx, &address, c, want.as_ref(), &mut fields);
                out.notes.extend(extra_sites(ctx.key, &address, c));
                address
            }
            None => {
                let mut address = Address::unmanaged(Kind::Customer, &c.short_name);
                if out.live.contains_key(&address) {
                    address =
                        Address::unmanaged(Kind::Customer, format!("{} {}", c.short_name, c.guid));
                }
                address
            }
        };
        out.ids.insert(address.clone(), c.guid.clone());
        out.live
            .insert(address.clone(), Record::new(address, ctx.key, fields));
    }
    // Desired records: a write-only value recorded at create but no longer
    // declared is wanted gone (null), so the plan shows it.
    for (key, (c, a)) in &customers {
        let address = Address::customer(*key);
        let mut fields = desired_fields(c, a);
        if let Some(record) = ctx.owned.get(&address).filter(|r| r.provider == ctx.key) {
            for name in record.facts.keys().filter(|k| is_write_only(k)) {
                fields.entry(name.clone()).or_insert(Value::Null);
            }
        }
        out.replace_on
            .insert(address.clone(), fields.keys().cloned().collect());
        // Not a key of the files: every create asks for a deployed site.
        out.defaults
            .insert(address.clone(), ["deployment".to_string()].into());
        out.desired.push(Record::new(address, ctx.key, fields));
    }
    out
}

/// Live GUID → declared customer key: by the GUID state owns first, then by
/// exact short name (several matches are an error, never a guess).
fn match_customers(
    ctx: Ctx<'_, Audiocodes>,
    snap: &Snapshot,
    customers: &Declared<'_>,
    errors: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let mut key_of: BTreeMap<String, String> = BTreeMap::new();
    for (address, record) in ctx.owned() {
        let Address::Customer(key) = address else {
            continue;
        };
        if let Some(c) = record.vendor_id.as_deref().and_then(|id| snap.by_guid(id)) {
            key_of.insert(c.guid.clone(), key.to_string());
        }
    }
    for (key, (_, a)) in customers {
        if key_of.values().any(|k| k == key) {
            continue;
        }
        let free = snap
            .customers
            .iter()
            .filter(|c| !key_of.contains_key(&c.guid));
        match same_short_name(free, &a.short_name, a.ms_tenant_id.as_deref()).as_slice() {
            [] => {}
            [one] => {
                key_of.insert(one.guid.clone(), key.to_string());
            }
            many => errors.push(format!(
                "customer.{key}: {} live AudioCodes customers have the short name {:?} ({}); mspform will not guess which to adopt. Set ms_tenant_id to tell them apart, or delete the extras in the portal.",
                many.len(),
                a.short_name,
                many.iter().map(|c| c.guid.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
    key_of
}

/// The write-only fields of a managed live customer (the vendor never returns
/// them): the facts recorded for this very customer, else the desired values.
fn write_only_fields(
    ctx: Ctx<'_, Audiocodes>,
    address: &Address,
    c: &LiveCustomer,
    want: Option<&Fields>,
    fields: &mut Fields,
) {
    let facts = ctx
        .owned
        .get(address)
        .filter(|r| {
            r.provider == ctx.key
                && r.vendor_id
                    .as_deref()
                    .is_some_and(|id| id.eq_ignore_ascii_case(&c.guid))
                && !r.facts.is_empty()
        })
        .map(|r| &r.facts);
    match (facts, want) {
        (Some(facts), want) => {
            let names: BTreeSet<&String> = facts
                .keys()
                .chain(want.iter().flat_map(|w| w.keys()))
                .filter(|k| is_write_only(k))
                .collect();
            for name in names {
                let v = facts.get(name).cloned().unwrap_or(Value::Null);
                fields.insert(name.clone(), v);
            }
        }
        (None, Some(want)) => {
            for (k, v) in want.iter().filter(|(k, _)| is_write_only(k)) {
                fields.insert(k.clone(), v.clone());
            }
        }
        (None, None) => {}
    }
}

/// The site locations of a managed customer beyond its first: unmanaged,
/// reported with the plan and left alone.
fn extra_sites(provider: &str, customer: &Address, c: &LiveCustomer) -> Vec<Unmanaged> {
    c.sites
        .iter()
        .skip(1)
        .map(|extra| {
            let name = if extra.name.is_empty() {
                extra.id.clone().unwrap_or_default()
            } else {
                extra.name.clone()
            };
            Unmanaged {
                address: Address::unmanaged_in(customer.clone(), Kind::Site, name),
                kind: Kind::Site,
                provider: provider.to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diff::{self, Op};
    use crate::model::{Desired, SecretRef};
    use crate::state::OwnedRecord;
    use crate::vendor::{Owned, PlanOptions, Spec};
    use crate::vendors::audiocodes::model::{AudiocodesAuth, AudiocodesSettings, AudiocodesSite};
    use crate::vendors::audiocodes::refresh::LiveSite;

    const G1: &str = "b38e5a04-6d32-4be8-95bb-53bf7d6fa95c";
    const G2: &str = "0f1e2d3c-6d32-4be8-95bb-53bf7d6fa95c";

    /// A desired state with one AudioCodes provider `ac`: the common part and
    /// the provider's typed part.
    pub(crate) struct World {
        pub d: Desired,
        pub spec: Spec<Audiocodes>,
        pub options: PlanOptions,
    }

    impl World {
        pub fn ctx<'a>(&'a self, owned: &'a Owned) -> Ctx<'a, Audiocodes> {
            Ctx {
                key: "ac",
                spec: &self.spec,
                desired: &self.d,
                owned,
                options: &self.options,
            }
        }

        pub fn resolve(&self, snap: &Snapshot, owned: &Owned) -> Resolved {
            resolve(self.ctx(owned), snap)
        }

        /// The desired fields of a declared customer.
        pub fn fields(&self, key: &str) -> Fields {
            let owned = Owned::new();
            let (c, a) = declared(self.ctx(&owned))[key];
            desired_fields(c, a)
        }
    }

    pub(crate) fn desired(customers: &[(&str, &str, &str)]) -> World {
        let mut d = Desired::default();
        let mut spec = Spec::<Audiocodes> {
            settings: AudiocodesSettings::new(AudiocodesAuth::Token(SecretRef::Env("T".into()))),
            customers: BTreeMap::new(),
        };
        for (key, short, full) in customers {
            d.customers.insert(
                key.to_string(),
                Customer {
                    key: key.to_string(),
                    provider: "ac".into(),
                    name: full.to_string(),
                    sites: BTreeMap::new(),
                },
            );
            spec.customers.insert(
                key.to_string(),
                AudiocodesCustomer {
                    short_name: short.to_string(),
                    customer_type: "IPGROUP_TYPE".into(),
                    ms_tenant_id: None,
                    channel_id: None,
                    lc_customer_id: None,
                    site: AudiocodesSite {
                        sbc_id: 5,
                        onboarding_script: 10,
                        cleanup_script: 11,
                    },
                    script_parameters: BTreeMap::from([
                        ("CacProfile".into(), ScriptParam::Value("5 sessions".into())),
                        (
                            "CarrierUserPassword".into(),
                            ScriptParam::Secret(SecretRef::Env("ACME_PW".into())),
                        ),
                    ]),
                },
            );
        }
        World {
            d,
            spec,
            options: PlanOptions::default(),
        }
    }

    pub(crate) fn live(guid: &str, short: &str, full: &str, state: &str) -> LiveCustomer {
        LiveCustomer {
            guid: guid.into(),
            short_name: short.into(),
            full_name: full.into(),
            ms_tenant_id: None,
            sites: vec![LiveSite {
                id: Some("s1".into()),
                name: short.into(),
                sbc_id: Some(5),
                state: Some(json!(state)),
            }],
        }
    }

    fn snap(customers: Vec<LiveCustomer>) -> Snapshot {
        Snapshot {
            customers,
            calls: 1,
        }
    }

    fn owned_rec(guid: &str, facts: BTreeMap<String, Value>) -> OwnedRecord {
        OwnedRecord {
            provider: "ac".into(),
            vendor_id: Some(guid.into()),
            parent_id: None,
            since: 1,
            origin: "created".into(),
            facts,
        }
    }

    fn plan(r: &Resolved, owned: &Owned) -> Vec<diff::Action> {
        let owned: BTreeSet<Address> = owned.keys().cloned().collect();
        let (mut actions, _) = diff::diff(&r.desired, &r.live, &owned, &BTreeSet::new());
        diff::mark_replacements(&mut actions, &r.replace_on);
        actions
    }

    fn created_facts(w: &World, key: &str) -> BTreeMap<String, Value> {
        facts_of(&w.fields(key))
    }

    #[test]
    fn a_customer_created_by_mspform_reads_back_with_no_changes() {
        let d = desired(&[("acme", "Acme", "AcmeCorp")]);
        let owned = BTreeMap::from([(
            Address::customer("acme"),
            owned_rec(G1, created_facts(&d, "acme")),
        )]);
        let r = d.resolve(
            &snap(vec![live(G1, "Acme", "AcmeCorp", "Deployed")]),
            &owned,
        );
        assert!(r.errors.is_empty());
        assert_eq!(r.ids[&Address::customer("acme")], G1);
        assert!(plan(&r, &owned).is_empty(), "{:?}", plan(&r, &owned));
        // The secret shows as its reference, never a value.
        assert_eq!(
            r.desired[0].fields["script_parameters.CarrierUserPassword"],
            json!("(secret from environment variable ACME_PW)")
        );
    }

    #[test]
    fn every_field_forces_a_replacement_naming_it() {
        let d = desired(&[("acme", "Acme", "AcmeCorp")]);
        let mut facts = created_facts(&d, "acme");
        facts.insert("onboarding_script".into(), json!(9));
        facts.insert("script_parameters.ProxySet".into(), json!("old"));
        let owned = BTreeMap::from([(Address::customer("acme"), owned_rec(G1, facts))]);
        let r = d.resolve(&snap(vec![live(G1, "Acme", "Acme2", "Deployed")]), &owned);
        let actions = plan(&r, &owned);
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].op, Op::Replace);
        assert_eq!(
            actions[0].replace_because,
            ["name", "onboarding_script", "script_parameters.ProxySet"]
        );
        assert_eq!(
            actions[0]
                .changed("script_parameters.ProxySet")
                .unwrap()
                .after,
            Value::Null
        );
    }

    #[test]
    fn an_optional_value_removed_from_the_file_shows_as_a_change() {
        let d = desired(&[("acme", "Acme", "AcmeCorp")]);
        let mut facts = created_facts(&d, "acme");
        facts.insert("channel_id".into(), json!("chan-1"));
        let owned = BTreeMap::from([(Address::customer("acme"), owned_rec(G1, facts))]);
        let r = d.resolve(
            &snap(vec![live(G1, "Acme", "AcmeCorp", "Deployed")]),
            &owned,
        );
        let actions = plan(&r, &owned);
        assert_eq!(actions[0].replace_because, ["channel_id"]);
        let change = actions[0].changed("channel_id").unwrap();
        assert_eq!(
            (&change.before, &change.after),
            (&json!("chan-1"), &Value::Null)
        );
        // Undeclared and never recorded: not a field at all.
        assert!(!d.fields("acme").contains_key("channel_id"));
    }

    #[test]
    fn a_failed_deployment_shows_as_a_replacement() {
        let d = desired(&[("acme", "Acme", "AcmeCorp")]);
        let owned = BTreeMap::from([(
            Address::customer("acme"),
            owned_rec(G1, created_facts(&d, "acme")),
        )]);
        let r = d.resolve(&snap(vec![live(G1, "Acme", "AcmeCorp", "Failed")]), &owned);
        let actions = plan(&r, &owned);
        assert_eq!(actions[0].op, Op::Replace);
        assert_eq!(actions[0].replace_because, ["deployment"]);
        // A numeric state cannot be judged: no change.
        let mut c = live(G1, "Acme", "AcmeCorp", "x");
        c.sites[0].state = Some(json!(2));
        let r = d.resolve(&snap(vec![c]), &owned);
        assert!(plan(&r, &owned).is_empty());
        // No site at all: a change.
        let mut c = live(G1, "Acme", "AcmeCorp", "x");
        c.sites.clear();
        let r = d.resolve(&snap(vec![c]), &owned);
        assert_eq!(
            plan(&r, &owned)[0].replace_because,
            ["deployment", "sbc_id"]
        );
    }

    #[test]
    fn an_undeclared_live_customer_is_adopted_by_short_name_without_write_only_changes() {
        let d = desired(&[("acme", "Acme", "AcmeCorp")]);
        let owned = Owned::new();
        let r = d.resolve(
            &snap(vec![
                live(G1, "Acme", "AcmeCorp", "Deployed"),
                live(G2, "Other", "Other", "Deployed"),
            ]),
            &owned,
        );
        let actions = plan(&r, &owned);
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].op, Op::Adopt);
        assert!(actions[0].changes.is_empty());
        assert!(
            r.live
                .contains_key(&Address::unmanaged(Kind::Customer, "Other"))
        );
        assert_eq!(r.ids[&Address::unmanaged(Kind::Customer, "Other")], G2);
        assert!(!r.managed_customers.contains(G2));
    }

    #[test]
    fn owned_guid_wins_over_short_name_and_duplicates_are_an_error() {
        let d = desired(&[("acme", "Acme", "AcmeCorp")]);
        // Renamed in the portal: still found by GUID.
        let owned = BTreeMap::from([(
            Address::customer("acme"),
            owned_rec(G1, created_facts(&d, "acme")),
        )]);
        let r = d.resolve(
            &snap(vec![live(G1, "Acme9", "AcmeCorp", "Deployed")]),
            &owned,
        );
        let actions = plan(&r, &owned);
        assert_eq!(actions[0].replace_because, ["short_name"]);

        let r = d.resolve(
            &snap(vec![
                live(G1, "Acme", "A", "Deployed"),
                live(G2, "Acme", "B", "Deployed"),
            ]),
            &Owned::new(),
        );
        assert_eq!(r.errors.len(), 1);
        assert!(
            r.errors[0].contains(G1) && r.errors[0].contains(G2),
            "{}",
            r.errors[0]
        );
        // Unmanaged twins keep distinct addresses.
        assert_eq!(r.live.len(), 2);
    }

    #[test]
    fn a_tenant_id_tells_same_short_names_apart() {
        let mut d = desired(&[("acme", "Acme", "AcmeCorp")]);
        d.spec.customers.get_mut("acme").unwrap().ms_tenant_id =
            Some("4BF50A33-A383-4D3F-9403-220C898BC1B2".into());
        let mut mine = live(G2, "Acme", "AcmeCorp", "Deployed");
        mine.ms_tenant_id = Some("4bf50a33-a383-4d3f-9403-220c898bc1b2".into());
        let r = d.resolve(
            &snap(vec![live(G1, "Acme", "Other", "Deployed"), mine]),
            &Owned::new(),
        );
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(r.ids[&Address::customer("acme")], G2);
        assert!(plan(&r, &Owned::new())[0].changes.is_empty());
    }

    #[test]
    fn an_owned_customer_no_longer_declared_is_deleted_with_its_recorded_facts() {
        let d0 = desired(&[("acme", "Acme", "AcmeCorp")]);
        let facts = created_facts(&d0, "acme");
        let d = desired(&[]);
        let owned = BTreeMap::from([(Address::customer("acme"), owned_rec(G1, facts))]);
        let r = d.resolve(
            &snap(vec![live(G1, "Acme", "AcmeCorp", "Deployed")]),
            &owned,
        );
        let actions = plan(&r, &owned);
        assert_eq!(actions[0].op, Op::Delete);
        assert_eq!(
            actions[0].changed("customer_type").unwrap().before,
            json!("IPGROUP_TYPE")
        );
        assert_eq!(
            actions[0].changed("short_name").unwrap().before,
            json!("Acme")
        );
    }

    #[test]
    fn extra_sites_are_reported_not_managed() {
        let d = desired(&[("acme", "Acme", "AcmeCorp")]);
        let mut c = live(G1, "Acme", "AcmeCorp", "Deployed");
        c.sites.push(LiveSite {
            id: Some("s2".into()),
            name: "Branch".into(),
            sbc_id: Some(6),
            state: Some(json!("Deployed")),
        });
        let r = d.resolve(&snap(vec![c]), &Owned::new());
        assert_eq!(r.notes.len(), 1);
        assert_eq!(r.notes[0].address.to_string(), "site.acme/[\"Branch\"]");
    }
}
