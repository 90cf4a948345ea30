//! End to end through the engine: the example portfolio against the in-process
//! Aruba simulator — converge, idempotence, drift, removals, adoption, faults.

use mspform::diff::Op;
use mspform::engine;
use mspform::sim::{ArubaEdit, FaultKind, FaultSpec};
use serde_json::Value;

use crate::support::*;

/// The outcome of the action at `address`.
fn at<'a>(report: &'a engine::ApplyReport, address: &str) -> &'a engine::Outcome {
    &report.actions[&address.parse::<mspform::address::Address>().unwrap()]
}

fn device(sim: &mspform::sim::Simulator, serial: &str) -> Value {
    sim.dump()["aruba"]["devices"][serial].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_converges_and_a_second_apply_writes_nothing() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = portfolio(&sim, dir.path());
    let store = store(dir.path());

    let first = plan(&desired, &store).await;
    let s = &first.plan.summary;
    assert_eq!(
        (s.create, s.update, s.delete, s.adopt),
        (3 + 4 + 19, 0, 0, 0),
        "{s:?}"
    );
    assert_eq!(s.refresh_calls, 2, "the customer and device lists");

    let report = apply(&desired, &store).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(
        customer_names(&sim),
        ["Acme Retail", "Coffee Shop", "Harbor Clinic"]
    );

    // The vendor now holds what the files say.
    let dump = sim.dump();
    let coffee = dump["aruba"]["customers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer_name"] == "Coffee Shop")
        .unwrap()
        .clone();
    let ap1 = device(&sim, "AP0000001");
    assert_eq!(ap1["customer_id"], coffee["customer_id"]);
    assert!(
        ap1["services"]
            .as_array()
            .unwrap()
            .contains(&Value::from("ADVANCED_AP"))
    );
    assert!(ap1["site_id"].is_u64(), "associated with a site: {ap1}");
    let sw = device(&sim, "SW0000001");
    assert_eq!(sw["services"], serde_json::json!(["ADVANCED_SWITCH_6200"]));
    assert_eq!(
        device(&sim, "AP0000099")["customer_id"],
        Value::Null,
        "undeclared devices stay in the MSP inventory"
    );

    sim.reset_calls();
    let again = plan(&desired, &store).await;
    assert!(!again.plan.has_changes(), "{:#?}", again.plan.actions);
    let report = engine::apply(
        &again,
        &desired,
        store.clone(),
        &mspform::engine::Stop::new(),
    )
    .await;
    assert!(report.ok());
    assert_eq!(
        sim.write_calls("aruba"),
        0,
        "a converged apply makes no write call"
    );
    assert!(sim.total_calls("aruba") > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_band_edits_are_reported_and_repaired() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    assert!(apply(&desired, &store).await.ok());

    sim.aruba_edit(ArubaEdit::CustomerField {
        customer_name: "Coffee Shop".into(),
        field: "description".into(),
        value: "edited in the portal".into(),
    })
    .unwrap();
    sim.aruba_edit(ArubaEdit::MoveDeviceSite {
        serial: "AP0000001".into(),
        site_name: "Roastery".into(),
    })
    .unwrap();
    sim.aruba_edit(ArubaEdit::UnlicenseDevice {
        serial: "AP0000010".into(),
        service: "FOUNDATION_AP".into(),
    })
    .unwrap();
    sim.aruba_edit(ArubaEdit::DeleteSite {
        customer_name: "Acme Retail".into(),
        site_name: "Warehouse".into(),
    })
    .unwrap();

    let drift = plan(&desired, &store).await;
    let by = |a: &str| {
        drift
            .plan
            .actions
            .iter()
            .find(|x| x.address == a)
            .unwrap_or_else(|| panic!("no action for {a}: {:#?}", drift.plan.actions))
    };
    let c = by("customer.coffee-shop");
    assert_eq!(c.op, Op::Update);
    assert_eq!(c.changes.len(), 1);
    assert_eq!(c.changes[0].field, "description");
    assert_eq!(c.changes[0].before, Value::from("edited in the portal"));
    assert!(by("device.AP0000001").changed("site").is_some());
    assert_eq!(
        by("device.AP0000010").changed("licenses").unwrap().before,
        serde_json::json!([])
    );
    assert_eq!(by("site.acme-retail/warehouse").op, Op::Create);
    assert!(
        by("device.SW0000002").changed("site").is_some(),
        "devices of the deleted site are re-associated"
    );

    let report = apply(&desired, &store).await;
    assert!(report.ok(), "{report:#?}");
    let after = plan(&desired, &store).await;
    assert!(!after.plan.has_changes(), "{:#?}", after.plan.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_device_returns_it_to_the_msp_without_licences() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    assert!(apply(&desired, &store).await.ok());
    assert!(
        !device(&sim, "AP0000005")["services"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    desired.devices.remove("AP0000005");
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.actions.len(), 1, "{:#?}", p.plan.actions);
    assert_eq!(p.plan.actions[0].address, "device.AP0000005");
    assert_eq!(p.plan.actions[0].op, Op::Delete);
    let report = engine::apply(&p, &desired, store.clone(), &mspform::engine::Stop::new()).await;
    assert!(report.ok(), "{report:#?}");
    let d = device(&sim, "AP0000005");
    assert_eq!(d["customer_id"], Value::Null);
    assert_eq!(d["services"], serde_json::json!([]));
    assert!(store.get_owned("device.AP0000005").unwrap().is_none());
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_customer_deletes_only_what_mspform_owns() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    assert!(apply(&desired, &store).await.ok());

    // Someone else's customer, created behind mspform's back (visible at once).
    sim.aruba_switches(|s| s.provision_invisible_polls = 0);
    assert_eq!(create_by_hand(&sim, "Not Ours", "US").await, 200);

    desired.customers.remove("harbor-clinic");
    desired.devices.retain(|_, d| d.customer != "harbor-clinic");
    let p = plan(&desired, &store).await;
    let deletes: Vec<String> = p
        .plan
        .actions
        .iter()
        .filter(|a| a.op == Op::Delete)
        .map(|a| a.address.to_string())
        .collect();
    assert_eq!(
        deletes,
        [
            "device.AP0000020",
            "device.AP0000021",
            "customer.harbor-clinic"
        ]
    );
    assert!(
        p.plan
            .unmanaged
            .iter()
            .any(|u| u.address == "customer[\"Not Ours\"]"),
        "{:?}",
        p.plan.unmanaged
    );
    let report = engine::apply(&p, &desired, store.clone(), &mspform::engine::Stop::new()).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(
        customer_names(&sim),
        ["Acme Retail", "Coffee Shop", "Not Ours"]
    );
    assert_eq!(device(&sim, "AP0000020")["customer_id"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_customer_with_the_desired_name_is_adopted_not_duplicated() {
    let sim = sim(false).await;
    allow_duplicates(&sim);
    let dir = tempfile::tempdir().unwrap();
    let desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    assert!(apply(&desired, &store).await.ok());

    // Lose the state directory: nothing may be duplicated or deleted.
    let other = tempfile::tempdir().unwrap();
    let fresh = crate::support::store(other.path());
    let p = plan(&desired, &fresh).await;
    assert_eq!(p.plan.summary.create, 0, "{:#?}", p.plan.actions);
    assert_eq!(p.plan.summary.delete, 0);
    assert!(
        p.plan
            .actions
            .iter()
            .any(|a| a.address == "customer.coffee-shop" && a.op == Op::Adopt)
    );
    let report = engine::apply(&p, &desired, fresh.clone(), &mspform::engine::Stop::new()).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(
        customer_names(&sim),
        ["Acme Retail", "Coffee Shop", "Harbor Clinic"]
    );
    assert!(!plan(&desired, &fresh).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_under_server_errors_and_dropped_connections() {
    let sim = sim(false).await;
    sim.aruba_switches(|s| s.provision_invisible_polls = 2);
    // Duplicates are accepted: only mspform's lookups can prevent one.
    allow_duplicates(&sim);
    let dir = tempfile::tempdir().unwrap();
    let desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    // Each kind of failure once on a write every apply of this portfolio makes
    // (the first fault that matches a call fires), then random ones on the rest.
    let once = [
        (
            "POST /msp_api/v2/customers",
            FaultKind::Status { status: 500 },
        ),
        ("POST /msp_api/v2/customers", FaultKind::DropAfterCommit),
        (
            "PUT /msp_api/v1/customers/*/devices",
            FaultKind::Status { status: 503 },
        ),
        (
            "PUT /msp_api/v1/customers/*/devices",
            FaultKind::DropAfterCommit,
        ),
        ("POST /central/v2/sites", FaultKind::Status { status: 502 }),
        ("POST /central/v2/sites", FaultKind::DropAfterCommit),
        (
            "POST /central/v2/sites/associations",
            FaultKind::DropAfterCommit,
        ),
        (
            "POST /platform/licensing/v1/subscriptions/assign",
            FaultKind::Status { status: 500 },
        ),
    ];
    for (route, kind) in &once {
        sim.inject_fault(FaultSpec {
            vendor: "aruba".into(),
            route: route.to_string(),
            kind: kind.clone(),
            count: Some(1),
            rate: None,
        });
    }
    for (method, kind) in [
        ("POST", FaultKind::Status { status: 500 }),
        ("PUT", FaultKind::Status { status: 503 }),
        ("POST", FaultKind::DropAfterCommit),
        ("PUT", FaultKind::DropAfterCommit),
    ] {
        sim.inject_fault(FaultSpec {
            vendor: "aruba".into(),
            route: format!("{method} *"),
            kind,
            count: None,
            rate: Some(0.1),
        });
    }
    let first = apply(&desired, &store).await;
    let fired: Vec<serde_json::Value> = sim.dump()["faults_fired"].as_array().unwrap().clone();
    for (route, kind) in &once {
        let kind = serde_json::to_value(kind).unwrap();
        assert!(
            fired
                .iter()
                .any(|f| f["call"] == *route && f["kind"] == kind),
            "{route} {kind} fired: {fired:#?}"
        );
    }
    if !first.ok() {
        let second = apply(&desired, &store).await;
        assert!(
            second.ok(),
            "converges with at most one re-run: {second:#?}"
        );
    }
    sim.clear_faults();
    let p = plan(&desired, &store).await;
    assert!(!p.plan.has_changes(), "{:#?}", p.plan.actions);
    assert_eq!(
        customer_names(&sim),
        ["Acme Retail", "Coffee Shop", "Harbor Clinic"],
        "no duplicate customers"
    );
    let sites: Vec<String> = sim.dump()["aruba"]["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["site_name"].as_str().unwrap().to_string())
        .collect();
    let mut unique = sites.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(sites.len(), unique.len(), "no duplicate sites: {sites:?}");
    assert_eq!(sites.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_was_lost_is_not_repeated() {
    let sim = sim(false).await;
    allow_duplicates(&sim);
    let dir = tempfile::tempdir().unwrap();
    let desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: "POST /msp_api/v2/customers".into(),
        kind: FaultKind::DropAfterCommit,
        count: Some(3),
        rate: None,
    });
    let report = apply(&desired, &store).await;
    assert!(
        report.ok(),
        "the lost answers are settled by looking the customers up: {report:#?}"
    );
    assert_eq!(
        sim.faults_fired("aruba", "POST /msp_api/v2/customers"),
        3,
        "every answer was lost"
    );
    assert_eq!(sim.calls("aruba", "POST /msp_api/v2/customers"), 3);
    assert_eq!(
        customer_names(&sim),
        ["Acme Retail", "Coffee Shop", "Harbor Clinic"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_skips_dependents_and_carries_on_with_the_rest() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    // Every site create fails with a client error: sites and associations cannot happen.
    sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: "POST /central/v2/sites".into(),
        kind: FaultKind::Status { status: 400 },
        count: None,
        rate: None,
    });
    let report = apply(&desired, &store).await;
    assert!(!report.ok());
    use mspform::engine::Outcome;
    assert!(
        matches!(at(&report, "site.coffee-shop/santa-clara"), Outcome::Failed(e) if e.contains("POST /central/v2/sites") && e.contains("400")),
        "{:?}",
        *at(&report, "site.coffee-shop/santa-clara")
    );
    // Moved and licensed, but not associated: its site could not be created.
    assert!(
        matches!(
            at(&report, "device.AP0000001"),
            Outcome::Partial { done, not_started }
                if done.iter().any(|s| s.starts_with("move"))
                    && not_started.iter().any(|s| s.starts_with("associate") && s.contains("did not succeed"))
        ),
        "{:?}",
        *at(&report, "device.AP0000001")
    );
    assert_eq!(*at(&report, "customer.coffee-shop"), Outcome::Done);
    assert_eq!(
        *at(&report, "device.AP0000020"),
        Outcome::Done,
        "independent work carries on"
    );
    assert!(
        device(&sim, "AP0000001")["customer_id"].is_string(),
        "the move itself happened"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_stays_under_seven_calls_a_second() {
    let sim = sim(true).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    aruba_settings(&mut desired, |s| {
        s.calls_per_second = 7;
    });
    let store = store(dir.path());
    let prepared = plan(&desired, &store).await;
    let report = engine::apply(
        &prepared,
        &desired,
        store.clone(),
        &mspform::engine::Stop::new(),
    )
    .await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(
        prepared.parts[0].client.rate_limited(),
        0,
        "no 429 was needed"
    );
    assert!(
        report.calls > 14,
        "enough calls to cross several one-second windows"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_holding_objects_nobody_declared_is_not_deleted() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    assert!(apply(&desired, &store).await.ok());
    let cid = store
        .get_owned("customer.harbor-clinic")
        .unwrap()
        .unwrap()
        .vendor_id
        .unwrap();
    // A site added by hand in the portal.
    let resp = reqwest::Client::new()
        .post(format!("{}/central/v2/sites", sim.base_url("aruba")))
        .bearer_auth("sim-token")
        .header("TenantID", &cid)
        .json(&serde_json::json!({"site_name": "Back Office", "geolocation": {"latitude": "53.54", "longitude": "9.98"}}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());

    desired.customers.remove("harbor-clinic");
    desired.devices.retain(|_, d| d.customer != "harbor-clinic");
    sim.reset_calls();
    let err = engine::plan(&desired, store.clone(), &Default::default())
        .await
        .err()
        .expect("plan refuses");
    let text = err.to_string();
    assert!(
        text.contains("customer.harbor-clinic") && text.contains("Back Office"),
        "{text}"
    );
    assert_eq!(sim.write_calls("aruba"), 0);
    assert_eq!(
        customer_names(&sim),
        ["Acme Retail", "Coffee Shop", "Harbor Clinic"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_failed_with_a_server_error_is_posted_again_only_after_looking() {
    let sim = sim(false).await;
    allow_duplicates(&sim);
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    aruba_settings(&mut desired, |s| {
        s.provision_timeout_secs = 1;
    });
    let store = store(dir.path());
    sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: "POST /msp_api/v2/customers".into(),
        kind: FaultKind::Status { status: 500 },
        count: Some(1),
        rate: None,
    });
    let report = apply(&desired, &store).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(
        sim.calls("aruba", "POST /msp_api/v2/customers"),
        4,
        "one create posted twice"
    );
    assert!(
        sim.calls("aruba", "GET /msp_api/v1/customers") >= 10,
        "it looked before posting again"
    );
    assert_eq!(
        customer_names(&sim),
        ["Acme Retail", "Coffee Shop", "Harbor Clinic"]
    );
}
