//! First onboarding on an Aruba MSP account that has no customers yet: the
//! example portfolios converge in one apply whatever the device lists say about
//! devices in the MSP inventory (the MSP's own id, null or ""), the MSP inventory
//! never shows up as a customer, and a move back to the inventory works once the
//! MSP's id was learned during the run.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mspform::address::Address;
use mspform::diff::{Kind, Op};
use mspform::engine::{self, Outcome};
use mspform::model::Desired;
use mspform::plan::render::{Format, render};
use mspform::sim::Simulator;
use mspform::sim::aruba::MspDeviceCustomerId;
use mspform::state::StateStore;
use mspform::vendor::{Apply, Ctx, Ledger, Owned, PlanOptions, Step, Stop};
use mspform::vendors::aruba::run::RunEnv;
use mspform::vendors::aruba::steps::{StepOp, customer_body, label};
use mspform::vendors::aruba::{Aruba, Client};
use serde_json::Value;

use crate::support::*;

const MSP_ID: &str = "3e0a5f0b6a6c4e1b9d2f7a8c5b4d3e21";
const MSP_NAME: &str = "Simulated MSP";

const ALL: [MspDeviceCustomerId; 3] = [
    MspDeviceCustomerId::MspId,
    MspDeviceCustomerId::Null,
    MspDeviceCustomerId::Empty,
];

/// A simulator of an empty MSP account whose device lists show inventory devices as `shape`.
async fn empty_account(shape: MspDeviceCustomerId) -> Simulator {
    let sim = sim(false).await;
    sim.aruba_switches(|s| s.msp_device_customer_id = shape);
    assert!(
        customer_names(&sim).is_empty(),
        "the simulator starts as an MSP account without customers"
    );
    sim
}

/// The Aruba part of the four-vendor example (`examples/msp`), pointed at `sim`:
/// its Aruba provider and the files of its Aruba customers (loaded without the
/// other vendors' tables, so that only Aruba's schema is needed).
fn msp_example_aruba_part(sim: &Simulator, dir: &std::path::Path) -> Desired {
    let conf = write_mixed(sim, dir);
    let mut sources: Vec<(PathBuf, String)> = Vec::new();
    for entry in std::fs::read_dir(&conf).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut table: toml::Table = toml::from_str(&text).unwrap();
        if let Some(toml::Value::Table(providers)) = table.get_mut("providers") {
            providers
                .retain(|_, p| p.get("type").and_then(|t| t.as_str()) == Some("aruba-central"));
        }
        let aruba_customers = table
            .get("customers")
            .and_then(|c| c.as_table())
            .is_some_and(|c| {
                c.values()
                    .all(|c| c.get("provider").and_then(|p| p.as_str()) == Some("aruba"))
            });
        if table.contains_key("providers") || aruba_customers {
            sources.push((path, toml::to_string(&table).unwrap()));
        }
    }
    let mut desired =
        mspform::config::load_sources(&sources).expect("the Aruba part of examples/msp loads");
    let aruba: Vec<String> = desired.providers.keys().cloned().collect();
    assert_eq!(aruba, ["aruba"]);
    assert_eq!(desired.customers.len(), 3, "three Aruba customers");
    // The example keeps the vendor's 7 calls/s; the simulator here has no limit.
    aruba_settings(&mut desired, |s| s.calls_per_second = 1000);
    desired
}

