//! The RUCKUS One client's contract with the vendor, through the real engine and
//! against the simulator: token handling, async writes, batched creates,
//! invitations, tech partners, retries, crash recovery (a run killed while an
//! activity is pending never creates twice) and tolerance of every behaviour the
//! fact sheet only assumes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mspform::address::Address;
use mspform::diff::Op;
use mspform::engine::{self, EngineError, Outcome, PlanOptions, Prepared};
use mspform::model::{Desired, SecretRef};
use mspform::sim::{FaultKind, FaultSpec, RuckusEdit, Simulator};
use mspform::state::StateStore;
use mspform::vendor::ProviderError;
use mspform::vendors::ruckus::Ruckus;
use mspform::vendors::ruckus::model::{RuckusAuth, RuckusSettings};
use serde_json::{Value, json};

use crate::support::*;

const MSP: &str = "8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60";
const LAKEVIEW: &str = "2a4c6e8f0b1d43e5a7c9e1f3b5d7f9a1";
const NORTHWIND: &str = "4b7e21d9c0a34f5e8d6c1a2b3f4e5d60";

/// An address from its text.
fn addr(text: &str) -> Address {
    text.parse().expect("an address")
}

/// Changes the RUCKUS One settings of the configuration.
fn settings(desired: &mut Desired, mut f: impl FnMut(&mut RuckusSettings)) {
    desired.edit_specs::<Ruckus>(|spec| f(&mut spec.settings));
}

/// Writes the simulator's client credentials to files (no environment needed).
fn secret(dir: &Path, name: &str, value: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, value).unwrap();
    path
}

/// The provider table pointed at `sim`, with fast polling.
fn provider_toml(sim: &Simulator, dir: &Path, timeout_secs: u64) -> String {
    format!(
        r#"[providers.r1]
type = "ruckus-one"
base_url = "{}"
tenant_id = "{MSP}"
client_id = {{ file = "{}" }}
client_secret = {{ file = "{}" }}
poll_interval_ms = 20
activity_timeout_secs = {timeout_secs}
"#,
        sim.base_url("ruckus"),
        secret(dir, "r1-id", "sim-r1-client").display(),
        secret(dir, "r1-secret", "sim-r1-secret").display(),
    )
}

fn load(sim: &Simulator, dir: &Path, customers: &str) -> Desired {
    load_with(sim, dir, customers, 10)
}

