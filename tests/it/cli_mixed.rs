//! The mixed four-vendor example through the real binary (needs every vendor
//! registered): one apply converges every vendor, drift everywhere, and a
//! replacement guarded by `--allow-replace`.

use std::process::Output;

use mspform::sim::Simulator;

use crate::cli::{args, run};
use crate::support::*;

pub(crate) const VENDORS: [&str; 4] = ["aruba", "extreme", "ruckus", "audiocodes"];

pub(crate) fn writes(sim: &Simulator) -> Vec<u64> {
    VENDORS.iter().map(|v| sim.write_calls(v)).collect()
}

/// The four-vendor example through the real binary: one apply converges every
/// vendor, a second apply writes nothing anywhere, portal edits on every vendor
/// show as drift (exit 2), and an AudioCodes change that forces a replacement is
/// refused without `--allow-replace`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_portfolio_converges_reports_drift_everywhere_and_guards_replacements() {
    use mspform::sim::{ArubaEdit, AudiocodesEdit, ExtremeEdit, RuckusEdit};
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_mixed(&sim, dir.path());
    let state = dir.path().join("state");
    let text = |out: &Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };

    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let after_first = writes(&sim);
    assert!(
        after_first.iter().all(|w| *w > 0),
        "every vendor was written to: {after_first:?}"
    );
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("No changes."), "{}", text(&out));
    assert_eq!(writes(&sim), after_first, "a second apply writes nothing");
    // By default the unmanaged objects are counted per provider; listed on request.
    assert!(
        text(&out).contains("--show-unmanaged lists them") && text(&out).contains("extreme: "),
        "{}",
        text(&out)
    );
    let out = run(args(
        &conf,
        &state,
        &["apply", "--auto-approve", "--show-unmanaged"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("partner.northwind/customer[\"Old Mill Hotel\"]  (extreme)"),
        "an undeclared tenant in a declared partner is reported: {}",
        text(&out)
    );

    sim.aruba_edit(ArubaEdit::CustomerField {
        customer_name: "Coffee Shop".into(),
        field: "description".into(),
        value: "edited in the portal".into(),
    })
    .unwrap();
    sim.extreme_edit(ExtremeEdit::RemoveTenantFromPartner {
        partner: "Westgate IT".into(),
        tenant: "Harbor Logistics".into(),
    })
    .unwrap();
    sim.ruckus_edit(RuckusEdit::EcField {
        tenant: "Bayview Resort".into(),
        field: "city".into(),
        value: serde_json::json!("Carmel"),
    })
    .unwrap();
    sim.audiocodes_edit(AudiocodesEdit::SetFullName {
        customer: "CoffeeVoice".into(),
        full_name: "Edited-In-Portal".into(),
    })
    .unwrap();
    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    for address in [
        "~ customer.coffee-shop",
        "~ partner.westgate",
        "~ customer.bayview-resort",
        "-/+ customer.coffee-voice",
    ] {
        assert!(text(&out).contains(address), "{address}: {}", text(&out));
    }

    // The AudioCodes rename can only be undone by replacing the service.
    let before = writes(&sim);
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("--allow-replace") && text(&out).contains("customer.coffee-voice"),
        "{}",
        text(&out)
    );
    assert_eq!(writes(&sim), before, "refused before any write");
    let out = run(args(
        &conf,
        &state,
        &[
            "apply",
            "--auto-approve",
            "--allow-replace",
            "customer.coffee-voice",
        ],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        live_names(&sim, "audiocodes", "customers", "short_name"),
        ["CoffeeVoice", "LegacyVoice", "RetailVoice"]
    );
}
