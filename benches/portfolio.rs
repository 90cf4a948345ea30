//! Benchmark: onboard a generated portfolio (N customers × sites × devices) into
//! the in-process simulator and print the figures that matter for a rate-limited
//! vendor: API calls per plan and apply, and wall time. Run with
//! `cargo bench --bench portfolio [-- CUSTOMERS DEVICES_PER_CUSTOMER]`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use mspform::engine;
use mspform::model::Desired;
use mspform::sim::{Inventory, SimOptions, Simulator};
use mspform::state::{SledStore, StateStore};

/// The generated portfolio as configuration text: one Aruba provider, and per
/// customer two sites and `per` devices from the simulator's inventory.
fn portfolio(base_url: &str, token: &std::path::Path, customers: usize, per: usize) -> Desired {
    let mut text = format!(
        "[providers.aruba]\ntype = \"aruba-central\"\nbase_url = \"{base_url}\"\ntoken = {{ file = \"{}\" }}\npoll_interval_ms = 10\n",
        token.display()
    );
    let mut n = 0;
    for c in 0..customers {
        let key = format!("cust-{c:03}");
        let _ = write!(
            text,
            "\n[customers.{key}]\nprovider = \"aruba\"\nname = \"Customer {c:03}\"\ncountry = \"US\"\naddress = {{ street = \"1 Main St\", city = \"Austin\", state = \"Texas\", zip = \"73301\" }}\n"
        );
        for s in 0..2 {
            let _ = write!(
                text,
                "\n[customers.{key}.sites.site-{s}]\nname = \"Site {s}\"\naddress = {{ street = \"{s} Main St\", city = \"Austin\", state = \"Texas\", country = \"United States\" }}\n"
            );
        }
        for d in 0..per {
            n += 1;
            let _ = write!(
                text,
                "\n[devices.AP{n:07}]\ncustomer = \"{key}\"\nmac = \"20:4C:03:00:00:{n:02X}\"\nsite = \"site-{}\"\nlicenses = [\"FOUNDATION_AP\"]\n",
                d % 2
            );
        }
    }
    let mut desired = mspform::config::load_sources(&[(PathBuf::from("bench.toml"), text)])
        .unwrap_or_else(|e| panic!("the generated portfolio loads: {e}"));
    // Beyond the vendor's 7/s: the simulator here has no per-second limit.
    desired.edit_specs::<mspform::vendors::aruba::Aruba>(|spec| {
        spec.settings.calls_per_second = 1000;
    });
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
    let desired = portfolio(&sim.base_url("aruba"), &token, customers, per);
    let store: Arc<dyn StateStore> = Arc::new(SledStore::open(&dir.join("state")).unwrap());
    let stop = engine::Stop::new();

    let t = Instant::now();
    let first = engine::plan(&desired, store.clone(), &Default::default())
        .await
        .unwrap();
    let plan_ms = t.elapsed().as_millis();
    let t = Instant::now();
    let report = engine::apply(&first, &desired, store.clone(), &stop).await;
    let apply_ms = t.elapsed().as_millis();
    assert!(report.ok(), "apply failed: {report:#?}");
    let writes = sim.write_calls("aruba");
    sim.reset_calls();
    let t = Instant::now();
    let again = engine::plan(&desired, store.clone(), &Default::default())
        .await
        .unwrap();
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
