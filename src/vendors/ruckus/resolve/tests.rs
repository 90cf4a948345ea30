//! Table-style tests of the pure mapping from live RUCKUS One state to addresses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{Value, json};

use super::*;
use crate::diff::{Op, diff};
use crate::model::Desired;
use crate::state::OwnedRecord;
use crate::vendor::{Owned, PlanOptions};
use crate::vendors::ruckus::refresh::{Assigned, LiveEc, LivePartner, Snapshot};
use crate::vendors::ruckus::wire::EcView;

pub(crate) const PROVIDER: &str = r#"[providers.r1]
type = "ruckus-one"
base_url = "https://api.ruckus.cloud"
tenant_id = "8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60"
token = { env = "R1_TOKEN" }
"#;

pub(crate) fn desired(rest: &str) -> Desired {
    crate::config::load_sources(&[(PathBuf::from("r1.toml"), format!("{PROVIDER}\n{rest}"))])
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The desired state with `customer.acme` (provider `r1`, named "Acme") and
/// `more` after its keys.
pub(crate) fn acme(more: &str) -> Desired {
    desired(&format!("{ACME}{more}"))
}

pub(crate) fn ec(id: &str, name: &str) -> LiveEc {
    LiveEc {
        id: id.into(),
        name: name.into(),
        view: Some(EcView {
            tenant_id: Some(id.into()),
            name: Some(name.into()),
            service_effective_date: Some("2025-01-01 13:45:00Z".into()),
            service_expiration_date: Some("2026-01-01 13:45:00Z".into()),
            ..EcView::default()
        }),
        carried: None,
    }
}

/// What resolve and compile see of provider `r1`.
pub(crate) fn ctx<'a>(d: &'a Desired, own: &'a Owned, o: &'a PlanOptions) -> Ctx<'a, Ruckus> {
    Ctx {
        key: "r1",
        spec: d.spec::<Ruckus>("r1").expect("a RUCKUS One provider r1"),
        desired: d,
        owned: own,
        options: o,
    }
}

pub(crate) fn resolve_for(d: &Desired, s: &Snapshot, own: &Owned, o: &PlanOptions) -> Resolved {
    resolve(ctx(d, own, o), s)
}

pub(crate) fn owned(address: &str, id: &str, facts: &[(&str, Value)]) -> (Address, OwnedRecord) {
    (
        address.parse().expect("an address"),
        OwnedRecord {
            provider: "r1".into(),
            vendor_id: Some(id.into()),
            parent_id: None,
            since: 1,
            origin: "created".into(),
            facts: facts
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        },
    )
}

fn snap(ecs: Vec<LiveEc>) -> Snapshot {
    Snapshot {
        ecs,
        today: "2025-03-01".into(),
        ..Snapshot::default()
    }
}

fn plan(
    d: &Desired,
    s: &Snapshot,
    own: &Owned,
    o: &PlanOptions,
) -> (Resolved, Vec<crate::diff::Action>) {
    let r = resolve_for(d, s, own, o);
    let owned_set: BTreeSet<Address> = own.keys().cloned().collect();
    let (actions, _) = diff(&r.desired, &r.live, &owned_set, &BTreeSet::new());
    (r, actions)
}

const ACME: &str = r#"[customers.acme]
provider = "r1"
name = "Acme"
"#;

#[test]
fn owned_id_wins_over_name_and_a_portal_rename_is_an_update() {
    let d = acme("");
    let s = snap(vec![ec("a1", "Acme Renamed"), ec("a2", "Acme")]);
    let own = BTreeMap::from([owned("customer.acme", "a1", &[])]);
    let (r, actions) = plan(&d, &s, &own, &PlanOptions::default());
    assert_eq!(r.ids[&Address::customer("acme")], "a1");
    assert!(
        r.live
            .contains_key(&Address::unmanaged(Kind::Customer, "Acme")),
        "the other one is unmanaged"
    );
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].op, Op::Update);
    assert_eq!(actions[0].changes[0].field, "name");
    assert_eq!(actions[0].changes[0].before, json!("Acme Renamed"));
}

