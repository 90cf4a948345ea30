//! The Aruba client against the cloud's asynchronous effects (fact sheet §1.6–1.7):
//! device moves that land later, auto-licence that settles later. The simulator's
//! defaults are slow like the cloud (only shorter), so every apply here waits on
//! moves; tests that need something else set it and say why.

use mspform::diff::{Kind, Op};
use mspform::engine::{self, ApplyReport};
use mspform::engine::{Outcome, Stop};
use mspform::sim::{ArubaEdit, Simulator};
use mspform::vendor::StepReport;
use serde_json::Value;

use crate::support::*;

const ASSIGN: &str = "POST /platform/licensing/v1/subscriptions/assign";
const ASSOCIATE: &str = "POST /central/v2/sites/associations";
const TENANT_DEVICES: &str = "GET /msp_api/v1/customers/*/devices";

fn device(sim: &Simulator, serial: &str) -> Value {
    sim.dump()["aruba"]["devices"][serial].clone()
}

fn services(sim: &Simulator, serial: &str) -> Vec<String> {
    serde_json::from_value(device(sim, serial)["services"].clone()).unwrap()
}

fn all_done(report: &ApplyReport) {
    let not_done: Vec<_> = report
        .steps
        .iter()
        .filter(|s| s.outcome != Outcome::Done)
        .collect();
    assert!(not_done.is_empty(), "{not_done:#?}");
    assert!(report.ok(), "{report:#?}");
}

