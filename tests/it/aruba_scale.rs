//! Aruba at MSP scale, counted in calls (issue 10): a generated portfolio of N
//! customers × 2 sites × 10 APs against a generated simulator account, and the
//! exact calls per endpoint of a refresh, an onboarding apply and a targeted
//! plan, against the API minimum (counts, never times).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use mspform::engine::{self, Selection};
use mspform::model::Desired;
use mspform::sim::scale::{self, GeneratedAccount};
use mspform::sim::{Inventory, SimOptions, Simulator};
use mspform::state::StateStore;

use crate::support::*;

const SERVICE: &str = "FOUNDATION_AP";
const SITES: usize = 2;
const APS: usize = 10;

const CUSTOMERS: &str = "GET /msp_api/v1/customers";
const DEVICES: &str = "GET /msp_api/v1/devices";
const SITE_LIST: &str = "GET /central/v2/sites";
const AUTO: &str = "/platform/licensing/v1/msp/customer/settings/autolicense";

/// Customer `i` declares `auto_license` (one in ten, as the benchmark).
fn declares_auto(i: usize) -> bool {
    i % 10 == 5
}

/// A simulator account holding `n * APS` access points, nothing onboarded,
/// instant provisioning and moves, no per-second limit.
async fn account(n: usize) -> Simulator {
    let inventory = Inventory::generated(&GeneratedAccount {
        aruba_aps: n * APS,
        aruba_service: SERVICE.into(),
        aruba_tokens: u32::try_from(n * APS * 2).unwrap(),
        ..GeneratedAccount::default()
    });
    let sim = Simulator::start(SimOptions::new("127.0.0.1:0".parse().unwrap(), inventory))
        .await
        .expect("simulator starts");
    sim.aruba_switches(|s| {
        s.limit_per_second = 0;
        s.limit_per_day = 0;
        s.provision_invisible_polls = 0;
        s.provision_delay_ms = 0;
        s.device_move_delay_ms = 0;
        s.autolicense_delay_ms = 0;
    });
    sim
}

/// `n` customers (`c000`…) with two sites and ten licensed APs each, one file each.
fn portfolio(sim: &Simulator, dir: &Path, n: usize) -> Desired {
    let conf = dir.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("providers.toml"),
        format!(
            "[providers.aruba]\ntype = \"aruba-central\"\nbase_url = \"{}\"\ntoken = {{ file = \"{}\" }}\npoll_interval_ms = 20\nprovision_timeout_secs = 3\nmove_timeout_secs = 5\n",
            sim.base_url("aruba"),
            token_file(dir).display()
        ),
    )
    .unwrap();
    for i in 0..n {
        let mut t = format!(
            "[customers.c{i:03}]\nprovider = \"aruba\"\nname = \"Scale Customer {i:03}\"\ncountry = \"US\"\n\
             address = {{ street = \"{i} Main St\", city = \"Austin\", state = \"Texas\", zip = \"73301\" }}\n"
        );
        if declares_auto(i) {
            writeln!(t, "auto_license = [\"{SERVICE}\"]").unwrap();
        }
        for s in 0..SITES {
            writeln!(
                t,
                "\n[customers.c{i:03}.sites.s{s}]\nname = \"Site {s}\"\n\
                 address = {{ street = \"{s} Site Rd\", city = \"Austin\", state = \"Texas\", country = \"United States\", zip = \"73301\" }}"
            )
            .unwrap();
        }
        for d in 0..APS {
            let index = i * APS + d;
            writeln!(
                t,
                "\n[devices.{}]\ncustomer = \"c{i:03}\"\nmac = \"{}\"\nsite = \"s{}\"\nlicenses = [\"{SERVICE}\"]",
                scale::ap_serial(index),
                scale::ap_mac(index),
                d % SITES
            )
            .unwrap();
        }
        std::fs::write(conf.join(format!("c{i:03}.toml")), t).unwrap();
    }
    let mut desired = mspform::config::load(&conf).expect("the generated portfolio loads");
    point_at(&mut desired, sim, dir);
    desired
}

