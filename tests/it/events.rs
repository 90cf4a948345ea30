//! Watching a run: `--events FILE` (NDJSON, docs/events.md) and the progress
//! lines an apply prints while it runs, in a pseudo-terminal and off one.

use std::collections::BTreeSet;
use std::time::Duration;

use expectrl::Expect;

use serde_json::Value;

use crate::cli::{args, bin, run, write_portfolio};
use crate::support::*;

/// Runs `command` in a pseudo-terminal: `during` expects what must show while
/// it runs; then whether the process was still alive at that point, and what
/// it printed until "Apply complete".
async fn in_a_terminal(
    command: std::process::Command,
    during: impl FnOnce(&mut expectrl::session::OsSession) + Send + 'static,
) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let mut session = expectrl::Session::spawn(command).expect("a pseudo-terminal");
        session.set_expect_timeout(Some(Duration::from_secs(120)));
        during(&mut session);
        let alive = session.get_process().is_alive().unwrap_or(false);
        let rest = session.expect("Apply complete").expect("the apply ends");
        (alive, String::from_utf8_lossy(rest.before()).into_owned())
    })
    .await
    .unwrap()
}

/// `apply --auto-approve --events FILE` (in `dir`), which must succeed: its
/// output and every line of the events file, parsed.
async fn apply_with_events(
    conf: &std::path::Path,
    state: &std::path::Path,
    dir: &std::path::Path,
) -> (std::process::Output, Vec<Value>) {
    let events = dir.join("events.ndjson");
    let out = run(args(
        conf,
        state,
        &[
            "apply",
            "--auto-approve",
            "--events",
            events.to_str().unwrap(),
        ],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lines = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (out, lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_of_an_apply_start_and_end_the_run_and_finish_every_action_once() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_mixed(&sim, dir.path());
    let state = dir.path().join("state");
    let out = run(args(&conf, &state, &["plan", "--format", "json"])).await;
    let plan: Value = serde_json::from_slice(&out.stdout).expect("a JSON plan");
    let planned: BTreeSet<String> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap().to_string())
        .collect();
    assert!(planned.len() > 20);

    let (_, lines) = apply_with_events(&conf, &state, dir.path()).await;
    for e in &lines {
        assert_eq!(e["version"], 1, "{e}");
        assert!(e["ts"].as_f64().unwrap() > 1.7e9, "{e}");
    }
    assert_eq!(lines.first().unwrap()["event"], "run_started");
    assert_eq!(lines.first().unwrap()["command"], "apply");
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["ok"], true);
    assert!(last["calls"].as_u64().unwrap() > 20, "{last}");
    let finished: Vec<&Value> = lines
        .iter()
        .filter(|e| e["event"] == "action_finished")
        .collect();
    let addresses: BTreeSet<String> = finished
        .iter()
        .map(|e| e["address"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        finished.len(),
        addresses.len(),
        "one action_finished per action"
    );
    assert_eq!(addresses, planned);
    for e in &finished {
        assert_eq!(e["outcome"], "done", "{e}");
        assert!(e["provider"].is_string() && e["op"].is_string() && e["seconds"].is_number());
    }
    let refreshed: BTreeSet<&str> = lines
        .iter()
        .filter(|e| e["event"] == "refresh_progress")
        .map(|e| e["provider"].as_str().unwrap())
        .collect();
    assert_eq!(
        refreshed.len(),
        4,
        "every provider's refresh: {refreshed:?}"
    );
}

/// Off a terminal (a CI log), with NO_COLOR: the same progress lines, plain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_off_a_terminal_prints_plain_progress_lines() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("customer.coffee-shop: creating…"), "{err}");
    assert!(
        err.contains("customer.coffee-shop: created after "),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "no escape codes: {err}");
}

/// In a terminal, the progress lines appear while the apply is still
/// running (Aruba provisioning takes seconds here), not only at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_in_a_terminal_shows_progress_while_it_runs() {
    let sim = sim(false).await;
    sim.aruba_switches(|s| s.provision_delay_ms = 3000);
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let mut command = std::process::Command::new(bin().get_program());
    command
        .args(args(&conf, &state, &["apply", "--auto-approve"]))
        .env("NO_COLOR", "1");
    let (alive, rest) = in_a_terminal(command, |session| {
        session
            .expect("customer.coffee-shop: creating…")
            .expect("the create is announced");
    })
    .await;
    assert!(alive, "the line came while the apply was still running");
    assert!(
        rest.contains("customer.coffee-shop: created after"),
        "{rest}"
    );
}

/// A wait in the events file says what it waits on and its bound: Aruba
/// provisioning (`provision_timeout_secs`, 30 in the example) and a device
/// move (`move_timeout_secs`, 300 by default), each on its action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_in_the_events_names_what_it_waits_for_and_its_bound() {
    let sim = sim(false).await;
    sim.aruba_switches(|s| {
        s.provision_delay_ms = 300;
        s.device_move_delay_ms = 300;
    });
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let (out, lines) = apply_with_events(&conf, &state, dir.path()).await;
    let waits: Vec<Value> = lines
        .into_iter()
        .filter(|e| e["event"] == "waiting" && e["what"].is_string())
        .collect();
    let provisioning = waits
        .iter()
        .find(|e| e["address"] == "customer.coffee-shop")
        .unwrap_or_else(|| panic!("a provisioning wait: {waits:?}"));
    assert_eq!(
        provisioning["what"],
        "customer \"Coffee Shop\" to finish provisioning"
    );
    assert_eq!(provisioning["limit_seconds"], 30);
    assert_eq!(provisioning["provider"], "aruba");
    let moving = waits
        .iter()
        .find(|e| {
            e["what"]
                .as_str()
                .unwrap()
                .contains("device(s) into customer.coffee-shop")
        })
        .unwrap_or_else(|| panic!("a move wait: {waits:?}"));
    assert!(
        moving["address"].as_str().unwrap().starts_with("device."),
        "{moving}"
    );
    assert_eq!(moving["limit_seconds"], 300);
    // The progress lines say the same.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "customer.coffee-shop: waiting for customer \"Coffee Shop\" to finish provisioning (up to 30s)"
        ),
        "{err}"
    );
}

/// In a terminal (no NO_COLOR, a real TERM), indicatif bars are drawn while
/// the apply runs: a provider's bar counting its actions, and the wait under
/// it; the plain start and end lines are still printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_in_a_terminal_draws_bars_while_it_runs() {
    let sim = sim(false).await;
    sim.aruba_switches(|s| s.provision_delay_ms = 3000);
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let mut command = std::process::Command::new(bin().get_program());
    command
        .args(args(&conf, &state, &["apply", "--auto-approve"]))
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color");
    let (alive, rest) = in_a_terminal(command, |session| {
        session
            .expect(expectrl::Regex(r"\d+/\d+ actions applied"))
            .expect("the aruba bar is drawn");
        session
            .expect("to finish provisioning (up to 30s)")
            .expect("the provisioning wait is shown under the bars");
    })
    .await;
    assert!(alive, "the bars came while the apply was still running");
    assert!(
        rest.contains("customer.coffee-shop: created after"),
        "the plain end lines are still printed: {rest}"
    );
}
