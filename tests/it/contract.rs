//! One provider contract, run against every vendor wired to the simulator:
//! create, read back (a second apply writes nothing), update (or replace where
//! the vendor has no update call), delete (or a clear plan error where it has no
//! delete call), an object deleted by hand (not found → created again), a
//! retried read, and a re-run after a create whose answer was lost (no duplicate).
//!
//! Each vendor is a [`Vendor`] value; the tests are the same for all four.

use std::path::Path;
use std::sync::Arc;

use mspform::diff::{Action, Op};
use mspform::engine::{self, EngineError};
use mspform::model::Desired;
use mspform::sim::extreme::DuplicateNames as ExtremeDuplicates;
use mspform::sim::ruckus::DuplicateNames as RuckusDuplicates;
use mspform::sim::{AudiocodesEdit, ExtremeEdit, FaultKind, FaultSpec, RuckusEdit, Simulator};
use mspform::state::StateStore;

use crate::support::{aruba_settings, sim, store};

const ADDRESS: &str = "customer.contract";

/// What differs between vendors; everything else is the shared contract.
struct Vendor {
    /// The simulator prefix and fault vendor name.
    name: &'static str,
    /// The `[providers.p]` table, pointed at `sim`; secrets in files under `dir`.
    provider: fn(&Simulator, &Path) -> String,
    /// The `[customers.contract]` table; `changed` alters one field.
    customer: fn(changed: bool) -> String,
    /// The field `changed` alters.
    field: &'static str,
    /// How that change is planned.
    change_op: Op,
    /// Whether the vendor documents a delete.
    deletes: bool,
    /// The read every plan makes (for the retry check).
    read_route: &'static str,
    /// The create call (for the lost-answer check).
    create_route: &'static str,
    /// Live objects named like the contract customer.
    count: fn(&Simulator) -> usize,
    /// Deletes the contract customer behind mspform's back.
    remove_by_hand: fn(&Simulator),
    /// Makes the vendor accept a second object with the contract customer's name,
    /// where the fact sheet only assumes it refuses one.
    allow_duplicates: fn(&Simulator),
}

fn secret(dir: &Path, name: &str, value: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value).unwrap();
    path.display().to_string()
}

fn named(sim: &Simulator, vendor: &str, list: &str, key: &str, name: &str) -> usize {
    sim.dump()[vendor][list]
        .as_array()
        .map(|items| items.iter().filter(|c| c[key] == name).count())
        .unwrap_or(0)
}

fn id_of(sim: &Simulator, vendor: &str, list: &str, key: &str, name: &str, id: &str) -> String {
    sim.dump()[vendor][list]
        .as_array()
        .and_then(|items| items.iter().find(|c| c[key] == name))
        .and_then(|c| c[id].as_str())
        .expect("the contract customer is live")
        .to_string()
}

const ARUBA: Vendor = Vendor {
    name: "aruba",
    provider: |sim, dir| {
        format!(
            "[providers.p]\ntype = \"aruba-central\"\nbase_url = \"{}\"\ntoken = {{ file = \"{}\" }}\n",
            sim.base_url("aruba"),
            secret(dir, "token", "sim-token")
        )
    },
    customer: |changed| {
        format!(
            "[customers.contract]\nprovider = \"p\"\nname = \"Contract Co\"\ncountry = \"US\"\naddress = {{ street = \"1 Main St\", city = \"Austin\", state = \"Texas\", zip = \"73301\" }}\ndescription = \"{}\"\n",
            if changed { "changed" } else { "original" }
        )
    },
    field: "description",
    change_op: Op::Update,
    deletes: true,
    read_route: "GET /msp_api/v1/customers",
    create_route: "POST /msp_api/v2/customers",
    count: |sim| named(sim, "aruba", "customers", "customer_name", "Contract Co"),
    remove_by_hand: |sim| {
        let id = id_of(
            sim,
            "aruba",
            "customers",
            "customer_name",
            "Contract Co",
            "customer_id",
        );
        let url = format!("{}/msp_api/v1/customers/{id}", sim.base_url("aruba"));
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let status = reqwest::Client::new()
                    .delete(url)
                    .bearer_auth("sim-token")
                    .send()
                    .await
                    .expect("the simulator answers")
                    .status();
                assert!(status.is_success(), "{status}");
            })
        })
        .join()
        .unwrap();
    },
    allow_duplicates: |sim| sim.aruba_switches(|s| s.allow_duplicate_names = true),
};

