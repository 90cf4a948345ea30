//! Quota awareness through the binary: the plan's estimated apply cost,
//! `--max-calls` refusing a run whose estimate exceeds it and stopping a run
//! cleanly at the limit, and the per-day 429 after which no further call goes
//! to the vendor (the next run, after the reset, resumes).

use mspform::vendor::Vendor as _;
use serde_json::Value;

use crate::cli::{args, run, write_portfolio};
use crate::support::*;

async fn quiet_sim() -> mspform::sim::Simulator {
    let sim = sim(false).await;
    sim.aruba_switches(|s| {
        s.provision_invisible_polls = 0;
        s.provision_delay_ms = 0;
        s.device_move_delay_ms = 0;
    });
    sim
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_shows_the_estimated_apply_cost_and_the_quota_left() {
    let sim = quiet_sim().await;
    sim.aruba_switches(|s| s.limit_per_day = 4000);
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let out = run(args(&conf, &state, &["plan", "--format", "json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let aruba = &plan["providers"][0];
    assert_eq!(aruba["provider"], "aruba");
    let refresh = aruba["calls"].as_u64().unwrap();
    assert!(aruba["apply_calls"].as_u64().unwrap() > 0, "{aruba}");
    assert_eq!(aruba["calls_per_second"], 7.0);
    assert_eq!(aruba["day_quota"]["limit"], 4000);
    assert_eq!(
        aruba["day_quota"]["remaining"].as_u64().unwrap(),
        4000 - sim.total_calls("aruba")
    );
    assert!(refresh > 0);
    let out = run(args(&conf, &state, &["plan"])).await;
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("Apply cost (estimated): aruba ") && shown.contains("at 7 calls/s"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_calls_refuses_an_apply_over_its_estimate_and_stops_a_refresh_at_the_limit() {
    let sim = quiet_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    // Over the estimate: refused before any write.
    let out = run(args(
        &conf,
        &state,
        &["apply", "--auto-approve", "--max-calls", "aruba=15"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("more than --max-calls aruba=15"),
        "{}",
        text(&out)
    );
    assert_eq!(sim.write_calls("aruba"), 0, "nothing was written");
    // A limit below the refresh: the refresh stops at it, and the provider is
    // reported unreadable, naming the budget.
    sim.reset_calls();
    let out = run(args(&conf, &state, &["plan", "--max-calls", "1"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("--max-calls 1 for the run"),
        "{}",
        text(&out)
    );
    assert!(
        sim.total_calls("aruba") <= 1,
        "{}",
        sim.total_calls("aruba")
    );
    // A bad value is a usage error naming the value; so is a provider key the
    // files do not declare (a typo would otherwise mean no limit at all).
    let out = run(args(&conf, &state, &["plan", "--max-calls", "aruba=many"])).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("--max-calls aruba=many"),
        "{}",
        text(&out)
    );
    sim.reset_calls();
    let out = run(args(&conf, &state, &["plan", "--max-calls", "arubba=50"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("no provider `arubba`") && text(&out).contains("did you mean `aruba`"),
        "{}",
        text(&out)
    );
    assert_eq!(sim.total_calls("aruba"), 0);
    // Clap's usage errors exit 1 too, never 2 ("changes" to a drift cron).
    let out = run(args(&conf, &state, &["drift", "--max-calls"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

/// A saved plan whose re-read cannot finish (here: the call budget) is not
/// called stale: its actions are "not checked", naming why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_that_cannot_be_read_again_says_so_instead_of_stale() {
    let sim = quiet_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let plan = dir.path().join("p.json");
    let out = run(args(
        &conf,
        &state,
        &["plan", "--out", plan.to_str().unwrap()],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(args(
        &conf,
        &state,
        &["apply", plan.to_str().unwrap(), "--max-calls", "aruba=1"],
    ))
    .await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("not checked: its provider could not be read again")
            && shown.contains("--max-calls 1 for aruba")
            && !shown.contains("changed since the plan was made"),
        "{shown}"
    );
    assert_eq!(sim.write_calls("aruba"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_first_per_day_429_nothing_more_goes_to_the_vendor_and_the_next_day_resumes() {
    let sim = quiet_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    // Learn what the refresh costs, then allow the day a few writes beyond it.
    let out = run(args(&conf, &state, &["plan", "--format", "json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let refresh = plan["providers"][0]["calls"].as_u64().unwrap();
    let estimate = plan["providers"][0]["apply_calls"].as_u64().unwrap();
    assert!(estimate > 6, "the portfolio needs more than a few writes");
    let used = sim.total_calls("aruba");
    let limit = used + refresh + 5;
    sim.aruba_switches(|s| s.limit_per_day = limit as u32);
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("Stopped early: aruba") && shown.contains("resets at"),
        "{shown}"
    );
    assert!(shown.contains("not started"), "{shown}");
    // Every call within the day's limit; beyond it only the calls already in
    // flight when the first per-day 429 came back (Aruba runs up to
    // `steps_in_flight` steps at once), none sent after it.
    let seen = sim.total_calls("aruba");
    let in_flight = mspform::vendors::aruba::Aruba::INFO.steps_in_flight as u64;
    assert!(
        (limit + 1..=limit + in_flight).contains(&seen),
        "{seen} calls for a limit of {limit}: {shown}"
    );
    // The next day: the apply resumes from what was done, and converges.
    sim.aruba_switches(|s| s.limit_per_day = 0);
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}
