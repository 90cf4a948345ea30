//! One vendor down does not stop the others; a provider removed from the files
//! is not forgotten silently; exit codes of cancelled and interrupted applies.
//! All through the real binary against the in-process simulator.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use mspform::diff::Op;
use mspform::sim::{FaultKind, FaultSpec, Simulator};

use crate::cli::{args, bin, run, write_portfolio};
use crate::cli_mixed::writes;
use crate::support::*;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every RUCKUS One call (token included) answers 503 until cleared.
fn ruckus_down(sim: &Simulator) {
    sim.inject_fault(FaultSpec {
        vendor: "ruckus".into(),
        route: "* *".into(),
        kind: FaultKind::Status { status: 503 },
        count: None,
        rate: None,
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_vendor_down_plans_and_applies_the_others_only_when_asked() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_mixed(&sim, dir.path());
    let state = dir.path().join("state");
    ruckus_down(&sim);

    // plan: every healthy provider's changes, the failed one named, exit 1.
    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for healthy in [
        "+ customer.coffee-shop",
        "customer.lakeside-dental",
        "+ customer.coffee-voice",
    ] {
        assert!(stdout.contains(healthy), "{healthy}: {stdout}");
    }
    assert!(
        stdout.contains("provider ruckus (ruckus-one) could not be read"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("customer.bayview-resort"),
        "nothing is planned for the provider that could not be read: {stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ruckus") && stderr.contains("503"),
        "the error names the provider, the call and the status: {stderr}"
    );
    let out = run(args(&conf, &state, &["plan", "--format", "json"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["unavailable"][0]["provider"], "ruckus");
    assert!(
        plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["provider"] != "ruckus")
    );

    // apply: refused by default, before any write.
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("--skip-unavailable"), "{}", text(&out));
    assert_eq!(writes(&sim), [0, 0, 0, 0], "nothing applied anywhere");

    // --skip-unavailable: the healthy providers are applied, the skipped one named.
    let out = run(args(
        &conf,
        &state,
        &["apply", "--auto-approve", "--skip-unavailable"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("Skipped provider ruckus"),
        "{}",
        text(&out)
    );
    let w = writes(&sim);
    assert!(
        w[0] > 0 && w[1] > 0 && w[3] > 0,
        "healthy ones applied: {w:?}"
    );
    assert_eq!(w[2], 0, "nothing reached RUCKUS One");

    // drift: neither "no drift" nor "drift" while a provider cannot be read.
    let metrics = dir.path().join("drift.prom");
    let out = run(args(
        &conf,
        &state,
        &["drift", "--prometheus", metrics.to_str().unwrap()],
    ))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        prom.contains("mspform_provider_up{provider=\"ruckus\"} 0")
            && prom.contains("mspform_provider_up{provider=\"aruba\"} 1"),
        "{prom}"
    );

    // Back up: the rest is applied, nothing is done twice.
    sim.clear_faults();
    let before = writes(&sim);
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let after = writes(&sim);
    assert_eq!(
        [after[0], after[1], after[3]],
        [before[0], before[1], before[3]],
        "only RUCKUS One had anything left"
    );
    assert!(after[2] > 0);

    // Down again with objects owned there: no delete, no forget, exit 1.
    ruckus_down(&sim);
    let out = run(args(&conf, &state, &["plan", "--format", "json"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["actions"], serde_json::json!([]), "{plan}");
    sim.clear_faults();
    let out = run(args(&conf, &state, &["drift"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// Removes the RUCKUS One provider, its customers and partners from a copy of
/// the mixed example.
fn drop_ruckus(conf: &Path) {
    for file in ["bayview-resort.toml", "metro-library.toml"] {
        std::fs::remove_file(conf.join(file)).unwrap();
    }
    let providers = std::fs::read_to_string(conf.join("providers.toml")).unwrap();
    let (head, rest) = providers.split_once("[providers.ruckus]").unwrap();
    let (_, tail) = rest.split_once("[providers.voice]").unwrap();
    std::fs::write(
        conf.join("providers.toml"),
        format!("{head}[providers.voice]{tail}"),
    )
    .unwrap();
    let partners = std::fs::read_to_string(conf.join("partners.toml")).unwrap();
    let (head, _) = partners.split_once("[partners.fabrikam]").unwrap();
    std::fs::write(conf.join("partners.toml"), head).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_removed_from_the_files_is_forgotten_only_when_named() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_mixed(&sim, dir.path());
    let state = dir.path().join("state");
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let tenants = live_names(&sim, "ruckus", "tenants", "name");

    drop_ruckus(&conf);
    let before = writes(&sim);
    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("provider `ruckus`")
            && text(&out).contains("--allow-provider-removal ruckus")
            && text(&out).contains("customer.bayview-resort"),
        "{}",
        text(&out)
    );
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    let out = run(args(
        &conf,
        &state,
        &["plan", "--allow-provider-removal", "ruckus"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("x customer.bayview-resort")
            && text(&out).contains("provider ruckus was removed from the files"),
        "{}",
        text(&out)
    );
    let out = run(args(
        &conf,
        &state,
        &[
            "apply",
            "--auto-approve",
            "--allow-provider-removal",
            "ruckus",
        ],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(writes(&sim), before, "forgetting calls no vendor");
    assert_eq!(
        live_names(&sim, "ruckus", "tenants", "name"),
        tenants,
        "the tenants are left as they are"
    );
    let out = run(args(&conf, &state, &["state", "list"])).await;
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("ruckus"),
        "{}",
        text(&out)
    );
    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_answered_with_anything_but_yes_is_cancelled_with_exit_1() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let cmd = bin();
    let mut command = std::process::Command::new(cmd.get_program());
    command
        .args(args(&conf, &state, &["apply"]))
        .env("NO_COLOR", "1");
    let status = tokio::task::spawn_blocking(move || {
        use expectrl::Expect;
        let mut session = expectrl::Session::spawn(command).expect("a pseudo-terminal");
        session.set_expect_timeout(Some(Duration::from_secs(60)));
        session
            .expect("Only 'yes' will be accepted")
            .expect("the question is asked");
        session.send_line("no").unwrap();
        session.expect("Apply cancelled.").expect("cancelled");
        session.get_process().wait().unwrap()
    })
    .await
    .unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 1)),
        "a cancelled apply exits 1: {status:?}"
    );
    assert_eq!(sim.write_calls("aruba"), 0);
}

/// Ctrl-C during an apply: the call in flight finishes, nothing new starts,
/// the report says per action what happened, and the exit code is 130.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_finishes_the_call_in_flight_reports_it_and_exits_130() {
    let sim = sim(false).await;
    // Slow calls, so the interrupt lands while the first customer is created:
    // the create itself answers only after 2 s, a wide window for the signal.
    sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: "POST /msp_api/v2/customers".into(),
        kind: FaultKind::Latency { ms: 2000 },
        count: Some(1),
        rate: None,
    });
    sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: "* *".into(),
        kind: FaultKind::Latency { ms: 150 },
        count: None,
        rate: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    // Coffee Shop's create is followed by its auto-licence setting (same action).
    let child = bin()
        .args(args(
            &conf,
            &state,
            &[
                "apply",
                "--auto-approve",
                "--target",
                "customer.coffee-shop",
            ],
        ))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let start = Instant::now();
    while sim.calls("aruba", "POST /msp_api/v2/customers") == 0
        && start.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sim.calls("aruba", "POST /msp_api/v2/customers"), 1);
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert_eq!(
        sim.calls("aruba", "POST /msp_api/v2/customers"),
        1,
        "nothing new was started"
    );
    assert_eq!(customer_names(&sim), ["Coffee Shop"]);
    let report = String::from_utf8_lossy(&out.stdout);
    let address = "customer.coffee-shop";
    let line = report
        .lines()
        .find(|l| {
            let mut words = l.split_whitespace();
            ["ok", "partly", "skipped", "FAILED"].contains(&words.next().unwrap_or_default())
                && words.next().map(|a| a.trim_end_matches(':')) == Some(address)
        })
        .unwrap_or_else(|| panic!("{address} is in the report: {report}"));
    assert!(
        line.trim_start().starts_with("partly")
            && line.contains("done: create customer.coffee-shop")
            && line.contains("not started: wait for customer.coffee-shop to provision")
            && line.contains("set auto-licence of customer.coffee-shop"),
        "the created customer is reported as partly done, naming what ran: {line}"
    );
    assert!(report.contains("Interrupted"), "{report}");
}

/// One RUCKUS One token request answers with `kind`.
fn token_fault(kind: FaultKind) -> FaultSpec {
    FaultSpec {
        vendor: "ruckus".into(),
        route: "POST /oauth2/token/*".into(),
        kind,
        count: Some(1),
        rate: None,
    }
}

/// Issue 7, item 2 (moved here from `ruckus_client`, which now checks the
/// retries with RUCKUS One alone): the token request is safe to repeat, so a 5xx or a dropped
/// connection on it is retried like a read, and one vendor's token hiccup no
/// longer aborts the plan of all four.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_500_or_dropped_connection_is_retried_and_all_four_vendors_still_plan() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_mixed(&sim, dir.path());
    let desired = mspform::config::load(&conf).unwrap();
    let store = store(dir.path());
    let token_route = "POST /oauth2/token/*";
    sim.inject_fault(token_fault(FaultKind::Status { status: 500 }));
    sim.inject_fault(token_fault(FaultKind::DropAfterCommit));
    sim.inject_fault(token_fault(FaultKind::Status { status: 503 }));
    sim.inject_fault(token_fault(FaultKind::RateLimitSecond));
    let p = plan(&desired, &store).await;
    assert_eq!(
        sim.calls("ruckus", token_route),
        5,
        "four failures, then a token"
    );
    let providers: Vec<&str> = p
        .plan
        .providers
        .iter()
        .map(|r| r.provider.as_str())
        .collect();
    assert_eq!(providers.len(), 4, "every vendor was read: {providers:?}");
    assert!(
        p.plan
            .actions
            .iter()
            .any(|a| a.provider == "ruckus" && a.op == Op::Create),
        "{:#?}",
        p.plan.actions
    );
}