const EXTREME: Vendor = Vendor {
    name: "extreme",
    provider: |sim, dir| {
        format!(
            "[providers.p]\ntype = \"extremecloud\"\nbase_url = \"{}\"\ncalls_per_second = 1000\nlogin = {{ user = \"msp-admin@example.net\", password = {{ file = \"{}\" }} }}\n",
            sim.base_url("extreme"),
            secret(dir, "password", "sim-password")
        )
    },
    customer: |changed| {
        format!(
            "[customers.contract]\nprovider = \"p\"\nname = \"Contract Co\"\ncountry = \"US\"\ntime_zone = \"{}\"\ncontact = {{ email = \"it@contract.example\", name = \"Connie Tract\", phone = \"+1 512 555 0100\" }}\nadmin_user = \"admin@contract.example\"\n",
            if changed {
                "America/Denver"
            } else {
                "America/Chicago"
            }
        )
    },
    field: "time_zone",
    // ExtremeCloud documents no tenant update: planned, and refused at apply.
    change_op: Op::Update,
    deletes: false,
    read_route: "GET /v1/msptenants",
    create_route: "POST /v1/msptenants",
    count: |sim| named(sim, "extreme", "tenants", "account_name", "Contract Co"),
    remove_by_hand: |sim| {
        sim.extreme_edit(ExtremeEdit::DeleteTenant {
            tenant: "Contract Co".into(),
        })
        .expect("edit applies")
    },
    allow_duplicates: |sim| sim.extreme_switches(|s| s.duplicate_names = ExtremeDuplicates::Allow),
};

const RUCKUS: Vendor = Vendor {
    name: "ruckus",
    provider: |sim, dir| {
        format!(
            "[providers.p]\ntype = \"ruckus-one\"\nbase_url = \"{}\"\ntenant_id = \"8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60\"\nclient_id = {{ file = \"{}\" }}\nclient_secret = {{ file = \"{}\" }}\npoll_interval_ms = 20\n",
            sim.base_url("ruckus"),
            secret(dir, "client-id", "sim-r1-client"),
            secret(dir, "client-secret", "sim-r1-secret")
        )
    },
    customer: |changed| {
        format!(
            "[customers.contract]\nprovider = \"p\"\nname = \"Contract Co\"\naddress = {{ street = \"1 Main St\", city = \"{}\", state = \"TX\", country = \"United States\", zip = \"73301\" }}\nservice_start = \"2026-01-01\"\nservice_end = \"2027-12-31\"\nadmin = {{ email = \"it@contract.example\" }}\n",
            if changed { "Dallas" } else { "Austin" }
        )
    },
    field: "city",
    change_op: Op::Update,
    deletes: true,
    read_route: "POST /tenants/query",
    create_route: "POST /tenants",
    count: |sim| named(sim, "ruckus", "ecs", "name", "Contract Co"),
    remove_by_hand: |sim| {
        sim.ruckus_edit(RuckusEdit::DeleteEc {
            tenant: "Contract Co".into(),
        })
        .expect("edit applies")
    },
    allow_duplicates: |sim| sim.ruckus_switches(|s| s.duplicate_names = RuckusDuplicates::Allow),
};

