//! Table-style tests of step compilation: batching, ordering, dependencies and bodies.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::*;
use crate::diff::diff;
use crate::model::Desired;
use crate::vendor::{Owned, PlanOptions};
use crate::vendors::ruckus::refresh::{Assigned, LivePartner};
use crate::vendors::ruckus::resolve::tests::{acme, ctx, desired, ec, owned, resolve_for};

fn compile_for(d: &Desired, s: &Snapshot, own: &Owned, options: &PlanOptions) -> Vec<RuckusStep> {
    let r = resolve_for(d, s, own, options);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let owned_set: BTreeSet<Address> = own.keys().cloned().collect();
    let (actions, _) = diff(&r.desired, &r.live, &owned_set, &BTreeSet::new());
    compile(ctx(d, own, options), s, &r, &actions)
}

fn snap() -> Snapshot {
    Snapshot {
        today: "2024-02-29".into(),
        ..Snapshot::default()
    }
}

fn customers(n: usize) -> String {
    (0..n)
        .map(|i| format!("[customers.c{i:03}]\nprovider = \"r1\"\nname = \"Customer {i:03}\"\n"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn creates_go_out_in_batches_of_at_most_100_each_tenant_awaited_on_its_own() {
    let d = desired(&customers(230));
    let steps = compile_for(&d, &snap(), &Owned::new(), &PlanOptions::default());
    let batches: Vec<(usize, usize)> = steps
        .iter()
        .filter_map(|s| match &s.op {
            StepOp::CreateBatch { tenants } => Some((s.id, tenants.len())),
            _ => None,
        })
        .collect();
    assert_eq!(
        batches.iter().map(|b| b.1).collect::<Vec<_>>(),
        [100, 100, 30]
    );
    let awaits: Vec<&RuckusStep> = steps
        .iter()
        .filter(|s| matches!(s.op, StepOp::AwaitCreate { .. }))
        .collect();
    assert_eq!(awaits.len(), 230);
    for a in &awaits {
        assert_eq!(a.addresses.len(), 1);
        assert_eq!(a.deps.len(), 1);
        let batch = &steps[a.deps[0]];
        assert!(
            batch.addresses.contains(&a.addresses[0]),
            "awaits its own batch"
        );
    }
    // Items of one batch are unique (the vendor refuses repeats).
    if let StepOp::CreateBatch { tenants } = &steps[batches[0].0].op {
        let bodies: BTreeSet<String> = tenants.iter().map(|t| t.body.to_string()).collect();
        assert_eq!(bodies.len(), tenants.len());
    }
}

#[test]
fn a_create_body_carries_declared_fields_and_default_service_dates() {
    let d = acme(
        r#"address = { city = "Sunnyvale", zip = "94089" }
tier = "GOLD"
admin = { email = "it@acme.example", last_name = "Lovelace" }
"#,
    );
    let steps = compile_for(&d, &snap(), &Owned::new(), &PlanOptions::default());
    let StepOp::CreateBatch { tenants } = &steps[0].op else {
        panic!("{steps:?}")
    };
    assert_eq!(
        tenants[0].body,
        json!({
            "name": "Acme",
            "city": "Sunnyvale",
            "postal_code": "94089",
            "tier": "GOLD",
            "admin_email": "it@acme.example",
            "admin_lastname": "Lovelace",
            "service_effective_date": "2024-02-29 00:00:00.000Z",
            "service_expiration_date": "2025-02-28 00:00:00.000Z",
        })
    );
    assert_eq!(tenants[0].admin.as_deref(), Some("it@acme.example"));
    assert_eq!(tenants[0].unanswered_since, None);
}

#[test]
fn creates_left_in_flight_are_resumed_and_failed_or_unanswered_ones_posted() {
    let d = desired(&customers(3));
    let mut s = snap();
    s.pending.insert(
        Address::customer("c000"),
        PendingCreate {
            request_id: "r0".into(),
            tenant_id: Some("t0".into()),
            failed: None,
        },
    );
    s.pending.insert(
        Address::customer("c001"),
        PendingCreate {
            request_id: "r1".into(),
            tenant_id: Some("t1".into()),
            failed: Some("quota".into()),
        },
    );
    s.unanswered
        .insert(Address::customer("c002"), 1_700_000_000);
    let steps = compile_for(&d, &s, &Owned::new(), &PlanOptions::default());
    let resumed: Vec<&RuckusStep> = steps
        .iter()
        .filter(|s| {
            matches!(
                &s.op,
                StepOp::AwaitCreate {
                    resume: Some(_),
                    ..
                }
            )
        })
        .collect();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].addresses, ["customer.c000"]);
    assert!(resumed[0].deps.is_empty(), "no batch to wait for");
    let StepOp::CreateBatch { tenants } = &steps
        .iter()
        .find(|s| matches!(s.op, StepOp::CreateBatch { .. }))
        .unwrap()
        .op
    else {
        unreachable!()
    };
    let posted: Vec<(String, Option<u64>)> = tenants
        .iter()
        .map(|t| (t.address.to_string(), t.unanswered_since))
        .collect();
    assert_eq!(
        posted,
        [
            ("customer.c001".to_string(), None),
            ("customer.c002".to_string(), Some(1_700_000_000))
        ]
    );
}

#[test]
fn an_update_sends_every_field_with_live_values_where_nothing_is_declared() {
    let d = desired(
        r#"[customers.acme]
provider = "r1"
name = "Acme Corp"
phone = "555"
service_start = "2025-01-01"
"#,
    );
    let mut live = ec("a1", "Acme");
    if let Some(v) = &mut live.view {
        v.city = Some("Sunnyvale".into());
        v.fax_number = Some("556".into());
        v.privacy_features = Some(json!([{"featureName": "ARC", "isEnabled": true}]));
    }
    let mut s = snap();
    s.ecs = vec![live];
    let own = BTreeMap::from([owned("customer.acme", "a1", &[])]);
    let steps = compile_for(&d, &s, &own, &PlanOptions::default());
    assert_eq!(steps.len(), 1, "{steps:?}");
    let StepOp::Update { body, .. } = &steps[0].op else {
        panic!("{steps:?}")
    };
    assert_eq!(
        body,
        &json!({
            "name": "Acme Corp",
            "street_address": null,
            "city": "Sunnyvale",
            "state": null,
            "country": null,
            "postal_code": null,
            "phone_number": "555",
            "fax_number": "556",
            "mapping_url": null,
            "service_effective_date": "2025-01-01 13:45:00Z",
            "service_expiration_date": "2026-01-01 13:45:00Z",
            "tier": null,
            "privacyFeatures": [{"featureName": "ARC", "isEnabled": true}],
        }),
        "the start date matches by day, so its live time is kept"
    );
}

#[test]
fn adoption_records_first_and_invitations_follow_the_admin_field() {
    let d = acme(
        r#"tier = "GOLD"
admin = { email = "new@acme.example" }
"#,
    );
    let mut s = snap();
    s.ecs = vec![ec("a1", "Acme")];
    // Adopt with a changed tier: record, then update; no invitation.
    let steps = compile_for(&d, &s, &Owned::new(), &PlanOptions::default());
    let labels: Vec<String> = steps.iter().map(|s| s.label.clone()).collect();
    assert_eq!(labels, ["adopt customer.acme", "update customer.acme"]);
    assert_eq!(steps[1].deps, [steps[0].id]);
    let StepOp::Adopt { facts, ours, .. } = &steps[0].op else {
        panic!()
    };
    assert_eq!(facts["invited"], json!("new@acme.example"));
    assert!(!ours);

    // Owned, invited elsewhere: send to the new address; with --resend-invitation only a resend.
    s.ecs[0].view.as_mut().unwrap().tier = Some("GOLD".into());
    let own = BTreeMap::from([owned(
        "customer.acme",
        "a1",
        &[("invited", json!("old@acme.example"))],
    )]);
    let steps = compile_for(&d, &s, &own, &PlanOptions::default());
    assert!(
        matches!(
            &steps[..],
            [RuckusStep {
                op: StepOp::Invite { resend: false, .. },
                ..
            }]
        ),
        "{steps:?}"
    );
    let own = BTreeMap::from([owned(
        "customer.acme",
        "a1",
        &[("invited", json!("new@acme.example"))],
    )]);
    let options = PlanOptions {
        resend_invitations: BTreeSet::from([Address::customer("acme")]),
        ..Default::default()
    };
    let steps = compile_for(&d, &s, &own, &options);
    assert!(
        matches!(
            &steps[..],
            [RuckusStep {
                op: StepOp::Invite { resend: true, .. },
                ..
            }]
        ),
        "{steps:?}"
    );
}

#[test]
fn partner_assignments_keep_unmanaged_tenants_and_wait_for_new_customers() {
    let d = acme(
        r#"
[customers.newco]
provider = "r1"
name = "NewCo"

[partners.wm]
provider = "r1"
name = "Wire Masters"
customers = ["acme", "newco"]
"#,
    );
    let mut s = snap();
    s.ecs = vec![ec("a1", "Acme"), ec("x1", "Stranger"), ec("o1", "Old")];
    s.partners = vec![LivePartner {
        id: "p1".into(),
        name: "Wire Masters".into(),
        tenant_type: "MSP_INSTALLER".into(),
        assigned: Some(Assigned {
            delegation_type: "MSP_INSTALLER".into(),
            ecs: vec!["x1".into(), "o1".into()],
        }),
    }];
    let own = BTreeMap::from([
        owned("customer.acme", "a1", &[]),
        owned("customer.old", "o1", &[]),
    ]);
    let steps = compile_for(&d, &s, &own, &PlanOptions::default());
    let labels: Vec<&str> = steps.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "create 1 managed tenant(s)",
            "create customer.newco",
            "assign the customers of partner.wm",
            "delete customer.old"
        ]
    );
    let StepOp::Assign {
        keep,
        want,
        patch,
        release,
        delegation_type,
        ..
    } = &steps[2].op
    else {
        panic!()
    };
    assert_eq!(
        keep,
        &["x1"],
        "the owned tenant being deleted leaves, the stranger stays"
    );
    assert_eq!(
        want,
        &[Address::customer("acme"), Address::customer("newco")]
    );
    assert!(*patch && !*release);
    assert_eq!(delegation_type, "MSP_INSTALLER");
    assert_eq!(steps[2].deps, [steps[1].id], "waits for the new customer");
}

