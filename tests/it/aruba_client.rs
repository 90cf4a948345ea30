//! The Aruba client's contract with the vendor, against the simulator: token
//! refresh and rotation, rate limits, retries, exact-name lookup, and tolerance
//! of every behaviour the fact sheet only assumes.

use mspform::engine::Outcome;
use mspform::engine::{self, EngineError};
use mspform::model::SecretRef;
use mspform::sim::aruba::{
    ArubaSwitches, AssociationConflict, AutolicenseReadShape, CrossTenantMove, ErrorBody,
    MspDeviceCustomerId, NameFilter, RateLimitBody, UnauthorizedBody,
};
use mspform::sim::{FaultKind, FaultSpec};
use mspform::vendor::ProviderError;
use mspform::vendors::aruba::model::ArubaAuth;
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
    assert_eq!(
        sim.calls("aruba", "POST /oauth2/token"),
        3,
        "the new client refreshed once, with the saved token"
    );
    assert_ne!(
        store.credential("aruba", "refresh_token").unwrap().unwrap(),
        second
    );
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
    let err = engine::plan(&desired, store(dir.path()), &Default::default())
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
        text.contains("configure `oauth` so mspform can refresh it"),
        "says what to do about a static token: {text}"
    );
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
    let err = engine::plan(&desired, store.clone(), &Default::default())
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
    assert_eq!(
        sim.faults_fired("aruba", "GET /msp_api/v1/devices"),
        2,
        "read through two 502s"
    );

    sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: "GET /msp_api/v1/customers".into(),
        kind: FaultKind::Status { status: 500 },
        count: None,
        rate: None,
    });
    let err = engine::plan(&desired, store.clone(), &Default::default())
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
    s.license_max_serials = 3;
    s.license_overflow_status = 417;
    error_alternatives(s);
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
    assert_eq!(
        sim.calls("aruba", "GET /msp_api/v1/devices"),
        5,
        "paged through 210 devices 50 at a time"
    );
    let r = engine::apply(&p, &desired, store.clone(), &mspform::engine::Stop::new()).await;
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
    let r = engine::apply(
        &drift,
        &desired,
        store.clone(),
        &mspform::engine::Stop::new(),
    )
    .await;
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
    let err = engine::plan(&desired, store(dir.path()), &Default::default())
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

/// OAuth credentials in files, without an access token: the first call refreshes.
fn oauth(desired: &mut mspform::model::Desired, dir: &std::path::Path) {
    let secret = |name: &str, value: &str| {
        let path = dir.join(name);
        std::fs::write(&path, value).unwrap();
        SecretRef::File(path)
    };
    aruba_settings(desired, |s| {
        s.auth = ArubaAuth::OAuth {
            client_id: secret("id", "sim-client"),
            client_secret: secret("secret", "sim-secret"),
            refresh_token: secret("refresh", "sim-refresh"),
            access_token: None,
        };
    });
}

/// Issue 7, item 2: the refresh is a token request and goes through the same
/// bounded retries as a read: a 5xx, or (when the vendor lets a refresh token be
/// used again) a dropped connection, and the plan goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_500_or_dropped_connection_is_retried_and_the_plan_goes_on() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    oauth(&mut desired, dir.path());
    sim.aruba_switches(|s| s.refresh_token_single_use = false);
    sim.inject_fault(fault(
        "POST /oauth2/token",
        FaultKind::Status { status: 500 },
        1,
    ));
    sim.inject_fault(fault("POST /oauth2/token", FaultKind::DropAfterCommit, 1));
    let store = store(dir.path());
    let p = plan(&desired, &store).await;
    assert_eq!(sim.calls("aruba", "POST /oauth2/token"), 3);
    assert!(!p.plan.actions.is_empty());
    assert!(
        store
            .credential("aruba", "refresh_token")
            .unwrap()
            .is_some()
    );
}

/// A refresh whose answer was lost after the vendor rotated a single-use refresh
/// token cannot be repeated: the retry is refused, and the error says what to do,
/// without a secret. It is asked once more only, not hammered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_refresh_answer_with_a_single_use_token_is_a_clear_auth_error() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    oauth(&mut desired, dir.path());
    sim.inject_fault(fault("POST /oauth2/token", FaultKind::DropAfterCommit, 1));
    let err = engine::plan(&desired, store(dir.path()), &Default::default())
        .await
        .err()
        .expect("fails");
    let text = err.to_string();
    assert!(
        matches!(err, EngineError::Provider(ProviderError::Auth { .. })),
        "{text}"
    );
    assert!(
        text.contains("POST /oauth2/token answered HTTP 400")
            && text.contains("oauth.refresh_token"),
        "{text}"
    );
    for secret in ["sim-secret", "sim-refresh"] {
        assert!(!text.contains(secret), "{text}");
    }
    assert_eq!(sim.calls("aruba", "POST /oauth2/token"), 2);
}

