//! `--target` and `--exclude` (globs, dependencies pulled in, a glob that
//! matches nothing) and saved plans that re-read only their inputs
//! (fingerprints, refusal by name, `--allow-partial`), through the binary.

use std::path::{Path, PathBuf};

use mspform::sim::{ArubaEdit, Simulator};
use serde_json::Value;

use crate::cli::{args, run, write_portfolio};
use crate::support::*;

/// The example portfolio, applied; returns (config dir, state dir).
async fn applied(sim: &Simulator, dir: &Path) -> (PathBuf, PathBuf) {
    sim.aruba_switches(|s| {
        s.provision_invisible_polls = 0;
        s.provision_delay_ms = 0;
        s.device_move_delay_ms = 0;
    });
    let conf = write_portfolio(sim, dir);
    let state = dir.join("state");
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    (conf, state)
}

fn edit_city(sim: &Simulator, customer: &str, city: &str) {
    sim.aruba_edit(ArubaEdit::CustomerField {
        customer_name: customer.into(),
        field: "city".into(),
        value: city.into(),
    })
    .unwrap();
}

async fn plan_json(conf: &Path, state: &Path, extra: &[&str]) -> (Option<i32>, Value, String) {
    let mut rest = vec!["plan", "--format", "json"];
    rest.extend_from_slice(extra);
    let out = run(args(conf, state, &rest)).await;
    let plan = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), plan, text(&out))
}