/// The calls since the last reset, by route, without the ones of no interest (none).
fn calls(sim: &Simulator) -> BTreeMap<String, u64> {
    sim.calls_by_route("aruba")
}

fn get(calls: &BTreeMap<String, u64>, route: &str) -> u64 {
    calls.get(route).copied().unwrap_or(0)
}

async fn onboarded(n: usize, dir: &Path) -> (Simulator, Desired, Arc<dyn StateStore>) {
    let sim = account(n).await;
    let desired = portfolio(&sim, dir, n);
    let store = store(dir);
    let report = apply(&desired, &store).await;
    assert!(report.ok(), "{report:?}");
    (sim, desired, store)
}

/// A plan of the onboarded portfolio reads the customer list and the MSP
/// inventory once (one page each), each customer's sites once, and the
/// auto-licence setting only of the customers that declare it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_reads_the_lists_one_site_list_per_customer_and_only_declared_auto_licences() {
    for n in [20, 45] {
        let dir = tempfile::tempdir().unwrap();
        let (sim, desired, store) = onboarded(n, dir.path()).await;
        sim.reset_calls();
        let prepared = plan(&desired, &store).await;
        assert!(
            prepared.plan.actions.is_empty(),
            "n = {n}: {:?}",
            prepared.plan.actions
        );
        let c = calls(&sim);
        let declaring = (0..n).filter(|i| declares_auto(*i)).count() as u64;
        let minimum = 1 + 1 + n as u64 + declaring;
        assert_eq!(get(&c, CUSTOMERS), 1, "n = {n}: {c:?}");
        assert_eq!(get(&c, DEVICES), 1, "n = {n}: {c:?}");
        assert_eq!(get(&c, SITE_LIST), n as u64, "n = {n}: {c:?}");
        assert_eq!(get(&c, &format!("GET {AUTO}")), declaring, "n = {n}: {c:?}");
        assert_eq!(sim.total_calls("aruba"), minimum, "n = {n}: {c:?}");
    }
}

/// `plan --target customer.X` on an account of 300 customers reads that customer
/// by name, its devices, its sites and its auto-licence: never the whole account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_targeted_plan_reads_only_its_customer_on_a_large_account() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, desired, store) = onboarded(6, dir.path()).await;
    for i in 0..300 {
        assert_eq!(
            create_by_hand(&sim, &format!("Other Customer {i:03}"), "US").await,
            200
        );
    }
    // A field edited by hand in the target shows; one in another customer does not.
    sim.aruba_edit(mspform::sim::ArubaEdit::CustomerField {
        customer_name: "Scale Customer 005".into(),
        field: "city".into(),
        value: "Dallas".into(),
    })
    .unwrap();
    sim.aruba_edit(mspform::sim::ArubaEdit::CustomerField {
        customer_name: "Scale Customer 001".into(),
        field: "city".into(),
        value: "Dallas".into(),
    })
    .unwrap();
    sim.reset_calls();
    let selection = Selection::parse(&["customer.c005".into()], &[]).unwrap();
    let prepared = engine::plan(&desired, store.clone(), &selection)
        .await
        .expect("plan");
    let c = calls(&sim);
    let addresses: Vec<String> = prepared
        .plan
        .actions
        .iter()
        .map(|a| a.address.to_string())
        .collect();
    assert_eq!(addresses, ["customer.c005"], "{c:?}");
    assert_eq!(get(&c, CUSTOMERS), 1, "one name lookup: {c:?}");
    assert_eq!(get(&c, DEVICES), 1, "its devices: {c:?}");
    assert_eq!(get(&c, SITE_LIST), 1, "its sites: {c:?}");
    assert_eq!(get(&c, &format!("GET {AUTO}")), 1, "it declares one: {c:?}");
    assert!(sim.total_calls("aruba") <= 10, "{c:?}");

    // A targeted device pulls in its customer, and nothing else is read.
    let selection = Selection::parse(&["device.BN00000051".into()], &[]).unwrap();
    sim.reset_calls();
    let prepared = engine::plan(&desired, store.clone(), &selection)
        .await
        .expect("plan");
    let addresses: Vec<String> = prepared
        .plan
        .actions
        .iter()
        .map(|a| a.address.to_string())
        .collect();
    assert_eq!(addresses, ["customer.c005"]);
    assert!(sim.total_calls("aruba") <= 10, "{:?}", calls(&sim));

    // Many targeted customers: the paged lists are fewer calls than a lookup
    // and a device list per customer.
    let selection = Selection::parse(&["customer.c00*".into()], &[]).unwrap();
    sim.reset_calls();
    let prepared = engine::plan(&desired, store.clone(), &selection)
        .await
        .expect("plan");
    assert_eq!(
        prepared.plan.actions.len(),
        2,
        "c001 and c005: {:?}",
        prepared.plan.actions
    );
    let c = calls(&sim);
    assert_eq!(get(&c, CUSTOMERS), 4, "306 customers, pages of 100: {c:?}");
    assert_eq!(get(&c, DEVICES), 1, "one inventory page: {c:?}");
    assert_eq!(get(&c, SITE_LIST), 6, "{c:?}");
}