const AUDIOCODES: Vendor = Vendor {
    name: "audiocodes",
    provider: |sim, dir| {
        let base = sim.base_url("audiocodes");
        format!(
            "[providers.p]\ntype = \"audiocodes-live\"\nbase_url = \"{base}\"\ncalls_per_second = 1000\noauth = {{ tenant_id = \"8d2f5c1e-3b7a-4c9e-a1f0-6e4b2d7c9a53\", client_id = {{ file = \"{}\" }}, client_secret = {{ file = \"{}\" }}, scope = \"api://c7e1a4b2-9f3d-4e8a-b6c5-2d1f0e9a8b74/.default\", token_url = \"{base}/{{tenant_id}}/oauth2/v2.0/token\" }}\n",
            secret(dir, "client-id", "5a9e2c7f-1b4d-4f6a-8e3c-9d0b7a6f5e12"),
            secret(dir, "client-secret", "sim-ac-secret")
        )
    },
    customer: |changed| {
        format!(
            "[customers.contract]\nprovider = \"p\"\nname = \"{}\"\nshort_name = \"ContractCo\"\ncustomer_type = \"IPGROUP_TYPE\"\nms_tenant_id = \"4bf50a33-a383-4d3f-9403-220c898bc1b2\"\nsite = {{ sbc_id = 5, onboarding_script = 10007, cleanup_script = 10700 }}\n",
            if changed {
                "ContractCo-Renamed"
            } else {
                "ContractCo"
            }
        )
    },
    field: "name",
    // No documented update call: a replacement.
    change_op: Op::Replace,
    deletes: true,
    read_route: "GET /api/v3/customer",
    create_route: "POST /api/v2/customer",
    count: |sim| named(sim, "audiocodes", "customers", "short_name", "ContractCo"),
    remove_by_hand: |sim| {
        sim.audiocodes_edit(AudiocodesEdit::DeleteCustomer {
            customer: "ContractCo".into(),
        })
        .expect("edit applies")
    },
    // Documented: a shortName is unique per Microsoft tenant (only the status is
    // assumed), so there is no switch; the count of create calls proves it here.
    allow_duplicates: |_| {},
};

struct Run {
    sim: Simulator,
    dir: tempfile::TempDir,
    store: Arc<dyn StateStore>,
}

impl Run {
    async fn new() -> Run {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        Run {
            sim: sim(false).await,
            dir,
            store,
        }
    }

    fn desired(&self, v: &Vendor, customer: Option<bool>) -> Desired {
        let conf = self.dir.path().join("conf");
        std::fs::create_dir_all(&conf).unwrap();
        let mut text = (v.provider)(&self.sim, &conf);
        if let Some(changed) = customer {
            text.push('\n');
            text.push_str(&(v.customer)(changed));
        }
        std::fs::write(conf.join("main.toml"), text).unwrap();
        let mut desired = mspform::config::load(&conf).expect("the contract config loads");
        aruba_settings(&mut desired, |s| {
            s.calls_per_second = 1000;
            s.poll_interval_ms = 20;
        });
        desired.edit_specs::<mspform::vendors::ruckus::Ruckus>(|spec| {
            spec.settings.calls_per_second = 1000;
        });
        desired
    }

    async fn plan(&self, desired: &Desired) -> Result<engine::Prepared, EngineError> {
        engine::plan(desired, self.store.clone(), &Default::default()).await
    }

    async fn actions(&self, desired: &Desired) -> Vec<Action> {
        self.plan(desired).await.expect("plan").plan.actions
    }

    async fn apply(&self, desired: &Desired) -> engine::ApplyReport {
        let prepared = self.plan(desired).await.expect("plan");
        engine::apply(
            &prepared,
            desired,
            self.store.clone(),
            &mspform::engine::Stop::new(),
        )
        .await
    }

    fn fault(&self, v: &Vendor, route: &str, kind: FaultKind) {
        self.sim.inject_fault(FaultSpec {
            vendor: v.name.into(),
            route: route.into(),
            kind,
            count: Some(1),
            rate: None,
        });
    }
}

fn only(actions: &[Action]) -> &Action {
    assert_eq!(actions.len(), 1, "{actions:#?}");
    &actions[0]
}

async fn create_read_and_rerun(v: &Vendor) {
    let run = Run::new().await;
    let desired = run.desired(v, Some(false));
    let actions = run.actions(&desired).await;
    let a = only(&actions);
    assert_eq!(
        (a.address.to_string().as_str(), a.op),
        (ADDRESS, Op::Create)
    );
    let report = run.apply(&desired).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!((v.count)(&run.sim), 1);
    assert!(
        run.actions(&desired).await.is_empty(),
        "read back as declared"
    );
    let writes = run.sim.write_calls(v.name);
    let report = run.apply(&desired).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(
        run.sim.write_calls(v.name),
        writes,
        "a second apply writes nothing"
    );
}