/// Plan, one apply, plan again: the apply does everything, the second plan nothing.
async fn converges_in_one_apply(sim: &Simulator, desired: &Desired, label: &str) {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let first = plan(desired, &store).await;
    let p = &first.plan;
    // The MSP inventory is not a customer: no device is "in" one, nothing is unmanaged.
    for format in [Format::Text, Format::Json, Format::Markdown] {
        let text = render(p, format);
        for needle in [MSP_ID, MSP_NAME, "(unmanaged)"] {
            assert!(
                !text.contains(needle),
                "{label}: the plan names the MSP inventory ({needle}):\n{text}"
            );
        }
    }
    assert!(p.unmanaged.is_empty(), "{label}: {:#?}", p.unmanaged);
    let devices = p.actions.iter().filter(|a| a.kind == Kind::Device).count();
    assert_eq!(devices, desired.devices.len(), "{label}");
    assert!(
        p.actions.iter().all(|a| a.op == Op::Create),
        "{label}: an empty account only gets creates: {:#?}",
        p.actions
    );

    let report = engine::apply(
        &first,
        desired,
        store.clone(),
        &mspform::engine::Stop::new(),
    )
    .await;
    let not_done: Vec<_> = report
        .steps
        .iter()
        .filter(|s| s.outcome != Outcome::Done)
        .collect();
    assert!(not_done.is_empty(), "{label}: {not_done:#?}");
    assert!(report.ok(), "{label}: {report:#?}");
    assert_eq!(report.actions.len(), p.actions.len(), "{label}");

    // Every declared device sits in its customer, licensed and in its site.
    let dump = sim.dump();
    let ids: BTreeMap<&str, &str> = dump["aruba"]["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["customer_name"].as_str().unwrap(),
                c["customer_id"].as_str().unwrap(),
            )
        })
        .collect();
    for (serial, d) in &desired.devices {
        let live = &dump["aruba"]["devices"][serial];
        let name = &desired.customers[&d.customer].name;
        assert_eq!(
            live["customer_id"],
            Value::from(ids[name.as_str()]),
            "{label}: {serial} moved into {name}"
        );
        for l in &d.licenses {
            assert!(
                live["services"]
                    .as_array()
                    .unwrap()
                    .contains(&Value::from(l.as_str())),
                "{label}: {serial} holds {l}: {live}"
            );
        }
        assert_eq!(
            live["site_id"].is_u64(),
            d.site.is_some(),
            "{label}: {serial} associated: {live}"
        );
    }

    sim.reset_calls();
    let again = plan(desired, &store).await;
    assert!(
        !again.plan.has_changes(),
        "{label}: {:#?}",
        again.plan.actions
    );
    let report = engine::apply(
        &again,
        desired,
        store.clone(),
        &mspform::engine::Stop::new(),
    )
    .await;
    assert!(report.ok(), "{label}: {report:#?}");
    assert_eq!(
        sim.write_calls("aruba"),
        0,
        "{label}: nothing left to write"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_portfolio_converges_in_one_apply_on_an_empty_account() {
    for shape in ALL {
        let sim = empty_account(shape).await;
        let dir = tempfile::tempdir().unwrap();
        let desired = portfolio(&sim, dir.path());
        converges_in_one_apply(&sim, &desired, &format!("examples/portfolio, {shape:?}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aruba_part_of_the_msp_example_converges_in_one_apply_on_an_empty_account() {
    for shape in ALL {
        let sim = empty_account(shape).await;
        let dir = tempfile::tempdir().unwrap();
        let desired = msp_example_aruba_part(&sim, dir.path());
        converges_in_one_apply(&sim, &desired, &format!("examples/msp, {shape:?}")).await;
    }
}

/// The Aruba client of `desired`'s provider, and what a refresh of it reads.
async fn client_and_env(
    desired: &Desired,
    store: &std::sync::Arc<dyn StateStore>,
) -> (Client, RunEnv) {
    let spec = desired.spec::<Aruba>("aruba").expect("an Aruba provider");
    let p = &desired.providers["aruba"];
    let client = Client::new("aruba", &p.base_url, &spec.settings, store.clone()).unwrap();
    let snap = client
        .snapshot(None, |_| Default::default())
        .await
        .expect("snapshot");
    let ledger = Ledger::new("aruba", store.clone(), BTreeMap::new(), Stop::new());
    (client, RunEnv::new(ledger, &snap))
}

fn step(id: usize, op: StepOp) -> Step<StepOp> {
    Step {
        id,
        deps: vec![],
        addresses: vec![],
        label: label(&op),
        op,
        background: false,
    }
}

/// The example's customer and one of its access points (serial, MAC).
fn coffee_shop_and_ap() -> (Address, (String, String)) {
    (
        Address::customer("coffee-shop"),
        ("AP0000001".to_string(), "20:4C:03:00:00:01".to_string()),
    )
}

/// The create of the example's customer, with the body the plan would send.
fn create_coffee_shop(desired: &Desired) -> StepOp {
    let owned = Owned::new();
    let ctx = Ctx {
        key: "aruba",
        spec: desired.spec::<Aruba>("aruba").unwrap(),
        desired,
        owned: &owned,
        options: &PlanOptions::default(),
    };
    StepOp::CreateCustomer {
        address: Address::customer("coffee-shop"),
        body: customer_body(ctx, "coffee-shop").unwrap(),
    }
}

/// On an empty account whose device lists carry no id, the MSP's id is known only
/// once a customer record has been read — the create's name lookup reads one. A
/// device moved in and back out in the same run then reaches the MSP inventory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_goes_back_to_the_inventory_once_the_run_has_learned_the_msp_id() {
    for shape in [MspDeviceCustomerId::Null, MspDeviceCustomerId::Empty] {
        let sim = empty_account(shape).await;
        let dir = tempfile::tempdir().unwrap();
        let desired = portfolio(&sim, dir.path());
        let store = store(dir.path());
        let (client, env) = client_and_env(&desired, &store).await;
        assert_eq!(
            env.msp_id(),
            None,
            "{shape:?}: nothing carries the MSP id yet"
        );

        let (customer, ap) = coffee_shop_and_ap();
        let steps = [
            create_coffee_shop(&desired),
            StepOp::MoveDevices {
                target: Some(customer.clone()),
                devices: vec![ap.clone()],
                returning: false,
                counterparts: vec![],
            },
            StepOp::AwaitMove {
                move_step: 1,
                target: Some(customer.clone()),
                devices: vec![ap.clone()],
                returning: false,
                counterparts: vec![],
            },
            StepOp::MoveDevices {
                target: None,
                devices: vec![ap.clone()],
                returning: true,
                counterparts: vec![customer.to_string()],
            },
            StepOp::AwaitMove {
                move_step: 3,
                target: None,
                devices: vec![ap.clone()],
                returning: true,
                counterparts: vec![customer.to_string()],
            },
        ];
        for (id, op) in steps.into_iter().enumerate() {
            let step = step(id, op);
            client
                .run(&env, &step)
                .await
                .unwrap_or_else(|e| panic!("{shape:?}: {}: {e}", step.label));
        }
        assert_eq!(env.msp_id().as_deref(), Some(MSP_ID), "{shape:?}");
        let device = &sim.dump()["aruba"]["devices"]["AP0000001"];
        assert_eq!(
            device["customer_id"],
            Value::Null,
            "{shape:?}: back in the inventory"
        );
        assert_eq!(sim.calls("aruba", "PUT /msp_api/v1/customers/*/devices"), 2);
        assert!(store.get_owned("device.AP0000001").unwrap().is_none());
    }
}

/// A move back that cannot be sent says which way the devices were going: *in* to a
/// customer (they must leave another one first) or *back* to the inventory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_msp_id_is_reported_as_moving_in_or_moving_back() {
    let sim = empty_account(MspDeviceCustomerId::Null).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    let (client, env) = client_and_env(&desired, &store).await;
    let devices = vec![
        ("AP0000001".to_string(), "20:4C:03:00:00:01".to_string()),
        ("AP0000002".to_string(), "20:4C:03:00:00:02".to_string()),
    ];
    let cases = [
        (false, "cannot be moved in to customer.coffee-shop"),
        (
            true,
            "cannot be moved back to the MSP inventory from customer.coffee-shop",
        ),
    ];
    for (returning, expected) in cases {
        let step = step(
            0,
            StepOp::MoveDevices {
                target: None,
                devices: devices.clone(),
                returning,
                counterparts: vec!["customer.coffee-shop".into()],
            },
        );
        let err = client
            .run(&env, &step)
            .await
            .expect_err("no MSP id, no move back")
            .to_string();
        assert!(err.contains(expected), "{err}");
        assert!(err.contains("AP0000001, AP0000002"), "{err}");
        assert!(err.contains("aruba"), "{err}");
    }
    assert_eq!(sim.write_calls("aruba"), 0, "nothing was sent");
}

/// A wait for a move that starts after the move's timeout has passed (at scale
/// waits give way to every write) still polls a few times: a move that lands
/// meanwhile is found, not failed on the first read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_wait_for_a_move_gets_a_few_polls_before_its_timeout_decides() {
    let sim = empty_account(MspDeviceCustomerId::MspId).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    aruba_settings(&mut desired, |s| {
        s.move_timeout_secs = 1;
        s.poll_interval_ms = 2_000;
    });
    let store = store(dir.path());
    let (client, env) = client_and_env(&desired, &store).await;
    let (customer, ap) = coffee_shop_and_ap();
    let create = step(0, create_coffee_shop(&desired));
    client.run(&env, &create).await.expect("create");
    // Moves land a minute later on the simulator's clock, which stands still
    // until the wait has read once.
    sim.aruba_switches(|s| s.device_move_delay_ms = 60_000);
    sim.freeze_clock();
    let send = step(
        1,
        StepOp::MoveDevices {
            target: Some(customer.clone()),
            devices: vec![ap.clone()],
            returning: false,
            counterparts: vec![],
        },
    );
    client.run(&env, &send).await.expect("the move is sent");
    // The wait starts after the move's 1 s timeout has passed.
    tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
    let reads = || {
        sim.calls("aruba", "GET /msp_api/v1/customers/*/devices")
            + sim.calls("aruba", "GET /msp_api/v1/devices")
    };
    let before = reads();
    let wait = step(
        2,
        StepOp::AwaitMove {
            move_step: 1,
            target: Some(customer.clone()),
            devices: vec![ap.clone()],
            returning: false,
            counterparts: vec![],
        },
    );
    let waiting = async { client.run(&env, &wait).await };
    let land = async {
        for _ in 0..1_000 {
            if reads() > before {
                sim.advance_clock(61);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    let (result, ()) = tokio::join!(waiting, land);
    result.expect("the move is found by a later poll");
    assert!(reads() >= before + 2, "read again after the first read");
}
