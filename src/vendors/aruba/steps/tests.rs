//! The order of Aruba's steps is data: every step's dependencies, checked
//! against one table of what waits for what, on the example portfolio's first
//! apply and on a later apply that changes, moves and removes things.

use std::collections::BTreeSet;

use serde_json::json;

use super::*;
use crate::diff::diff;
use crate::vendor::Owned;
use crate::vendors::aruba::live::LiveSite;
use crate::vendors::aruba::resolve::tests::{World, example, owned as record};

/// What a step does, in the words of the ordering table.
fn kind(op: &StepOp) -> &'static str {
    match op {
        StepOp::CreateCustomer { .. } | StepOp::AwaitCustomer { .. } => "customer",
        StepOp::PostCustomer { .. } => "post customer",
        StepOp::UpdateCustomer { .. } => "update customer",
        StepOp::Record { address, .. } => match address.kind() {
            Kind::Customer => "customer",
            Kind::Site => "site",
            _ => "adopt device",
        },
        StepOp::CreateSite { .. } => "site",
        StepOp::UpdateSite { .. } => "update site",
        StepOp::MoveDevices {
            target: Some(_), ..
        } => "send move in",
        StepOp::MoveDevices {
            returning: false, ..
        } => "send move back",
        StepOp::MoveDevices { .. } => "send return",
        StepOp::AwaitMove {
            target: Some(_), ..
        } => "move in",
        StepOp::AwaitMove {
            returning: false, ..
        } => "move back",
        StepOp::AwaitMove { .. } => "return",
        StepOp::Licenses { .. } => "licences",
        StepOp::AutoLicense { .. } => "auto-licence",
        StepOp::Unassociate { .. } => "unassociate",
        StepOp::Associate { .. } => "associate",
        StepOp::DeleteSite { .. } => "delete site",
        StepOp::DeleteCustomer { .. } => "delete customer",
        StepOp::Forget { .. } => "forget",
    }
}

/// The one ordering table: a step waits for the related steps of these kinds.
/// Creates parent first — customer → moves → licences / auto-licence → sites →
/// unassociate → associate; deletes the other way — unassociate → site delete,
/// and a customer delete after its sites and devices are gone.
const WAITS_FOR: &[(&str, &[&str])] = &[
    ("post customer", &[]),
    ("customer", &["post customer"]),
    ("update customer", &["customer"]),
    ("adopt device", &["customer"]),
    ("send move back", &[]),
    ("move back", &["send move back"]),
    ("send move in", &["customer", "move back"]),
    ("move in", &["send move in"]),
    ("licences", &["customer", "move in"]),
    ("auto-licence", &["customer", "licences"]),
    ("site", &["customer"]),
    ("update site", &["customer", "site"]),
    ("unassociate", &["move in"]),
    ("associate", &["site", "move in", "unassociate"]),
    ("delete site", &["unassociate"]),
    ("send return", &[]),
    ("return", &["send return"]),
    ("delete customer", &["delete site", "return"]),
    ("forget", &[]),
];

fn customers_of(op: &StepOp) -> Vec<&Address> {
    match op {
        StepOp::CreateCustomer { address, .. }
        | StepOp::PostCustomer { address, .. }
        | StepOp::AwaitCustomer { address, .. }
        | StepOp::UpdateCustomer { address, .. }
        | StepOp::DeleteCustomer { address } => vec![address],
        StepOp::Record {
            address, parent, ..
        } => vec![parent.as_ref().unwrap_or(address)],
        StepOp::MoveDevices { target, .. } | StepOp::AwaitMove { target, .. } => {
            target.iter().collect()
        }
        StepOp::Licenses { customers, .. } => customers.iter().collect(),
        StepOp::AutoLicense { customer, .. }
        | StepOp::CreateSite { customer, .. }
        | StepOp::UpdateSite { customer, .. }
        | StepOp::DeleteSite { customer, .. }
        | StepOp::Associate { customer, .. }
        | StepOp::Unassociate { customer, .. } => vec![customer],
        StepOp::Forget { .. } => vec![],
    }
}

/// The two steps concern a customer in common.
fn same_customer(a: &StepOp, b: &StepOp) -> bool {
    let b = customers_of(b);
    customers_of(a).iter().any(|c| b.contains(c))
}