/// A token endpoint that keeps failing: bounded attempts, then an HTTP error
/// naming vendor, call and status (not "check the token"), no secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_refresh_500_is_an_error_naming_vendor_call_and_status() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    oauth(&mut desired, dir.path());
    sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: "POST /oauth2/token".into(),
        kind: FaultKind::Status { status: 500 },
        count: None,
        rate: None,
    });
    let err = engine::plan(&desired, store(dir.path()), &Default::default())
        .await
        .err()
        .expect("fails");
    let text = err.to_string();
    assert!(
        matches!(
            err,
            EngineError::Provider(ProviderError::Http { status: 500, .. })
        ),
        "a vendor failure, not a credentials problem: {text}"
    );
    assert!(
        text.starts_with("aruba: POST /oauth2/token answered HTTP 500"),
        "{text}"
    );
    for secret in ["sim-secret", "sim-refresh"] {
        assert!(!text.contains(secret), "{text}");
    }
    assert_eq!(
        sim.calls("aruba", "POST /oauth2/token"),
        5,
        "one try and four retries"
    );
}

/// Issue 8: the error statuses and bodies the fact sheet only assumes, in their other
/// forms at once (`converges_under_every_assumed_alternative` adds them too).
fn error_alternatives(s: &mut mspform::sim::ArubaSwitches) {
    s.unauthorized_body = UnauthorizedBody::Text;
    s.rate_limit_body = RateLimitBody::Empty;
    s.error_body = ErrorBody::InBand;
    s.unknown_serial_status = 404;
    s.no_free_license_status = 400;
    s.unknown_site_status = 400;
}

/// A simulator with the embedded inventory changed by one text replacement.
async fn sim_with(from: &str, to: &str) -> mspform::sim::Simulator {
    let text = std::fs::read_to_string(repo().join("examples/sim-inventory.toml")).unwrap();
    assert!(text.contains(from), "the inventory has {from}");
    let inventory = mspform::sim::Inventory::from_toml_str(&text.replace(from, to)).unwrap();
    let sim = mspform::sim::Simulator::start(mspform::sim::SimOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        inventory,
    ))
    .await
    .expect("simulator starts");
    sim.aruba_switches(|s| s.limit_per_second = 0);
    sim
}

/// Whatever the 401 body looks like (it holds `invalid_token`, the only part the fact
/// sheet confirms), an expired token is refreshed once and the plan goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_whatever_the_401_body() {
    for shape in [
        UnauthorizedBody::Oauth,
        UnauthorizedBody::ErrorOnly,
        UnauthorizedBody::Text,
    ] {
        let sim = sim(false).await;
        sim.aruba_switches(|s| s.unauthorized_body = shape);
        let dir = tempfile::tempdir().unwrap();
        let mut desired = portfolio(&sim, dir.path());
        oauth(&mut desired, dir.path());
        let store = store(dir.path());
        assert!(apply(&desired, &store).await.ok(), "{shape:?}");
        sim.advance_clock(7201);
        let p = plan(&desired, &store).await;
        assert!(!p.plan.has_changes(), "{shape:?}");
        assert_eq!(sim.calls("aruba", "POST /oauth2/token"), 2, "{shape:?}");
    }
}

/// Whatever the 429 body looks like, the headers decide: a per-second 429 is waited
/// out, an exhausted day stops with the reset time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_read_from_its_headers_whatever_its_body() {
    for shape in [
        RateLimitBody::Kong,
        RateLimitBody::Empty,
        RateLimitBody::Text,
    ] {
        let sim = sim(false).await;
        sim.aruba_switches(|s| s.rate_limit_body = shape);
        let dir = tempfile::tempdir().unwrap();
        let desired = portfolio(&sim, dir.path());
        let store = store(dir.path());
        sim.inject_fault(fault(
            "GET /msp_api/v1/customers",
            FaultKind::RateLimitSecond,
            1,
        ));
        let p = plan(&desired, &store).await;
        assert_eq!(p.parts[0].client.rate_limited(), 1, "{shape:?}");
        sim.inject_fault(fault("GET /msp_api/v1/devices", FaultKind::RateLimitDay, 1));
        let err = engine::plan(&desired, store.clone(), &Default::default())
            .await
            .err()
            .expect("quota error");
        assert!(
            err.to_string().contains("daily API quota"),
            "{shape:?}: {err}"
        );
    }
}

/// A licence the pool cannot cover is refused with a status and body the fact sheet only
/// assumes (409, service error): under every alternative the failed action names the
/// call and the status, and the rest of the apply goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_licence_names_the_call_and_status_in_every_error_shape() {
    for (shape, status) in [
        (ErrorBody::Service, 409u16),
        (ErrorBody::Message, 400),
        (ErrorBody::InBand, 422),
    ] {
        let sim = sim_with(
            "FOUNDATION_70XX = { tokens = 30",
            "FOUNDATION_70XX = { tokens = 0",
        )
        .await;
        sim.aruba_switches(|s| {
            s.error_body = shape;
            s.no_free_license_status = status;
        });
        let dir = tempfile::tempdir().unwrap();
        let desired = portfolio(&sim, dir.path());
        let store = store(dir.path());
        let report = apply(&desired, &store).await;
        let Some(Outcome::Failed(message)) = report
            .actions
            .get(&mspform::address::Address::device("GW0000001"))
        else {
            panic!("{shape:?}: {report:#?}")
        };
        assert!(
            message.contains("POST /platform/licensing/v1/subscriptions/assign")
                && message.contains(&status.to_string())
                && message.contains("tokens"),
            "{shape:?}: {message}"
        );
        let failed: Vec<String> = report
            .actions
            .iter()
            .filter(|(_, o)| !matches!(o, Outcome::Done))
            .map(|(a, _)| a.to_string())
            .collect();
        assert_eq!(failed, ["device.GW0000001"], "{shape:?}");
    }
}

