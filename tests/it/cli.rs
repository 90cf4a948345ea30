//! The real binary against the in-process simulator: exit codes, config errors
//! without vendor calls, the state lock, and kill -9 in the middle of an apply.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mspform::sim::{FaultKind, FaultSpec, Simulator};

use crate::support::*;

pub(crate) fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mspform"));
    c.env("NO_COLOR", "1")
        .env_remove("MSPFORM_LOG")
        .env_remove("MSPFORM_CONFIG")
        .env_remove("MSPFORM_STATE");
    c
}

/// Copies the example portfolio into `dir`, pointed at `sim` with fast polling.
pub(crate) fn write_portfolio(sim: &Simulator, dir: &Path) -> PathBuf {
    let conf = dir.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    for entry in std::fs::read_dir(repo().join("examples/portfolio")).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.file_name().unwrap() == "providers.toml" {
            text = text
                .replace("http://127.0.0.1:8080/aruba", &sim.base_url("aruba"))
                .replace(
                    "token = { env = \"ARUBA_TOKEN\" }",
                    &format!("token = {{ file = \"{}\" }}", token_file(dir).display()),
                )
                .replace("poll_interval_ms = 200", "poll_interval_ms = 20");
        }
        std::fs::write(conf.join(path.file_name().unwrap()), text).unwrap();
    }
    conf
}

pub(crate) async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || bin().args(&args).stdin(Stdio::null()).output().unwrap())
        .await
        .unwrap()
}