fn site_of(op: &StepOp) -> Option<&Address> {
    match op {
        StepOp::CreateSite { address, .. }
        | StepOp::UpdateSite { address, .. }
        | StepOp::DeleteSite { address, .. } => Some(address),
        StepOp::Record { address, .. } if address.kind() == Kind::Site => Some(address),
        StepOp::Associate { site, .. } | StepOp::Unassociate { site, .. } => Some(site),
        _ => None,
    }
}

fn serials(op: &StepOp) -> BTreeSet<&str> {
    match op {
        StepOp::MoveDevices { devices, .. } | StepOp::AwaitMove { devices, .. } => {
            devices.iter().map(|(s, _)| s.as_str()).collect()
        }
        StepOp::Licenses { serials, .. }
        | StepOp::Associate { serials, .. }
        | StepOp::Unassociate { serials, .. } => serials.iter().map(String::as_str).collect(),
        _ => BTreeSet::new(),
    }
}

/// Whether `dep` (of a kind `step` waits for) concerns what `step` does.
fn related(step: &StepOp, dep: &StepOp) -> bool {
    match (kind(step), kind(dep)) {
        (_, "customer" | "post customer") => same_customer(step, dep),
        (_, "site") => site_of(step) == site_of(dep),
        ("auto-licence", "licences") => same_customer(step, dep),
        ("delete site", "unassociate") => site_of(step) == site_of(dep),
        ("delete customer", "delete site") => same_customer(step, dep),
        ("delete customer", "return") => {
            let StepOp::AwaitMove { counterparts, .. } = dep else {
                return false;
            };
            customers_of(step)
                .iter()
                .any(|c| counterparts.contains(&c.to_string()))
        }
        _ => !serials(step).is_disjoint(&serials(dep)),
    }
}

/// Every step's dependencies are exactly the earlier related steps of the kinds
/// the table says it waits for.
fn check_order(steps: &[Step<StepOp>]) {
    for s in steps {
        let waits: &[&str] = WAITS_FOR
            .iter()
            .find(|(k, _)| *k == kind(&s.op))
            .map(|(_, w)| *w)
            .unwrap_or_else(|| panic!("{} is in the table", kind(&s.op)));
        let expected: Vec<usize> = steps[..s.id]
            .iter()
            .filter(|d| waits.contains(&kind(&d.op)) && related(&s.op, &d.op))
            .map(|d| d.id)
            .collect();
        let label = |ids: &[usize]| -> Vec<String> {
            ids.iter().map(|i| steps[*i].label.clone()).collect()
        };
        assert_eq!(
            s.deps,
            expected,
            "{} waits for {:?}, expected {:?}",
            s.label,
            label(&s.deps),
            label(&expected)
        );
    }
}

fn plan(w: &World, owned: &Owned) -> Vec<Action> {
    let r = w.resolve(owned);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let owned_set: BTreeSet<Address> = owned.keys().cloned().collect();
    diff(&r.desired, &r.live, &owned_set, &BTreeSet::new()).0
}

fn kinds(steps: &[Step<StepOp>]) -> Vec<&'static str> {
    steps.iter().map(|s| kind(&s.op)).collect()
}

fn count(steps: &[Step<StepOp>], k: &str) -> usize {
    steps.iter().filter(|s| kind(&s.op) == k).count()
}