/// Onboarding N customers makes exactly the writes the API needs — N creates,
/// one move per customer, licences in calls of 100 devices across customers,
/// the sites, one association call per site (5 devices each), the declared
/// auto-licences — plus one customer-list pass for every new customer, and one
/// or two device-list passes for all the moves; in all within 1.10 × the minimum. The
/// second apply writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_makes_the_minimum_writes_and_one_provisioning_pass() {
    for n in [20, 45] {
        let dir = tempfile::tempdir().unwrap();
        let sim = account(n).await;
        let desired = portfolio(&sim, dir.path(), n);
        let store = store(dir.path());
        let report = apply(&desired, &store).await;
        assert!(report.ok(), "{report:?}");
        let c = calls(&sim);
        let n64 = n as u64;
        let declaring = (0..n).filter(|i| declares_auto(*i)).count() as u64;
        let licences = (n64 * APS as u64).div_ceil(100);
        let expected = [
            ("POST /msp_api/v2/customers", n64),
            ("PUT /msp_api/v1/customers/*/devices", n64),
            ("POST /platform/licensing/v1/subscriptions/assign", licences),
            ("POST /central/v2/sites", 2 * n64),
            ("POST /central/v2/sites/associations", 2 * n64),
            (&format!("POST {AUTO}"), declaring),
        ];
        for (route, count) in expected {
            assert_eq!(get(&c, route), count, "n = {n}, {route}: {c:?}");
        }
        // The refresh's page, then one pass (once every create was answered)
        // finds every new customer.
        assert_eq!(
            get(&c, CUSTOMERS),
            2,
            "n = {n}: one provisioning pass for all: {c:?}"
        );
        // The waits for moves give way to the writes, so by the time one reads,
        // every move was sent: one inventory page confirms them all (a read per
        // customer before), and a second pass at most for late landings.
        let settle_reads = get(&c, "GET /msp_api/v1/customers/*/devices") + get(&c, DEVICES) - 1;
        assert!(
            (1..=2).contains(&settle_reads),
            "n = {n}: the moves confirmed together: {c:?}"
        );
        let minimum = 2 + n64 + 1 + n64 + 1 + licences + 4 * n64 + declaring;
        let total = sim.total_calls("aruba");
        assert!(
            total * 100 <= minimum * 110,
            "n = {n}: {total} calls, minimum {minimum}: {c:?}"
        );
        assert_eq!(
            sim.write_calls("aruba"),
            n64 + n64 + licences + 4 * n64 + declaring,
            "n = {n}: {c:?}"
        );
        // Nothing left to do: the second apply writes nothing.
        sim.reset_calls();
        let report = apply(&desired, &store).await;
        assert!(report.ok() && report.actions.is_empty(), "{report:?}");
        assert_eq!(sim.write_calls("aruba"), 0, "n = {n}: {:?}", calls(&sim));
    }
}