#[test]
fn an_unowned_tenant_of_the_same_name_is_adopted_and_duplicates_are_an_error() {
    let d = acme("");
    let (r, actions) = plan(
        &d,
        &snap(vec![ec("a1", "Acme")]),
        &BTreeMap::new(),
        &PlanOptions::default(),
    );
    assert!(r.errors.is_empty());
    assert_eq!(actions[0].op, Op::Adopt);
    assert!(actions[0].changes.is_empty());
    assert!(r.managed_customers.contains("a1"));

    let r = resolve_for(
        &d,
        &snap(vec![ec("a1", "Acme"), ec("a2", "Acme")]),
        &BTreeMap::new(),
        &PlanOptions::default(),
    );
    assert_eq!(r.errors.len(), 1);
    assert!(
        r.errors[0].contains("customer.acme") && r.errors[0].contains("a1, a2"),
        "{:?}",
        r.errors
    );
}

#[test]
fn dates_compare_by_day_and_a_partial_address_manages_the_whole_address() {
    let d = acme(
        r#"service_start = "2025-01-01"
service_end = "2027-01-01"
address = { street = "1 Main St" }
"#,
    );
    let mut live = ec("a1", "Acme");
    if let Some(v) = &mut live.view {
        v.street_address = Some("1 Main St".into());
        v.city = Some("Sunnyvale".into());
        v.postal_code = Some("".into());
    }
    let own = BTreeMap::from([owned("customer.acme", "a1", &[])]);
    let (_, actions) = plan(&d, &snap(vec![live]), &own, &PlanOptions::default());
    let changed: Vec<(&str, &Value, &Value)> = actions[0]
        .changes
        .iter()
        .map(|c| (c.field.as_str(), &c.before, &c.after))
        .collect();
    assert_eq!(
        changed,
        [
            ("city", &json!("Sunnyvale"), &Value::Null),
            ("service_end", &json!("2026-01-01"), &json!("2027-01-01")),
        ],
        "same day = no change; an empty zip is no zip; a city left out is cleared"
    );
}

#[test]
fn the_administrator_is_tracked_through_state_and_adopted_tenants_are_not_invited() {
    let d = acme(
        r#"admin = { email = "new@acme.example" }
"#,
    );
    let s = snap(vec![ec("a1", "Acme")]);
    // Adopted: the declared email is taken as it is, no change.
    let (_, actions) = plan(&d, &s, &BTreeMap::new(), &PlanOptions::default());
    assert_eq!((actions[0].op, actions[0].changes.len()), (Op::Adopt, 0));
    // Owned, invited to another address: one change of admin_email.
    let own = BTreeMap::from([owned(
        "customer.acme",
        "a1",
        &[("invited", json!("old@acme.example"))],
    )]);
    let (_, actions) = plan(&d, &s, &own, &PlanOptions::default());
    assert_eq!(actions[0].changes.len(), 1);
    assert_eq!(actions[0].changes[0].before, json!("old@acme.example"));
    // Owned, invited to this address: nothing to do.
    let own = BTreeMap::from([owned(
        "customer.acme",
        "a1",
        &[("invited", json!("new@acme.example"))],
    )]);
    assert!(plan(&d, &s, &own, &PlanOptions::default()).1.is_empty());

    // --resend-invitation: a change of `invitation`.
    let options = PlanOptions {
        resend_invitations: BTreeSet::from([Address::customer("acme")]),
        ..Default::default()
    };
    let (r, actions) = plan(&d, &s, &own, &options);
    assert!(r.errors.is_empty());
    let c = actions[0]
        .changed("invitation")
        .expect("invitation changes");
    assert_eq!((&c.before, &c.after), (&json!(SENT), &json!(RESEND)));
}

#[test]
fn resending_needs_a_declared_administrator() {
    let options = PlanOptions {
        resend_invitations: BTreeSet::from([
            Address::customer("acme"),
            Address::customer("other-vendor"),
        ]),
        ..Default::default()
    };
    let r = resolve_for(
        &acme(""),
        &snap(vec![ec("a1", "Acme")]),
        &BTreeMap::new(),
        &options,
    );
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(r.errors[0].starts_with("customer.acme:"));
}

fn partner(id: &str, name: &str, kind: &str, ecs: &[&str]) -> LivePartner {
    LivePartner {
        id: id.into(),
        name: name.into(),
        tenant_type: kind.into(),
        assigned: Some(Assigned {
            delegation_type: kind.into(),
            ecs: ecs.iter().map(|s| s.to_string()).collect(),
        }),
    }
}

const PARTNERED: &str = r#"[customers.acme]
provider = "r1"
name = "Acme"

[customers.beta]
provider = "r1"
name = "Beta"