#[test]
fn a_partner_no_longer_declared_gives_back_what_mspform_assigned() {
    let d = acme("");
    let mut s = snap();
    s.ecs = vec![ec("a1", "Acme"), ec("x1", "Stranger")];
    s.partners = vec![LivePartner {
        id: "p1".into(),
        name: "Wire Masters".into(),
        tenant_type: "MSP_INTEGRATOR".into(),
        assigned: Some(Assigned {
            delegation_type: "MSP_INTEGRATOR".into(),
            ecs: vec!["x1".into(), "a1".into()],
        }),
    }];
    let own = BTreeMap::from([
        owned("customer.acme", "a1", &[]),
        owned(
            "partner.wm",
            "p1",
            &[("delegation_type", json!("MSP_INTEGRATOR"))],
        ),
        owned("customer.vanished", "v1", &[]),
    ]);
    let options = PlanOptions::default();
    let r = resolve_for(&d, &s, &own, &options);
    let owned_set: BTreeSet<Address> = own.keys().cloned().collect();
    let (mut actions, _) = diff(&r.desired, &r.live, &owned_set, &BTreeSet::new());
    actions.push(Action {
        address: Address::customer("vanished"),
        kind: Kind::Customer,
        provider: "r1".into(),
        op: Op::Forget,
        changes: vec![],
        replace_because: vec![],
        note: None,
        defaults: Vec::new(),
    });
    let steps = compile(ctx(&d, &own, &options), &s, &r, &actions);
    let StepOp::Assign {
        keep,
        want,
        patch,
        release,
        ..
    } = &steps[0].op
    else {
        panic!("{steps:?}")
    };
    assert_eq!(
        (keep.as_slice(), want.len(), *patch, *release),
        (&["x1".to_string()][..], 0, true, true)
    );
    assert!(
        matches!(&steps[1].op, StepOp::Forget { address } if *address == Address::customer("vanished"))
    );
}

#[test]
fn a_year_after_a_leap_day_is_the_28th() {
    assert_eq!(year_after("2024-02-29"), "2025-02-28");
    assert_eq!(year_after("2024-03-01"), "2025-03-01");
}
