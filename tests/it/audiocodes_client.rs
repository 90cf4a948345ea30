//! The AudioCodes Live Platform client's contract with the vendor, through the
//! real engine against the simulator: Entra client credentials, create / read /
//! replace / delete, not found, retries, lost answers, failed deployments,
//! out-of-band edits, secrets kept out of everything, and tolerance of the
//! behaviours the fact sheet only assumes.

use std::path::Path;
use std::sync::Arc;

use mspform::diff::Op;
use mspform::engine::{self, EngineError};
use mspform::model::Desired;
use mspform::sim::audiocodes::{ErrorBody, UnauthorizedBody};
use mspform::sim::{AudiocodesEdit, FaultKind, FaultSpec, Simulator};
use mspform::state::{JournalEntry, JournalStatus, StateStore};
use mspform::vendor::ProviderError;
use mspform::vendors::audiocodes::Audiocodes;
use mspform::vendors::audiocodes::model::{AudiocodesAuth, AudiocodesSettings};
use serde_json::Value;

use crate::support::*;

const PROVIDER_TENANT: &str = "8d2f5c1e-3b7a-4c9e-a1f0-6e4b2d7c9a53";
const APP_ID: &str = "c7e1a4b2-9f3d-4e8a-b6c5-2d1f0e9a8b74";
const CLIENT_ID: &str = "5a9e2c7f-1b4d-4f6a-8e3c-9d0b7a6f5e12";
const SECRET: &str = "sim-ac-secret";
const MS_A: &str = "4bf50a33-a383-4d3f-9403-220c898bc1b2";
const MS_B: &str = "c0161094-80c8-47de-ace0-ccd06f188b82";
const LEGACY: &str = "LegacyVoice";
const PASSWORD: &str = "Carrier-Pa55-word!";
const TOKEN_ROUTE: &str = "POST /*/oauth2/v2.0/token";
const CREATE: &str = "POST /api/v2/customer";
const LIST: &str = "GET /api/v3/customer";
const DELETE: &str = "DELETE /api/v2/customer/*";

fn acme(name: &str) -> String {
    format!(
        r#"[customers.acme]
provider = "ac"
name = "{name}"
short_name = "Acme"
customer_type = "TENANT_TYPE"
ms_tenant_id = "{MS_A}"
channel_id = "a35c73f3-4597-4f5b-bfec-1283f43d8b92"
site = {{ sbc_id = 5, onboarding_script = 10008, cleanup_script = 10701 }}
script_parameters = {{ CacProfile = "5 sessions", ProxySet = "SIPTrunk", CarrierUserName = "acme-trunk", CarrierUserPassword = {{ file = "carrier-password" }} }}
"#
    )
}

const HARBOR: &str = r#"[customers.harbor]
provider = "ac"
name = "HarborClinic"
short_name = "Harbor"
customer_type = "IPGROUP_TYPE"
ms_tenant_id = "c0161094-80c8-47de-ace0-ccd06f188b82"
site = { sbc_id = 7, onboarding_script = 10007, cleanup_script = 10700 }
"#;

/// Writes the configuration (provider with Entra client credentials against the
/// simulator, plus `customers`) and its secret files to `dir`, and loads it.
fn config(sim: &Simulator, dir: &Path, customers: &str) -> Desired {
    let conf = dir.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(conf.join("client-id"), CLIENT_ID).unwrap();
    std::fs::write(conf.join("client-secret"), SECRET).unwrap();
    std::fs::write(conf.join("carrier-password"), PASSWORD).unwrap();
    let base = sim.base_url("audiocodes");
    let provider = format!(
        r#"[providers.ac]
type = "audiocodes-live"
base_url = "{base}"
calls_per_second = 1000
create_timeout_secs = 30
oauth = {{ tenant_id = "{PROVIDER_TENANT}", client_id = {{ file = "client-id" }}, client_secret = {{ file = "client-secret" }}, scope = "api://{APP_ID}/.default", token_url = "{base}/{{tenant_id}}/oauth2/v2.0/token" }}
"#
    );
    std::fs::write(conf.join("main.toml"), format!("{provider}\n{customers}")).unwrap();
    mspform::config::load(&conf).expect("the configuration loads")
}