/// A declared device of `customer`, like the example's AP0000001.
fn add_ap(desired: &mut mspform::model::Desired, n: u32, licenses: &[&str]) {
    let mut d = desired.devices["AP0000001"].clone();
    d.serial = format!("AP{n:07}");
    d.mac = format!("20:4C:03:00:00:{n:02X}");
    d.licenses = licenses.iter().map(|s| s.to_string()).collect();
    desired.devices.insert(d.serial.clone(), d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_land_before_their_devices_are_licensed_or_associated() {
    let sim = sim(false).await;
    let switches = sim.dump()["aruba"]["switches"].clone();
    for slow in [
        "provision_delay_ms",
        "device_move_delay_ms",
        "license_job_delay_ms",
        "autolicense_delay_ms",
    ] {
        assert!(
            switches[slow].as_u64().unwrap() > 0,
            "{slow} is on by default: {switches}"
        );
    }
    // Well past the first read after each move.
    sim.aruba_switches(|s| s.device_move_delay_ms = 400);
    let dir = tempfile::tempdir().unwrap();
    let desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    all_done(&apply(&desired, &store).await);
    for (serial, d) in &desired.devices {
        let held = services(&sim, serial);
        for l in &d.licenses {
            assert!(held.contains(l), "{serial} holds {l}: {held:?}");
        }
        if d.site.is_some() {
            assert!(
                device(&sim, serial)["site_id"].is_u64(),
                "{serial} in a site"
            );
        }
    }
    let p = plan(&desired, &store).await;
    assert!(!p.plan.has_changes(), "{:#?}", p.plan.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_read_proves_a_whole_batch_moved() {
    let sim = sim(false).await;
    // Instant moves, so that the first read after each move is the only one: the
    // count then shows reads per batch, not per device.
    sim.aruba_switches(|s| s.device_move_delay_ms = 0);
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    all_done(&apply(&desired, &store).await);
    // The three moves run at once: one read of the MSP inventory shows them
    // all, or one read of each customer's list when they do not overlap.
    let reads = sim.calls("aruba", TENANT_DEVICES) + sim.calls("aruba", "GET /msp_api/v1/devices");
    assert!(
        (2..=4).contains(&reads),
        "19 devices moved into 3 customers: the refresh and at most one read per customer: {:?}",
        sim.calls_by_route("aruba")
    );

    // Three devices leave two customers: one move back, one read of the inventory.
    for serial in ["AP0000020", "AP0000021", "AP0000017"] {
        desired.devices.remove(serial);
    }
    sim.reset_calls();
    all_done(&apply(&desired, &store).await);
    assert_eq!(sim.calls("aruba", "PUT /msp_api/v1/customers/*/devices"), 1);
    assert_eq!(
        sim.calls("aruba", "GET /msp_api/v1/devices"),
        2,
        "the plan's refresh and one read of the available devices"
    );
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_that_does_not_land_in_time_fails_its_customer_and_the_next_run_settles_it() {
    let sim = sim(false).await;
    // The moves land a minute later on the simulator's clock; mspform waits 1 s.
    sim.aruba_switches(|s| s.device_move_delay_ms = 60_000);
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    aruba_settings(&mut desired, |s| s.move_timeout_secs = 1);
    let store = store(dir.path());
    let report = apply(&desired, &store).await;
    assert!(!report.ok());
    // Each move was sent; its wait (a step of its own) is what fails.
    let moves: Vec<_> = report
        .steps
        .iter()
        .filter(|s| s.step.starts_with("wait for the move "))
        .collect();
    assert_eq!(moves.len(), 3, "{report:#?}");
    assert!(
        report
            .steps
            .iter()
            .filter(|s| s.step.starts_with("move "))
            .all(|s| s.outcome == Outcome::Done),
        "{report:#?}"
    );
    for m in &moves {
        let Outcome::Failed(message) = &m.outcome else {
            panic!("{m:#?}");
        };
        let customer = m.step.rsplit(' ').next().unwrap();
        assert!(customer.starts_with("customer."), "{}", m.step);
        for needle in [customer, "move_timeout_secs = 1", "did not show"] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
        for address in &m.addresses {
            let serial = address.key();
            assert!(message.contains(serial), "{serial}: {message}");
        }
    }
    for s in &report.steps {
        if s.step.starts_with("assign ") || s.step.starts_with("associate ") {
            assert!(
                matches!(&s.outcome, Outcome::Skipped(why) if why.contains("move ")),
                "{s:#?}"
            );
        }
    }
    assert_eq!(sim.calls("aruba", ASSIGN), 0, "nothing licensed early");
    assert_eq!(sim.calls("aruba", ASSOCIATE), 0, "nothing associated early");

    // The moves land; the next run reads where the devices are and only finishes.
    sim.advance_clock(61);
    let p = plan(&desired, &store).await;
    for a in p.plan.actions.iter().filter(|a| a.kind == Kind::Device) {
        assert!(
            a.op == Op::Update && a.changed("customer").is_none(),
            "no move again: {a:#?}"
        );
    }
    assert!(p.plan.has_changes());
    let report = engine::apply(&p, &desired, store.clone(), &mspform::engine::Stop::new()).await;
    all_done(&report);
    assert_eq!(sim.calls("aruba", "PUT /msp_api/v1/customers/*/devices"), 3);
    aruba_settings(&mut desired, |s| s.move_timeout_secs = 5);
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_moved_back_by_hand_or_removed_from_the_files_leaves_no_changes() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    all_done(&apply(&desired, &store).await);

    // Drift: someone moved a device back to the inventory in the portal.
    sim.aruba_edit(ArubaEdit::MoveDeviceToMsp {
        serial: "AP0000001".into(),
    })
    .unwrap();
    let drift = plan(&desired, &store).await;
    let touched: Vec<String> = drift
        .plan
        .actions
        .iter()
        .map(|a| a.address.to_string())
        .collect();
    assert_eq!(touched, ["device.AP0000001"]);
    let repair = engine::apply(
        &drift,
        &desired,
        store.clone(),
        &mspform::engine::Stop::new(),
    )
    .await;
    all_done(&repair);
    let after = plan(&desired, &store).await;
    assert!(!after.plan.has_changes(), "{:#?}", after.plan.actions);
    assert!(services(&sim, "AP0000001").contains(&"ADVANCED_AP".to_string()));

    // A device removed from the files goes back, and the next plan already sees it there.
    desired.devices.remove("AP0000002");
    all_done(&apply(&desired, &store).await);
    let after = plan(&desired, &store).await;
    assert!(!after.plan.has_changes(), "{:#?}", after.plan.actions);
    assert!(
        after.plan.unmanaged.is_empty(),
        "not left behind in the customer: {:#?}",
        after.plan.unmanaged
    );
    assert_eq!(device(&sim, "AP0000002")["customer_id"], Value::Null);
    assert!(store.get_owned("device.AP0000002").unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_licensed_twice_and_settling_auto_licence_shows_no_changes() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    all_done(&apply(&desired, &store).await);
    assert_eq!(
        desired
            .spec::<mspform::vendors::aruba::Aruba>("aruba")
            .unwrap()
            .customers["coffee-shop"]
            .auto_license,
        ["ADVANCED_AP"]
    );

    // Auto-licence is quick: it licenses the devices as they land, the move's read
    // sees it, and mspform assigns nothing itself.
    sim.aruba_switches(|s| s.autolicense_delay_ms = 0);
    for n in 30..=32 {
        add_ap(&mut desired, n, &["ADVANCED_AP"]);
    }
    sim.reset_calls();
    all_done(&apply(&desired, &store).await);
    assert_eq!(
        sim.calls("aruba", ASSIGN),
        0,
        "auto-licence got there first"
    );
    for n in 30..=32 {
        assert_eq!(services(&sim, &format!("AP{n:07}")), ["ADVANCED_AP"]);
    }
    assert!(!plan(&desired, &store).await.plan.has_changes());

    // Auto-licence is slow: mspform licenses what the files declare, leaves the rest
    // to auto-licence, and no plan shows a change while it settles.
    sim.aruba_switches(|s| s.autolicense_delay_ms = 60_000);
    add_ap(&mut desired, 33, &[]);
    add_ap(&mut desired, 34, &["ADVANCED_AP"]);
    sim.reset_calls();
    all_done(&apply(&desired, &store).await);
    assert_eq!(sim.calls("aruba", ASSIGN), 1);
    assert!(services(&sim, "AP0000033").is_empty(), "still settling");
    let settling = plan(&desired, &store).await;
    assert!(!settling.plan.has_changes(), "{:#?}", settling.plan.actions);
    sim.advance_clock(61);
    assert_eq!(services(&sim, "AP0000033"), ["ADVANCED_AP"]);
    assert_eq!(services(&sim, "AP0000034"), ["ADVANCED_AP"]);
    let settled = plan(&desired, &store).await;
    assert!(!settled.plan.has_changes(), "{:#?}", settled.plan.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_waiting_for_a_move_and_the_next_run_finishes() {
    let sim = sim(false).await;
    sim.aruba_switches(|s| s.device_move_delay_ms = 60_000);
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    aruba_settings(&mut desired, |s| s.move_timeout_secs = 30);
    let store = store(dir.path());
    let prepared = plan(&desired, &store).await;
    let stop = Stop::new();
    // Ctrl-C once a wait for a move is reading: a device read after the first
    // move was sent (bounded: at most 60 s of looking).
    let reads =
        || sim.calls("aruba", TENANT_DEVICES) + sim.calls("aruba", "GET /msp_api/v1/devices");
    let ctrl_c = async {
        let mut at_first_move = None;
        for _ in 0..6_000 {
            if at_first_move.is_none()
                && sim.calls("aruba", "PUT /msp_api/v1/customers/*/devices") > 0
            {
                at_first_move = Some(reads());
            }
            if at_first_move.is_some_and(|n| reads() > n) {
                stop.stop();
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    let (report, ()) = tokio::join!(
        engine::apply(&prepared, &desired, store.clone(), &stop),
        ctrl_c
    );
    assert!(report.interrupted, "{report:#?}");
    // With moves side by side, a wait that was reading ended; the others
    // were not started (the report lists them in the order they settled).
    let moves: Vec<&StepReport> = report
        .steps
        .iter()
        .filter(|s| s.step.starts_with("wait for the move "))
        .collect();
    assert!(
        moves.iter().any(|s| matches!(&s.outcome, Outcome::Failed(m) if m.contains("interrupted while waiting") && m.contains("AP00000"))),
        "{moves:#?}"
    );
    assert!(
        moves
            .iter()
            .all(|s| matches!(&s.outcome, Outcome::Failed(_) | Outcome::Skipped(_))),
        "{moves:#?}"
    );
    // The moves already in flight (one per customer at most) were sent;
    // nothing that waits for them was.
    let moves = sim.calls("aruba", "PUT /msp_api/v1/customers/*/devices");
    assert!((1..=3).contains(&moves), "{moves}");
    assert_eq!(sim.calls("aruba", ASSIGN), 0);

    sim.advance_clock(61);
    sim.aruba_switches(|s| s.device_move_delay_ms = 100);
    all_done(&apply(&desired, &store).await);
    assert!(!plan(&desired, &store).await.plan.has_changes());
}
