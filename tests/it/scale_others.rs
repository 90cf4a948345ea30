//! Calls at scale for ExtremeCloud, RUCKUS One and AudioCodes (issue 10): a
//! generated portfolio of N customers (and partners) against a generated
//! simulator account, through the real engine, with the exact calls per
//! endpoint of each phase — first plan, onboarding apply, second plan, second
//! apply (no writes), a targeted plan and a saved plan's re-read — checked
//! against what the fact sheet allows (`shared/vendor-apis.md` beside the project §2–4).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use mspform::address::Address;
use mspform::engine::{self, PlanOptions, Prepared, Selection};
use mspform::model::Desired;
use mspform::sim::scale::{GeneratedAccount, ruckus_partner};
use mspform::sim::{Inventory, SimOptions, Simulator};
use mspform::state::StateStore;

use crate::support::store;

/// Calls by route since `before`.
fn since(before: &BTreeMap<String, u64>, now: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    now.iter()
        .filter_map(|(route, n)| {
            let d = n - before.get(route).copied().unwrap_or(0);
            (d > 0).then(|| (route.clone(), d))
        })
        .collect()
}

/// Runs `f` and returns the calls it made to `vendor`, by route.
async fn counted<T>(
    sim: &Simulator,
    vendor: &str,
    f: impl std::future::Future<Output = T>,
) -> (T, BTreeMap<String, u64>) {
    let before = sim.calls_by_route(vendor);
    let out = f.await;
    (out, since(&before, &sim.calls_by_route(vendor)))
}

fn total(calls: &BTreeMap<String, u64>) -> u64 {
    calls.values().sum()
}

fn writes(calls: &BTreeMap<String, u64>) -> u64 {
    calls
        .iter()
        .filter(|(r, _)| !r.starts_with("GET ") && !r.contains("oauth2") && !r.contains("/query"))
        .map(|(_, n)| n)
        .sum()
}

/// The plan's estimate of the apply's calls for `provider`.
fn estimate(p: &Prepared, provider: &str) -> u64 {
    p.plan
        .providers
        .iter()
        .find(|r| r.provider == provider)
        .map(|r| r.apply_calls)
        .unwrap_or_else(|| panic!("no read of {provider}"))
}

/// The estimate is within a tenth of what the apply made.
fn close(estimate: u64, calls: &BTreeMap<String, u64>) {
    let made = total(calls);
    assert!(
        estimate * 10 >= made * 9 && estimate * 10 <= made * 11,
        "estimated {estimate}, made {made}: {calls:?}"
    );
}

async fn start(account: &GeneratedAccount) -> Simulator {
    Simulator::start(SimOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        Inventory::generated(account),
    ))
    .await
    .expect("simulator starts")
}

fn secret(dir: &Path, name: &str, value: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value).unwrap();
    path.display().to_string()
}

