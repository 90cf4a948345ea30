//! The Aruba client's contract with the vendor, against the simulator: token
//! refresh and rotation, rate limits, retries, exact-name lookup, and tolerance
//! of every behaviour the fact sheet only assumes.

use std::sync::atomic::AtomicBool;

use mspform::engine::{self, EngineError};
use mspform::model::{ArubaAuth, SecretRef};
use mspform::providers::ProviderError;
use mspform::sim::aruba::{
    ArubaSwitches, AssociationConflict, AutolicenseReadShape, CrossTenantMove, MspDeviceCustomerId,
    NameFilter,
};
use mspform::sim::{FaultKind, FaultSpec};
use serde_json::{Value, json};

use crate::support::*;

fn fault(route: &str, kind: FaultKind, count: u32) -> FaultSpec {
    FaultSpec {
        vendor: "aruba".into(),
        route: route.into(),
        kind,
        count: Some(count),
        rate: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_once_and_the_rotated_refresh_token_kept() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    let secret = |name: &str, value: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, value).unwrap();
        SecretRef::File(path)
    };
    aruba_settings(&mut desired, |s| {
        s.auth = ArubaAuth::OAuth {
            client_id: secret("id", "sim-client"),
            client_secret: secret("secret", "sim-secret"),
            refresh_token: secret("refresh", "sim-refresh"),
            access_token: None,
        };
    });
    let store = store(dir.path());
    assert!(apply(&desired, &store).await.ok());
    let first = store
        .credential("aruba", "refresh_token")
        .unwrap()
        .expect("rotated token saved");
    assert_ne!(first, "sim-refresh");

    // Two hours later the access token has expired: one 401, one refresh, carry on.
    sim.advance_clock(7201);
    let p = plan(&desired, &store).await;
    assert!(!p.plan.has_changes());
    let second = store.credential("aruba", "refresh_token").unwrap().unwrap();
    assert_ne!(second, first, "the refresh token rotated again");
    assert_eq!(sim.calls("aruba", "POST /oauth2/token"), 2);

    // A new process starts from the configured (now spent) refresh token: state's wins.
    let fresh_client_plan = plan(&desired, &store).await;
    assert!(!fresh_client_plan.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_static_token_is_an_auth_error_without_the_token() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    let bad = dir.path().join("bad-token");
    std::fs::write(&bad, "not-a-valid-token-xyz").unwrap();
    aruba_settings(&mut desired, |s| {
        s.auth = ArubaAuth::Token(SecretRef::File(bad.clone()));
    });
    let err = engine::plan(&desired, store(dir.path()), &[])
        .await
        .err()
        .expect("auth fails");
    let text = err.to_string();
    assert!(
        matches!(err, EngineError::Provider(ProviderError::Auth { .. })),
        "{text}"
    );
    assert!(text.contains("401"), "{text}");
    assert!(
        !text.contains("not-a-valid-token-xyz"),
        "the token never appears: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_second_429_is_waited_out_and_daily_quota_stops_with_the_reset_time() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    sim.inject_fault(fault(
        "GET /msp_api/v1/customers",
        FaultKind::RateLimitSecond,
        1,
    ));
    let p = plan(&desired, &store).await;
    assert_eq!(p.parts[0].client.rate_limited(), 1);
    assert_eq!(
        sim.calls("aruba", "GET /msp_api/v1/customers"),
        2,
        "retried once"
    );

    sim.inject_fault(fault("GET /msp_api/v1/devices", FaultKind::RateLimitDay, 1));
    let err = engine::plan(&desired, store.clone(), &[])
        .await
        .err()
        .expect("quota error");
    let text = err.to_string();
    assert!(
        text.contains("daily API quota")
            && text.contains("resets at")
            && text.contains("00:00:00 UTC"),
        "{text}"
    );
    assert_eq!(
        sim.calls("aruba", "GET /msp_api/v1/devices"),
        2,
        "no retry against an exhausted day: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_on_reads_are_retried_and_a_failed_read_never_means_empty() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    assert!(apply(&desired, &store).await.ok());
    sim.inject_fault(fault(
        "GET /msp_api/v1/devices",
        FaultKind::Status { status: 502 },
        2,
    ));
    assert!(!plan(&desired, &store).await.plan.has_changes());

    sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: "GET /msp_api/v1/customers".into(),
        kind: FaultKind::Status { status: 500 },
        count: None,
        rate: None,
    });
    let err = engine::plan(&desired, store.clone(), &[])
        .await
        .err()
        .expect("plan fails");
    let text = err.to_string();
    assert!(
        text.contains("GET /msp_api/v1/customers")
            && text.contains("500")
            && text.contains("aruba"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_similar_name_is_never_taken_for_the_customer() {
    let sim = sim(false).await;
    sim.aruba_switches(|s| {
        s.customer_name_filter = NameFilter::Substring;
        s.create_status = 201;
        s.provision_invisible_polls = 0;
    });
    let dir = tempfile::tempdir().unwrap();
    let desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    assert_eq!(create_by_hand(&sim, "Coffee Shop East", "US").await, 201);
    let report = apply(&desired, &store).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(
        customer_names(&sim),
        [
            "Acme Retail",
            "Coffee Shop",
            "Coffee Shop East",
            "Harbor Clinic"
        ]
    );
    let east = sim.dump()["aruba"]["customers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer_name"] == "Coffee Shop East")
        .unwrap()
        .clone();
    assert_ne!(
        store
            .get_owned("customer.coffee-shop")
            .unwrap()
            .unwrap()
            .vendor_id
            .as_deref(),
        east["customer_id"].as_str()
    );
}

/// Every `[assumed]` switch of the Aruba simulator set to its alternative at once
/// (the slow ones slower than their defaults).
fn every_alternative(s: &mut ArubaSwitches) {
    s.refresh_token_single_use = false;
    s.customers_max_limit = 2;
    s.customer_name_filter = NameFilter::Exact;
    s.create_status = 201;
    s.allow_duplicate_names = true;
    s.provision_invisible_polls = 3;
    s.provision_delay_ms = 200;
    s.devices_max_limit = 50;
    s.cross_tenant_move = CrossTenantMove::Reject;
    s.device_move_delay_ms = 200;
    s.license_job_delay_ms = 1_000;
    s.autolicense_delay_ms = 200;
    s.license_device_type_check = false;
    s.autolicense_read_shape = AutolicenseReadShape::List;
    s.autolicense_applies_existing = false;
    s.ap_device_type_label = "AP".into();
    s.msp_device_customer_id = MspDeviceCustomerId::Empty;
    s.allow_duplicate_site_names = true;
    s.sites_max_limit = 100;
    s.association_conflict = AssociationConflict::Move;
    s.association_overflow_status = 400;
    s.unknown_tenant_status = 404;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_under_every_assumed_alternative() {
    let sim = sim(false).await;
    sim.aruba_switches(every_alternative);
    let mut all = ArubaSwitches::default();
    every_alternative(&mut all);
    let changed = |s: &ArubaSwitches| -> Vec<String> {
        let (a, d) = (json!(s), json!(ArubaSwitches::default()));
        let (Value::Object(a), Value::Object(d)) = (a, d) else {
            unreachable!()
        };
        a.into_iter()
            .filter(|(k, v)| d.get(k) != Some(v))
            .map(|(k, _)| k)
            .collect()
    };
    // Every switch but the documented limits and the token lifetime is covered.
    let mut untouched: Vec<String> = json!(ArubaSwitches::default())
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !changed(&all).contains(k))
        .cloned()
        .collect();
    untouched.sort();
    assert_eq!(
        untouched,
        ["limit_per_day", "limit_per_second", "token_lifetime_secs"]
    );
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    // OAuth, so that refresh tokens that stay valid are met too.
    let secret = |name: &str, value: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, value).unwrap();
        SecretRef::File(path)
    };
    aruba_settings(&mut desired, |s| {
        s.auth = ArubaAuth::OAuth {
            client_id: secret("id", "sim-client"),
            client_secret: secret("secret", "sim-secret"),
            refresh_token: secret("refresh", "sim-refresh"),
            access_token: None,
        };
    });
    let store = store(dir.path());
    let report = apply(&desired, &store).await;
    assert!(report.ok(), "{report:#?}");
    sim.reset_calls();
    let p = plan(&desired, &store).await;
    assert!(!p.plan.has_changes(), "{:#?}", p.plan.actions);
    assert!(
        sim.calls("aruba", "GET /msp_api/v1/devices") >= 5,
        "paged through 210 devices 50 at a time"
    );
    let r = engine::apply(&p, &desired, store.clone(), &AtomicBool::new(false)).await;
    assert!(r.ok());
    assert_eq!(sim.write_calls("aruba"), 0);

    // Drift repairs: a device put in another site, another moved back to the inventory.
    sim.aruba_edit(mspform::sim::ArubaEdit::MoveDeviceSite {
        serial: "AP0000010".into(),
        site_name: "Warehouse".into(),
    })
    .unwrap();
    sim.aruba_edit(mspform::sim::ArubaEdit::MoveDeviceToMsp {
        serial: "AP0000011".into(),
    })
    .unwrap();
    let drift = plan(&desired, &store).await;
    for serial in ["device.AP0000010", "device.AP0000011"] {
        assert!(
            drift.plan.actions.iter().any(|a| a.address == serial),
            "{serial}: {:#?}",
            drift.plan.actions
        );
    }
    let r = engine::apply(&drift, &desired, store.clone(), &AtomicBool::new(false)).await;
    assert!(r.ok(), "{r:#?}");
    assert!(!plan(&desired, &store).await.plan.has_changes());

    // A device moves from one customer to another: back to the inventory first (a
    // straight move is refused), and in only once that move has landed.
    desired.devices.get_mut("AP0000012").unwrap().customer = "coffee-shop".into();
    desired.devices.get_mut("AP0000012").unwrap().site = Some("santa-clara".into());
    desired.devices.get_mut("AP0000012").unwrap().licenses = vec!["ADVANCED_AP".into()];
    let r = apply(&desired, &store).await;
    assert!(r.ok(), "{r:#?}");
    let after = plan(&desired, &store).await;
    assert!(!after.plan.has_changes(), "{:#?}", after.plan.actions);
    assert!(
        store
            .credential("aruba", "refresh_token")
            .unwrap()
            .is_some(),
        "the OAuth flow was used"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_missing_from_the_inventory_or_with_a_wrong_mac_is_a_plan_error() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    let mut ghost = desired.devices["AP0000001"].clone();
    ghost.serial = "ZZ9999999".into();
    desired.devices.insert("ZZ9999999".into(), ghost);
    desired.devices.get_mut("AP0000002").unwrap().mac = "AA:AA:AA:AA:AA:AA".into();
    let err = engine::plan(&desired, store(dir.path()), &[])
        .await
        .err()
        .expect("plan error");
    let text = err.to_string();
    assert!(
        text.contains("device.ZZ9999999") && text.contains("not in the MSP inventory"),
        "{text}"
    );
    assert!(
        text.contains("device.AP0000002") && text.contains("20:4C:03:00:00:02"),
        "{text}"
    );
    assert_eq!(sim.write_calls("aruba"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn associations_go_in_chunks_of_twenty_and_moves_in_one_call_per_customer() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    let template = desired.devices["AP0000001"].clone();
    for n in 30..=54u32 {
        let mut d = template.clone();
        d.serial = format!("AP{n:07}");
        d.mac = format!("20:4C:03:00:00:{n:02X}");
        desired.devices.insert(d.serial.clone(), d);
    }
    let store = store(dir.path());
    assert!(apply(&desired, &store).await.ok());
    // santa-clara: 4 + 25 APs (two chunks) and one switch (its own device type).
    assert_eq!(
        sim.calls("aruba", "POST /central/v2/sites/associations"),
        2 + 1 + 1 + 2 + 2
    );
    assert_eq!(
        sim.calls("aruba", "PUT /msp_api/v1/customers/*/devices"),
        3,
        "one move per customer"
    );
    assert!(!plan(&desired, &store).await.plan.has_changes());
}