fn load_with(sim: &Simulator, dir: &Path, customers: &str, timeout_secs: u64) -> Desired {
    let text = format!("{}\n{customers}", provider_toml(sim, dir, timeout_secs));
    mspform::config::load_sources(&[(dir.join("r1.toml"), text)]).unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! harbor {
    () => {
        r#"
[customers.harbor]
provider = "r1"
name = "Harbor Clinic"
address = { street = "1 Pier Rd", city = "Monterey", state = "CA", country = "US", zip = "93940" }
phone = "831-555-0100"
tier = "GOLD"
admin = { email = "it@harbor.example", first_name = "Hal", last_name = "Bor" }
"#
    };
}

macro_rules! orchard {
    () => {
        r#"
[customers.orchard]
provider = "r1"
name = "Orchard Farms"
service_start = "2025-03-01"
service_end = "2026-03-01"
admin = { email = "ops@orchard.example" }
"#
    };
}

macro_rules! seaside {
    () => {
        r#"
[customers.seaside]
provider = "r1"
name = "Seaside Hotel"
"#
    };
}

/// Two new customers and one that exists already (adopted by name).
const PORTFOLIO: &str = concat!(harbor!(), orchard!(), seaside!());

/// A simulator whose activities complete within a few polls, rate limit on.
async fn r1_sim() -> Simulator {
    sim(false).await
}

fn ecs(sim: &Simulator) -> Vec<Value> {
    sim.dump()["ruckus"]["ecs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn ec_names(sim: &Simulator) -> Vec<String> {
    let mut names: Vec<String> = ecs(sim)
        .iter()
        .map(|e| e["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

fn ec_named(sim: &Simulator, name: &str) -> Value {
    ecs(sim)
        .into_iter()
        .find(|e| e["name"] == json!(name))
        .unwrap_or_else(|| panic!("no EC named {name}"))
}

fn invitations(sim: &Simulator) -> Vec<(String, String, bool)> {
    sim.dump()["ruckus"]["invitations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|i| {
            (
                i["tenant_id"].as_str().unwrap_or_default().to_string(),
                i["admin_email"].as_str().unwrap_or_default().to_string(),
                i["resend"].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

/// Calls that change something at RUCKUS One (the query POSTs are reads).
fn writes(sim: &Simulator) -> u64 {
    let calls = sim.dump()["calls"]["ruckus"].clone();
    calls
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| {
                    !k.starts_with("GET ") && !k.contains("/query") && !k.contains("/oauth2/")
                })
                .map(|(_, v)| v.as_u64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

fn partner_ecs(sim: &Simulator, partner: &str) -> BTreeSet<String> {
    sim.dump()["ruckus"]["delegations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|d| {
            d["partner_id"] == json!(partner)
                && matches!(d["status"].as_str(), Some("ACCEPTED" | "INVITED"))
        })
        .map(|d| d["ec_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn plan_opts(
    desired: &Desired,
    store: &Arc<dyn StateStore>,
    options: &PlanOptions,
) -> Prepared {
    engine::plan_with(desired, store.clone(), &Default::default(), options)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn apply_prepared(
    prepared: &Prepared,
    desired: &Desired,
    store: &Arc<dyn StateStore>,
) -> engine::ApplyReport {
    engine::apply(
        prepared,
        desired,
        store.clone(),
        &mspform::engine::Stop::new(),
    )
    .await
}

fn assert_ok(report: &engine::ApplyReport) {
    assert!(report.ok(), "{:#?}", report.steps);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_read_update_delete_round_trip() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let store = store(dir.path());

    let p = plan(&desired, &store).await;
    let ops: Vec<(String, Op)> = p
        .plan
        .actions
        .iter()
        .map(|a| (a.address.to_string(), a.op))
        .collect();
    assert_eq!(
        ops,
        [
            ("customer.harbor".to_string(), Op::Create),
            ("customer.orchard".to_string(), Op::Create),
            ("customer.seaside".to_string(), Op::Adopt),
        ]
    );
    let unmanaged: Vec<String> = p
        .plan
        .unmanaged
        .iter()
        .map(|u| u.address.to_string())
        .collect();
    assert_eq!(unmanaged, ["customer[\"Lakeview School\"]"]);
    let report = apply_prepared(&p, &desired, &store).await;
    assert_ok(&report);
    assert_eq!(
        sim.calls("ruckus", "POST /tenants"),
        1,
        "one batch for both creates"
    );
    assert_eq!(
        ec_names(&sim),
        [
            "Harbor Clinic",
            "Lakeview School",
            "Orchard Farms",
            "Seaside Hotel"
        ]
    );
    let harbor = ec_named(&sim, "Harbor Clinic");
    assert_eq!(harbor["city"], json!("Monterey"));
    assert_eq!(harbor["tier"], json!("GOLD"));
    assert_eq!(harbor["admin_firstname"], json!("Hal"));
    let orchard = ec_named(&sim, "Orchard Farms");
    assert_eq!(
        orchard["service_effective_date"],
        json!("2025-03-01 00:00:00Z")
    );
    // One invitation per created tenant, none for the adopted one.
    let mut sent = invitations(&sim);
    sent.sort();
    let mut want = vec![
        (
            harbor["tenant_id"].as_str().unwrap().to_string(),
            "it@harbor.example".to_string(),
            false,
        ),
        (
            orchard["tenant_id"].as_str().unwrap().to_string(),
            "ops@orchard.example".to_string(),
            false,
        ),
    ];
    want.sort();
    assert_eq!(sent, want);
    let record = store.get_owned("customer.harbor").unwrap().unwrap();
    assert_eq!(record.origin, "created");
    assert_eq!(record.facts["invited"], json!("it@harbor.example"));
    assert!(!record.facts.contains_key("request_id"));
    assert!(
        mspform::state::pending(store.as_ref()).unwrap().is_empty(),
        "journal settled"
    );

    // Second plan: nothing; second apply: not one write.
    let before = writes(&sim);
    let p = plan(&desired, &store).await;
    assert!(!p.plan.has_changes(), "{:#?}", p.plan.actions);
    assert_ok(&apply_prepared(&p, &desired, &store).await);
    assert_eq!(writes(&sim), before);
    assert_eq!(invitations(&sim).len(), 2);

    // Update: a declared field changes; the rest of the tenant is kept.
    let changed = load(
        &sim,
        dir.path(),
        &PORTFOLIO.replace("831-555-0100", "831-555-0199"),
    );
    let p = plan(&changed, &store).await;
    assert_eq!(p.plan.actions.len(), 1);
    assert_eq!(p.plan.actions[0].op, Op::Update);
    assert_eq!(p.plan.actions[0].changes[0].field, "phone");
    assert_ok(&apply_prepared(&p, &changed, &store).await);
    let harbor = ec_named(&sim, "Harbor Clinic");
    assert_eq!(harbor["phone_number"], json!("831-555-0199"));
    assert_eq!(
        harbor["city"],
        json!("Monterey"),
        "undeclared-in-this-change fields survive a replacing PUT"
    );
    let seaside = ec_named(&sim, "Seaside Hotel");
    assert_eq!(
        seaside["phone_number"],
        json!("650-123-4567"),
        "other tenants untouched"
    );
    assert!(!plan(&changed, &store).await.plan.has_changes());

    // Delete: an owned customer no longer declared.
    let without = load(
        &sim,
        dir.path(),
        &format!(
            "{}{}",
            harbor!().replace("831-555-0100", "831-555-0199"),
            seaside!()
        ),
    );
    let p = plan(&without, &store).await;
    let ops: Vec<(String, Op)> = p
        .plan
        .actions
        .iter()
        .map(|a| (a.address.to_string(), a.op))
        .collect();
    assert_eq!(ops, [("customer.orchard".to_string(), Op::Delete)]);
    assert_ok(&apply_prepared(&p, &without, &store).await);
    assert_eq!(
        ec_names(&sim),
        ["Harbor Clinic", "Lakeview School", "Seaside Hotel"]
    );
    assert!(store.get_owned("customer.orchard").unwrap().is_none());
    assert!(!plan(&without, &store).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_requested_once_and_again_after_a_401() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let store = store(dir.path());
    let token_route = "POST /oauth2/token/*";
    let p = plan(&desired, &store).await;
    assert_eq!(sim.calls("ruckus", token_route), 1);
    assert_ok(&apply_prepared(&p, &desired, &store).await);
    assert_eq!(
        sim.calls("ruckus", token_route),
        1,
        "cached across plan and apply"
    );

    // The vendor expires it (its clock moved on): one 401, one new token, carry on.
    sim.advance_clock(3601);
    let p = plan(&desired, &store).await;
    assert!(!p.plan.has_changes());
    assert_eq!(sim.calls("ruckus", token_route), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_are_an_auth_error_that_names_no_secret() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = load(&sim, dir.path(), PORTFOLIO);
    let wrong = secret(dir.path(), "wrong", "not-the-secret-xyz");
    settings(&mut desired, |s| {
        s.auth = RuckusAuth::ClientCredentials {
            client_id: SecretRef::File(dir.path().join("r1-id")),
            client_secret: SecretRef::File(wrong.clone()),
        };
    });
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
        text.contains("401") && text.contains("/oauth2/token/"),
        "{text}"
    );
    assert!(!text.contains("not-the-secret-xyz"), "{text}");

    // A static token the vendor rejects: no renewal possible, same kind of error.
    settings(&mut desired, |s| {
        s.auth = RuckusAuth::Token(SecretRef::File(wrong.clone()));
    });
    let err = engine::plan(&desired, store(dir.path()), &Default::default())
        .await
        .err()
        .expect("fails");
    let text = err.to_string();
    assert!(
        text.contains("HTTP 401") && !text.contains("not-the-secret-xyz"),
        "{text}"
    );
    assert_eq!(writes(&sim), 0, "nothing was written");
}

fn fault(route: &str, kind: FaultKind, count: u32) -> FaultSpec {
    FaultSpec {
        vendor: "ruckus".into(),
        route: route.into(),
        kind,
        count: Some(count),
        rate: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_429s_on_reads_are_retried_and_a_failed_read_is_never_empty() {
    let sim = r1_sim().await;
    // Rows without the view's fields: a tenant declaring one is read on its own.
    sim.ruckus_switches(|s| s.query_rows_detailed = false);
    let dir = tempfile::tempdir().unwrap();
    let desired = load(
        &sim,
        dir.path(),
        concat!(harbor!(), orchard!(), seaside!(), "tier = \"GOLD\"\n"),
    );
    let store = store(dir.path());
    sim.inject_fault(fault(
        "POST /tenants/query",
        FaultKind::Status { status: 502 },
        2,
    ));
    sim.inject_fault(fault("GET /tenants/*", FaultKind::RateLimitSecond, 1));
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.actions.len(), 3);
    assert_eq!(p.parts[0].client.rate_limited(), 1);
    assert_eq!(sim.calls("ruckus", "POST /tenants/query"), 3, "two retries");

    sim.inject_fault(FaultSpec {
        vendor: "ruckus".into(),
        route: "POST /tenants/query".into(),
        kind: FaultKind::Status { status: 500 },
        count: None,
        rate: None,
    });
    let err = engine::plan(&desired, store.clone(), &Default::default())
        .await
        .err()
        .expect("fails");
    let text = err.to_string();
    assert!(
        text.contains("POST /tenants/query answered HTTP 500"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_create_answer_is_found_by_name_and_never_posted_twice() {
    let sim = r1_sim().await;
    // The vendor would take a second tenant of the same name.
    sim.ruckus_switches(|s| s.duplicate_names = mspform::sim::ruckus::DuplicateNames::Allow);
    let dir = tempfile::tempdir().unwrap();
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let store = store(dir.path());
    sim.inject_fault(fault("POST /tenants", FaultKind::DropAfterCommit, 1));
    let report = apply(&desired, &store).await;
    assert_ok(&report);
    assert_eq!(sim.faults_fired("ruckus", "POST /tenants"), 1);
    assert_eq!(sim.calls("ruckus", "POST /tenants"), 1);
    assert_eq!(
        ec_names(&sim),
        [
            "Harbor Clinic",
            "Lakeview School",
            "Orchard Farms",
            "Seaside Hotel"
        ]
    );
    assert_eq!(
        invitations(&sim).len(),
        2,
        "created tenants still get their invitation"
    );
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_off_while_the_activity_is_pending_resumes_it_next_time() {
    let sim = r1_sim().await;
    // Activities complete only by polling, and only after many polls; the vendor
    // would even accept a second tenant of the same name.
    sim.ruckus_switches(|s| {
        s.activity_settle_ms = 0;
        s.activity_pending_polls = 1000;
        s.duplicate_names = mspform::sim::ruckus::DuplicateNames::Allow;
    });
    let dir = tempfile::tempdir().unwrap();
    let short = load_with(&sim, dir.path(), PORTFOLIO, 1);
    let store = store(dir.path());
    let report = apply(&short, &store).await;
    assert!(!report.ok());
    let text = format!("{:?}", report.actions[&addr("customer.harbor")]);
    assert!(
        text.contains("still") && text.contains("re-run apply"),
        "{text}"
    );
    assert!(
        ec_names(&sim).len() == 2,
        "nothing created yet: {:?}",
        ec_names(&sim)
    );
    let record = store
        .get_owned("customer.harbor")
        .unwrap()
        .expect("owned before the activity ended");
    assert!(record.facts.contains_key("request_id"));
    let open = mspform::state::pending(store.as_ref()).unwrap();
    assert_eq!(open.len(), 2, "{open:#?}");
    assert!(open.iter().all(|(_, e)| {
        e.detail
            .as_deref()
            .unwrap_or_default()
            .contains("request_id")
    }));

    // Next run: the plan still says create (the tenant is not visible), the apply
    // polls the same activity instead of posting.
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.summary.create, 2);
    sim.ruckus_switches(|s| s.activity_pending_polls = 0);
    let report = apply_prepared(&p, &desired, &store).await;
    assert_ok(&report);
    assert_eq!(
        sim.calls("ruckus", "POST /tenants"),
        1,
        "never posted again"
    );
    assert_eq!(
        ec_names(&sim),
        [
            "Harbor Clinic",
            "Lakeview School",
            "Orchard Farms",
            "Seaside Hotel"
        ]
    );
    assert_eq!(invitations(&sim).len(), 2);
    assert!(!plan(&desired, &store).await.plan.has_changes());
    assert!(mspform::state::pending(store.as_ref()).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_finished_while_nobody_watched_is_owned_and_its_admin_invited() {
    let sim = r1_sim().await;
    sim.ruckus_switches(|s| {
        s.activity_settle_ms = 0;
        s.activity_pending_polls = 1000;
    });
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    assert!(
        !apply(&load_with(&sim, dir.path(), PORTFOLIO, 1), &store)
            .await
            .ok()
    );
    // The vendor finishes the activities later (here: at the next look).
    sim.ruckus_switches(|s| s.activity_pending_polls = 0);
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let p = plan(&desired, &store).await;
    let ops: Vec<(String, Op)> = p
        .plan
        .actions
        .iter()
        .map(|a| (a.address.to_string(), a.op))
        .collect();
    assert_eq!(
        ops,
        [
            ("customer.harbor".to_string(), Op::Update),
            ("customer.orchard".to_string(), Op::Update),
        ],
        "owned already; only the invitation is missing"
    );
    assert_eq!(p.plan.actions[0].changes[0].field, "admin_email");
    assert_ok(&apply_prepared(&p, &desired, &store).await);
    assert_eq!(sim.calls("ruckus", "POST /tenants"), 1);
    assert_eq!(invitations(&sim).len(), 2);
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_activity_fails_its_customer_only_and_the_next_run_creates_it() {
    let sim = r1_sim().await;
    sim.ruckus_edit(RuckusEdit::FailNextActivities {
        count: 1,
        use_case: Some("ADD_MSP_EC".into()),
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let store = store(dir.path());
    let report = apply(&desired, &store).await;
    let Outcome::Failed(why) = &report.actions[&addr("customer.harbor")] else {
        panic!("{report:#?}")
    };
    assert!(
        why.contains("customer.harbor") && why.contains("FAIL") && why.contains("injected"),
        "{why}"
    );
    assert_eq!(report.actions[&addr("customer.orchard")], Outcome::Done);
    assert_eq!(report.actions[&addr("customer.seaside")], Outcome::Done);
    assert!(store.get_owned("customer.harbor").unwrap().is_none());
    assert!(mspform::state::pending(store.as_ref()).unwrap().is_empty());

    assert_ok(&apply(&desired, &store).await);
    assert_eq!(
        ec_names(&sim),
        [
            "Harbor Clinic",
            "Lakeview School",
            "Orchard Farms",
            "Seaside Hotel"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refused_tenant_does_not_sink_its_batch() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    // The simulator requires admin_email on create [assumed]; one customer has none.
    let text =
        format!("{PORTFOLIO}\n[customers.noadmin]\nprovider = \"r1\"\nname = \"No Admin Inc\"\n");
    let desired = load(&sim, dir.path(), &text);
    let store = store(dir.path());
    let report = apply(&desired, &store).await;
    let Outcome::Failed(why) = &report.actions[&addr("customer.noadmin")] else {
        panic!("{report:#?}")
    };
    assert!(
        why.contains("POST /tenants answered HTTP 400") && why.contains("admin_email"),
        "{why}"
    );
    assert_eq!(report.actions[&addr("customer.harbor")], Outcome::Done);
    assert_eq!(report.actions[&addr("customer.orchard")], Outcome::Done);
    assert_eq!(
        sim.calls("ruckus", "POST /tenants"),
        4,
        "the batch, then one by one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_band_edits_show_in_the_plan_and_a_vanished_tenant_is_recreated() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let store = store(dir.path());
    assert_ok(&apply(&desired, &store).await);
    sim.ruckus_edit(RuckusEdit::EcField {
        tenant: "Harbor Clinic".into(),
        field: "city".into(),
        value: json!("Carmel"),
    })
    .unwrap();
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.actions.len(), 1);
    let c = &p.plan.actions[0].changes[0];
    assert_eq!(
        (c.field.as_str(), &c.before, &c.after),
        ("city", &json!("Carmel"), &json!("Monterey"))
    );

    // Deleted in the portal: planned as a create again (state's id is stale).
    sim.ruckus_edit(RuckusEdit::DeleteEc {
        tenant: "Orchard Farms".into(),
    })
    .unwrap();
    let p = plan(&desired, &store).await;
    assert!(
        p.plan
            .actions
            .iter()
            .any(|a| a.address == "customer.orchard" && a.op == Op::Create)
    );
    assert_ok(&apply_prepared(&p, &desired, &store).await);
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_a_tenant_that_vanished_after_the_plan_fail_by_name_and_status() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let store = store(dir.path());
    assert_ok(&apply(&desired, &store).await);
    let changed = load(
        &sim,
        dir.path(),
        &PORTFOLIO.replace("831-555-0100", "831-555-0111"),
    );
    let p = plan(&changed, &store).await;
    sim.ruckus_edit(RuckusEdit::DeleteEc {
        tenant: "Harbor Clinic".into(),
    })
    .unwrap();
    let report = apply_prepared(&p, &changed, &store).await;
    let Outcome::Failed(why) = &report.actions[&addr("customer.harbor")] else {
        panic!("{report:#?}")
    };
    assert!(
        why.contains("PUT /tenants/") && why.contains("404"),
        "{why}"
    );

    // A delete of a tenant already gone is done, not an error.
    let without = load(&sim, dir.path(), "");
    let p = plan(&without, &store).await;
    sim.ruckus_edit(RuckusEdit::DeleteEc {
        tenant: "Orchard Farms".into(),
    })
    .unwrap();
    let report = apply_prepared(&p, &without, &store).await;
    assert_eq!(
        report.actions[&addr("customer.orchard")],
        Outcome::Done,
        "{report:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_invitation_posts_once_with_resend_true() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let store = store(dir.path());
    assert_ok(&apply(&desired, &store).await);
    let options = PlanOptions {
        resend_invitations: BTreeSet::from([addr("customer.harbor")]),
        ..Default::default()
    };
    let p = plan_opts(&desired, &store, &options).await;
    assert_eq!(p.plan.actions.len(), 1);
    assert_eq!(p.plan.actions[0].changes[0].field, "invitation");
    assert_ok(&apply_prepared(&p, &desired, &store).await);
    let resent: Vec<_> = invitations(&sim).into_iter().filter(|i| i.2).collect();
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].1, "it@harbor.example");
    assert!(!plan(&desired, &store).await.plan.has_changes());

    // A changed administrator gets one invitation to the new address.
    let changed = load(
        &sim,
        dir.path(),
        &PORTFOLIO.replace("it@harbor.example", "new-it@harbor.example"),
    );
    let p = plan(&changed, &store).await;
    assert_eq!(p.plan.actions[0].changes[0].field, "admin_email");
    assert_ok(&apply_prepared(&p, &changed, &store).await);
    assert_eq!(invitations(&sim).last().unwrap().1, "new-it@harbor.example");
    assert_eq!(invitations(&sim).len(), 4);

    // Asking to resend to a customer with no administrator is a plan error.
    let options = PlanOptions {
        resend_invitations: BTreeSet::from([addr("customer.seaside")]),
        ..Default::default()
    };
    let err = engine::plan_with(&changed, store.clone(), &Default::default(), &options)
        .await
        .err()
        .expect("plan error");
    assert!(
        err.to_string()
            .contains("customer.seaside: an invitation can only be sent again"),
        "{err}"
    );
}

const PARTNERS: &str = r#"
[partners.northwind]
provider = "r1"
name = "Northwind Integration"
role = "integrator"
customers = ["harbor"]

[partners.bluebird]
provider = "r1"
name = "Bluebird Installers"
customers = ["harbor", "orchard"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tech_partners_get_exactly_the_declared_customers_and_keep_the_others() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    // Lakeview (not declared) sits with Northwind too: it stays there.
    sim.ruckus_edit(RuckusEdit::AddToTechPartner {
        tenant: "Lakeview School".into(),
        tech_partner: "Northwind Integration".into(),
        status: None,
    })
    .unwrap();
    let desired = load(&sim, dir.path(), &format!("{PORTFOLIO}{PARTNERS}"));
    let store = store(dir.path());
    let p = plan(&desired, &store).await;
    let notes: Vec<String> = p
        .plan
        .unmanaged
        .iter()
        .map(|u| u.address.to_string())
        .collect();
    assert!(
        notes.contains(&"partner.northwind/customer[\"Lakeview School\"]".to_string()),
        "{notes:?}"
    );
    let nw = p
        .plan
        .actions
        .iter()
        .find(|a| a.address == "partner.northwind")
        .unwrap();
    assert_eq!(nw.op, Op::Adopt);
    // Seaside (declared, with Northwind in the portal) is taken away: it is not in the list.
    assert_eq!(nw.changes[0].before, json!(["seaside"]));
    assert_eq!(nw.changes[0].after, json!(["harbor"]));
    assert_ok(&apply_prepared(&p, &desired, &store).await);
    let harbor = ec_named(&sim, "Harbor Clinic")["tenant_id"]
        .as_str()
        .unwrap()
        .to_string();
    let orchard = ec_named(&sim, "Orchard Farms")["tenant_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        partner_ecs(&sim, NORTHWIND),
        BTreeSet::from([harbor.clone(), LAKEVIEW.to_string()])
    );
    assert_eq!(
        partner_ecs(&sim, "9a3c5e7f1b2d4a6c8e0f1a2b3c4d5e61"),
        BTreeSet::from([harbor.clone(), orchard])
    );
    let before = writes(&sim);
    assert!(!plan(&desired, &store).await.plan.has_changes());
    assert_eq!(writes(&sim), before);

    // Out of band: someone removes Harbor from Northwind; the plan puts it back.
    sim.ruckus_edit(RuckusEdit::RemoveFromTechPartner {
        tenant: "Harbor Clinic".into(),
        tech_partner: "Northwind Integration".into(),
    })
    .unwrap();
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.actions.len(), 1);
    assert_eq!(p.plan.actions[0].op, Op::Update);
    assert_ok(&apply_prepared(&p, &desired, &store).await);
    assert!(partner_ecs(&sim, NORTHWIND).contains(&harbor));

    // The partner block removed: mspform's customers leave, Lakeview stays.
    let no_partner = load(&sim, dir.path(), PORTFOLIO);
    let p = plan(&no_partner, &store).await;
    let ops: Vec<(String, Op)> = p
        .plan
        .actions
        .iter()
        .map(|a| (a.address.to_string(), a.op))
        .collect();
    assert_eq!(
        ops,
        [
            ("partner.bluebird".to_string(), Op::Delete),
            ("partner.northwind".to_string(), Op::Delete)
        ]
    );
    assert_ok(&apply_prepared(&p, &no_partner, &store).await);
    assert_eq!(
        partner_ecs(&sim, NORTHWIND),
        BTreeSet::from([LAKEVIEW.to_string()])
    );
    assert!(store.get_owned("partner.northwind").unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_tech_partner_is_a_plan_error_without_writes() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{PORTFOLIO}\n[partners.x]\nprovider = \"r1\"\nname = \"Nobody Ltd\"\ncustomers = [\"harbor\"]\n"
    );
    let desired = load(&sim, dir.path(), &text);
    let err = engine::plan(&desired, store(dir.path()), &Default::default())
        .await
        .err()
        .expect("plan error");
    let text = err.to_string();
    assert!(
        text.contains("partner.x: no RUCKUS One tech partner is named \"Nobody Ltd\""),
        "{text}"
    );
    assert!(
        text.contains("Northwind Integration"),
        "lists the known ones: {text}"
    );
    assert_eq!(writes(&sim), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_assumed_alternative_is_tolerated() {
    let sim = r1_sim().await;
    sim.ruckus_switches(|s| {
        s.query_total_key = mspform::sim::ruckus::TotalKey::Total;
        s.query_page_base = 1;
        s.query_max_page_size = 1;
        s.query_rows_detailed = false;
        s.numbers_in_string_fields = true;
        s.is_active_as_string = true;
        s.delete_status = 202;
        s.update_semantics = mspform::sim::ruckus::UpdateSemantics::Merge;
        s.error_format = mspform::sim::ruckus::ErrorFormat::B;
        s.token_expires_in = false;
        s.token_format = mspform::sim::ruckus::TokenFormat::Opaque;
        s.activity_pending_statuses = vec!["IN_PROGRESS".into(), "QUEUED".into()];
        s.activity_pending_polls = 3;
        s.new_delegation_status = mspform::sim::ruckus::NewDelegationStatus::Invited;
    });
    let dir = tempfile::tempdir().unwrap();
    let numeric = PORTFOLIO
        .replace("1 Pier Rd", "350")
        .replace("831-555-0100", "8315550100");
    let desired = load(&sim, dir.path(), &format!("{numeric}{PARTNERS}"));
    let store = store(dir.path());
    assert_ok(&apply(&desired, &store).await);
    assert_eq!(
        ec_names(&sim),
        [
            "Harbor Clinic",
            "Lakeview School",
            "Orchard Farms",
            "Seaside Hotel"
        ]
    );
    let p = plan(&desired, &store).await;
    assert!(!p.plan.has_changes(), "{:#?}", p.plan.actions);
    assert!(
        sim.calls("ruckus", "POST /tenants/query") >= 5,
        "paged one row at a time"
    );

    let without = load(&sim, dir.path(), "");
    assert_ok(&apply(&without, &store).await);
    assert_eq!(
        ec_names(&sim),
        ["Lakeview School"],
        "the adopted one is owned too"
    );
    assert!(!plan(&without, &store).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_query_endpoint_the_legacy_list_is_read() {
    let sim = r1_sim().await;
    sim.inject_fault(FaultSpec {
        vendor: "ruckus".into(),
        route: "POST /tenants/query".into(),
        kind: FaultKind::Status { status: 404 },
        count: None,
        rate: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let store = store(dir.path());
    assert_ok(&apply(&desired, &store).await);
    assert_eq!(
        sim.calls("ruckus", "GET /mspCustomers"),
        1,
        "the plan read the legacy list once"
    );
    assert_eq!(sim.faults_fired("ruckus", "POST /tenants/query"), 1);
    assert_eq!(
        sim.calls("ruckus", "GET /tenants/*"),
        0,
        "the legacy list has the full views"
    );
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

/// Six more tenants beside the portfolio's, each with an administrator.
fn more_tenants() -> String {
    (0..6)
        .map(|i| {
            format!(
                "[customers.more{i}]\nprovider = \"r1\"\nname = \"More Tenant {i}\"\n\
                 admin = {{ email = \"it@more{i}.example\" }}\n"
            )
        })
        .collect()
}

/// `mspform apply` as a child process, killed with SIGKILL while the create
/// activities of a batch of eight are still pending (their steps run side by
/// side: the first activity is polled, the others wait to learn how long one
/// takes); the next apply must not create again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_an_activity_is_pending_then_apply_again_creates_nothing_twice() {
    let sim = r1_sim().await;
    sim.ruckus_switches(|s| {
        s.activity_settle_ms = 0;
        s.activity_pending_polls = 1_000_000;
        s.duplicate_names = mspform::sim::ruckus::DuplicateNames::Allow;
    });
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("r1.toml"),
        format!(
            "{}\n{PORTFOLIO}\n{}",
            provider_toml(&sim, dir.path(), 600),
            more_tenants()
        ),
    )
    .unwrap();
    let state = dir.path().join("state");
    let bin = env!("CARGO_BIN_EXE_mspform");
    let mut child = Command::new(bin)
        .args([
            "-c",
            &conf.display().to_string(),
            "--state",
            &state.display().to_string(),
            "apply",
            "--auto-approve",
        ])
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once the first activity has been polled a few times.
    let start = Instant::now();
    while sim.calls("ruckus", "GET /activities/*") < 3 && start.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed, not finished: {status:?}");
    assert_eq!(
        sim.calls("ruckus", "POST /tenants"),
        1,
        "the batch went out before the kill"
    );
    let polled = sim.ruckus_activity_polls();
    assert_eq!(polled.len(), 8, "one activity per tenant: {polled:?}");
    assert_eq!(
        polled.values().filter(|n| **n > 0).count(),
        1,
        "only the first is polled while its time is unknown: {polled:?}"
    );
    assert_eq!(ec_names(&sim).len(), 2, "still pending");

    sim.ruckus_switches(|s| s.activity_pending_polls = 2);
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args([
                "-c",
                &conf.display().to_string(),
                "--state",
                &state.display().to_string(),
                "apply",
                "--auto-approve",
            ])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sim.calls("ruckus", "POST /tenants"), 1, "no second create");
    assert_eq!(
        ec_names(&sim),
        [
            "Harbor Clinic",
            "Lakeview School",
            "More Tenant 0",
            "More Tenant 1",
            "More Tenant 2",
            "More Tenant 3",
            "More Tenant 4",
            "More Tenant 5",
            "Orchard Farms",
            "Seaside Hotel"
        ]
    );
    assert_eq!(
        invitations(&sim).len(),
        8,
        "one each: {:?}",
        invitations(&sim)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exclusive_account_deletes_tenants_nobody_declared() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = load(&sim, dir.path(), seaside!());
    for p in desired.providers.values_mut() {
        p.ownership = mspform::model::Ownership::Exclusive;
    }
    let store = store(dir.path());
    let p = plan(&desired, &store).await;
    let ops: Vec<(String, Op)> = p
        .plan
        .actions
        .iter()
        .map(|a| (a.address.to_string(), a.op))
        .collect();
    assert_eq!(
        ops,
        [
            ("customer.seaside".to_string(), Op::Adopt),
            ("customer[\"Lakeview School\"]".to_string(), Op::Delete),
        ]
    );
    assert_ok(&apply_prepared(&p, &desired, &store).await);
    assert_eq!(ec_names(&sim), ["Seaside Hotel"]);
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_paces_itself_to_the_vendor_bucket_and_waits_out_429s() {
    let sim = r1_sim().await;
    sim.ruckus_switches(|s| {
        s.rate_bucket_max = 8;
        s.rate_refill_per_sec = 8;
    });
    let dir = tempfile::tempdir().unwrap();
    let mut desired = load(&sim, dir.path(), &format!("{PORTFOLIO}{PARTNERS}"));
    settings(&mut desired, |s| {
        s.burst = 8;
        s.calls_per_second = 8;
    });
    let store = store(dir.path());
    let report = apply(&desired, &store).await;
    assert_ok(&report);
    let p = plan(&desired, &store).await;
    assert!(!p.plan.has_changes());
    assert_eq!(p.parts[0].client.rate_limited(), 0, "paced: never refused");

    // A client allowed more than the bucket holds gets 429s and waits them out.
    settings(&mut desired, |s| {
        s.burst = 200;
        s.calls_per_second = 100;
    });
    sim.ruckus_switches(|s| {
        s.rate_bucket_max = 2;
        s.rate_refill_per_sec = 4;
    });
    let without = {
        let mut d = load(&sim, dir.path(), "");
        d.providers = desired.providers.clone();
        d
    };
    let p = plan(&without, &store).await;
    let report = apply_prepared(&p, &without, &store).await;
    assert_ok(&report);
    assert!(
        p.parts[0].client.rate_limited() > 0,
        "the vendor refused some calls"
    );
    assert_eq!(ec_names(&sim), ["Lakeview School"]);
}

/// A create whose answer was lost and whose tenant did not show up in time: the
/// run fails for it, and the next run finds it by name instead of posting again.
/// The simulated clock stands still: the activities complete only once a test
/// advances it by 3 s.
async fn unanswered_create(sim: &Simulator, dir: &Path, store: &Arc<dyn StateStore>) {
    sim.freeze_clock();
    sim.ruckus_switches(|s| {
        s.activity_settle_ms = 3000;
        s.activity_pending_polls = 1000;
    });
    sim.inject_fault(fault("POST /tenants", FaultKind::DropAfterCommit, 1));
    let report = apply(&load_with(sim, dir, PORTFOLIO, 1), store).await;
    let Outcome::Failed(why) = &report.actions[&addr("customer.harbor")] else {
        panic!("{report:#?}")
    };
    assert!(why.contains("may or may not have created it"), "{why}");
    assert_eq!(sim.faults_fired("ruckus", "POST /tenants"), 1);
    let open = mspform::state::pending(store.as_ref()).unwrap();
    assert_eq!(open.len(), 2);
    assert!(open.iter().all(|(_, e)| e.detail.is_none()), "{open:#?}");
    assert!(store.get_owned("customer.harbor").unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_create_found_later_is_owned_as_created_and_invited() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    unanswered_create(&sim, dir.path(), &store).await;
    sim.advance_clock(3);
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.summary.adopt, 2, "visible by name now");
    assert_ok(&apply_prepared(&p, &desired, &store).await);
    assert_eq!(sim.calls("ruckus", "POST /tenants"), 1);
    let record = store.get_owned("customer.harbor").unwrap().unwrap();
    assert_eq!(record.origin, "created");
    assert_eq!(
        invitations(&sim).len(),
        2,
        "its administrator was still owed an invitation"
    );
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_create_still_running_is_waited_for_not_posted_again() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    unanswered_create(&sim, dir.path(), &store).await;
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.summary.create, 2, "not visible yet");
    // The activities complete while the apply is looking for the tenants: once
    // it has looked at least once (and found nothing, the clock standing still).
    let looked = || sim.calls("ruckus", "POST /tenants/query");
    let before = looked();
    let applying = apply_prepared(&p, &desired, &store);
    let complete = async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while looked() == before && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        sim.advance_clock(3);
    };
    let (report, ()) = tokio::join!(applying, complete);
    assert_ok(&report);
    assert!(
        looked() >= before + 2,
        "looked, then looked again: {} lookups",
        looked() - before
    );
    assert_eq!(
        sim.calls("ruckus", "POST /tenants"),
        1,
        "found by name, never posted again"
    );
    assert_eq!(
        ec_names(&sim),
        [
            "Harbor Clinic",
            "Lakeview School",
            "Orchard Farms",
            "Seaside Hotel"
        ]
    );
    assert_eq!(invitations(&sim).len(), 2);
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

/// Ctrl-C during an apply also cuts short the wait for a pending activity: the
/// apply returns at once instead of after `activity_timeout_secs`, and the next
/// run resumes the same activity (nothing posted twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_waiting_for_an_activity_and_the_next_run_resumes_it() {
    let sim = r1_sim().await;
    sim.ruckus_switches(|s| {
        s.activity_settle_ms = 0;
        s.activity_pending_polls = 1000;
    });
    let dir = tempfile::tempdir().unwrap();
    // The activities outlast the apply's patience (a minute): only the interrupt
    // can end the wait with "interrupted" (a timeout says "still").
    let desired = load_with(&sim, dir.path(), PORTFOLIO, 60);
    let store = store(dir.path());
    let prepared = plan(&desired, &store).await;
    let stop = mspform::engine::Stop::new();
    let polls = || sim.calls("ruckus", "GET /activities/*");
    let applying = engine::apply(&prepared, &desired, store.clone(), &stop);
    // Ctrl-C once the apply is waiting for an activity (it has polled one).
    let interrupt = async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while polls() == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        stop.stop();
    };
    let (report, ()) = tokio::join!(applying, interrupt);
    assert!(polls() > 0, "the apply waited for an activity");
    let text = format!("{:?}", report.actions[&addr("customer.harbor")]);
    assert!(
        text.contains("interrupted while activity") && text.contains("still"),
        "{text}"
    );
    assert!(report.interrupted, "{report:#?}");
    assert_eq!(sim.calls("ruckus", "POST /tenants"), 1);

    sim.ruckus_switches(|s| s.activity_pending_polls = 0);
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let report = apply(&desired, &store).await;
    assert_ok(&report);
    assert_eq!(
        sim.calls("ruckus", "POST /tenants"),
        1,
        "never posted again"
    );
}

/// Issue 7, item 2: the token request is safe to repeat, so a 5xx, a dropped
/// connection or a 429 on it is retried like a read and the plan goes on. (That
/// the other vendors still plan is in `availability`, with the mixed portfolio.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_500_or_dropped_connection_is_retried_and_the_plan_goes_on() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let store = store(dir.path());
    let token_route = "POST /oauth2/token/*";
    sim.inject_fault(fault(token_route, FaultKind::Status { status: 500 }, 1));
    sim.inject_fault(fault(token_route, FaultKind::DropAfterCommit, 1));
    sim.inject_fault(fault(token_route, FaultKind::Status { status: 503 }, 1));
    sim.inject_fault(fault(token_route, FaultKind::RateLimitSecond, 1));
    let p = plan(&desired, &store).await;
    assert_eq!(
        sim.calls("ruckus", token_route),
        5,
        "four failures, then a token"
    );
    assert_eq!(sim.faults_fired("ruckus", token_route), 4);
    assert!(
        p.plan
            .actions
            .iter()
            .any(|a| a.provider == "r1" && a.op == Op::Create),
        "{:#?}",
        p.plan.actions
    );
}

/// A token endpoint that keeps failing: a bounded number of attempts, then an
/// error naming the vendor, the call and the status, and no secret; refused
/// credentials (401) are not retried at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_token_500_is_an_error_naming_vendor_call_and_status() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let token_route = "POST /oauth2/token/*";
    sim.inject_fault(FaultSpec {
        vendor: "ruckus".into(),
        route: token_route.into(),
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
        text.starts_with(&format!(
            "r1: POST /ruckus/oauth2/token/{MSP} answered HTTP 500"
        )),
        "{text}"
    );
    assert!(!text.contains("sim-r1-secret"), "{text}");
    assert_eq!(
        sim.calls("ruckus", token_route),
        5,
        "one try and four retries"
    );
    assert_eq!(sim.calls("ruckus", "POST /tenants/query"), 0);

    sim.clear_faults();
    sim.ruckus_switches(|s| s.token_bad_secret_status = 401);
    std::fs::write(dir.path().join("r1-secret"), "not-the-secret").unwrap();
    let err = engine::plan(&desired, store(dir.path()), &Default::default())
        .await
        .err()
        .expect("fails");
    assert!(
        matches!(err, EngineError::Provider(ProviderError::Auth { .. })),
        "{err}"
    );
    assert_eq!(sim.calls("ruckus", token_route), 6, "a 401 is not retried");
}

/// Issue 7, item 4: tech partners come from the documented
/// `POST /techpartners/mspecs/query`; `POST /tenants/query` (filtered on the
/// partner types) is read instead only when the documented one answers 404. A
/// 500 there is retried and then an error, never silently the other endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tech_partners_come_from_the_documented_query_and_fall_back_only_on_404() {
    const TECH: &str = "POST /techpartners/mspecs/query";
    const TENANTS: &str = "POST /tenants/query";
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let desired = load(&sim, dir.path(), &format!("{PORTFOLIO}{PARTNERS}"));
    let store = store(dir.path());
    let summary = |p: &Prepared| -> Vec<(String, Op)> {
        p.plan
            .actions
            .iter()
            .map(|a| (a.address.to_string(), a.op))
            .collect()
    };

    let documented = plan(&desired, &store).await;
    assert_eq!(sim.calls("ruckus", TECH), 1, "the partners' query");
    assert_eq!(sim.calls("ruckus", TENANTS), 1, "the tenants' query only");
    let ops = summary(&documented);
    assert!(
        ops.contains(&("partner.northwind".to_string(), Op::Adopt)),
        "{ops:?}"
    );

    // The vendor has removed the deprecated endpoint: one 404, then the filter.
    sim.reset_calls();
    sim.ruckus_switches(|s| s.techpartners_query = false);
    let fallback = plan(&desired, &store).await;
    assert_eq!(summary(&fallback), ops, "the same plan either way");
    assert_eq!(sim.calls("ruckus", TECH), 1, "a 404 is not retried");
    assert_eq!(sim.calls("ruckus", TENANTS), 2, "tenants, then partners");

    // A server error on the documented endpoint is not a reason to switch.
    sim.reset_calls();
    sim.ruckus_switches(|s| s.techpartners_query = true);
    sim.inject_fault(FaultSpec {
        vendor: "ruckus".into(),
        route: TECH.into(),
        kind: FaultKind::Status { status: 500 },
        count: None,
        rate: None,
    });
    let err = engine::plan(&desired, store.clone(), &Default::default())
        .await
        .err()
        .expect("fails");
    assert!(
        err.to_string()
            .contains("POST /techpartners/mspecs/query answered HTTP 500"),
        "{err}"
    );
    assert_eq!(sim.calls("ruckus", TECH), 5, "one try and four retries");
    assert_eq!(sim.calls("ruckus", TENANTS), 1, "the tenants' query only");
}

/// How many invitations the simulator recorded for one email.
fn invitations_to(sim: &Simulator, email: &str) -> usize {
    invitations(sim).iter().filter(|i| i.1 == email).count()
}

/// Issue 7, item 3: an invitation whose answer is lost (the vendor sent it, the
/// connection dropped) is settled by reading the tenant's administrators, and
/// the next apply does not send it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_invitation_answer_is_settled_by_reading_and_never_sent_twice() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let store = store(dir.path());
    sim.inject_fault(fault(
        "POST /tenants/*/invitations",
        FaultKind::DropAfterCommit,
        1,
    ));
    let first = apply(&desired, &store).await;
    assert_eq!(
        sim.faults_fired("ruckus", "POST /tenants/*/invitations"),
        1,
        "the answer was lost"
    );
    let second = apply(&desired, &store).await;
    assert_eq!(invitations_to(&sim, "it@harbor.example"), 1);
    assert_eq!(invitations_to(&sim, "ops@orchard.example"), 1);
    assert_ok(&first);
    assert_ok(&second);
    assert_eq!(sim.calls("ruckus", "POST /tenants/*/invitations"), 2);
    assert_eq!(
        sim.calls("ruckus", "GET /tenants/*/admins"),
        1,
        "read, not resent"
    );
    let lost: Vec<_> = store
        .journal()
        .unwrap()
        .into_iter()
        .filter(|(_, e)| {
            e.action == "invite" && e.detail.as_deref().unwrap_or("").contains("answer lost")
        })
        .collect();
    assert_eq!(lost.len(), 1, "one answer was lost: {lost:#?}");
    let p = plan(&desired, &store).await;
    assert!(!p.plan.has_changes(), "{:#?}", p.plan.actions);
    assert!(mspform::state::pending(store.as_ref()).unwrap().is_empty());
}

/// A changed administrator whose invitation answer is lost, on a vendor whose
/// administrator list does not show pending invitations (or cannot be read):
/// nothing proves it either way, so mspform takes the safe side — it is never
/// sent twice on its own — and `--resend-invitation` sends it once when asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unprovable_invitation_is_not_sent_twice_and_can_be_resent_on_request() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    assert_ok(&apply(&load(&sim, dir.path(), PORTFOLIO), &store).await);
    for (read, new) in [
        (
            mspform::sim::ruckus::AdminsRead::Array,
            "new-it@harbor.example",
        ),
        (
            mspform::sim::ruckus::AdminsRead::Absent,
            "next-it@harbor.example",
        ),
    ] {
        sim.ruckus_switches(|s| {
            s.admins_list_invited = false;
            s.admins_read = read;
        });
        let changed = load(
            &sim,
            dir.path(),
            &PORTFOLIO.replace("it@harbor.example", new),
        );
        sim.inject_fault(fault(
            "POST /tenants/*/invitations",
            FaultKind::DropAfterCommit,
            1,
        ));
        let p = plan(&changed, &store).await;
        assert_eq!(p.plan.actions[0].changes[0].field, "admin_email");
        let fired = sim.faults_fired("ruckus", "POST /tenants/*/invitations");
        assert_ok(&apply_prepared(&p, &changed, &store).await);
        assert_eq!(
            sim.faults_fired("ruckus", "POST /tenants/*/invitations"),
            fired + 1,
            "{read:?}: the answer was lost"
        );
        assert!(!plan(&changed, &store).await.plan.has_changes());
        assert_ok(&apply(&changed, &store).await);
        assert_eq!(invitations_to(&sim, new), 1, "{read:?}");
    }

    // Asked for explicitly, it goes out once more.
    let last = load(
        &sim,
        dir.path(),
        &PORTFOLIO.replace("it@harbor.example", "next-it@harbor.example"),
    );
    let options = PlanOptions {
        resend_invitations: BTreeSet::from([addr("customer.harbor")]),
        ..Default::default()
    };
    let p = plan_opts(&last, &store, &options).await;
    assert_ok(&apply_prepared(&p, &last, &store).await);
    assert_eq!(invitations_to(&sim, "next-it@harbor.example"), 2);
}

/// `mspform apply` killed (SIGKILL) after the vendor took an invitation but
/// before the answer was recorded; the next apply reads the tenant's
/// administrators and sends no invitation twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_after_an_invitation_went_out_then_apply_again_sends_it_once() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("r1.toml"),
        format!("{}\n{PORTFOLIO}", provider_toml(&sim, dir.path(), 600)),
    )
    .unwrap();
    let state = dir.path().join("state");
    // The answer is lost, and the read that follows hangs until the kill.
    sim.inject_fault(fault(
        "POST /tenants/*/invitations",
        FaultKind::DropAfterCommit,
        1,
    ));
    sim.inject_fault(fault(
        "GET /tenants/*/admins",
        FaultKind::Latency { ms: 60_000 },
        1,
    ));
    let bin = env!("CARGO_BIN_EXE_mspform");
    let apply_args = [
        "-c".to_string(),
        conf.display().to_string(),
        "--state".to_string(),
        state.display().to_string(),
        "apply".to_string(),
        "--auto-approve".to_string(),
    ];
    let mut child = Command::new(bin)
        .args(&apply_args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while sim.calls("ruckus", "GET /tenants/*/admins") < 1
        && start.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed, not finished: {status:?}");
    // The invitations go out side by side: the one whose answer was lost,
    // and maybe the other.
    let before = invitations(&sim);
    assert!(
        !before.is_empty() && before.len() <= 2,
        "the invitation whose answer was lost went out before the kill: {before:?}"
    );

    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args(&apply_args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for (_, email, _) in &before {
        assert_eq!(invitations_to(&sim, email), 1, "{email} not sent again");
    }
    assert_eq!(invitations_to(&sim, "it@harbor.example"), 1);
    assert_eq!(invitations_to(&sim, "ops@orchard.example"), 1);
}

/// The invitation journal entry left open by a run killed at other moments: after
/// it recorded whom it invited (state proves it: no read), or by an older
/// mspform that recorded nothing else (the administrators are read; the
/// invitation counts as sent and the next apply records it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_invitation_entry_is_settled_from_state_or_by_reading() {
    use mspform::state::{JournalEntry, JournalStatus};
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let desired = load(&sim, dir.path(), PORTFOLIO);
    let store = store(dir.path());
    assert_ok(&apply(&desired, &store).await);
    let open_entry = |natural_key: Option<&str>| {
        store
            .journal_begin(&JournalEntry {
                provider: "r1".into(),
                address: "customer.harbor".into(),
                action: "invite".into(),
                call: "POST /tenants/x/invitations".into(),
                natural_key: natural_key.map(str::to_string),
                status: JournalStatus::Pending,
                started_at: 0,
                finished_at: None,
                detail: None,
            })
            .unwrap()
    };
    let admins = "GET /tenants/*/admins";

    open_entry(Some("it@harbor.example"));
    assert!(!plan(&desired, &store).await.plan.has_changes());
    assert_eq!(sim.calls("ruckus", admins), 0, "state proves it");

    // An older entry: no email, no fact either.
    let mut record = store.get_owned("customer.harbor").unwrap().unwrap();
    record.facts.remove("invited");
    store.put_owned("customer.harbor", &record).unwrap();
    open_entry(None);
    let p = plan(&desired, &store).await;
    assert!(!p.plan.has_changes(), "{:#?}", p.plan.actions);
    assert_eq!(sim.calls("ruckus", admins), 1);
    // Any apply records it (here one with a change elsewhere).
    let changed = load(
        &sim,
        dir.path(),
        &PORTFOLIO.replace("831-555-0100", "831-555-0199"),
    );
    assert_ok(&apply(&changed, &store).await);
    let record = store.get_owned("customer.harbor").unwrap().unwrap();
    assert_eq!(record.facts["invited"], json!("it@harbor.example"));
    assert!(mspform::state::pending(store.as_ref()).unwrap().is_empty());
    let before = sim.calls("ruckus", admins);
    assert!(!plan(&changed, &store).await.plan.has_changes());
    assert_eq!(
        sim.calls("ruckus", admins),
        before,
        "nothing in doubt any more"
    );
    assert_eq!(invitations_to(&sim, "it@harbor.example"), 1);
}

/// The RUCKUS One part of the mixed example (`examples/msp`): its provider
/// table, its customers and its partners, pointed at `sim` with the secrets in
/// files. Returns (the providers file's text, the other files' texts).
fn example_part(sim: &Simulator, dir: &Path) -> (String, Vec<(String, String)>) {
    let msp = repo().join("examples/msp");
    // The `[section]` of a file whose header starts with `prefix`, up to the next one.
    let sections = |file: &str, prefixes: &[&str]| -> String {
        let text = std::fs::read_to_string(msp.join(file)).unwrap();
        let mut out = String::new();
        let mut keep = false;
        for line in text.lines() {
            if line.starts_with('[') {
                keep = prefixes.iter().any(|p| line.starts_with(p));
            }
            if keep {
                out.push_str(line);
                out.push('\n');
            }
        }
        assert!(!out.is_empty(), "{file} has {prefixes:?}");
        out
    };
    let id = secret(dir, "r1-id", "sim-r1-client");
    let key = secret(dir, "r1-secret", "sim-r1-secret");
    let providers = sections("providers.toml", &["[providers.ruckus]"])
        .replace("http://127.0.0.1:8080", &sim.url())
        .replace("poll_interval_ms = 200", "poll_interval_ms = 20")
        .replace(
            "{ env = \"RUCKUS_CLIENT_ID\" }",
            &format!("{{ file = \"{}\" }}", id.display()),
        )
        .replace(
            "{ env = \"RUCKUS_CLIENT_SECRET\" }",
            &format!("{{ file = \"{}\" }}", key.display()),
        );
    assert!(!providers.contains("env ="), "{providers}");
    let mut files = Vec::new();
    for customer in ["bayview-resort.toml", "metro-library.toml"] {
        let text = std::fs::read_to_string(msp.join(customer)).unwrap();
        assert!(text.contains("provider = \"ruckus\""), "{customer}");
        files.push((customer.to_string(), text));
    }
    files.push((
        "partners.toml".to_string(),
        sections(
            "partners.toml",
            &["[partners.fabrikam]", "[partners.bluebird]"],
        ),
    ));
    (providers, files)
}

/// `mspform import` for RUCKUS One, through the real binary: every live tenant
/// (with its address, phone, tier, dates and administrator) and the tech
/// partners managing them. Round trip: the providers file plus the imported
/// files, planned with an empty state, only adopt — nothing is created,
/// changed, deleted or replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_round_trip_plans_only_adoptions() {
    let sim = r1_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (providers, files) = example_part(&sim, dir.path());
    let conf = dir.path().join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(conf.join("providers.toml"), &providers).unwrap();
    for (name, text) in &files {
        std::fs::write(conf.join(name), text).unwrap();
    }
    let desired = mspform::config::load(&conf).unwrap_or_else(|e| panic!("{e}"));
    assert_ok(&apply(&desired, &store(dir.path())).await);
    assert_eq!(
        ec_names(&sim),
        [
            "Bayview Resort",
            "Lakeview School",
            "Metro Library",
            "Seaside Hotel"
        ]
    );

    // Import with nothing but the providers file.
    let only = dir.path().join("only");
    std::fs::create_dir_all(&only).unwrap();
    std::fs::write(only.join("providers.toml"), &providers).unwrap();
    let out_dir = dir.path().join("imported");
    let bin = env!("CARGO_BIN_EXE_mspform");
    let (only2, out2, state2) = (only.clone(), out_dir.clone(), dir.path().join("s-import"));
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args([
                "-c",
                &only2.display().to_string(),
                "--state",
                &state2.display().to_string(),
                "import",
                "--out",
                &out2.display().to_string(),
            ])
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "bayview-resort.toml",
            "lakeview-school.toml",
            "metro-library.toml",
            "partners-ruckus.toml",
            "seaside-hotel.toml"
        ]
    );
    let read = |name: &str| std::fs::read_to_string(out_dir.join(name)).unwrap();
    let bayview = read("bayview-resort.toml");
    for want in [
        "name = \"Bayview Resort\"",
        "address = { street = \"1 Bayview Rd\", city = \"Monterey\", state = \"CA\", country = \"United States\", zip = \"93940\" }",
        "phone = \"+1 831 555 0100\"",
        "service_start = \"2026-01-01\"",
        "service_end = \"2028-12-31\"",
        "admin = { email = \"it@bayview-resort.example\", first_name = \"Bay\", last_name = \"View\" }  # as the tenant lists it; its role is not readable",
    ] {
        assert!(bayview.contains(want), "{want}\n{bayview}");
    }
    let partners = read("partners-ruckus.toml");
    for want in [
        "name = \"Fabrikam Systems\"\nrole = \"integrator\"\ncustomers = [\"bayview-resort\"]",
        "name = \"Bluebird Installers\"\nrole = \"installer\"\ncustomers = [\"bayview-resort\", \"metro-library\"]",
        "name = \"Northwind Integration\"\nrole = \"integrator\"\ncustomers = [\"seaside-hotel\"]",
    ] {
        assert!(partners.contains(want), "{want}\n{partners}");
    }

    // The round trip: providers + imported files, an empty state → only adoptions.
    for name in &names {
        std::fs::copy(out_dir.join(name), only.join(name)).unwrap();
    }
    let imported = mspform::config::load(&only).unwrap_or_else(|e| panic!("{e}"));
    let fresh = store(&dir.path().join("fresh"));
    let before = writes(&sim);
    let p = plan(&imported, &fresh).await;
    let ops: Vec<(String, Op, usize)> = p
        .plan
        .actions
        .iter()
        .map(|a| (a.address.to_string(), a.op, a.changes.len()))
        .collect();
    assert_eq!(
        ops,
        [
            ("customer.bayview-resort".to_string(), Op::Adopt, 0),
            ("customer.lakeview-school".to_string(), Op::Adopt, 0),
            ("customer.metro-library".to_string(), Op::Adopt, 0),
            ("customer.seaside-hotel".to_string(), Op::Adopt, 0),
            ("partner.bluebird-installers".to_string(), Op::Adopt, 0),
            ("partner.fabrikam-systems".to_string(), Op::Adopt, 0),
            ("partner.northwind-integration".to_string(), Op::Adopt, 0),
        ],
        "{:#?}",
        p.plan.actions
    );
    assert!(p.plan.unmanaged.is_empty(), "{:#?}", p.plan.unmanaged);
    // Adopting writes nothing at the vendor, and the next plan has nothing to do.
    assert_ok(&apply_prepared(&p, &imported, &fresh).await);
    assert_eq!(writes(&sim), before);
    assert!(!plan(&imported, &fresh).await.plan.has_changes());
}