pub(crate) fn args(conf: &Path, state: &Path, rest: &[&str]) -> Vec<String> {
    let mut v = vec![
        "-c".to_string(),
        conf.display().to_string(),
        "--state".into(),
        state.display().to_string(),
    ];
    v.extend(rest.iter().map(|s| s.to_string()));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detailed_exitcode_reports_changes_and_drift() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");

    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("+ customer.coffee-shop"), "{text}");
    assert!(!text.contains('\u{1b}'), "NO_COLOR: no escape codes");
    assert_eq!(sim.write_calls("aruba"), 0, "plan never writes");

    let out = run(args(&conf, &state, &["apply"])).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "apply without a terminal and without --auto-approve refuses"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--auto-approve"));
    assert_eq!(sim.write_calls("aruba"), 0);

    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("No changes."));

    sim.aruba_edit(mspform::sim::ArubaEdit::CustomerField {
        customer_name: "Acme Retail".into(),
        field: "city".into(),
        value: "Leeds".into(),
    })
    .unwrap();
    let out = run(args(
        &conf,
        &state,
        &["plan", "--detailed-exitcode", "--format", "json"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(2));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    assert_eq!(plan["format_version"], 2);
    assert_eq!(plan["actions"][0]["address"], "customer.acme-retail");
    assert_eq!(plan["actions"][0]["changes"][0]["field"], "city");
    assert_eq!(plan["actions"][0]["changes"][0]["before"], "Leeds");

    let metrics = dir.path().join("drift.prom");
    let out = run(args(
        &conf,
        &state,
        &["drift", "--prometheus", metrics.to_str().unwrap()],
    ))
    .await;
    assert_eq!(out.status.code(), Some(2));
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        prom.contains("mspform_drift_actions{provider=\"aruba\",op=\"update\"} 1"),
        "{prom}"
    );
    assert!(
        prom.contains("mspform_drift_actions{provider=\"aruba\",op=\"delete\"} 0"),
        "{prom}"
    );
    assert!(
        prom.contains("# TYPE mspform_refresh_api_calls gauge"),
        "{prom}"
    );

    let out = run(args(&conf, &state, &["state", "list"])).await;
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("customer.coffee-shop") && listed.contains("device.AP0000001"),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_config_names_file_line_column_and_calls_no_vendor() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    std::fs::write(
        conf.join("broken.toml"),
        "[customers.broken]\nprovider = \"aruba\"\nname = \"Broken\"\ncountry = \"USA\"\naddress = { street = \"a\", city = \"b\", state = \"c\", zip = \"d\" }\ncolour = \"blue\"\n",
    )
    .unwrap();
    let state = dir.path().join("state");
    for cmd in [&["validate"][..], &["plan"], &["apply", "--auto-approve"]] {
        let out = run(args(&conf, &state, cmd)).await;
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("broken.toml:4:"),
            "country error with its position: {err}"
        );
        assert!(
            err.contains("broken.toml:6:1"),
            "unknown key with its position: {err}"
        );
        assert!(err.contains("colour"), "{err}");
    }
    assert_eq!(
        sim.total_calls("aruba"),
        0,
        "no vendor call on a bad config"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_on_the_same_state_fails_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let _held = mspform::state::StateLock::acquire(&state, "apply").unwrap();
    let sim = sim(false).await;
    let conf = write_portfolio(&sim, dir.path());
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(3), "exit 3: busy, not broken");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("pid {}", std::process::id())) && err.contains("locked"),
        "{err}"
    );
    assert_eq!(sim.total_calls("aruba"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_the_middle_of_an_apply_then_apply_again_converges() {
    let sim = sim(false).await;
    // The vendor would take a second customer or site of the same name: only
    // mspform's journal and lookups can keep the re-run from making one.
    allow_duplicates(&sim);
    // Slow writes so the kill lands mid-apply.
    sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: "* *".into(),
        kind: FaultKind::Latency { ms: 60 },
        count: None,
        rate: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let mut child = bin()
        .args(args(&conf, &state, &["apply", "--auto-approve"]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while sim.write_calls("aruba") < 6 && start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        None,
        "killed by a signal, not finished: {status:?}"
    );
    let written = sim.write_calls("aruba");
    assert!(written >= 6, "the kill landed after {written} writes");
    // It landed mid-apply: customers were created, but the site associations that
    // follow them (the last writes of an apply) are not all there yet.
    assert!(!customer_names(&sim).is_empty(), "nothing was created");
    let desired = mspform::config::load(&conf).expect("the portfolio loads");
    let dump = sim.dump();
    let unassociated: Vec<&str> = desired
        .devices
        .values()
        .filter(|d| d.site.is_some() && !dump["aruba"]["devices"][&d.serial]["site_id"].is_u64())
        .map(|d| d.serial.as_str())
        .collect();
    assert!(
        !unassociated.is_empty(),
        "every device was associated already: the apply had finished"
    );
    sim.clear_faults();

    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        customer_names(&sim),
        ["Acme Retail", "Coffee Shop", "Harbor Clinic"],
        "no duplicates"
    );
    assert_eq!(sim.dump()["aruba"]["sites"].as_array().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_applied_only_while_it_is_current() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let saved = dir.path().join("plan.json");
    let out = run(args(
        &conf,
        &state,
        &["plan", "--out", saved.to_str().unwrap()],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0));

    // Someone creates one of the customers by hand before the merge: the plan is stale.
    sim.aruba_switches(|s| s.provision_invisible_polls = 0);
    assert_eq!(create_by_hand(&sim, "Harbor Clinic", "DE").await, 200);
    sim.reset_calls();
    let out = run(args(&conf, &state, &["apply", saved.to_str().unwrap()])).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stale") && err.contains("customer.harbor-clinic"),
        "{err}"
    );
    assert_eq!(
        sim.write_calls("aruba"),
        0,
        "nothing applied from a stale plan"
    );

    // A fresh saved plan applies without a prompt (stdin is not a terminal here).
    let out = run(args(
        &conf,
        &state,
        &["plan", "--out", saved.to_str().unwrap()],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0));
    let out = run(args(&conf, &state, &["apply", saved.to_str().unwrap()])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(out.status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_deletes_need_an_explicit_override() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0));
    std::fs::remove_file(conf.join("acme-retail.toml")).unwrap();
    sim.reset_calls();
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("deletes 13 objects")
            && err.contains("--max-deletes 13")
            && err.contains("bulk change")
            && err.contains("--force-bulk"),
        "both guards, in one message: {err}"
    );
    assert_eq!(sim.write_calls("aruba"), 0);
    let out = run(args(
        &conf,
        &state,
        &["apply", "--auto-approve", "--max-deletes", "13"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(1), "the bulk guard still holds");
    assert_eq!(sim.write_calls("aruba"), 0);
    let out = run(args(
        &conf,
        &state,
        &[
            "apply",
            "--auto-approve",
            "--max-deletes",
            "13",
            "--force-bulk",
        ],
    ))
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(customer_names(&sim), ["Coffee Shop", "Harbor Clinic"]);
}

/// The import round trip: the live portfolio imported with `--out DIR` (one file
/// per customer, never overwriting without `--force`), then the providers file
/// plus the imported files planned with an empty state: only adopts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_writes_files_that_plan_to_adopt_everything() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let out = run(args(
        &conf,
        &dir.path().join("state"),
        &["apply", "--auto-approve"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0));

    // A second MSP engineer starts from the live portfolio, with only the provider file.
    let imported = dir.path().join("imported");
    std::fs::create_dir_all(&imported).unwrap();
    std::fs::copy(conf.join("providers.toml"), imported.join("providers.toml")).unwrap();
    let fresh = dir.path().join("fresh-state");
    let out_dir = imported.display().to_string();
    let import = ["import", "--provider", "aruba", "--out", out_dir.as_str()];
    let out = run(args(&imported, &fresh, &import)).await;
    let stderr = |out: &Output| String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut files: Vec<String> = std::fs::read_dir(&imported)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "acme-retail.toml",
            "coffee-shop.toml",
            "harbor-clinic.toml",
            "providers.toml"
        ]
    );
    let coffee = std::fs::read_to_string(imported.join("coffee-shop.toml")).unwrap();
    for want in [
        "[customers.coffee-shop]",
        "auto_license = [\"ADVANCED_AP\"]",
        "[customers.coffee-shop.sites.roastery]",
        "geolocation = { latitude = 37.3875, longitude = -121.9637 }",
        "Aruba does not say which site a device is in",
        "[devices.AP0000001]",
    ] {
        assert!(coffee.contains(want), "{want}: {coffee}");
    }

    // Never overwritten without --force.
    std::fs::write(imported.join("coffee-shop.toml"), "# edited\n").unwrap();
    let out = run(args(&imported, &fresh, &import)).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("coffee-shop.toml") && stderr(&out).contains("--force"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(imported.join("coffee-shop.toml")).unwrap(),
        "# edited\n",
        "nothing was written"
    );
    let mut forced = import.to_vec();
    forced.push("--force");
    let out = run(args(&imported, &fresh, &forced)).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(imported.join("coffee-shop.toml")).unwrap(),
        coffee,
        "overwritten with --force: the same text again"
    );

    let out = run(args(&imported, &fresh, &["validate"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(args(&imported, &fresh, &["plan", "--format", "json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &plan["summary"];
    assert_eq!(
        (
            s["create"].as_u64(),
            s["update"].as_u64(),
            s["delete"].as_u64(),
            s["replace"].as_u64()
        ),
        (Some(0), Some(0), Some(0), Some(0)),
        "{plan:#}"
    );
    assert_eq!(s["adopt"], 3 + 4 + 19);
}

/// `import` never takes the MSP inventory for a customer, even when the device list
/// names the MSP's own id as the devices' customer: not on an account without
/// customers, and not once the portfolio is live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_never_prints_the_msp_inventory_as_a_customer() {
    let sim = sim(false).await;
    sim.aruba_switches(|s| {
        s.msp_device_customer_id = mspform::sim::aruba::MspDeviceCustomerId::MspId;
    });
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let providers_only = dir.path().join("providers-only");
    std::fs::create_dir_all(&providers_only).unwrap();
    std::fs::copy(
        conf.join("providers.toml"),
        providers_only.join("providers.toml"),
    )
    .unwrap();
    let msp = ["3e0a5f0b6a6c4e1b9d2f7a8c5b4d3e21", "Simulated MSP"];

    let out = run(args(&providers_only, &dir.path().join("s1"), &["import"])).await;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("[customers.") && !text.contains("[devices."),
        "an empty account imports nothing: {text}"
    );
    assert!(msp.iter().all(|m| !text.contains(m)), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Imported 0 customer(s)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = run(args(
        &conf,
        &dir.path().join("s2"),
        &["apply", "--auto-approve"],
    ))
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run(args(&providers_only, &dir.path().join("s3"), &["import"])).await;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text.matches("[customers.").count() - text.matches(".sites.").count(),
        3,
        "{text}"
    );
    assert_eq!(
        text.matches("[devices.").count(),
        19,
        "only the devices in customers: {text}"
    );
    assert!(msp.iter().all(|m| !text.contains(m)), "{text}");
}

/// A create's field list marks the values the files did not declare: the
/// example's AudioCodes customers never write `deployment`, an Aruba customer
/// without `lock_msp_ssids` gets the default; a declared value is unmarked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_marks_fields_the_files_did_not_declare_as_defaults() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_mixed(&sim, dir.path());
    let state = dir.path().join("state");
    let out = run(args(&conf, &state, &["plan"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan = String::from_utf8_lossy(&out.stdout);
    let fields_of = |address: &str| -> Vec<String> {
        plan.lines()
            .skip_while(|l| !l.contains(&format!("+ {address}  (create)")))
            .skip(1)
            .take_while(|l| l.starts_with("      "))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    };
    let voice = fields_of("customer.coffee-voice");
    assert!(
        voice.contains(&"deployment = \"Deployed\" (default)".to_string()),
        "{voice:?}\n{plan}"
    );
    assert!(voice.contains(&"sbc_id = 5".to_string()), "{voice:?}");
    let clinic = fields_of("customer.harbor-clinic");
    assert!(
        clinic.contains(&"lock_msp_ssids = false (default)".to_string()),
        "{clinic:?}"
    );
    let acme = fields_of("customer.acme-retail");
    assert!(
        acme.contains(&"lock_msp_ssids = true".to_string()),
        "{acme:?}"
    );
    // The JSON plan names them too.
    let out = run(args(&conf, &state, &["plan", "--format", "json"])).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let action = json["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["address"] == "customer.coffee-voice")
        .unwrap();
    assert_eq!(action["defaults"], serde_json::json!(["deployment"]));
}