fn settings(desired: &mut Desired, f: impl FnOnce(&mut AudiocodesSettings)) {
    let mut f = Some(f);
    desired.edit_specs::<Audiocodes>(|spec| {
        if let Some(f) = f.take() {
            f(&mut spec.settings)
        }
    });
}

fn fault(route: &str, kind: FaultKind, count: u32) -> FaultSpec {
    FaultSpec {
        vendor: "audiocodes".into(),
        route: route.into(),
        kind,
        count: Some(count),
        rate: None,
    }
}

fn customers(sim: &Simulator) -> Vec<Value> {
    sim.dump()["audiocodes"]["customers"]
        .as_array()
        .expect("dump lists customers")
        .clone()
}

fn short_names(sim: &Simulator) -> Vec<String> {
    let mut names: Vec<String> = customers(sim)
        .iter()
        .map(|c| c["short_name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

fn guid_of(sim: &Simulator, short: &str) -> String {
    customers(sim)
        .iter()
        .find(|c| c["short_name"] == short)
        .and_then(|c| c["id"].as_str())
        .expect("customer exists")
        .to_string()
}

/// Everything mspform keeps: ownership records and the journal, as text.
fn state_text(store: &Arc<dyn StateStore>) -> String {
    format!("{:?}{:?}", store.owned().unwrap(), store.journal().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_then_nothing_to_do_and_a_second_apply_writes_nothing() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = config(&sim, dir.path(), &format!("{}\n{HARBOR}", acme("AcmeCorp")));
    let store = store(dir.path());

    let first = plan(&desired, &store).await;
    let creates: Vec<String> = first
        .plan
        .actions
        .iter()
        .map(|a| {
            assert_eq!(a.op, Op::Create);
            a.address.to_string()
        })
        .collect();
    assert_eq!(creates, ["customer.acme", "customer.harbor"]);
    // The pre-existing customer is reported, left alone.
    assert!(
        first
            .plan
            .unmanaged
            .iter()
            .any(|u| u.address == format!("customer[\"{LEGACY}\"]"))
    );
    // The plan shows where the secret comes from, never its value.
    let text = mspform::plan::render::text(&first.plan);
    assert!(text.contains("(secret from file"), "{text}");
    assert!(!text.contains(PASSWORD));
    assert!(!mspform::plan::render::json(&first.plan).contains(PASSWORD));

    let report = engine::apply(
        &first,
        &desired,
        store.clone(),
        &mspform::engine::Stop::new(),
    )
    .await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(short_names(&sim), ["Acme", "Harbor", LEGACY]);
    assert_eq!(sim.calls("audiocodes", CREATE), 2);
    // One token for the whole run.
    assert_eq!(sim.calls("audiocodes", TOKEN_ROUTE), 1);

    // The body followed the example spelling; the password arrived (fingerprinted by the sim).
    let dump = sim.dump();
    let acme_id = guid_of(&sim, "Acme");
    let site = dump["audiocodes"]["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["customer_id"] == acme_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(site["sbc_id"], 5);
    assert_eq!(site["onboarding_script"], 10008);
    assert_eq!(site["script_parameters"]["CacProfile"], "5 sessions");
    assert!(site["carrier_password_fnv1a"].is_string(), "{site}");
    let acme_dump = customers(&sim)
        .into_iter()
        .find(|c| c["short_name"] == "Acme")
        .unwrap();
    assert_eq!(acme_dump["full_name"], "AcmeCorp");
    assert_eq!(acme_dump["ovoc_customer_type"], "TENANT_TYPE");
    assert_eq!(
        acme_dump["channel_id"],
        "a35c73f3-4597-4f5b-bfec-1283f43d8b92"
    );

    // Ownership is recorded with the GUID; the secret only by reference.
    let owned = store.get_owned("customer.acme").unwrap().expect("owned");
    assert_eq!(owned.vendor_id.as_deref(), Some(acme_id.as_str()));
    assert_eq!(owned.facts["customer_type"], "TENANT_TYPE");
    assert!(
        owned.facts["script_parameters.CarrierUserPassword"]
            .as_str()
            .unwrap()
            .starts_with("(secret from file")
    );
    assert!(!state_text(&store).contains(PASSWORD));

    let second = plan(&desired, &store).await;
    assert!(!second.plan.has_changes(), "{:#?}", second.plan.actions);
    assert_eq!(
        second.plan.providers[0].calls, 2,
        "a token and one list call read it all"
    );
    let writes = sim.write_calls("audiocodes");
    let again = apply(&desired, &store).await;
    assert!(again.ok());
    assert_eq!(again.calls, 0);
    assert_eq!(
        sim.write_calls("audiocodes"),
        writes,
        "no write the second time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_field_replaces_the_customer_and_a_removed_one_is_deleted() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let desired = config(&sim, dir.path(), &format!("{}\n{HARBOR}", acme("AcmeCorp")));
    assert!(apply(&desired, &store).await.ok());
    let old = guid_of(&sim, "Acme");

    // No update call exists: a new full name and a new script parameter replace it.
    let changed =
        acme("AcmeCorporation").replace("ProxySet = \"SIPTrunk\"", "ProxySet = \"SIPTrunk2\"");
    let desired = config(&sim, dir.path(), &format!("{changed}\n{HARBOR}"));
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.actions.len(), 1, "{:#?}", p.plan.actions);
    let a = &p.plan.actions[0];
    assert_eq!(
        (a.address.to_string().as_str(), a.op),
        ("customer.acme", Op::Replace)
    );
    assert_eq!(a.replace_because, ["name", "script_parameters.ProxySet"]);
    let report = engine::apply(&p, &desired, store.clone(), &mspform::engine::Stop::new()).await;
    assert!(report.ok(), "{report:#?}");
    let new = guid_of(&sim, "Acme");
    assert_ne!(new, old);
    assert_eq!(sim.calls("audiocodes", DELETE), 1);
    assert_eq!(
        store.get_owned("customer.acme").unwrap().unwrap().vendor_id,
        Some(new)
    );
    assert!(!plan(&desired, &store).await.plan.has_changes());

    // Harbor leaves the files: mspform created it, so it is deleted.
    let desired = config(&sim, dir.path(), &changed);
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.actions.len(), 1);
    assert_eq!(p.plan.actions[0].op, Op::Delete);
    assert!(apply(&desired, &store).await.ok());
    assert_eq!(short_names(&sim), ["Acme", LEGACY]);
    assert!(store.get_owned("customer.harbor").unwrap().is_none());
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_customer_already_gone_counts_as_done() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let desired = config(&sim, dir.path(), &format!("{}\n{HARBOR}", acme("AcmeCorp")));
    assert!(apply(&desired, &store).await.ok());

    let desired = config(&sim, dir.path(), &acme("AcmeCorp"));
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.actions[0].op, Op::Delete);
    // Someone deletes it in the portal between plan and apply: 404 "… not found".
    sim.audiocodes_edit(AudiocodesEdit::DeleteCustomer {
        customer: "Harbor".into(),
    })
    .unwrap();
    let report = engine::apply(&p, &desired, store.clone(), &mspform::engine::Stop::new()).await;
    assert!(report.ok(), "{report:#?}");
    assert!(store.get_owned("customer.harbor").unwrap().is_none());
    assert!(!plan(&desired, &store).await.plan.has_changes());

    // Gone from the files and from the vendor: the record is forgotten.
    sim.audiocodes_edit(AudiocodesEdit::DeleteCustomer {
        customer: "Acme".into(),
    })
    .unwrap();
    let desired = config(&sim, dir.path(), "");
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.actions[0].op, Op::Forget);
    assert!(apply(&desired, &store).await.ok());
    assert!(store.owned().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_429s_are_retried_and_a_refused_create_is_not_doubled() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = config(&sim, dir.path(), &acme("AcmeCorp"));
    let store = store(dir.path());

    sim.inject_fault(fault(LIST, FaultKind::Status { status: 503 }, 2));
    let p = plan(&desired, &store).await;
    assert_eq!(
        sim.calls("audiocodes", LIST),
        3,
        "two 503s, then the answer"
    );
    assert_eq!(p.plan.actions.len(), 1);

    sim.inject_fault(fault(LIST, FaultKind::RateLimitSecond, 1));
    let p = plan(&desired, &store).await;
    assert_eq!(p.parts[0].client.rate_limited(), 1);

    // A 500 on the create (not committed): looked up, not found, posted once more.
    sim.inject_fault(fault(CREATE, FaultKind::Status { status: 500 }, 1));
    let report = apply(&desired, &store).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(sim.calls("audiocodes", CREATE), 2);
    assert_eq!(short_names(&sim), ["Acme", LEGACY]);
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_the_create_is_waited_out() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = config(&sim, dir.path(), &acme("AcmeCorp"));
    let store = store(dir.path());
    sim.audiocodes_switches(|s| s.rate_limit_retry_after_secs = 1);
    sim.inject_fault(fault(CREATE, FaultKind::RateLimitSecond, 1));
    let p = plan(&desired, &store).await;
    let report = engine::apply(&p, &desired, store.clone(), &mspform::engine::Stop::new()).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(p.parts[0].client.rate_limited(), 1);
    assert_eq!(sim.calls("audiocodes", CREATE), 2);
    assert_eq!(short_names(&sim), ["Acme", LEGACY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_is_lost_is_found_not_posted_again() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = config(&sim, dir.path(), &acme("AcmeCorp"));
    let store = store(dir.path());
    sim.inject_fault(fault(CREATE, FaultKind::DropAfterCommit, 1));
    let report = apply(&desired, &store).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(
        sim.faults_fired("audiocodes", CREATE),
        1,
        "the answer was lost"
    );
    assert_eq!(sim.calls("audiocodes", CREATE), 1, "found by short name");
    assert_eq!(short_names(&sim), ["Acme", LEGACY]);
    let owned = store.get_owned("customer.acme").unwrap().unwrap();
    assert_eq!(owned.vendor_id, Some(guid_of(&sim, "Acme")));
    assert!(
        engine_pending(&store).is_empty(),
        "the journal is settled once the customer is owned"
    );
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

fn engine_pending(store: &Arc<dyn StateStore>) -> Vec<(u64, JournalEntry)> {
    mspform::state::pending(store.as_ref()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_create_that_times_out_is_found_by_short_name() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = config(&sim, dir.path(), &acme("AcmeCorp"));
    settings(&mut desired, |s| s.create_timeout_secs = 1);
    let store = store(dir.path());
    // The vendor commits, then takes longer than the client waits.
    sim.audiocodes_switches(|s| s.create_latency_ms = 2500);
    let report = apply(&desired, &store).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(sim.calls("audiocodes", CREATE), 1);
    assert_eq!(short_names(&sim), ["Acme", LEGACY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_with_an_open_create_looks_for_the_customer_first() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = config(&sim, dir.path(), &acme("AcmeCorp"));
    let store = store(dir.path());
    // A crashed run journaled the create; the answer never came back.
    store
        .journal_begin(&JournalEntry {
            provider: "ac".into(),
            address: "customer.acme".into(),
            action: "create".into(),
            call: CREATE.into(),
            natural_key: Some("Acme".into()),
            status: JournalStatus::Pending,
            started_at: 1,
            finished_at: None,
            detail: None,
        })
        .unwrap();
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.actions[0].op, Op::Create);
    // …and the vendor finishes that create only now, after the plan read.
    sim.audiocodes_edit(AudiocodesEdit::CreateCustomer {
        short_name: "Acme".into(),
        full_name: Some("AcmeCorp".into()),
        ms_tenant_id: Some(MS_A.into()),
        ovoc_customer_type: Some("TENANT_TYPE".into()),
        channel_id: None,
        sbc_id: Some(5),
        onboarding_script: Some(10008),
        cleanup_script: Some(10701),
    })
    .unwrap();
    let report = engine::apply(&p, &desired, store.clone(), &mspform::engine::Stop::new()).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(
        sim.calls("audiocodes", CREATE),
        0,
        "found, not created twice"
    );
    assert_eq!(short_names(&sim), ["Acme", LEGACY]);
    assert!(engine_pending(&store).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_customer_with_the_short_name_is_adopted_without_a_call() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = config(&sim, dir.path(), HARBOR);
    let store = store(dir.path());
    sim.audiocodes_edit(AudiocodesEdit::CreateCustomer {
        short_name: "Harbor".into(),
        full_name: Some("HarborClinic".into()),
        ms_tenant_id: Some(MS_B.into()),
        ovoc_customer_type: None,
        channel_id: None,
        sbc_id: Some(7),
        onboarding_script: None,
        cleanup_script: None,
    })
    .unwrap();
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.actions.len(), 1);
    assert_eq!(p.plan.actions[0].op, Op::Adopt);
    assert!(
        p.plan.actions[0].changes.is_empty(),
        "write-only fields are taken as declared"
    );
    let report = engine::apply(&p, &desired, store.clone(), &mspform::engine::Stop::new()).await;
    assert!(report.ok());
    assert_eq!(report.calls, 0);
    let owned = store.get_owned("customer.harbor").unwrap().unwrap();
    assert_eq!(owned.origin, "adopted");
    assert_eq!(owned.facts["onboarding_script"], 10007);
    assert!(!plan(&desired, &store).await.plan.has_changes());
    // From now on the declared write-only values are the recorded ones.
    let desired = config(&sim, dir.path(), &HARBOR.replace("10007", "10008"));
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.actions[0].replace_because, ["onboarding_script"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_edits_show_in_the_plan() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = config(&sim, dir.path(), &format!("{}\n{HARBOR}", acme("AcmeCorp")));
    let store = store(dir.path());
    assert!(apply(&desired, &store).await.ok());
    sim.audiocodes_edit(AudiocodesEdit::SetFullName {
        customer: "Acme".into(),
        full_name: "Acme by hand".into(),
    })
    .unwrap();
    sim.audiocodes_edit(AudiocodesEdit::SetSiteState {
        customer: "Harbor".into(),
        site: None,
        state: "Failed".into(),
    })
    .unwrap();
    let p = plan(&desired, &store).await;
    let by: Vec<(String, Op, Vec<String>)> = p
        .plan
        .actions
        .iter()
        .map(|a| (a.address.to_string(), a.op, a.replace_because.clone()))
        .collect();
    assert_eq!(
        by,
        [
            (
                "customer.acme".to_string(),
                Op::Replace,
                vec!["name".to_string()]
            ),
            (
                "customer.harbor".to_string(),
                Op::Replace,
                vec!["deployment".to_string()]
            ),
        ]
    );
    let change = p.plan.actions[0].changed("name").unwrap();
    assert_eq!(change.before, "Acme by hand");
    assert_eq!(change.after, "AcmeCorp");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_deployment_fails_the_step_and_the_next_plan_replaces_it() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = config(&sim, dir.path(), &format!("{}\n{HARBOR}", acme("AcmeCorp")));
    let store = store(dir.path());
    sim.audiocodes_switches(|s| s.fail_create_names = vec!["acme".into()]);
    let report = apply(&desired, &store).await;
    assert_eq!(report.failed(), 1, "{report:#?}");
    let failed = report
        .steps
        .iter()
        .find(|s| s.step == "create customer.acme")
        .unwrap();
    let mspform::engine::Outcome::Failed(message) = &failed.outcome else {
        panic!("{failed:?}");
    };
    assert!(message.contains("deploymentState \"Failed\""), "{message}");
    assert!(!message.contains(PASSWORD));
    // The independent customer went ahead.
    assert!(short_names(&sim).contains(&"Harbor".to_string()));
    // What the vendor left behind is owned and shown for replacement.
    assert!(store.get_owned("customer.acme").unwrap().is_some());
    sim.audiocodes_switches(|s| s.fail_create_names.clear());
    let p = plan(&desired, &store).await;
    assert_eq!(p.plan.actions.len(), 1, "{:#?}", p.plan.actions);
    assert_eq!(p.plan.actions[0].op, Op::Replace);
    assert_eq!(p.plan.actions[0].replace_because, ["deployment"]);
    let report = engine::apply(&p, &desired, store.clone(), &mspform::engine::Stop::new()).await;
    assert!(report.ok(), "{report:#?}");
    assert!(!plan(&desired, &store).await.plan.has_changes());

    // When the vendor keeps nothing of a failed create, the next plan creates again.
    sim.audiocodes_switches(|s| {
        s.failed_create_keeps_customer = false;
        s.fail_next_creates = 1;
    });
    let desired = config(
        &sim,
        dir.path(),
        &format!("{}\n{HARBOR}", acme("AcmeCorp")).replace("Acme", "Acme2"),
    );
    let report = apply(&desired, &store).await;
    assert_eq!(report.failed(), 1, "{report:#?}");
    let p = plan(&desired, &store).await;
    let ops: Vec<Op> = p.plan.actions.iter().map(|a| a.op).collect();
    assert!(ops.contains(&Op::Create), "{:#?}", p.plan.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_replaced_once() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let steps = [
        (UnauthorizedBody::Empty, acme("AcmeCorp")),
        (
            UnauthorizedBody::Json,
            format!("{}\n{HARBOR}", acme("AcmeCorp")),
        ),
    ];
    for (body, customers) in steps {
        sim.audiocodes_switches(|s| s.unauthorized_body = body);
        let desired = config(&sim, dir.path(), &customers);
        let p = plan(&desired, &store).await;
        assert_eq!(p.plan.actions.len(), 1);
        // Same client, an hour later on the vendor's clock: 401, a new token, carry on.
        sim.advance_clock(3600);
        let before = sim.calls("audiocodes", TOKEN_ROUTE);
        let report =
            engine::apply(&p, &desired, store.clone(), &mspform::engine::Stop::new()).await;
        assert!(report.ok(), "{report:#?}");
        assert_eq!(sim.calls("audiocodes", TOKEN_ROUTE), before + 1);
        assert_eq!(report.calls, 3, "rejected create, token, create");
    }
    assert_eq!(short_names(&sim), ["Acme", "Harbor", LEGACY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_are_an_auth_error_without_the_secret() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = config(&sim, dir.path(), &acme("AcmeCorp"));
    std::fs::write(dir.path().join("conf/client-secret"), "wrong-secret-value").unwrap();
    for status in [400, 401] {
        sim.audiocodes_switches(|s| s.bad_credentials_status = status);
        let err = engine::plan(&desired, store(dir.path()), &Default::default())
            .await
            .err()
            .expect("auth fails");
        let text = err.to_string();
        assert!(
            matches!(err, EngineError::Provider(ProviderError::Auth { .. })),
            "{text}"
        );
        assert!(
            text.contains(&status.to_string()) && text.contains("AADSTS"),
            "{text}"
        );
        assert!(!text.contains("wrong-secret-value"), "{text}");
    }
    assert_eq!(sim.calls("audiocodes", LIST), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_token_works_and_a_rejected_one_is_not_retried() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = config(&sim, dir.path(), &acme("AcmeCorp"));
    let token = dir.path().join("token");
    std::fs::write(&token, "sim-token").unwrap();
    settings(&mut desired, |s| {
        s.auth = AudiocodesAuth::Token(mspform::model::SecretRef::File(token.clone()))
    });
    let store = store(dir.path());
    assert!(apply(&desired, &store).await.ok());
    assert_eq!(sim.calls("audiocodes", TOKEN_ROUTE), 0);
    std::fs::write(&token, "not-a-token-xyz").unwrap();
    let err = engine::plan(&desired, store.clone(), &Default::default())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("401"), "{err}");
    assert!(!err.to_string().contains("not-a-token-xyz"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_errors_and_state() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = config(&sim, dir.path(), &acme("AcmeCorp"));
    let store = store(dir.path());
    // A password beyond the vendor's limit: refused before anything is sent.
    let long = "p".repeat(51);
    std::fs::write(dir.path().join("conf/carrier-password"), &long).unwrap();
    let report = apply(&desired, &store).await;
    assert_eq!(report.failed(), 1);
    let text = format!("{report:?}");
    assert!(
        text.contains("at most 50") && !text.contains(&long),
        "{text}"
    );
    assert_eq!(sim.calls("audiocodes", CREATE), 0);

    // An unset variable names the variable.
    let desired_env = config(
        &sim,
        dir.path(),
        &acme("AcmeCorp").replace(
            "{ file = \"carrier-password\" }",
            "{ env = \"MSPFORM_TEST_UNSET_AC_PASSWORD\" }",
        ),
    );
    let report = apply(&desired_env, &store).await;
    assert!(format!("{report:?}").contains("MSPFORM_TEST_UNSET_AC_PASSWORD"));

    // A refused create whose error quotes the request back, password included:
    // the error names the call and status and shows the body with the password
    // redacted. (A short customer, so the password sits well inside the part of
    // the body an error shows.)
    std::fs::write(dir.path().join("conf/carrier-password"), PASSWORD).unwrap();
    let short = config(
        &sim,
        dir.path(),
        &format!(
            "{HARBOR}script_parameters = {{ CarrierUserPassword = {{ file = \"carrier-password\" }} }}\n"
        ),
    );
    sim.inject_fault(fault(CREATE, FaultKind::Echo { status: 400 }, 1));
    let report = apply(&short, &store).await;
    assert_eq!(
        sim.faults_fired("audiocodes", CREATE),
        1,
        "the vendor echoed"
    );
    assert_eq!(report.failed(), 1);
    let text = format!("{report:?}");
    assert!(
        text.contains("POST /api/v2/customer answered HTTP 400"),
        "{text}"
    );
    assert!(
        text.contains("\\\"CarrierUserPassword\\\":\\\"[redacted]\\\""),
        "the echoed body is shown, its password redacted: {text}"
    );
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(!text.contains(&PASSWORD[..8]), "not even a part: {text}");
    assert!(!state_text(&store).contains(PASSWORD));
    assert!(!state_text(&store).contains(SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assumed_behaviours_make_no_difference() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = config(&sim, dir.path(), &format!("{}\n{HARBOR}", acme("AcmeCorp")));
    let store = store(dir.path());
    sim.audiocodes_switches(|s| {
        s.expose_unsourced_fields = false;
        s.first_site_id_is_customer_id = true;
        s.error_body = ErrorBody::Problem;
        s.duplicate_status = 400;
    });
    assert!(apply(&desired, &store).await.ok());
    assert!(!plan(&desired, &store).await.plan.has_changes());
    sim.audiocodes_switches(|s| s.expose_unsourced_fields = true);
    assert!(!plan(&desired, &store).await.plan.has_changes());

    // With a per-second limit at the vendor and Retry-After, reads still complete.
    sim.audiocodes_switches(|s| {
        s.limit_per_second = 1;
        s.rate_limit_retry_after_secs = 1;
    });
    let mut refused = 0;
    for _ in 0..3 {
        let p = plan(&desired, &store).await;
        assert!(!p.plan.has_changes());
        refused += p.parts[0].client.rate_limited();
    }
    // Three list calls within a few milliseconds: two share a second at least.
    assert!(refused >= 1, "the vendor's limit was met");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ip_group_customer_without_a_tenant_id_depends_on_the_vendor() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let no_tenant = HARBOR.replace(&format!("ms_tenant_id = \"{MS_B}\"\n"), "");
    let desired = config(&sim, dir.path(), &no_tenant);
    let store = store(dir.path());
    // A vendor that insists on msTenantId refuses it: the step names the call and status.
    let report = apply(&desired, &store).await;
    assert_eq!(report.failed(), 1);
    let text = format!("{report:?}");
    assert!(
        text.contains("POST /api/v2/customer answered HTTP 400"),
        "{text}"
    );
    assert!(store.owned().unwrap().is_empty());
    // One that does not creates it, and reads it back unchanged.
    sim.audiocodes_switches(|s| s.ms_tenant_required = false);
    assert!(apply(&desired, &store).await.ok());
    assert!(!plan(&desired, &store).await.plan.has_changes());
}

/// Issue 7, item 2: the Entra token request is safe to repeat: a 5xx or a
/// dropped connection on it is retried like a read and the plan goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_500_or_dropped_connection_is_retried_and_the_plan_goes_on() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = config(&sim, dir.path(), &acme("AcmeCorp"));
    sim.inject_fault(fault(TOKEN_ROUTE, FaultKind::Status { status: 500 }, 1));
    sim.inject_fault(fault(TOKEN_ROUTE, FaultKind::DropAfterCommit, 1));
    let p = plan(&desired, &store(dir.path())).await;
    assert_eq!(sim.calls("audiocodes", TOKEN_ROUTE), 3);
    assert_eq!(p.plan.actions.len(), 1);
    assert_eq!(p.plan.actions[0].op, Op::Create);
}

/// A token endpoint that keeps failing: bounded attempts, then an HTTP error
/// naming vendor, call and status (not "check the client secret"), no secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_token_500_is_an_error_naming_vendor_call_and_status() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = config(&sim, dir.path(), &acme("AcmeCorp"));
    sim.inject_fault(FaultSpec {
        vendor: "audiocodes".into(),
        route: TOKEN_ROUTE.into(),
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
            "ac: POST /audiocodes/{PROVIDER_TENANT}/oauth2/v2.0/token answered HTTP 500"
        )),
        "{text}"
    );
    assert!(!text.contains(SECRET), "{text}");
    assert_eq!(
        sim.calls("audiocodes", TOKEN_ROUTE),
        5,
        "one try and four retries"
    );
    assert_eq!(sim.calls("audiocodes", LIST), 0);
}