fn load(dir: &Path, text: String) -> Desired {
    mspform::config::load_sources(&[(dir.join("scale.toml"), text)])
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn plan_sel(desired: &Desired, store: &Arc<dyn StateStore>, sel: &Selection) -> Prepared {
    engine::plan_with(desired, store.clone(), sel, &PlanOptions::default())
        .await
        .expect("plan")
}

async fn plan_all(desired: &Desired, store: &Arc<dyn StateStore>) -> Prepared {
    plan_sel(desired, store, &Selection::default()).await
}

async fn apply(prepared: &Prepared, desired: &Desired, store: &Arc<dyn StateStore>) {
    let report = engine::apply(prepared, desired, store.clone(), &engine::Stop::new()).await;
    assert!(report.ok(), "{report:?}");
}

// ---------------------------------------------------------------- RUCKUS One

const R1_N: usize = 30;
const R1_PARTNERS: usize = 3;

fn r1_config(dir: &Path, sim: &Simulator) -> String {
    r1_config_polling(dir, sim, 10)
}

fn r1_config_polling(dir: &Path, sim: &Simulator, poll_ms: u64) -> String {
    let mut t = format!(
        "[providers.r1]\ntype = \"ruckus-one\"\nbase_url = \"{}\"\n\
         tenant_id = \"8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60\"\n\
         client_id = {{ file = \"{}\" }}\nclient_secret = {{ file = \"{}\" }}\n\
         poll_interval_ms = {poll_ms}\n\n",
        sim.base_url("ruckus"),
        secret(dir, "id", "sim-r1-client"),
        secret(dir, "secret", "sim-r1-secret"),
    );
    for i in 0..R1_N {
        t.push_str(&format!(
            "[customers.ec{i:03}]\nprovider = \"r1\"\nname = \"Scale EC {i:03}\"\n\
             address = {{ street = \"{i} Bay Rd\", city = \"Monterey\", state = \"CA\", country = \"US\", zip = \"93940\" }}\n\
             phone = \"831-555-0100\"\nservice_start = \"2026-01-01\"\nservice_end = \"2028-12-31\"\n\
             admin = {{ email = \"it@ec{i}.scale.example\" }}\n\n"
        ));
    }
    for p in 0..R1_PARTNERS {
        let (_, name, kind) = ruckus_partner(p);
        let role = if kind == "MSP_INTEGRATOR" {
            "integrator"
        } else {
            "installer"
        };
        let members: Vec<String> = (0..R1_N)
            .filter(|i| i % R1_PARTNERS == p)
            .map(|i| format!("\"ec{i:03}\""))
            .collect();
        t.push_str(&format!(
            "[partners.p{p}]\nprovider = \"r1\"\nname = \"{name}\"\nrole = \"{role}\"\ncustomers = [{}]\n\n",
            members.join(", ")
        ));
    }
    t
}

/// The refresh's minimum (§3.4–3.5): one token, one tenant query page (≤ 10 000
/// rows), the tech-partner query and one assignment read per declared partner.
fn r1_refresh(calls: &BTreeMap<String, u64>) {
    assert_eq!(calls.get("POST /oauth2/token/*"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("POST /tenants/query"), Some(&1), "{calls:?}");
    assert_eq!(
        calls.get("POST /techpartners/mspecs/query"),
        Some(&1),
        "{calls:?}"
    );
    assert_eq!(
        calls.get("GET /mspIntegrators/*"),
        Some(&(R1_PARTNERS as u64)),
        "{calls:?}"
    );
    assert_eq!(
        calls.get("GET /tenants/*"),
        None,
        "no per-tenant read: {calls:?}"
    );
    assert_eq!(total(calls), 3 + R1_PARTNERS as u64, "{calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ruckus_reads_every_tenant_in_one_query_and_batches_its_creates() {
    let sim = start(&GeneratedAccount {
        ruckus_partners: R1_PARTNERS,
        ..GeneratedAccount::default()
    })
    .await;
    sim.ruckus_switches(|s| {
        s.activity_pending_polls = 0;
        s.activity_min_ms = 0;
    });
    let dir = tempfile::tempdir().unwrap();
    let desired = load(dir.path(), r1_config(dir.path(), &sim));
    let store = store(dir.path());

    let (first, calls) = counted(&sim, "ruckus", plan_all(&desired, &store)).await;
    r1_refresh(&calls);
    assert_eq!(first.plan.actions.len(), R1_N + R1_PARTNERS);

    let ((), calls) = counted(&sim, "ruckus", apply(&first, &desired, &store)).await;
    // One POST /tenants for all 30 (≤ 100 a call), one activity read per
    // tenant and per partner assignment, one invitation per tenant, one PATCH
    // per partner.
    assert_eq!(calls.get("POST /tenants"), Some(&1), "{calls:?}");
    assert_eq!(
        calls.get("POST /tenants/*/invitations"),
        Some(&(R1_N as u64)),
        "{calls:?}"
    );
    assert_eq!(
        calls.get("PATCH /mspIntegrators/*"),
        Some(&(R1_PARTNERS as u64)),
        "{calls:?}"
    );
    let minimum = 1 + 2 * R1_N as u64 + 2 * R1_PARTNERS as u64;
    assert!(
        total(&calls) * 100 <= minimum * 110,
        "onboarding {} calls, minimum {minimum}: {calls:?}",
        total(&calls)
    );

    let (second, calls) = counted(&sim, "ruckus", plan_all(&desired, &store)).await;
    r1_refresh(&calls);
    assert!(second.plan.actions.is_empty(), "{:?}", second.plan.actions);
    let ((), calls) = counted(&sim, "ruckus", apply(&second, &desired, &store)).await;
    assert_eq!(writes(&calls), 0, "{calls:?}");

    // A target: the tenant query only (the partners are not read).
    let target = Selection::parse(&["customer.ec007".into()], &[]).unwrap();
    let (_, calls) = counted(&sim, "ruckus", plan_sel(&desired, &store, &target)).await;
    assert_eq!(total(&calls), 2, "token + one query: {calls:?}");

    // A saved plan's inputs (a customer and a partner): their reads only.
    let exact = Selection::exact([Address::customer("ec007"), Address::partner("p1")]);
    let (_, calls) = counted(&sim, "ruckus", plan_sel(&desired, &store, &exact)).await;
    assert_eq!(
        total(&calls),
        4,
        "token + tenant query + partner query + one partner read: {calls:?}"
    );
}

/// The plan's estimate against the apply, with activities that take their
/// time however often they are polled (300 ms here), polled at once, after
/// 100 ms, then doubling: the first is seen done on its fourth read, and the
/// others, read once it is known how long one takes, on their first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ruckus_estimates_its_apply_within_a_tenth() {
    let sim = start(&GeneratedAccount {
        ruckus_partners: R1_PARTNERS,
        ..GeneratedAccount::default()
    })
    .await;
    sim.ruckus_switches(|s| {
        s.activity_pending_polls = u32::MAX;
        s.activity_settle_ms = 300;
    });
    let dir = tempfile::tempdir().unwrap();
    let desired = load(dir.path(), r1_config_polling(dir.path(), &sim, 100));
    let store = store(dir.path());
    let first = plan_all(&desired, &store).await;
    let ((), calls) = counted(&sim, "ruckus", apply(&first, &desired, &store)).await;
    close(estimate(&first, "r1"), &calls);
    // One read per activity, and the first one's polls while its time was unknown.
    let activities = (R1_N + R1_PARTNERS) as u64;
    assert!(
        calls.get("GET /activities/*").copied().unwrap_or(0) <= activities + 4,
        "{calls:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ruckus_reads_a_tenant_on_its_own_only_when_its_row_lacks_a_declared_field() {
    let sim = start(&GeneratedAccount::default()).await;
    sim.ruckus_switches(|s| {
        s.activity_pending_polls = 0;
        s.activity_min_ms = 0;
    });
    let dir = tempfile::tempdir().unwrap();
    let mut text = r1_config(dir.path(), &sim);
    // Partners are beside the point here.
    text.truncate(text.find("[partners.").unwrap_or(text.len()));
    text.push_str("[customers.named]\nprovider = \"r1\"\nname = \"Only A Name\"\nadmin = { email = \"it@named.scale.example\" }\n");
    let desired = load(dir.path(), text);
    let store = store(dir.path());
    let first = plan_all(&desired, &store).await;
    apply(&first, &desired, &store).await;

    // Rows with only the documented fields: the 30 tenants declaring an
    // address and a phone are read one by one; the one declaring only its
    // name is not.
    sim.ruckus_switches(|s| s.query_rows_detailed = false);
    let (p, calls) = counted(&sim, "ruckus", plan_all(&desired, &store)).await;
    assert!(p.plan.actions.is_empty(), "{:?}", p.plan.actions);
    assert_eq!(
        calls.get("GET /tenants/*"),
        Some(&(R1_N as u64)),
        "{calls:?}"
    );
}

// -------------------------------------------------------------- ExtremeCloud

const X_N: usize = 24;
const X_PARTNERS: usize = 3;

fn x_config(dir: &Path, sim: &Simulator, partners: bool) -> String {
    let mut t = format!(
        "[providers.x]\ntype = \"extremecloud\"\nbase_url = \"{}\"\n\
         login = {{ user = \"msp-admin@example.net\", password = {{ file = \"{}\" }} }}\n\
         calls_per_second = 100\n\n",
        sim.base_url("extreme"),
        secret(dir, "password", "sim-password"),
    );
    for i in 0..X_N {
        t.push_str(&format!(
            "[customers.t{i:03}]\nprovider = \"x\"\nname = \"Scale Tenant {i:03}\"\ncountry = \"US\"\n\
             time_zone = \"America/Chicago\"\n\
             contact = {{ email = \"it@t{i}.scale.example\", name = \"IT Desk {i}\", phone = \"+1 312 555 0199\" }}\n\
             admin_user = \"admin@t{i}.scale.example\"\n\n"
        ));
    }
    if partners {
        for p in 0..X_PARTNERS {
            let (_, name) = mspform::sim::scale::extreme_partner(p);
            let members: Vec<String> = (0..X_N)
                .filter(|i| i % X_PARTNERS == p)
                .map(|i| format!("\"t{i:03}\""))
                .collect();
            t.push_str(&format!(
                "[partners.p{p}]\nprovider = \"x\"\nname = \"{name}\"\ncustomers = [{}]\n\n",
                members.join(", ")
            ));
        }
    }
    t
}

/// The refresh's minimum (§2.2, no pagination): the login, the tenant list
/// and the partner list.
fn x_refresh(calls: &BTreeMap<String, u64>) {
    assert_eq!(calls.get("GET /v1/msptenants"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("GET /v1/msppartners"), Some(&1), "{calls:?}");
    assert_eq!(total(calls), 3, "login + tenants + partners: {calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_reads_two_lists_and_puts_each_partner_once() {
    let sim = start(&GeneratedAccount {
        extreme_partners: X_PARTNERS,
        ..GeneratedAccount::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let desired = load(dir.path(), x_config(dir.path(), &sim, true));
    let store = store(dir.path());

    let (first, calls) = counted(&sim, "extreme", plan_all(&desired, &store)).await;
    x_refresh(&calls);
    assert_eq!(first.plan.actions.len(), X_N + X_PARTNERS);

    let ((), calls) = counted(&sim, "extreme", apply(&first, &desired, &store)).await;
    assert_eq!(estimate(&first, "x"), total(&calls), "the plan's estimate");
    // N creates (each answers its id), one partner list read for all the
    // partner steps, one PUT per partner.
    assert_eq!(
        calls.get("POST /v1/msptenants"),
        Some(&(X_N as u64)),
        "{calls:?}"
    );
    assert_eq!(
        calls.get("PUT /v1/msppartners/*"),
        Some(&(X_PARTNERS as u64)),
        "{calls:?}"
    );
    assert_eq!(calls.get("GET /v1/msppartners"), Some(&1), "{calls:?}");
    assert_eq!(total(&calls), (X_N + X_PARTNERS + 1) as u64, "{calls:?}");

    let (second, calls) = counted(&sim, "extreme", plan_all(&desired, &store)).await;
    x_refresh(&calls);
    assert!(second.plan.actions.is_empty(), "{:?}", second.plan.actions);
    let ((), calls) = counted(&sim, "extreme", apply(&second, &desired, &store)).await;
    assert_eq!(writes(&calls), 0, "{calls:?}");

    // A target or a saved plan's customer: the partner list is not read.
    let target = Selection::parse(&["customer.t007".into()], &[]).unwrap();
    let (p, calls) = counted(&sim, "extreme", plan_sel(&desired, &store, &target)).await;
    assert!(p.plan.actions.is_empty(), "{:?}", p.plan.actions);
    assert_eq!(calls.get("GET /v1/msppartners"), None, "{calls:?}");
    assert_eq!(total(&calls), 2, "login + tenants: {calls:?}");
    let exact = Selection::exact([Address::partner("p1")]);
    let (_, calls) = counted(&sim, "extreme", plan_sel(&desired, &store, &exact)).await;
    x_refresh(&calls);
}

// ----------------------------------------------------------------- AudioCodes

const AC_N: usize = 20;

fn ac_config(dir: &Path, sim: &Simulator) -> String {
    let url = sim.base_url("audiocodes");
    let mut t = format!(
        "[providers.voice]\ntype = \"audiocodes-live\"\nbase_url = \"{url}\"\n\
         oauth = {{ tenant_id = \"8d2f5c1e-3b7a-4c9e-a1f0-6e4b2d7c9a53\", \
         client_id = {{ file = \"{}\" }}, client_secret = {{ file = \"{}\" }}, \
         scope = \"api://c7e1a4b2-9f3d-4e8a-b6c5-2d1f0e9a8b74/.default\", \
         token_url = \"{url}/{{tenant_id}}/oauth2/v2.0/token\" }}\n\
         calls_per_second = 100\n\n",
        secret(dir, "ac-id", "5a9e2c7f-1b4d-4f6a-8e3c-9d0b7a6f5e12"),
        secret(dir, "ac-secret", "sim-ac-secret"),
    );
    for i in 0..AC_N {
        t.push_str(&format!(
            "[customers.v{i:03}]\nprovider = \"voice\"\nname = \"Scale-Voice-{i:03}\"\nshort_name = \"ScaleV{i:03}\"\n\
             customer_type = \"TENANT_TYPE\"\nms_tenant_id = \"{}\"\n\
             site = {{ sbc_id = 5, onboarding_script = 10008, cleanup_script = 10701 }}\n\
             script_parameters = {{ CacProfile = \"5 sessions\" }}\n\n",
            mspform::sim::scale::ms_tenant(i)
        ));
    }
    t
}

/// The refresh's minimum (§4.2): the token and one unpaginated list that
/// carries every customer with its site (`allDetails=true`).
fn ac_refresh(calls: &BTreeMap<String, u64>) {
    assert_eq!(calls.get("GET /api/v3/customer"), Some(&1), "{calls:?}");
    assert_eq!(total(calls), 2, "token + the list: {calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audiocodes_reads_one_list_and_creates_each_customer_once() {
    let sim = start(&GeneratedAccount {
        audiocodes_ms_tenants: AC_N,
        ..GeneratedAccount::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let desired = load(dir.path(), ac_config(dir.path(), &sim));
    let store = store(dir.path());

    let (first, calls) = counted(&sim, "audiocodes", plan_all(&desired, &store)).await;
    ac_refresh(&calls);
    assert_eq!(first.plan.actions.len(), AC_N);

    let ((), calls) = counted(&sim, "audiocodes", apply(&first, &desired, &store)).await;
    assert_eq!(
        estimate(&first, "voice"),
        total(&calls),
        "the plan's estimate"
    );
    assert_eq!(
        calls.get("POST /api/v2/customer"),
        Some(&(AC_N as u64)),
        "{calls:?}"
    );
    assert_eq!(total(&calls), AC_N as u64, "one create each: {calls:?}");

    let (second, calls) = counted(&sim, "audiocodes", plan_all(&desired, &store)).await;
    ac_refresh(&calls);
    assert!(second.plan.actions.is_empty(), "{:?}", second.plan.actions);
    let ((), calls) = counted(&sim, "audiocodes", apply(&second, &desired, &store)).await;
    assert_eq!(writes(&calls), 0, "{calls:?}");

    // One customer: the list is one call, as cheap as reading it by id.
    let target = Selection::parse(&["customer.v007".into()], &[]).unwrap();
    let (_, calls) = counted(&sim, "audiocodes", plan_sel(&desired, &store, &target)).await;
    ac_refresh(&calls);
    let exact = Selection::exact([Address::customer("v007")]);
    let (_, calls) = counted(&sim, "audiocodes", plan_sel(&desired, &store, &exact)).await;
    ac_refresh(&calls);
}