[partners.wm]
provider = "r1"
name = "Wire Masters"
customers = ["acme", "beta"]
"#;

#[test]
fn a_partner_lists_managed_customers_and_notes_the_others() {
    let d = desired(PARTNERED);
    let mut s = snap(vec![
        ec("a1", "Acme"),
        ec("x1", "Stranger"),
        ec("o1", "Old"),
    ]);
    s.partners = vec![partner(
        "p1",
        "Wire Masters",
        "MSP_INTEGRATOR",
        &["a1", "x1", "o1"],
    )];
    let own = BTreeMap::from([
        owned("customer.old", "o1", &[]),
        owned("customer.acme", "a1", &[]),
    ]);
    let (r, actions) = plan(&d, &s, &own, &PlanOptions::default());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(
        r.live[&Address::partner("wm")].fields["customers"],
        json!(["acme", "old"])
    );
    assert_eq!(r.ids[&Address::partner("wm")], "p1");
    assert_eq!(
        r.notes
            .iter()
            .map(|n| n.address.to_string())
            .collect::<Vec<_>>(),
        ["partner.wm/customer[\"Stranger\"]"]
    );
    let a = actions.iter().find(|a| a.address == "partner.wm").unwrap();
    assert_eq!(a.op, Op::Adopt);
    assert_eq!(a.changes[0].after, json!(["acme", "beta"]));
}

#[test]
fn partners_must_be_found_once_with_the_declared_role() {
    let mut s = snap(vec![]);
    let d = desired(PARTNERED);
    let r = resolve_for(&d, &s, &Owned::new(), &PlanOptions::default());
    assert!(r.errors.iter().any(|e| e.starts_with("partner.wm: no RUCKUS One tech partner is named \"Wire Masters\"; tech partners of this MSP: none")), "{:?}", r.errors);

    s.partners = vec![
        partner("p1", "Wire Masters", "MSP_INTEGRATOR", &[]),
        partner("p2", "Wire Masters", "MSP_INSTALLER", &[]),
    ];
    let r = resolve_for(&d, &s, &Owned::new(), &PlanOptions::default());
    assert!(
        r.errors
            .iter()
            .any(|e| e.contains("2 tech partners are named") && e.contains("add `role`")),
        "{:?}",
        r.errors
    );

    let with_role = PARTNERED.replace(
        "customers = [\"acme\", \"beta\"]",
        "role = \"installer\"\ncustomers = [\"acme\"]",
    );
    let r = resolve_for(
        &desired(&with_role),
        &s,
        &BTreeMap::new(),
        &PlanOptions::default(),
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.ids[&Address::partner("wm")], "p2");

    s.partners.remove(1);
    let r = resolve_for(
        &desired(&with_role),
        &s,
        &BTreeMap::new(),
        &PlanOptions::default(),
    );
    assert!(
        r.errors
            .iter()
            .any(|e| e.contains("is MSP_INTEGRATOR, not MSP_INSTALLER")),
        "{:?}",
        r.errors
    );

    let twice = format!(
        "{PARTNERED}\n[partners.again]\nprovider = \"r1\"\nname = \"Wire Masters\"\ncustomers = []\n"
    );
    let r = resolve_for(
        &desired(&twice),
        &s,
        &BTreeMap::new(),
        &PlanOptions::default(),
    );
    assert!(
        r.errors.iter().any(|e| e.contains(
            "partner.wm: tech partner \"Wire Masters\" is already declared as partner.again"
        )),
        "{:?}",
        r.errors
    );
}

#[test]
fn an_owned_partner_no_longer_declared_is_deleted_and_a_vanished_one_forgotten() {
    let d = acme("");
    let mut s = snap(vec![ec("a1", "Acme")]);
    s.partners = vec![partner("p1", "Wire Masters", "MSP_INTEGRATOR", &["a1"])];
    let own = BTreeMap::from([
        owned("customer.acme", "a1", &[]),
        owned(
            "partner.gone",
            "p1",
            &[("delegation_type", json!("MSP_INTEGRATOR"))],
        ),
    ]);
    let (r, actions) = plan(&d, &s, &own, &PlanOptions::default());
    assert_eq!(
        r.live[&Address::partner("gone")].fields["customers"],
        json!(["acme"])
    );
    assert_eq!(
        actions
            .iter()
            .find(|a| a.address == "partner.gone")
            .unwrap()
            .op,
        Op::Delete
    );
}