#[test]
fn onboarding_is_batched_and_every_step_waits_for_what_it_needs() {
    let w = example();
    let owned = Owned::new();
    let steps = compile(w.ctx(&owned), &w.snap, &plan(&w, &owned));
    check_order(&steps);
    assert_eq!(count(&steps, "post customer"), 3);
    assert_eq!(count(&steps, "customer"), 3);
    let first_wait = kinds(&steps).iter().position(|k| *k == "customer");
    let last_post = kinds(&steps).iter().rposition(|k| *k == "post customer");
    assert!(
        first_wait > last_post,
        "every customer is posted before any wait"
    );
    assert_eq!(
        count(&steps, "send move in"),
        3,
        "one batched move per customer"
    );
    assert_eq!(count(&steps, "move in"), 3, "and a wait for each");
    for s in &steps {
        assert_eq!(
            s.background,
            kind(&s.op) == "move in",
            "only the waits for moves give way to other writes: {}",
            s.label
        );
    }
    let sets: BTreeSet<(bool, Vec<String>)> = steps
        .iter()
        .filter_map(|s| match &s.op {
            StepOp::Licenses {
                assign, services, ..
            } => Some((*assign, services.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        count(&steps, "licences"),
        sets.len(),
        "one call per service set, across customers"
    );
    assert_eq!(count(&steps, "auto-licence"), 1);
    assert_eq!(count(&steps, "site"), 4);
    assert!(count(&steps, "associate") >= 4);
    // Each kind that waits for another has at least one such dependency here.
    for s in &steps {
        let deps: BTreeSet<&str> = s.deps.iter().map(|d| kind(&steps[*d].op)).collect();
        let want: BTreeSet<&str> = match kind(&s.op) {
            "customer" => ["post customer"].into(),
            "send move in" | "site" => ["customer"].into(),
            "move in" => ["send move in"].into(),
            "licences" => ["customer", "move in"].into(),
            "auto-licence" => ["customer", "licences"].into(),
            "associate" => ["site", "move in"].into(),
            _ => BTreeSet::new(),
        };
        assert_eq!(deps, want, "{}", s.label);
    }
}

/// The portfolio as the first apply leaves it: customers c0.., sites s0.. with the
/// right device counts, devices in their customers, licensed and recorded.
fn applied() -> (World, Owned) {
    let mut w = example();
    let mut owned = Owned::new();
    let keys: Vec<String> = w.d.customers.keys().cloned().collect();
    let mut site_n = 0;
    for (i, key) in keys.iter().enumerate() {
        let cid = format!("c{i}");
        let c = w.d.customers[key].clone();
        let a = w.spec().customers[key].clone();
        w.add_customer(&cid, &c.name);
        let live = w.snap.customers.last_mut().unwrap();
        live.country = a.country.clone();
        (live.street, live.city, live.state, live.zip) = (
            a.address.street.clone(),
            a.address.city.clone(),
            a.address.state.clone(),
            a.address.zip.clone(),
        );
        live.group = a.group.clone();
        live.description = a.description.clone();
        live.lock_msp_ssids = a.lock_msp_ssids;
        live.auto_license = Some(a.auto_license.clone());
        owned.insert(Address::customer(key), record(&cid, None, Fields::new()));
        let mut sites = Vec::new();
        for (skey, s) in &c.sites {
            let sid = format!("{site_n}");
            site_n += 1;
            let in_site =
                w.d.devices
                    .values()
                    .filter(|d| d.customer == *key && d.site.as_deref() == Some(skey))
                    .count();
            let fields = super::super::resolve::site_fields(s);
            let text = |k: &str| {
                fields
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            sites.push(LiveSite {
                id: sid.clone(),
                customer_id: cid.clone(),
                name: s.name.clone(),
                street: text("street"),
                city: text("city"),
                state: text("state"),
                country: text("country"),
                zip: text("zip"),
                latitude: fields.get("latitude").and_then(|v| v.as_f64()),
                longitude: fields.get("longitude").and_then(|v| v.as_f64()),
                associated_device_count: Some(in_site as u64),
            });
            owned.insert(
                Address::site(key, skey),
                record(&sid, Some(&cid), Fields::new()),
            );
        }
        w.snap.sites.insert(cid.clone(), sites);
        for d in w.d.devices.values().filter(|d| d.customer == *key) {
            let live = w.snap.devices.get_mut(&d.serial).unwrap();
            live.customer_id = Some(cid.clone());
            live.licenses = d.licenses.clone();
            let facts = d
                .site
                .iter()
                .map(|s| ("site".to_string(), json!(s)))
                .collect();
            owned.insert(
                Address::device(&d.serial),
                record(&d.serial, Some(&cid), facts),
            );
        }
    }
    w.snap.msp_id = Some("msp".into());
    (w, owned)
}

/// Declares acme-retail's first device in another customer (and site).
fn move_from_acme(w: &mut World, customer: &str, site: Option<&str>) {
    let d =
        w.d.devices
            .values_mut()
            .find(|d| d.customer == "acme-retail")
            .unwrap();
    d.customer = customer.into();
    d.site = site.map(str::to_string);
}

#[test]
fn an_applied_portfolio_compiles_to_nothing() {
    let (w, owned) = applied();
    let actions = plan(&w, &owned);
    assert!(actions.is_empty(), "{actions:#?}");
}

#[test]
fn changes_and_removals_wait_for_what_they_need_and_deletes_go_child_first() {
    let (mut w, owned) = applied();
    // A device changes site, one moves between customers, one is removed, a site
    // is removed (its devices go to the other one), and a customer with its
    // devices is removed.
    w.d.devices.get_mut("AP0000005").unwrap().site = Some("santa-clara".into());
    w.d.customers
        .get_mut("acme-retail")
        .unwrap()
        .sites
        .remove("warehouse");
    for d in w.d.devices.values_mut() {
        if d.site.as_deref() == Some("warehouse") {
            d.site = Some("flagship".into());
        }
    }
    move_from_acme(&mut w, "coffee-shop", Some("roastery"));
    w.d.devices.remove("AP0000002");
    w.d.customers.remove("harbor-clinic");
    w.d.devices.retain(|_, d| d.customer != "harbor-clinic");
    let actions = plan(&w, &owned);
    let steps = compile(w.ctx(&owned), &w.snap, &actions);
    check_order(&steps);
    for k in [
        "move back",
        "move in",
        "unassociate",
        "associate",
        "delete site",
        "return",
        "delete customer",
    ] {
        assert!(count(&steps, k) > 0, "{k}: {:?}", kinds(&steps));
    }
    let delete = steps
        .iter()
        .find(|s| kind(&s.op) == "delete customer")
        .unwrap();
    let waits: BTreeSet<&str> = delete.deps.iter().map(|d| kind(&steps[*d].op)).collect();
    assert_eq!(
        waits,
        ["return"].into(),
        "{} (it has no sites)",
        delete.label
    );
    let site = steps.iter().find(|s| kind(&s.op) == "delete site").unwrap();
    assert_eq!(site.label, "delete site.acme-retail/warehouse");
    let waits: BTreeSet<&str> = site.deps.iter().map(|d| kind(&steps[*d].op)).collect();
    assert_eq!(waits, ["unassociate"].into(), "its devices leave it first");
    let ret = steps.iter().find(|s| kind(&s.op) == "send return").unwrap();
    let StepOp::MoveDevices {
        counterparts,
        devices,
        ..
    } = &ret.op
    else {
        unreachable!()
    };
    assert_eq!(
        devices.len(),
        1 + 2,
        "one batched return: AP0000002, harbor-clinic's two"
    );
    assert!(
        counterparts.contains(&"customer.harbor-clinic".to_string()),
        "{counterparts:?}"
    );
    let into = steps
        .iter()
        .find(|s| matches!(&s.op, StepOp::MoveDevices { target: Some(t), .. } if *t == Address::customer("coffee-shop")))
        .unwrap();
    let back = steps.iter().find(|s| kind(&s.op) == "move back").unwrap();
    assert!(
        into.deps.contains(&back.id),
        "out of acme-retail (landed) before into coffee-shop"
    );
    let send_back = steps
        .iter()
        .find(|s| kind(&s.op) == "send move back")
        .unwrap();
    assert_eq!(
        back.label,
        "wait for the move of 1 device(s) back to the MSP inventory on their way into customer.coffee-shop"
    );
    assert_eq!(
        send_back.label,
        "move 1 device(s) back to the MSP inventory on their way into customer.coffee-shop"
    );
}

#[test]
fn a_move_back_waits_for_the_creates_when_the_msp_id_is_not_known_yet() {
    let (mut w, owned) = applied();
    w.snap.msp_id = None;
    move_from_acme(&mut w, "new-shop", None);
    let mut c = w.d.customers["coffee-shop"].clone();
    c.key = "new-shop".into();
    c.name = "New Shop".into();
    c.sites.clear();
    w.d.customers.insert("new-shop".into(), c);
    w.d.edit_specs::<Aruba>(|spec| {
        let a = spec.customers["coffee-shop"].clone();
        spec.customers.insert("new-shop".into(), a);
    });
    let actions = plan(&w, &owned);
    let steps = compile(w.ctx(&owned), &w.snap, &actions);
    let found = steps
        .iter()
        .find(|s| s.label == "wait for customer.new-shop to provision")
        .unwrap();
    let back = steps
        .iter()
        .find(|s| kind(&s.op) == "send move back")
        .unwrap();
    assert_eq!(
        back.deps,
        [found.id],
        "the new customer's record carries msp_id"
    );
}
