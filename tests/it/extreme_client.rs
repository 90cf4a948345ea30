//! The ExtremeCloud client's contract with the vendor, driven through the real
//! engine against the simulator: create, read back, refused updates and deletes,
//! partner tenant lists (moves included), retries, lost answers, login renewal,
//! and tolerance of every behaviour the fact sheet only assumes.

use std::sync::Arc;

use mspform::address::Address;

use mspform::diff::Op;
use mspform::engine::{self, ApplyReport, EngineError, Outcome, Prepared};
use mspform::model::Desired;
use mspform::sim::extreme::{
    CreateBody, DuplicateNames, NameToIdShape, PartnerPutPath, TenantMove,
};
use mspform::sim::{
    ExtremeEdit, ExtremeSwitches, FaultKind, FaultSpec, Inventory, SimOptions, Simulator,
};
use mspform::state::{SledStore, StateStore};
use serde_json::{Value, json};

const NORTHWIND: &str = "MspPartner-tenantid-YLp4lKdq8n6nQNXf";
const SOUTHBAY: &str = "MspPartner-tenantid-Sb7Kq2Wm9XpR4tLz";
const WESTGATE: &str = "MspPartner-tenantid-Wg3Hn8Vc5BdT1yQe";
const LAKESIDE: &str = "MspEndCustomer-tenantid-TaLDGFSpg7Vgxt7H";
const OLD_MILL: &str = "MspEndCustomer-tenantid-Om4Rt7Yu2IoP9aSd";
const PIER: &str = "MspEndCustomer-tenantid-Pc8Fg3Hj6Kl1ZxCv";
const MSP_ID: &str = "Msp-tenantid-Nc5YXfsVtOKdMmsj";
const TOKEN_ROUTE: &str = "POST /management/v1/oauth2/token";
const CREATE_ROUTE: &str = "POST /v1/msptenants";
const PUT_ROUTE: &str = "PUT /v1/msppartners/*";

struct Env {
    sim: Simulator,
    dir: tempfile::TempDir,
    store: Arc<dyn StateStore>,
}

async fn start() -> Env {
    let sim = Simulator::start(SimOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        Inventory::embedded(),
    ))
    .await
    .expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "sim-password\n").unwrap();
    std::fs::write(dir.path().join("viewer-pw"), "sim-password\n").unwrap();
    std::fs::write(dir.path().join("token"), "sim-token\n").unwrap();
    std::fs::write(dir.path().join("bad-pw"), "not-the-password-123\n").unwrap();
    let store: Arc<dyn StateStore> =
        Arc::new(SledStore::open(&dir.path().join("state")).expect("state opens"));
    Env { sim, dir, store }
}

impl Env {
    /// The provider block: password login by default, `extra` lines appended.
    fn provider(&self, auth: &str, extra: &str) -> String {
        let dir = self.dir.path().display();
        let auth = match auth {
            "login" => format!(
                "login = {{ user = \"msp-admin@example.net\", password = {{ file = \"{dir}/pw\" }}, scope = \"msp\" }}"
            ),
            "viewer" => format!(
                "login = {{ user = \"msp-viewer@example.net\", password = {{ file = \"{dir}/viewer-pw\" }} }}"
            ),
            "bad" => format!(
                "login = {{ user = \"msp-admin@example.net\", password = {{ file = \"{dir}/bad-pw\" }} }}"
            ),
            _ => format!("token = {{ file = \"{dir}/token\" }}"),
        };
        format!(
            "[providers.ext]\ntype = \"extremecloud\"\nbase_url = \"{}\"\n{auth}\ncalls_per_second = 1000\n{extra}\n",
            self.sim.base_url("extreme")
        )
    }

    fn desired(&self, body: &str) -> Desired {
        self.desired_with("login", "", body)
    }

    fn desired_with(&self, auth: &str, extra: &str, body: &str) -> Desired {
        let text = format!("{}{body}", self.provider(auth, extra));
        let path = self.dir.path().join("mspform.toml");
        std::fs::write(&path, text).unwrap();
        mspform::config::load(&path).unwrap_or_else(|e| panic!("config loads: {e}"))
    }

    async fn plan(&self, desired: &Desired) -> Prepared {
        engine::plan(desired, self.store.clone(), &Default::default())
            .await
            .unwrap_or_else(|e| panic!("plan: {e}"))
    }

    async fn plan_err(&self, desired: &Desired) -> String {
        match engine::plan(desired, self.store.clone(), &Default::default()).await {
            Ok(p) => panic!("expected a plan error, got {:?}", p.plan.actions),
            Err(e) => e.to_string(),
        }
    }