fn addresses(plan: &Value) -> Vec<String> {
    plan["actions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["address"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_plans_only_its_objects_and_an_exclude_leaves_them_out() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let (conf, state) = applied(&sim, dir.path()).await;
    edit_city(&sim, "Acme Retail", "Leeds");
    edit_city(&sim, "Coffee Shop", "Leeds");

    let (code, plan, out) = plan_json(&conf, &state, &[]).await;
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        addresses(&plan),
        ["customer.acme-retail", "customer.coffee-shop"]
    );

    let (code, plan, out) = plan_json(&conf, &state, &["--target", "customer.acme-*"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(addresses(&plan), ["customer.acme-retail"], "{out}");
    assert_eq!(plan["targets"], serde_json::json!(["customer.acme-*"]));

    let (code, plan, out) = plan_json(&conf, &state, &["--exclude", "customer.acme-retail"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(addresses(&plan), ["customer.coffee-shop"], "{out}");
    assert_eq!(
        plan["excludes"],
        serde_json::json!(["customer.acme-retail"])
    );

    // The text plan says the plan is partial.
    let out = run(args(
        &conf,
        &state,
        &["plan", "--target", "customer.acme-retail"],
    ))
    .await;
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("Targeted plan (--target customer.acme-retail)"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_target_pulls_in_its_customer_and_site() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let (code, plan, out) = plan_json(&conf, &state, &["--target", "device.AP0000001"]).await;
    assert_eq!(code, Some(0), "{out}");
    let planned = addresses(&plan);
    for wanted in [
        "customer.coffee-shop",
        "site.coffee-shop/santa-clara",
        "device.AP0000001",
    ] {
        assert!(planned.iter().any(|a| a == wanted), "{wanted}: {planned:?}");
    }
    assert_eq!(planned.len(), 3, "{planned:?}");
    assert_eq!(
        plan["pulled_in"],
        serde_json::json!(["customer.coffee-shop", "site.coffee-shop/santa-clara"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_glob_that_matches_nothing_is_an_error_before_any_call() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    for flag in ["--target", "--exclude"] {
        sim.reset_calls();
        let out = run(args(&conf, &state, &["plan", flag, "customer.acme-retial"])).await;
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{flag} customer.acme-retial matches nothing"))
                && err.contains("did you mean `customer.acme-retail`"),
            "{err}"
        );
        assert_eq!(sim.total_calls("aruba"), 0, "no vendor call");
    }
    let out = run(args(&conf, &state, &["plan", "--target", "customers.x"])).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not start with a kind of object"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_refuses_by_name_the_actions_whose_inputs_changed() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let (conf, state) = applied(&sim, dir.path()).await;
    edit_city(&sim, "Acme Retail", "Leeds");
    edit_city(&sim, "Coffee Shop", "Leeds");
    let saved = dir.path().join("plan.json");
    let saved_arg = saved.to_str().unwrap();
    let (code, plan, out) = plan_json(&conf, &state, &["--out", saved_arg]).await;
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        addresses(&plan),
        ["customer.acme-retail", "customer.coffee-shop"]
    );

    // Someone edits Acme Retail again in the portal after the review.
    sim.aruba_edit(ArubaEdit::CustomerField {
        customer_name: "Acme Retail".into(),
        field: "description".into(),
        value: "edited after the review".into(),
    })
    .unwrap();
    sim.reset_calls();
    let out = run(args(&conf, &state, &["apply", saved_arg])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("customer.acme-retail: the live state it rests on changed")
            && !err.contains("customer.coffee-shop:"),
        "{err}"
    );
    assert!(err.contains("--allow-partial"), "{err}");
    assert_eq!(sim.write_calls("aruba"), 0, "nothing applied");

    // --allow-partial applies what still holds, names the rest, and exits 1.
    let out = run(args(
        &conf,
        &state,
        &["apply", saved_arg, "--allow-partial"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("not applied: customer.acme-retail"),
        "{shown}"
    );
    assert_eq!(sim.write_calls("aruba"), 1, "{}", text(&out));
    let (_, plan, out) = plan_json(&conf, &state, &[]).await;
    assert_eq!(addresses(&plan), ["customer.acme-retail"], "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_with_a_changed_configuration_is_refused() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let (conf, state) = applied(&sim, dir.path()).await;
    edit_city(&sim, "Acme Retail", "Leeds");
    let saved = dir.path().join("plan.json");
    let saved_arg = saved.to_str().unwrap();
    let (code, _, out) = plan_json(&conf, &state, &["--out", saved_arg]).await;
    assert_eq!(code, Some(0), "{out}");
    // The files change after the review: the action would now set another value.
    let file = conf.join("acme-retail.toml");
    let text_before = std::fs::read_to_string(&file).unwrap();
    let city = text_before
        .lines()
        .find(|l| l.contains("city"))
        .expect("a city line")
        .to_string();
    let changed = text_before.replacen(&city, &city.replace("city = \"", "city = \"New "), 1);
    assert_ne!(changed, text_before);
    std::fs::write(&file, changed).unwrap();
    sim.reset_calls();
    let out = run(args(&conf, &state, &["apply", saved_arg])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("customer.acme-retail: planned differently now"),
        "{err}"
    );
    assert_eq!(sim.write_calls("aruba"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_without_changes_reads_nothing() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let (conf, state) = applied(&sim, dir.path()).await;
    let saved = dir.path().join("plan.json");
    let saved_arg = saved.to_str().unwrap();
    let (code, _, out) = plan_json(&conf, &state, &["--out", saved_arg]).await;
    assert_eq!(code, Some(0), "{out}");
    sim.reset_calls();
    let out = run(args(&conf, &state, &["apply", saved_arg])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(sim.total_calls("aruba"), 0);
}

/// A customer whose file is gone is deleted with its sites and devices; a
/// selection that leaves some of those out (an exclude, or a target of its
/// sites only) must not delete the customer with them still inside it — the
/// vendor would strip their assignment and licences. The delete is held back
/// with a warning; the rest of the selection goes ahead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selection_never_deletes_a_customer_with_objects_of_it_left_out() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let (conf, state) = applied(&sim, dir.path()).await;
    std::fs::remove_file(conf.join("coffee-shop.toml")).unwrap();

    let (code, plan, out) = plan_json(&conf, &state, &[]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(addresses(&plan).contains(&"customer.coffee-shop".to_string()));

    for selection in [
        ["--exclude", "device.AP000000*"],
        ["--target", "site.coffee-shop/*"],
    ] {
        let (code, plan, out) = plan_json(&conf, &state, &selection).await;
        assert_eq!(code, Some(0), "{out}");
        let planned = addresses(&plan);
        assert!(
            !planned.contains(&"customer.coffee-shop".to_string()),
            "{selection:?}: {planned:?}"
        );
        let warnings = plan["warnings"].to_string();
        assert!(
            warnings.contains("customer.coffee-shop: its delete is left out"),
            "{selection:?}: {warnings}"
        );
    }
    // Applied: the devices stay assigned and licensed in their customer.
    let out = run(args(
        &conf,
        &state,
        &["apply", "--auto-approve", "--exclude", "device.AP000000*"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        live_names(&sim, "aruba", "customers", "customer_name").contains(&"Coffee Shop".into()),
        "the customer is still there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_its_excludes_leave_nothing_of_is_an_error() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let (conf, state) = applied(&sim, dir.path()).await;
    sim.reset_calls();
    for exclude in ["device.AP0000001", "customer.coffee-shop"] {
        let (code, _, out) = plan_json(
            &conf,
            &state,
            &["--target", "device.AP0000001", "--exclude", exclude],
        )
        .await;
        assert_eq!(code, Some(1), "{out}");
        assert!(
            out.contains("--target device.AP0000001: every object it matches is left out"),
            "{out}"
        );
    }
    assert_eq!(
        sim.total_calls("aruba"),
        0,
        "no vendor call for a bad selection"
    );
}
