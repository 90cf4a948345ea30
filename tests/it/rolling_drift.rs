//! Rolling drift checks (`drift --full-every 24h`) through the binary, with
//! the clock set by `MSPFORM_NOW`: the first run reads everything, later runs
//! a slice; the report says what was read; the cursor lives in state; the
//! metrics carry `mspform_drift_last_full_check_timestamp`.

use std::path::Path;

use serde_json::Value;

use crate::cli::{args, bin, write_portfolio};
use crate::support::*;

const HOUR: u64 = 3600;
const SITES: &str = "GET /central/v2/sites";
const AUTO: &str = "GET /platform/licensing/v1/msp/customer/settings/autolicense";
const START: u64 = 1_800_000_000;

async fn drift_at(
    conf: &Path,
    state: &Path,
    now: u64,
    extra: &[&str],
) -> (Option<i32>, Value, String) {
    let mut rest = vec!["drift", "--format", "json"];
    rest.extend_from_slice(extra);
    let argv = args(conf, state, &rest);
    let out = tokio::task::spawn_blocking(move || {
        bin()
            .args(&argv)
            .env("MSPFORM_NOW", now.to_string())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), plan, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hourly_rolling_checks_read_a_slice_and_every_customer_within_the_period() {
    let sim = sim(false).await;
    sim.aruba_switches(|s| {
        s.provision_invisible_polls = 0;
        s.provision_delay_ms = 0;
        s.device_move_delay_ms = 0;
    });
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let out = crate::cli::run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0));
    let metrics = dir.path().join("drift.prom");
    let prom = [
        "--full-every",
        "3h",
        "--prometheus",
        metrics.to_str().unwrap(),
    ];

    // The first run reads all three customers fully.
    sim.reset_calls();
    let (code, plan, out) = drift_at(&conf, &state, START, &prom).await;
    assert_eq!(sim.calls("aruba", SITES), 3, "one site list per customer");
    assert_eq!(code, Some(0), "{out}");
    let coverage = &plan["drift"]["coverage"][0];
    assert_eq!(coverage["provider"], "aruba", "{out}");
    assert_eq!(coverage["customers"], 3);
    assert_eq!(coverage["checked"], 3);
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains(&format!(
            "mspform_drift_last_full_check_timestamp{{provider=\"aruba\"}} {START}"
        )),
        "{text}"
    );

    // Hourly runs with a 3 h period: one customer each, least recently read
    // first, and the full-check time moves on once all three were read again.
    let mut read = Vec::new();
    for run in 1..=3 {
        let now = START + run * HOUR;
        sim.reset_calls();
        let (code, plan, out) = drift_at(&conf, &state, now, &prom).await;
        assert_eq!(code, Some(0), "{out}");
        // Only the customer read fully this run has its sites read, and the
        // others' sites and associations show no drift (exit 0).
        assert_eq!(
            sim.calls("aruba", SITES),
            1,
            "run {run}: {:?}",
            sim.calls_by_route("aruba")
        );
        assert!(
            sim.calls("aruba", AUTO) <= 1,
            "run {run}: only a declaring customer's auto-licence: {:?}",
            sim.calls_by_route("aruba")
        );
        let coverage = &plan["drift"]["coverage"][0];
        assert_eq!(coverage["checked"], 1, "run {run}: {out}");
        read.push(coverage["checked"].as_u64().unwrap());
        let text = std::fs::read_to_string(&metrics).unwrap();
        let expected = if run < 3 { START } else { START + HOUR };
        assert!(
            text.contains(&format!(
                "mspform_drift_last_full_check_timestamp{{provider=\"aruba\"}} {expected}"
            )),
            "run {run}: {text}"
        );
    }

    // The text report says what the run read.
    let argv = args(&conf, &state, &["drift", "--full-every", "3h"]);
    let out = tokio::task::spawn_blocking(move || {
        bin()
            .args(&argv)
            .env("MSPFORM_NOW", (START + 4 * HOUR).to_string())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("Rolling check of aruba: 1 of 3 customer(s) read fully this run (sites, auto-licence setting)"),
        "{shown}"
    );
    assert!(shown.contains("last read fully at"), "{shown}");
}
