//! Benchmark: onboard a generated portfolio (N customers × sites × devices) into
//! the in-process simulator and print the figures that matter for a rate-limited
//! vendor: API calls per plan and apply, and wall time. Run with
//! `cargo bench --bench portfolio [-- CUSTOMERS DEVICES_PER_CUSTOMER]`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use mspform::engine;
use mspform::model::*;
use mspform::sim::{Inventory, SimOptions, Simulator};
use mspform::state::{SledStore, StateStore};

fn portfolio(base_url: String, token: std::path::PathBuf, customers: usize, per: usize) -> Desired {
    let mut settings = ArubaSettings::new(ArubaAuth::Token(SecretRef::File(token)));
    settings.calls_per_second = 1000;
    settings.poll_interval_ms = 10;
    let provider = Provider {
        key: "aruba".into(),
        base_url,
        ownership: Ownership::Owned,
        kind: ProviderKind::ArubaCentral(settings),
    };
    let mut desired = Desired::default();
    desired.providers.insert("aruba".into(), provider);
    let mut n = 0;
    for c in 0..customers {
        let key = format!("cust-{c:03}");
        let mut sites = BTreeMap::new();
        for s in 0..2 {
            let skey = format!("site-{s}");
            let location = SiteLocation::Address(SiteAddress {
                street: format!("{s} Main St"),
                city: "Austin".into(),
                state: "Texas".into(),
                country: "United States".into(),
                zip: None,
            });
            sites.insert(
                skey.clone(),
                Site {
                    key: skey,
                    customer: key.clone(),
                    name: format!("Site {s}"),
                    location,
                },
            );
        }
        for d in 0..per {
            n += 1;
            let serial = format!("AP{n:07}");
            let device = Device {
                serial: serial.clone(),
                mac: format!("20:4C:03:00:00:{n:02X}"),
                customer: key.clone(),
                site: Some(format!("site-{}", d % 2)),
                licenses: vec!["FOUNDATION_AP".into()],
            };
            desired.devices.insert(serial, device);
        }
        let customer = Customer {
            key: key.clone(),
            provider: "aruba".into(),
            name: format!("Customer {c:03}"),
            spec: CustomerSpec::Aruba(ArubaCustomer {
                country: "US".into(),
                address: CustomerAddress {
                    street: "1 Main St".into(),
                    city: "Austin".into(),
                    state: "Texas".into(),
                    zip: "73301".into(),
                },
                group: None,
                description: String::new(),
                lock_msp_ssids: false,
                auto_license: vec![],
                sites,
            }),
        };
        desired.customers.insert(key, customer);
    }
    desired
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let customers = args.first().copied().unwrap_or(12);
    let per = args
        .get(1)
        .copied()
        .unwrap_or(10)
        .min(120 / customers.max(1))
        .max(1);
    let sim = Simulator::start(SimOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        Inventory::embedded(),
    ))
    .await
    .unwrap();
    sim.aruba_switches(|s| s.limit_per_second = 0);
    let dir = std::env::temp_dir().join(format!("mspform-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, "sim-token").unwrap();
    let desired = portfolio(sim.base_url("aruba"), token, customers, per);
    let store: Arc<dyn StateStore> = Arc::new(SledStore::open(&dir.join("state")).unwrap());
    let stop = AtomicBool::new(false);

    let t = Instant::now();
    let first = engine::plan(&desired, store.clone(), &[]).await.unwrap();
    let plan_ms = t.elapsed().as_millis();
    let t = Instant::now();
    let report = engine::apply(&first, &desired, store.clone(), &stop).await;
    let apply_ms = t.elapsed().as_millis();
    assert!(report.ok(), "apply failed: {report:#?}");
    let writes = sim.write_calls("aruba");
    sim.reset_calls();
    let t = Instant::now();
    let again = engine::plan(&desired, store.clone(), &[]).await.unwrap();
    let replan_ms = t.elapsed().as_millis();
    assert!(!again.plan.has_changes());

    let actions = first.plan.actions.len();
    println!(
        "portfolio: {customers} customers, {} sites, {} devices ({actions} plan actions)",
        customers * 2,
        desired.devices.len()
    );
    println!(
        "first plan : {:>5} API calls, {plan_ms:>6} ms",
        first.plan.summary.refresh_calls
    );
    println!(
        "apply      : {:>5} API calls ({writes} writes), {apply_ms:>6} ms",
        report.calls
    );
    println!(
        "second plan: {:>5} API calls, {replan_ms:>6} ms, no changes",
        again.plan.summary.refresh_calls
    );
    println!(
        "at Aruba's 7 calls/s the apply needs at least {:.1} s; per customer onboarded: {:.1} calls",
        report.calls as f64 / 7.0,
        report.calls as f64 / customers as f64
    );
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