async fn update(v: &Vendor) {
    let run = Run::new().await;
    assert!(run.apply(&run.desired(v, Some(false))).await.ok());
    let changed = run.desired(v, Some(true));
    let actions = run.actions(&changed).await;
    let a = only(&actions);
    assert_eq!(
        (a.address.to_string().as_str(), a.op),
        (ADDRESS, v.change_op)
    );
    assert!(a.changed(v.field).is_some(), "{a:#?}");
    let report = run.apply(&changed).await;
    if v.name == "extreme" {
        // No documented update call: the step says so and nothing is sent.
        let outcome = format!(
            "{:?}",
            report.actions[&ADDRESS.parse::<mspform::address::Address>().unwrap()]
        );
        assert!(outcome.contains("no tenant update"), "{outcome}");
        assert_eq!((v.count)(&run.sim), 1);
        return;
    }
    assert!(report.ok(), "{report:#?}");
    assert!(run.actions(&changed).await.is_empty());
    assert_eq!((v.count)(&run.sim), 1);
}

async fn delete(v: &Vendor) {
    let run = Run::new().await;
    assert!(run.apply(&run.desired(v, Some(false))).await.ok());
    let without = run.desired(v, None);
    if !v.deletes {
        let Err(EngineError::Plan(errors)) = run.plan(&without).await else {
            panic!("a delete the vendor cannot make is a plan error");
        };
        assert!(errors.iter().any(|e| e.contains(ADDRESS)), "{errors:?}");
        assert_eq!((v.count)(&run.sim), 1, "nothing was sent");
        return;
    }
    let actions = run.actions(&without).await;
    let a = only(&actions);
    assert_eq!(
        (a.address.to_string().as_str(), a.op),
        (ADDRESS, Op::Delete)
    );
    let report = run.apply(&without).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!((v.count)(&run.sim), 0);
    assert!(run.actions(&without).await.is_empty());
}

async fn not_found(v: &Vendor) {
    let run = Run::new().await;
    let desired = run.desired(v, Some(false));
    assert!(run.apply(&desired).await.ok());
    (v.remove_by_hand)(&run.sim);
    assert_eq!((v.count)(&run.sim), 0);
    let actions = run.actions(&desired).await;
    let a = only(&actions);
    assert_eq!(
        (a.address.to_string().as_str(), a.op),
        (ADDRESS, Op::Create)
    );
    let report = run.apply(&desired).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!((v.count)(&run.sim), 1);
    assert!(run.actions(&desired).await.is_empty());
}

async fn retry(v: &Vendor) {
    let run = Run::new().await;
    let desired = run.desired(v, Some(false));
    run.fault(v, v.read_route, FaultKind::Status { status: 503 });
    let actions = run.actions(&desired).await;
    assert_eq!(only(&actions).op, Op::Create);
    assert_eq!(run.sim.calls(v.name, v.read_route), 2, "retried once");
}

async fn lost_answer_rerun(v: &Vendor) {
    let run = Run::new().await;
    // Only mspform's lookup stands between a lost answer and a duplicate: the
    // vendor itself would take a second object of the same name.
    (v.allow_duplicates)(&run.sim);
    let desired = run.desired(v, Some(false));
    run.fault(v, v.create_route, FaultKind::DropAfterCommit);
    let first = run.apply(&desired).await;
    assert_eq!(
        run.sim.faults_fired(v.name, v.create_route),
        1,
        "the create committed and its answer was lost"
    );
    assert!(
        first.ok(),
        "the lost answer is settled by looking the object up: {first:#?}"
    );
    assert_eq!((v.count)(&run.sim), 1, "no duplicate");
    let writes = run.sim.write_calls(v.name);
    let report = run.apply(&desired).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(
        run.sim.write_calls(v.name),
        writes,
        "the re-run writes nothing"
    );
    assert_eq!(run.sim.calls(v.name, v.create_route), 1, "created once");
    assert_eq!((v.count)(&run.sim), 1, "no duplicate");
    assert!(run.actions(&desired).await.is_empty());
}

macro_rules! contract {
    ($($vendor:ident: $v:expr),* $(,)?) => {
        $(
            mod $vendor {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn create_read_and_rerun() { super::create_read_and_rerun(&$v).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn update() { super::update(&$v).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn delete() { super::delete(&$v).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn not_found() { super::not_found(&$v).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn retry() { super::retry(&$v).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn lost_answer_rerun() { super::lost_answer_rerun(&$v).await }
            }
        )*
    };
}

contract! {
    aruba: ARUBA,
    extreme: EXTREME,
    ruckus: RUCKUS,
    audiocodes: AUDIOCODES,
}