/// kill -9 while several customers' creates and moves are in flight at once,
/// then apply again: it converges, with no customer or site made twice (the
/// simulator would accept duplicates, so only the journal and the lookups by
/// name prevent them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_many_requests_in_flight_then_apply_again_converges_without_duplicates() {
    use crate::cli::{args, bin, run};
    use mspform::sim::{FaultKind, FaultSpec};
    use std::time::{Duration, Instant};

    let n = 10;
    let sim = account(n).await;
    allow_duplicates(&sim);
    // Slow answers, so that many calls are in flight when the kill lands.
    sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: "* *".into(),
        kind: FaultKind::Latency { ms: 300 },
        count: None,
        rate: None,
    });
    let dir = tempfile::tempdir().unwrap();
    portfolio(&sim, dir.path(), n);
    let conf = dir.path().join("conf");
    let state = dir.path().join("state");
    let mut child = bin()
        .args(args(&conf, &state, &["apply", "--auto-approve"]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while sim.calls("aruba", "POST /msp_api/v2/customers") < 4
        && start.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed, not finished: {status:?}");
    let posted = sim.calls("aruba", "POST /msp_api/v2/customers");
    assert!(
        (4..n as u64).contains(&posted),
        "the kill landed among the creates: {posted}"
    );
    sim.clear_faults();

    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let names = customer_names(&sim);
    let expected: Vec<String> = (0..n).map(|i| format!("Scale Customer {i:03}")).collect();
    assert_eq!(names, expected, "every customer once");
    assert_eq!(
        sim.dump()["aruba"]["sites"].as_array().unwrap().len(),
        n * SITES,
        "every site once"
    );
}

/// A licence call over the vendor's request-size limit (413 or 417) is split
/// and sent again until every chunk fits: the devices end up licensed, and
/// the calls are the refused ones plus the halves that fit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licence_call_over_the_size_limit_is_split_until_it_fits() {
    for status in [413, 417] {
        let n = 12;
        let dir = tempfile::tempdir().unwrap();
        let sim = account(n).await;
        // 120 devices: one call of 100 (refused), two of 50 (refused), four
        // of 25 that fit, then the remaining 20 in one call that fits.
        sim.aruba_switches(|s| {
            s.license_max_serials = 30;
            s.license_overflow_status = status;
        });
        let desired = portfolio(&sim, dir.path(), n);
        let store = store(dir.path());
        let report = apply(&desired, &store).await;
        assert!(report.ok(), "{status}: {report:?}");
        let assign = "POST /platform/licensing/v1/subscriptions/assign";
        assert_eq!(sim.calls("aruba", assign), 1 + 2 + 4 + 1, "{status}");
        let dump = sim.dump();
        for i in 0..n * APS {
            let services = &dump["aruba"]["devices"][scale::ap_serial(i)]["services"];
            assert!(
                services
                    .as_array()
                    .is_some_and(|s| s.iter().any(|x| x == SERVICE)),
                "{status}: {} is licensed: {services}",
                scale::ap_serial(i)
            );
        }
    }
}

/// The plan's estimate of an onboarding's calls is within 10 % of what the
/// apply then spends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plans_estimate_matches_the_apply_within_ten_percent() {
    let n = 30;
    let dir = tempfile::tempdir().unwrap();
    let sim = account(n).await;
    let desired = portfolio(&sim, dir.path(), n);
    let store = store(dir.path());
    let prepared = plan(&desired, &store).await;
    let estimate = prepared.plan.providers[0].apply_calls;
    let report = engine::apply(&prepared, &desired, store.clone(), &engine::Stop::new()).await;
    assert!(report.ok(), "{report:?}");
    let spent = report.calls;
    assert!(
        estimate * 100 >= spent * 90 && estimate * 100 <= spent * 110,
        "estimated {estimate}, spent {spent}: {:?}",
        calls(&sim)
    );
}