    async fn apply(&self, desired: &Desired) -> ApplyReport {
        let prepared = self.plan(desired).await;
        engine::apply(
            &prepared,
            desired,
            self.store.clone(),
            &mspform::engine::Stop::new(),
        )
        .await
    }

    fn tenants(&self) -> Vec<Value> {
        self.sim.dump()["extreme"]["tenants"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn tenant_id(&self, name: &str) -> Option<String> {
        self.tenants()
            .iter()
            .find(|t| t["account_name"] == name)
            .and_then(|t| t["cust_id"].as_str().map(str::to_string))
    }

    fn named(&self, name: &str) -> usize {
        self.tenants()
            .iter()
            .filter(|t| t["account_name"] == name)
            .count()
    }

    /// The tenant ids a partner holds, sorted.
    fn partner_tenants(&self, partner_id: &str) -> Vec<String> {
        let dump = self.sim.dump();
        let mut ids: Vec<String> = dump["extreme"]["partners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["cust_id"] == partner_id)
            .map(|p| {
                p["tenants"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }

    fn switches(&self, f: impl FnOnce(&mut ExtremeSwitches)) {
        self.sim.extreme_switches(f);
    }

    fn fault(&self, route: &str, kind: FaultKind, count: u32) {
        self.sim.inject_fault(FaultSpec {
            vendor: "extreme".into(),
            route: route.into(),
            kind,
            count: Some(count),
            rate: None,
        });
    }
}

fn customer(key: &str, name: &str) -> String {
    format!(
        r#"
[customers.{key}]
provider = "ext"
name = "{name}"
country = "US"
time_zone = "America/New_York"
contact = {{ email = "noc@{key}.example", name = "{name} NOC", phone = "+1 555 0100" }}
admin_user = "admin@{key}.example"
"#
    )
}

/// An inventory tenant declared exactly as it is.
const LAKESIDE_TOML: &str = r#"
[customers.lakeside]
provider = "ext"
name = "Lakeside Dental"
country = "US"
time_zone = "America/Chicago"
contact = { email = "linda@lakeside-dental.example", name = "Linda Lake", phone = "+1 312 555 0141" }
admin_user = "admin@lakeside-dental.example"
"#;

const OLD_MILL_TOML: &str = r#"
[customers.old-mill]
provider = "ext"
name = "Old Mill Hotel"
country = "US"
time_zone = "America/Denver"
contact = { email = "oscar@oldmill-hotel.example", name = "Oscar Miller", phone = "+1 303 555 0177" }
admin_user = "admin@oldmill-hotel.example"
"#;

const PIER_TOML: &str = r#"
[customers.pier]
provider = "ext"
name = "Pier Cafe"
country = "GB"
time_zone = "Europe/London"
admin_user = "admin@pier-cafe.example"
"#;

fn partner(key: &str, name: &str, customers: &[&str]) -> String {
    format!(
        "\n[partners.{key}]\nprovider = \"ext\"\nname = \"{name}\"\ncustomers = {}\n",
        json!(customers)
    )
}

fn ops(p: &Prepared) -> Vec<(String, Op)> {
    p.plan
        .actions
        .iter()
        .map(|a| (a.address.to_string(), a.op))
        .collect()
}

fn op(address: &str, op: Op) -> (String, Op) {
    (address.to_string(), op)
}

fn addr(text: &str) -> Address {
    text.parse().expect("an address")
}

fn assert_ok(report: &ApplyReport) {
    assert!(report.ok(), "{:#?}", report.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_read_back_and_a_second_run_changes_nothing() {
    let env = start().await;
    let d = env
        .desired(&(customer("acme", "Acme Corp") + &partner("westgate", "Westgate IT", &["acme"])));
    let p = env.plan(&d).await;
    assert_eq!(
        ops(&p),
        [
            op("customer.acme", Op::Create),
            op("partner.westgate", Op::Adopt)
        ]
    );
    let report = env.apply(&d).await;
    assert_ok(&report);
    let acme = env.tenant_id("Acme Corp").expect("tenant created");
    assert!(acme.starts_with("MspEndCustomer-tenantid-"));
    assert_eq!(env.partner_tenants(WESTGATE), std::slice::from_ref(&acme));
    let t = env
        .tenants()
        .into_iter()
        .find(|t| t["cust_id"] == acme.as_str())
        .unwrap();
    assert_eq!(t["time_zone"], "America/New_York");
    assert_eq!(t["user_id"], "admin@acme.example");
    assert_eq!(t["contact"]["name"], "Acme Corp NOC");
    let owned = env.store.owned().unwrap();
    assert_eq!(
        owned["customer.acme"].vendor_id.as_deref(),
        Some(acme.as_str())
    );
    assert_eq!(
        owned["partner.westgate"].vendor_id.as_deref(),
        Some(WESTGATE)
    );
    // One login per run (the plan above was a run of its own): the apply's plan
    // and its writes share one token.
    assert_eq!(env.sim.calls("extreme", TOKEN_ROUTE), 2);

    // Read back: nothing to do, and a second apply sends no write.
    let p = env.plan(&d).await;
    assert!(!p.plan.has_changes(), "{:?}", ops(&p));
    let writes = env.sim.write_calls("extreme");
    let report = env.apply(&d).await;
    assert_ok(&report);
    assert_eq!(env.sim.write_calls("extreme"), writes);
    assert_eq!(env.named("Acme Corp"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_tenants_in_a_declared_partner_are_reported_and_left_there() {
    let env = start().await;
    // Northwind holds Lakeside and Old Mill; only Lakeside is declared (and stays).
    let d = env.desired(
        &(LAKESIDE_TOML.to_string() + &partner("northwind", "Northwind Partners", &["lakeside"])),
    );
    let p = env.plan(&d).await;
    assert_eq!(
        ops(&p),
        [
            op("customer.lakeside", Op::Adopt),
            op("partner.northwind", Op::Adopt)
        ]
    );
    assert!(
        p.plan.actions.iter().all(|a| a.changes.is_empty()),
        "{:?}",
        p.plan.actions
    );
    let unmanaged: Vec<String> = p
        .plan
        .unmanaged
        .iter()
        .map(|u| u.address.to_string())
        .collect();
    assert!(
        unmanaged.contains(&"partner.northwind/customer[\"Old Mill Hotel\"]".to_string()),
        "{unmanaged:?}"
    );
    assert!(
        unmanaged.contains(&"customer[\"Orchard Bakery\"]".to_string()),
        "{unmanaged:?}"
    );
    assert_ok(&env.apply(&d).await);
    assert_eq!(env.sim.write_calls("extreme"), 0, "adoption writes nothing");
    assert_eq!(env.partner_tenants(NORTHWIND), [OLD_MILL, LAKESIDE]);

    // Declared elsewhere, Lakeside leaves Northwind; Old Mill stays with it.
    let d = env.desired(
        &(LAKESIDE_TOML.to_string()
            + &partner("northwind", "Northwind Partners", &[])
            + &partner("westgate", "Westgate IT", &["lakeside"])),
    );
    assert_ok(&env.apply(&d).await);
    assert_eq!(env.partner_tenants(NORTHWIND), [OLD_MILL]);
    assert_eq!(env.partner_tenants(WESTGATE), [LAKESIDE]);
    assert!(!env.plan(&d).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_between_partners_removes_before_it_adds_even_when_the_vendor_insists() {
    let env = start().await;
    env.switches(|s| s.tenant_move = TenantMove::Reject);
    let base = LAKESIDE_TOML.to_string() + OLD_MILL_TOML + PIER_TOML;
    // Adopt the current assignment first.
    let d = env.desired(
        &(base.clone()
            + &partner("northwind", "Northwind Partners", &["lakeside", "old-mill"])
            + &partner("southbay", "Southbay Networks", &["pier"])),
    );
    assert_ok(&env.apply(&d).await);
    // Swap Lakeside and Pier between the two partners: one plan, both sides.
    let d = env.desired(
        &(base
            + &partner("northwind", "Northwind Partners", &["old-mill", "pier"])
            + &partner("southbay", "Southbay Networks", &["lakeside"])),
    );
    let p = env.plan(&d).await;
    assert_eq!(
        ops(&p),
        [
            op("partner.northwind", Op::Update),
            op("partner.southbay", Op::Update)
        ]
    );
    let report = env.apply(&d).await;
    assert_ok(&report);
    // Steps run side by side: the two removals (in either order) settle
    // before either partner's set starts.
    let order: Vec<&str> = report.steps.iter().map(|s| s.step.as_str()).collect();
    let (outs, sets) = order.split_at(2);
    let mut outs = outs.to_vec();
    let mut sets = sets.to_vec();
    outs.sort_unstable();
    sets.sort_unstable();
    assert_eq!(
        (outs, sets),
        (
            vec![
                "take customers out of partner.northwind",
                "take customers out of partner.southbay"
            ],
            vec![
                "set customers of partner.northwind",
                "set customers of partner.southbay"
            ]
        ),
        "{order:?}"
    );
    let settled = |label: &str| {
        report
            .steps
            .iter()
            .find(|s| s.step == label)
            .unwrap()
            .settled
    };
    let started = |label: &str| {
        report
            .steps
            .iter()
            .find(|s| s.step == label)
            .unwrap()
            .started
            .unwrap()
    };
    for set in [
        "set customers of partner.northwind",
        "set customers of partner.southbay",
    ] {
        for out in [
            "take customers out of partner.northwind",
            "take customers out of partner.southbay",
        ] {
            assert!(
                started(set) >= settled(out),
                "{set} started before {out} settled"
            );
        }
    }
    assert_eq!(env.partner_tenants(NORTHWIND), {
        let mut v = vec![OLD_MILL.to_string(), PIER.to_string()];
        v.sort();
        v
    });
    assert_eq!(env.partner_tenants(SOUTHBAY), [LAKESIDE]);
    assert!(!env.plan(&d).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_put_sends_the_whole_partner_document_back() {
    let env = start().await;
    let d = env
        .desired(&(LAKESIDE_TOML.to_string() + &partner("northwind", "Northwind Partners", &[])));
    assert_ok(&env.apply(&d).await);
    let dump = env.sim.dump();
    let northwind = dump["extreme"]["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["cust_id"] == NORTHWIND)
        .unwrap()
        .clone();
    // Everything the PUT could have dropped is still there.
    assert_eq!(northwind["tenants"], json!([OLD_MILL]));
    assert_eq!(northwind["account_name"], "Northwind Partners");
    assert_eq!(northwind["time_zone"], "America/Chicago");
    assert_eq!(northwind["contact"]["name"], "Nora North");
    assert_eq!(northwind["entitlements"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_changes_are_planned_but_refused_with_a_clear_message() {
    let env = start().await;
    let changed = LAKESIDE_TOML.replace("America/Chicago", "America/Detroit");
    let d = env.desired(&changed);
    let p = env.plan(&d).await;
    assert_eq!(ops(&p), [op("customer.lakeside", Op::Adopt)]);
    let fields: Vec<&str> = p.plan.actions[0]
        .changes
        .iter()
        .map(|c| c.field.as_str())
        .collect();
    assert_eq!(fields, ["time_zone"]);
    // The plan itself says the change can only be made in the portal.
    let text = mspform::plan::render::text(&p.plan);
    assert!(
        text.contains("ExtremeCloud documents no tenant update, so this change fails at apply: change time_zone in the portal"),
        "{text}"
    );
    let report = env.apply(&d).await;
    let Outcome::Failed(message) = &report.actions[&addr("customer.lakeside")] else {
        panic!("{:?}", report.actions)
    };
    assert!(
        message.contains("ExtremeCloud documents no tenant update; change time_zone in the portal"),
        "{message}"
    );
    assert_eq!(env.sim.write_calls("extreme"), 0);
    // The adoption itself went through: the next plan is an update, not an adopt.
    assert!(env.store.get_owned("customer.lakeside").unwrap().is_some());
    assert_eq!(
        ops(&env.plan(&d).await),
        [op("customer.lakeside", Op::Update)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_of_band_edit_shows_in_the_next_plan() {
    let env = start().await;
    let d = env
        .desired(&(customer("acme", "Acme Corp") + &partner("westgate", "Westgate IT", &["acme"])));
    assert_ok(&env.apply(&d).await);
    env.sim
        .extreme_edit(ExtremeEdit::TenantField {
            tenant: "Acme Corp".into(),
            field: "contactPhoneNumber".into(),
            value: json!("+1 555 9999"),
        })
        .unwrap();
    env.sim
        .extreme_edit(ExtremeEdit::RemoveTenantFromPartner {
            partner: "Westgate IT".into(),
            tenant: "Acme Corp".into(),
        })
        .unwrap();
    let p = env.plan(&d).await;
    assert_eq!(
        ops(&p),
        [
            op("customer.acme", Op::Update),
            op("partner.westgate", Op::Update)
        ]
    );
    let phone = p.plan.actions[0].changed("contact.phone").unwrap();
    assert_eq!(phone.before, json!("+1 555 9999"));
    // The partner is put right; the tenant field can only be fixed in the portal.
    let report = env.apply(&d).await;
    assert_eq!(report.actions[&addr("partner.westgate")], Outcome::Done);
    assert!(matches!(
        report.actions[&addr("customer.acme")],
        Outcome::Failed(_)
    ));
    assert_eq!(env.partner_tenants(WESTGATE).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_dropped_from_the_files_is_never_deleted() {
    let env = start().await;
    let d = env.desired(&(customer("acme", "Acme Corp") + &customer("beta", "Beta Ltd")));
    assert_ok(&env.apply(&d).await);
    let d = env.desired(&customer("beta", "Beta Ltd"));
    let err = env.plan_err(&d).await;
    assert!(err.contains("customer.acme: no longer declared"), "{err}");
    assert!(err.contains("mspform state rm customer.acme"), "{err}");
    assert_eq!(env.named("Acme Corp"), 1);
    // Forgetting it makes the plan possible again; the tenant stays, unmanaged.
    env.store.remove_owned("customer.acme").unwrap();
    let p = env.plan(&d).await;
    assert!(!p.plan.has_changes());
    assert!(
        p.plan
            .unmanaged
            .iter()
            .any(|u| u.address == "customer[\"Acme Corp\"]")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_be_found_or_sent_is_a_plan_error() {
    let env = start().await;
    let d = env
        .desired(&(customer("acme", "Acme Corp") + &partner("ghost", "Ghost Partners", &["acme"])));
    let err = env.plan_err(&d).await;
    assert!(
        err.contains("partner.ghost: ExtremeCloud has no partner named \"Ghost Partners\""),
        "{err}"
    );
    // A declared customer held by a partner the files do not declare.
    let d = env.desired(&(PIER_TOML.to_string() + &partner("westgate", "Westgate IT", &["pier"])));
    let err = env.plan_err(&d).await;
    assert!(
        err.contains("\"Southbay Networks\"") && err.contains("Declare that partner too"),
        "{err}"
    );
    assert_eq!(env.sim.write_calls("extreme"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_deleted_in_the_portal_is_created_again() {
    let env = start().await;
    let d = env.desired(&customer("acme", "Acme Corp"));
    assert_ok(&env.apply(&d).await);
    let first = env.tenant_id("Acme Corp").unwrap();
    env.sim
        .extreme_edit(ExtremeEdit::DeleteTenant {
            tenant: first.clone(),
        })
        .unwrap();
    assert_eq!(ops(&env.plan(&d).await), [op("customer.acme", Op::Create)]);
    // userId is unique across ExtremeCloud: the deleted tenant freed it.
    assert_ok(&env.apply(&d).await);
    let second = env.tenant_id("Acme Corp").unwrap();
    assert_ne!(first, second);
    assert_eq!(
        env.store
            .get_owned("customer.acme")
            .unwrap()
            .unwrap()
            .vendor_id
            .as_deref(),
        Some(second.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_429_are_retried_reads_and_puts_but_creates_only_after_a_lookup() {
    let env = start().await;
    let d = env
        .desired(&(customer("acme", "Acme Corp") + &partner("westgate", "Westgate IT", &["acme"])));
    env.fault("GET /v1/msptenants", FaultKind::Status { status: 503 }, 2);
    env.fault("GET /v1/msppartners", FaultKind::RateLimitSecond, 1);
    let p = env.plan(&d).await;
    assert_eq!(env.sim.calls("extreme", "GET /v1/msptenants"), 3);
    assert_eq!(p.parts[0].client.rate_limited(), 1);

    // A 500 on the create: the handler did not run, the tenant is looked up by
    // name, not found, and posted once more.
    env.fault(CREATE_ROUTE, FaultKind::Status { status: 500 }, 1);
    env.fault(PUT_ROUTE, FaultKind::Status { status: 502 }, 1);
    let report = env.apply(&d).await;
    assert_ok(&report);
    assert_eq!(env.sim.calls("extreme", CREATE_ROUTE), 2);
    assert_eq!(
        env.sim.calls("extreme", "GET /v1/msptenants/nametoidmap"),
        1
    );
    assert_eq!(env.sim.calls("extreme", PUT_ROUTE), 2, "the PUT is retried");
    assert_eq!(env.named("Acme Corp"), 1);
    assert!(!env.plan(&d).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_never_makes_a_duplicate() {
    let env = start().await;
    // The vendor would take a second tenant of the same name.
    env.switches(|s| s.duplicate_names = DuplicateNames::Allow);
    let d = env
        .desired(&(customer("acme", "Acme Corp") + &partner("westgate", "Westgate IT", &["acme"])));
    env.fault(CREATE_ROUTE, FaultKind::DropAfterCommit, 1);
    env.fault(PUT_ROUTE, FaultKind::DropAfterCommit, 1);
    let report = env.apply(&d).await;
    assert_ok(&report);
    assert_eq!(env.sim.faults_fired("extreme", CREATE_ROUTE), 1);
    assert_eq!(env.sim.faults_fired("extreme", PUT_ROUTE), 1);
    assert_eq!(
        env.sim.calls("extreme", CREATE_ROUTE),
        1,
        "found by name, not posted again"
    );
    assert_eq!(
        env.sim.calls("extreme", PUT_ROUTE),
        2,
        "the PUT (idempotent) was sent again"
    );
    assert_eq!(env.named("Acme Corp"), 1);
    assert_eq!(env.partner_tenants(WESTGATE).len(), 1);
    let pending = mspform::state::pending(env.store.as_ref()).unwrap();
    assert!(pending.is_empty(), "{pending:?}");
    assert!(!env.plan(&d).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_create_is_settled_by_the_next_run() {
    let env = start().await;
    let d = env.desired(&customer("acme", "Acme Corp"));
    // The answer is lost and the lookup keeps failing: the run ends with the
    // create journaled as pending.
    env.switches(|s| s.duplicate_names = DuplicateNames::Allow);
    env.fault(CREATE_ROUTE, FaultKind::DropAfterCommit, 1);
    env.fault(
        "GET /v1/msptenants/nametoidmap",
        FaultKind::Status { status: 500 },
        5,
    );
    let report = env.apply(&d).await;
    assert_eq!(env.sim.faults_fired("extreme", "* *"), 1 + 5);
    assert!(
        matches!(report.actions[&addr("customer.acme")], Outcome::Failed(_)),
        "{report:?}"
    );
    assert_eq!(
        mspform::state::pending(env.store.as_ref()).unwrap().len(),
        1
    );
    // The next run reads the tenant, adopts it, and creates nothing.
    let p = env.plan(&d).await;
    assert_eq!(ops(&p), [op("customer.acme", Op::Adopt)]);
    assert_ok(&env.apply(&d).await);
    assert_eq!(env.sim.calls("extreme", CREATE_ROUTE), 1);
    assert_eq!(env.named("Acme Corp"), 1);
    assert!(
        mspform::state::pending(env.store.as_ref())
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_is_renewed_after_the_idle_timeout_and_after_expiry() {
    let env = start().await;
    let d = env.desired(LAKESIDE_TOML);
    let p = env.plan(&d).await;
    assert_eq!(env.sim.calls("extreme", TOKEN_ROUTE), 1);
    // An hour without a call: the token is dead although not expired. One 401,
    // one refresh grant, carry on — in the same client.
    env.sim.advance_clock(3601);
    let client = &p.parts[0].client;
    let again = client
        .refresh(
            &d,
            &engine::owned(env.store.as_ref()).unwrap(),
            &Default::default(),
        )
        .await
        .expect("refresh after the idle timeout");
    assert!(again.resolved().errors.is_empty());
    assert_eq!(env.sim.calls("extreme", TOKEN_ROUTE), 2);
    // Refresh grant refused by this account: the password grant takes over.
    env.switches(|s| s.refresh_supported = false);
    env.sim.advance_clock(7201);
    client
        .refresh(
            &d,
            &engine::owned(env.store.as_ref()).unwrap(),
            &Default::default(),
        )
        .await
        .expect("refresh after expiry");
    assert_eq!(
        env.sim.calls("extreme", TOKEN_ROUTE),
        4,
        "refresh refused, then password"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_and_read_only_admins_get_clear_errors_without_secrets() {
    let env = start().await;
    let d = env.desired_with("bad", "", LAKESIDE_TOML);
    let err = engine::plan(&d, env.store.clone(), &Default::default())
        .await
        .err()
        .expect("login fails");
    let text = err.to_string();
    assert!(
        matches!(
            err,
            EngineError::Provider(mspform::vendor::ProviderError::Auth { .. })
        ),
        "{text}"
    );
    assert!(
        text.contains("401") && text.contains("msp-admin@example.net"),
        "{text}"
    );
    assert!(!text.contains("not-the-password-123"), "{text}");

    let d = env.desired_with("viewer", "", &customer("acme", "Acme Corp"));
    let report = env.apply(&d).await;
    let Outcome::Failed(message) = &report.actions[&addr("customer.acme")] else {
        panic!("{report:?}")
    };
    assert!(
        message.contains("403") && message.contains("MSP Power Admin"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_token_works_and_is_never_shown() {
    let env = start().await;
    let d = env.desired_with(
        "token",
        "",
        &(customer("acme", "Acme Corp") + &partner("westgate", "Westgate IT", &["acme"])),
    );
    assert_ok(&env.apply(&d).await);
    assert_eq!(env.sim.calls("extreme", TOKEN_ROUTE), 0);
    assert!(!env.plan(&d).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assumed_behaviours_in_their_other_form_are_tolerated() {
    let env = start().await;
    env.switches(|s| {
        s.create_status = 200;
        s.create_body = CreateBody::Empty;
        s.nametoidmap_shape = NameToIdShape::List;
        s.echo_user_id = true;
        s.msp_prefix = "/management/v1".into();
        s.error_body = mspform::sim::extreme::ErrorBody::Spring;
        s.put_echo_cust_id = mspform::sim::extreme::PutEchoCustId::Msp;
        s.refresh_token_single_use = false;
        s.partner_put_missing_lists = mspform::sim::extreme::MissingLists::Reject;
    });
    let d = env.desired_with(
        "login",
        "msp_prefix = \"/management/v1\"",
        &(customer("acme", "Acme Corp") + &partner("westgate", "Westgate IT", &["acme"])),
    );
    assert_ok(&env.apply(&d).await);
    assert_eq!(
        env.sim.calls("extreme", "GET /v1/msptenants/nametoidmap"),
        1
    );
    let acme = env.tenant_id("Acme Corp").unwrap();
    assert_eq!(env.partner_tenants(WESTGATE), [acme]);
    assert!(!env.plan(&d).await.plan.has_changes());

    // A refused create shows the vendor's error text, whatever its shape.
    let d2 = env.desired_with(
        "login",
        "msp_prefix = \"/management/v1\"",
        &(customer("acme", "Acme Corp")
            + &customer("dup", "Dup Ltd").replace("admin@dup.example", "taken@elsewhere.example")),
    );
    let report = env.apply(&d2).await;
    let Outcome::Failed(message) = &report.actions[&addr("customer.dup")] else {
        panic!("{report:?}")
    };
    assert!(
        message.contains("400") && message.contains("userId"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partner_put_falls_back_to_the_msp_id_when_configured() {
    let env = start().await;
    env.switches(|s| s.partner_put_path = PartnerPutPath::Msp);
    let body = customer("acme", "Acme Corp") + &partner("westgate", "Westgate IT", &["acme"]);
    // Without msp_id: the 404 says what to configure.
    let d = env.desired(&body);
    let report = env.apply(&d).await;
    let Outcome::Failed(message) = &report.actions[&addr("partner.westgate")] else {
        panic!("{report:?}")
    };
    assert!(
        message.contains("404") && message.contains("msp_id"),
        "{message}"
    );
    // With it: the PUT goes to the MSP id, the body names the partner.
    let d = env.desired_with("login", &format!("msp_id = \"{MSP_ID}\""), &body);
    assert_ok(&env.apply(&d).await);
    assert_eq!(env.partner_tenants(WESTGATE).len(), 1);
    assert!(!env.plan(&d).await.plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_errors_name_the_place_and_make_no_call() {
    let env = start().await;
    let path = env.dir.path().join("bad.toml");
    let text = format!(
        "{}{}",
        env.provider("login", ""),
        r#"
[customers.acme]
provider = "ext"
name = "A name that is far too long for ExtremeCloud, which allows sixty-four"
country = "Netherlands"
time_zone = "europe/amsterdam"
contact = { email = "not-an-email", name = "A & B" }
admin_user = "x;y@acme.example"
"#
    );
    std::fs::write(&path, text).unwrap();
    let errors = mspform::config::load(&path).unwrap_err();
    let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "customers.acme.name",
            "customers.acme.country",
            "customers.acme.time_zone",
            "customers.acme.contact.email",
            "customers.acme.contact.name",
            "customers.acme.admin_user",
        ]
    );
    let tz = errors
        .iter()
        .find(|e| e.key.ends_with("time_zone"))
        .unwrap();
    assert_eq!(
        tz.help.as_deref(),
        Some("did you mean time_zone = \"Europe/Amsterdam\"?")
    );
    assert!(tz.line > 0 && tz.column > 0);
    assert_eq!(env.sim.total_calls("extreme"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_live_tenants_with_the_declared_name_stop_the_plan() {
    let env = start().await;
    env.switches(|s| s.duplicate_names = DuplicateNames::Allow);
    env.sim
        .extreme_edit(ExtremeEdit::CreateTenant {
            account_name: "Lakeside Dental".into(),
            country: "US".into(),
            time_zone: "America/Chicago".into(),
            contact_name: None,
            contact_email: None,
            contact_phone: None,
            user_id: None,
            cust_id: Some("MspEndCustomer-tenantid-Dup0000000000001".into()),
        })
        .unwrap();
    let err = env.plan_err(&env.desired(LAKESIDE_TOML)).await;
    assert!(
        err.contains("customer.lakeside: 2 ExtremeCloud tenants are named \"Lakeside Dental\"")
            && err.contains(LAKESIDE)
            && err.contains("MspEndCustomer-tenantid-Dup0000000000001"),
        "{err}"
    );
}

/// The acceptance check on the example portfolio (its ExtremeCloud part):
/// moving a customer from one partner to another is one plan showing both
/// sides, and every other tenant of both partners (declared or not) stays where it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_a_customer_between_partners_leaves_every_other_tenant_in_place() {
    let sim = crate::support::sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = crate::support_extreme::write_extreme_part(&sim, dir.path());
    let store = crate::support::store(dir.path());
    let desired = mspform::config::load(&conf).unwrap();
    assert!(crate::support::apply(&desired, &store).await.ok());
    let tenants_of = |partner: &str| -> Vec<String> {
        let dump = sim.dump();
        let names: std::collections::BTreeMap<String, String> = dump["extreme"]["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["cust_id"].as_str().unwrap().to_string(),
                    t["account_name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let mut out: Vec<String> = dump["extreme"]["partners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["account_name"] == partner)
            .unwrap()["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| names[id.as_str().unwrap()].clone())
            .collect();
        out.sort();
        out
    };
    assert_eq!(
        tenants_of("Northwind Partners"),
        ["Lakeside Dental", "Old Mill Hotel"]
    );
    assert_eq!(tenants_of("Westgate IT"), ["Harbor Logistics"]);
    let southbay = tenants_of("Southbay Networks");

    // Lakeside Dental moves from Northwind to Westgate.
    let partners = conf.join("partners.toml");
    let text = std::fs::read_to_string(&partners)
        .unwrap()
        .replace("customers = [\"lakeside-dental\"]", "customers = []");
    let text = text.replace(
        "customers = [\"harbor-logistics\"]",
        "customers = [\"harbor-logistics\", \"lakeside-dental\"]",
    );
    std::fs::write(&partners, text).unwrap();
    let desired = mspform::config::load(&conf).unwrap();
    let plan = crate::support::plan(&desired, &store).await;
    let moved: Vec<(String, Op)> = plan
        .plan
        .actions
        .iter()
        .map(|a| (a.address.to_string(), a.op))
        .collect();
    assert_eq!(
        moved,
        [
            op("partner.northwind", Op::Update),
            op("partner.westgate", Op::Update)
        ]
    );
    assert!(crate::support::apply(&desired, &store).await.ok());
    assert_eq!(tenants_of("Northwind Partners"), ["Old Mill Hotel"]);
    assert_eq!(
        tenants_of("Westgate IT"),
        ["Harbor Logistics", "Lakeside Dental"]
    );
    assert_eq!(tenants_of("Southbay Networks"), southbay, "untouched");
    assert!(
        !crate::support::plan(&desired, &store)
            .await
            .plan
            .has_changes()
    );
}

/// Issue 7, item 2: the login is a token request, safe to repeat: a 5xx or a
/// dropped connection on it is retried like a read and the plan goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_500_or_dropped_connection_is_retried_and_the_plan_goes_on() {
    let env = start().await;
    let d = env.desired(LAKESIDE_TOML);
    env.fault(TOKEN_ROUTE, FaultKind::Status { status: 500 }, 1);
    env.fault(TOKEN_ROUTE, FaultKind::DropAfterCommit, 1);
    let p = env.plan(&d).await;
    assert_eq!(env.sim.faults_fired("extreme", TOKEN_ROUTE), 2);
    assert_eq!(env.sim.calls("extreme", TOKEN_ROUTE), 3);
    assert_eq!(p.plan.providers[0].provider, "ext");
    assert_eq!(
        env.sim.calls("extreme", "GET /v1/msptenants"),
        1,
        "the tenants were read"
    );
}

/// A login endpoint that keeps failing: bounded attempts, then an HTTP error
/// naming vendor, call and status (not "check the password"), no secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_login_500_is_an_error_naming_vendor_call_and_status() {
    let env = start().await;
    let d = env.desired(LAKESIDE_TOML);
    env.sim.inject_fault(FaultSpec {
        vendor: "extreme".into(),
        route: TOKEN_ROUTE.into(),
        kind: FaultKind::Status { status: 500 },
        count: None,
        rate: None,
    });
    let err = engine::plan(&d, env.store.clone(), &Default::default())
        .await
        .err()
        .expect("fails");
    let text = err.to_string();
    assert!(
        matches!(
            err,
            EngineError::Provider(mspform::vendor::ProviderError::Http { status: 500, .. })
        ),
        "a vendor failure, not a credentials problem: {text}"
    );
    assert!(
        text.starts_with("ext: POST /management/v1/oauth2/token answered HTTP 500"),
        "{text}"
    );
    assert!(!text.contains("sim-password"), "{text}");
    assert_eq!(
        env.sim.calls("extreme", TOKEN_ROUTE),
        5,
        "one try and four retries"
    );
}