/// The status of an unknown site is only assumed (404). A site delete whose answer was
/// lost is retried, and the retry meets a site that is gone: done, whatever it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_delete_whose_answer_was_lost_is_done_whatever_an_unknown_site_answers() {
    for status in [404u16, 400] {
        let sim = sim(false).await;
        sim.aruba_switches(|s| s.unknown_site_status = status);
        let dir = tempfile::tempdir().unwrap();
        let desired = portfolio(&sim, dir.path());
        let store = store(dir.path());
        // A site without devices: its delete is the only DELETE of the second apply.
        let mut with_popup = desired.clone();
        let coffee = with_popup.customers.get_mut("coffee-shop").unwrap();
        let mut popup = coffee.sites["roastery"].clone();
        popup.key = "popup".into();
        popup.name = "Popup Store".into();
        coffee.sites.insert("popup".into(), popup);
        assert!(apply(&with_popup, &store).await.ok());
        sim.inject_fault(fault(
            "DELETE /central/v2/sites/*",
            FaultKind::DropAfterCommit,
            1,
        ));
        let report = apply(&desired, &store).await;
        assert!(report.ok(), "{status}: {report:#?}");
        assert_eq!(
            sim.calls("aruba", "DELETE /central/v2/sites/*"),
            2,
            "{status}: the lost delete was sent again"
        );
        assert!(!plan(&desired, &store).await.plan.has_changes(), "{status}");
    }
}

/// Aruba cannot say which site a device is in, only how many devices a site has.
/// When a site's count drops below what state recorded, its devices are planned
/// for re-association, and the plan says why (in every format).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_association_that_cannot_be_verified_is_explained_in_the_plan() {
    use mspform::plan::render::{Format, render};
    const WHY: &str = "re-associate: the site's live device count no longer matches; Aruba cannot say which device left";
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    assert!(apply(&desired, &store).await.ok());
    sim.aruba_edit(mspform::sim::ArubaEdit::MoveDeviceSite {
        serial: "AP0000001".into(),
        site_name: "Roastery".into(),
    })
    .unwrap();
    let drift = plan(&desired, &store).await;
    let explained: Vec<String> = drift
        .plan
        .actions
        .iter()
        .filter(|a| a.note.as_deref() == Some(WHY))
        .map(|a| a.address.to_string())
        .collect();
    // Santa Clara holds one device fewer than state put there: which one left
    // cannot be told, so all of them are associated again.
    assert_eq!(
        explained,
        [
            "device.AP0000001",
            "device.AP0000002",
            "device.AP0000003",
            "device.AP0000004",
            "device.SW0000001"
        ],
        "{:#?}",
        drift.plan.actions
    );
    assert_eq!(drift.plan.actions.len(), explained.len());
    for format in [Format::Text, Format::Markdown, Format::Json] {
        let text = render(&drift.plan, format);
        assert!(text.contains(WHY), "{format:?}: {text}");
    }
    assert!(
        anstream::adapter::strip_str(&render(&drift.plan, Format::Text))
            .to_string()
            .contains("~ device.AP0000001  (re-associate: "),
        "shown as the action's meaning"
    );
    assert!(apply(&desired, &store).await.ok());
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

/// Calls rejected at the same time with the same expired token refresh it once:
/// the refresh token is single-use, and the second call takes the new token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_401s_refresh_the_token_once() {
    use mspform::vendors::aruba::{Aruba, Client};
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    oauth(&mut desired, dir.path());
    let store = store(dir.path());
    let spec = desired.spec::<Aruba>("aruba").unwrap();
    let client = Client::new(
        "aruba",
        &sim.base_url("aruba"),
        &spec.settings,
        store.clone(),
    )
    .unwrap();
    client
        .snapshot(None, |_| Default::default())
        .await
        .expect("first read");
    assert_eq!(sim.calls("aruba", "POST /oauth2/token"), 1);
    sim.advance_clock(7201);
    let (a, b, c) = tokio::join!(
        client.snapshot(None, |_| Default::default()),
        client.snapshot(None, |_| Default::default()),
        client.snapshot(None, |_| Default::default())
    );
    for r in [a, b, c] {
        r.expect("read after the token expired");
    }
    assert_eq!(
        sim.calls("aruba", "POST /oauth2/token"),
        2,
        "one refresh for all three"
    );
}
