//! GitOps through the real binary: the example CI pipelines run as separate
//! runners that share only a PostgreSQL state and the saved plan (plan on the
//! first, apply of that plan on the second, drift on a third), protections,
//! the bulk-change threshold, and drift you can live with (ignore rules,
//! `--new-only`, the Prometheus textfile after every run).
//!
//! The pipelines' commands are read from `examples/ci/*.yml` (every line of a
//! job's `run:`/`script:` that starts with `mspform`), so a change to an
//! example is tested. The portfolio is the ExtremeCloud, RUCKUS One and
//! AudioCodes part of `examples/msp` (Aruba joins after its port).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mspform::sim::{AudiocodesEdit, Simulator};
use mspform::state::pg_cluster;
use mspform::state::{PgStore, SledStore, StateLocation, StateStore};

use crate::support::*;
use crate::support_extreme::sections;

// ---------------------------------------------------------------- CI files

/// The indentation of a line (spaces).
fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// `key: value` of a YAML mapping line (the value without a trailing comment).
fn key_value(line: &str) -> Option<(&str, &str)> {
    let t = line.trim_start().trim_start_matches("- ");
    let (k, v) = t.split_once(':')?;
    if k.is_empty() || k.contains(' ') || k.starts_with('#') {
        return None;
    }
    let v = v.trim();
    let v = match v.find(" #") {
        Some(i) if !v.starts_with('"') => v[..i].trim(),
        _ => v,
    };
    Some((k, v.trim_matches('"')))
}

/// The shell lines of every job of a CI file: GitHub Actions' `run:` (one
/// line, or a `|` block) under `jobs:`, GitLab's `script:` items of a
/// top-level job. A minimal reader of these files' own shape: block lines are
/// those indented deeper than their key.
fn ci_jobs(text: &str) -> BTreeMap<String, Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let github = lines.contains(&"jobs:");
    let job_indent = if github { 2 } else { 0 };
    let mut jobs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut in_jobs = !github;
    let mut job: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        i += 1;
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if github && indent(line) == 0 {
            in_jobs = line == "jobs:";
            job = None;
            continue;
        }
        if !in_jobs {
            continue;
        }
        if indent(line) == job_indent && !trimmed.starts_with('-') {
            job = key_value(line).map(|(k, _)| k.to_string());
            continue;
        }
        let Some(name) = &job else { continue };
        let Some((key, value)) = key_value(line) else {
            continue;
        };
        let depth = indent(line);
        let block = |i: &mut usize| {
            let mut out = Vec::new();
            while *i < lines.len() && (lines[*i].trim().is_empty() || indent(lines[*i]) > depth) {
                out.push(lines[*i].trim().to_string());
                *i += 1;
            }
            out
        };
        match key {
            "run" if value.starts_with('|') => {
                let body = block(&mut i);
                jobs.entry(name.clone()).or_default().extend(body);
            }
            "run" => jobs
                .entry(name.clone())
                .or_default()
                .push(value.to_string()),
            "script" => {
                for item in block(&mut i) {
                    if let Some(command) = item.strip_prefix("- ") {
                        jobs.entry(name.clone())
                            .or_default()
                            .push(command.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    for commands in jobs.values_mut() {
        commands.retain(|c| c == "mspform" || c.starts_with("mspform "));
    }
    jobs.retain(|_, c| !c.is_empty());
    jobs
}

/// The pipeline-wide variables: GitHub's top-level `env:`, GitLab's `variables:`.
fn ci_env(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if indent(line) == 0 && !line.trim().is_empty() && !line.starts_with('#') {
            inside = line == "env:" || line == "variables:";
            continue;
        }
        if inside
            && indent(line) == 2
            && let Some((k, v)) = key_value(line)
        {
            out.push((k.to_string(), v.to_string()));
        }
    }
    out
}

/// A variable's value on a runner: a secret reference (`${{ secrets.X }}`,
/// `$X`) is looked up in `secrets`, anything else is taken as written.
fn resolve(value: &str, secrets: &BTreeMap<&str, String>) -> String {
    let name = value
        .strip_prefix("${{ secrets.")
        .and_then(|v| v.strip_suffix(" }}"))
        .or_else(|| value.strip_prefix('$'));
    match name {
        Some(name) => secrets
            .get(name)
            .unwrap_or_else(|| panic!("the test supplies no secret {name}"))
            .clone(),
        None => value.to_string(),
    }
}

#[test]
fn the_ci_readers_find_the_jobs_commands_and_variables() {
    let gh = std::fs::read_to_string(repo().join("examples/ci/github-actions.yml")).unwrap();
    let jobs = ci_jobs(&gh);
    assert_eq!(
        jobs.keys().collect::<Vec<_>>(),
        ["apply", "drift", "plan"],
        "{jobs:?}"
    );
    assert_eq!(
        jobs["plan"],
        [
            "mspform validate",
            "mspform plan --out plan.json --format markdown > plan.md"
        ]
    );
    assert_eq!(jobs["apply"], ["mspform apply plan.json"]);
    let env = ci_env(&gh);
    assert!(
        env.contains(&("MSPFORM_CONFIG".into(), "portfolio".into())),
        "{env:?}"
    );
    assert!(
        env.contains(&(
            "MSPFORM_STATE".into(),
            "${{ secrets.MSPFORM_STATE_URL }}".into()
        )),
        "{env:?}"
    );
    let gl = std::fs::read_to_string(repo().join("examples/ci/gitlab-ci.yml")).unwrap();
    let jobs = ci_jobs(&gl);
    assert_eq!(
        jobs.keys().collect::<Vec<_>>(),
        ["mspform-apply", "mspform-drift", "mspform-plan"],
        "{jobs:?}"
    );
    assert_eq!(jobs["mspform-apply"], ["mspform apply plan.json"]);
    assert!(ci_env(&gl).contains(&("PGPASSWORD".into(), "$MSPFORM_DB_PASSWORD".into())));
}

// ---------------------------------------------------------------- runners

fn bin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mspform"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The simulator's answers to the secrets the example portfolio references.
const VENDOR_SECRETS: &[(&str, &str)] = &[
    ("EXTREME_PASSWORD", "sim-password"),
    ("RUCKUS_CLIENT_ID", "sim-r1-client"),
    ("RUCKUS_CLIENT_SECRET", "sim-r1-secret"),
    (
        "AUDIOCODES_CLIENT_ID",
        "5a9e2c7f-1b4d-4f6a-8e3c-9d0b7a6f5e12",
    ),
    ("AUDIOCODES_CLIENT_SECRET", "sim-ac-secret"),
    ("RETAILCO_CARRIER_PASSWORD", "Carrier-Secret-42"),
];

/// The ExtremeCloud, RUCKUS One and AudioCodes part of `examples/msp`, pointed
/// at `sim`, written to `dir/portfolio` (a runner's checkout).
fn checkout(sim: &Simulator, dir: &Path) -> PathBuf {
    let conf = dir.join("portfolio");
    std::fs::create_dir_all(&conf).unwrap();
    let ported = ["extreme", "ruckus", "voice"];
    for entry in std::fs::read_dir(repo().join("examples/msp")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let kept: Vec<String> = sections(&text)
            .into_iter()
            .filter(|s| {
                ported.iter().any(|p| {
                    s.contains(&format!("[providers.{p}]"))
                        || s.contains(&format!("provider = \"{p}\""))
                })
            })
            .collect();
        if !kept.is_empty() {
            let text = kept
                .join("\n")
                .replace("http://127.0.0.1:8080", &sim.url())
                .replace("poll_interval_ms = 200", "poll_interval_ms = 20");
            std::fs::write(conf.join(path.file_name().unwrap()), text).unwrap();
        }
    }
    conf
}

/// A runner: a shell in `dir` with mspform on PATH, the pipeline's variables
/// (secrets from `secrets`), and nothing of this process's mspform settings.
fn shell(dir: &Path, command: &str, env: &[(String, String)]) -> Output {
    let path = std::env::join_paths(std::iter::once(bin_dir()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1");
    for name in [
        "MSPFORM_LOG",
        "MSPFORM_CONFIG",
        "MSPFORM_STATE",
        "MSPFORM_STATE_SCHEMA",
        "MSPFORM_LOCK_TIMEOUT",
        "PGPASSWORD",
        "PGPASSFILE",
        "MSPFORM_CI_JOB_URL",
        "GITHUB_RUN_ID",
        "CI_JOB_URL",
    ] {
        c.env_remove(name);
    }
    c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a job's mspform lines in order on a runner; every one must succeed.
async fn job(dir: &Path, name: &str, commands: &[String], env: &[(String, String)]) {
    assert!(!commands.is_empty(), "job {name} has no mspform command");
    for command in commands {
        let (d, c, e) = (dir.to_path_buf(), command.clone(), env.to_vec());
        let out = tokio::task::spawn_blocking(move || shell(&d, &c, &e))
            .await
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "job {name}: `{command}` failed:\n{}",
            text(&out)
        );
    }
}

fn pg_target(url: &str) -> mspform::state::location::PgTarget {
    match StateLocation::parse(url, None).unwrap() {
        StateLocation::Postgres(t) => *t,
        StateLocation::Dir(_) => unreachable!("a URL"),
    }
}

/// The example pipeline `file` run as three runners sharing only a fresh
/// PostgreSQL schema and the saved plan: `plan` on the first, `apply` of that
/// plan on the second, `drift` on the third. All succeed; drift finds nothing.
/// `exported`: the CI system puts every secret in the job's environment
/// (GitLab's CI/CD variables); otherwise only what the file maps (GitHub).
async fn pipeline(file: &str, jobs: [&str; 3], exported: bool) {
    let Some(cluster) = pg_cluster::shared() else {
        return;
    };
    let text = std::fs::read_to_string(repo().join("examples/ci").join(file)).unwrap();
    let commands = ci_jobs(&text);
    let schema = cluster.fresh_schema(file);
    let state = format!("{}&schema={schema}", cluster.url_without_password());
    let mut secrets: BTreeMap<&str, String> = VENDOR_SECRETS
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    secrets.insert("MSPFORM_STATE_URL", state.clone());
    secrets.insert("MSPFORM_DB_PASSWORD", pg_cluster::PASSWORD.to_string());
    let mut env: Vec<(String, String)> = Vec::new();
    if exported {
        env.extend(secrets.iter().map(|(k, v)| (k.to_string(), v.clone())));
    }
    env.extend(ci_env(&text).into_iter().map(|(k, v)| {
        let value = resolve(&v, &secrets);
        (k, value)
    }));
    assert!(
        env.iter().any(|(k, v)| k == "MSPFORM_STATE" && *v == state),
        "the state comes from a secret: {env:?}"
    );

    let sim = sim(false).await;
    sim.ruckus_switches(|s| s.activity_settle_ms = 0);
    let runners: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for r in &runners {
        checkout(&sim, r.path());
    }
    let [plan, apply, drift] = jobs;

    job(runners[0].path(), plan, &commands[plan], &env).await;
    assert_eq!(
        sim.write_calls("extreme") + sim.write_calls("ruckus") + sim.write_calls("audiocodes"),
        0,
        "the plan job writes to no vendor"
    );
    let md = std::fs::read_to_string(runners[0].path().join("plan.md")).unwrap();
    assert!(
        md.starts_with("### mspform plan\n\n**Plan: ") && md.contains("#### Provider `voice`"),
        "{md}"
    );
    // The artifact is all the apply runner gets from the plan runner.
    std::fs::copy(
        runners[0].path().join("plan.json"),
        runners[1].path().join("plan.json"),
    )
    .unwrap();
    job(runners[1].path(), apply, &commands[apply], &env).await;
    assert!(sim.write_calls("audiocodes") > 0, "the apply wrote");
    let owned = PgStore::read(
        &pg_target(&format!("{}&schema={schema}", cluster.url())),
        "test",
    )
    .unwrap()
    .owned()
    .unwrap();
    for key in [
        "customer.harbor-logistics",
        "customer.bayview-resort",
        "customer.coffee-voice",
        "partner.westgate",
    ] {
        assert!(owned.contains_key(key), "{key} owned: {:?}", owned.keys());
    }
    let writes = sim.write_calls("audiocodes") + sim.write_calls("ruckus");
    job(runners[2].path(), drift, &commands[drift], &env).await;
    assert_eq!(
        sim.write_calls("audiocodes") + sim.write_calls("ruckus"),
        writes,
        "drift writes to no vendor"
    );
    let report = std::fs::read_to_string(runners[2].path().join("drift.md")).unwrap();
    assert!(report.contains("No changes."), "no drift: {report}");
    // Nothing was made twice: the RUCKUS One tenants exist once each.
    let tenants = live_names(&sim, "ruckus", "ecs", "name");
    for name in ["Bayview Resort", "Metro Library"] {
        assert_eq!(
            tenants.iter().filter(|t| *t == name).count(),
            1,
            "{tenants:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_github_workflow_plans_applies_and_checks_drift_on_three_runners() {
    pipeline("github-actions.yml", ["plan", "apply", "drift"], false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gitlab_pipeline_plans_applies_and_checks_drift_on_three_runners() {
    pipeline(
        "gitlab-ci.yml",
        ["mspform-plan", "mspform-apply", "mspform-drift"],
        true,
    )
    .await;
}

// ------------------------------------------------ one runner, a local state

const PROVIDER_TENANT: &str = "8d2f5c1e-3b7a-4c9e-a1f0-6e4b2d7c9a53";
const APP_ID: &str = "c7e1a4b2-9f3d-4e8a-b6c5-2d1f0e9a8b74";
const CLIENT_ID: &str = "5a9e2c7f-1b4d-4f6a-8e3c-9d0b7a6f5e12";

/// AudioCodes customers, one file each: (key, short name, full name, extra lines).
const CUSTOMERS: &[(&str, &str, &str, &str)] = &[
    (
        "acme",
        "Acme",
        "AcmeCorp",
        "customer_type = \"TENANT_TYPE\"\nms_tenant_id = \"4bf50a33-a383-4d3f-9403-220c898bc1b2\"\nsite = { sbc_id = 5, onboarding_script = 10008, cleanup_script = 10701 }",
    ),
    (
        "harbor",
        "Harbor",
        "HarborClinic",
        "customer_type = \"IPGROUP_TYPE\"\nms_tenant_id = \"c0161094-80c8-47de-ace0-ccd06f188b82\"\nsite = { sbc_id = 7, onboarding_script = 10007, cleanup_script = 10700 }",
    ),
    (
        "coffee",
        "Coffee",
        "CoffeeCorp",
        "customer_type = \"TENANT_TYPE\"\nms_tenant_id = \"f94238e5-4f2c-4e1b-8125-2d27122ca75f\"\nsite = { sbc_id = 5, onboarding_script = 10008, cleanup_script = 10701 }",
    ),
];

/// A configuration directory: the AudioCodes provider against `sim` and one
/// file per customer; `extra` goes into `rules.toml`.
fn voice_conf(sim: &Simulator, dir: &Path, extra: &str) -> PathBuf {
    let conf = dir.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(dir.join("client-id"), CLIENT_ID).unwrap();
    std::fs::write(dir.join("client-secret"), "sim-ac-secret").unwrap();
    let base = sim.base_url("audiocodes");
    std::fs::write(
        conf.join("providers.toml"),
        format!(
            r#"[providers.ac]
type = "audiocodes-live"
base_url = "{base}"
calls_per_second = 1000
create_timeout_secs = 60
oauth = {{ tenant_id = "{PROVIDER_TENANT}", client_id = {{ file = "{}" }}, client_secret = {{ file = "{}" }}, scope = "api://{APP_ID}/.default", token_url = "{base}/{{tenant_id}}/oauth2/v2.0/token" }}
"#,
            dir.join("client-id").display(),
            dir.join("client-secret").display()
        ),
    )
    .unwrap();
    for (key, short, full, rest) in CUSTOMERS {
        write_customer(&conf, key, short, full, rest, "");
    }
    std::fs::write(conf.join("rules.toml"), extra).unwrap();
    conf
}

fn write_customer(conf: &Path, key: &str, short: &str, full: &str, rest: &str, more: &str) {
    std::fs::write(
        conf.join(format!("{key}.toml")),
        format!(
            "[customers.{key}]\nprovider = \"ac\"\nname = \"{full}\"\nshort_name = \"{short}\"\n{rest}\n{more}\n"
        ),
    )
    .unwrap();
}

fn mspform(conf: &Path, state: &Path, rest: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mspform"));
    c.arg("-c")
        .arg(conf)
        .arg("--state")
        .arg(state)
        .args(rest)
        .env("NO_COLOR", "1")
        .env_remove("MSPFORM_LOG")
        .env_remove("MSPFORM_CONFIG")
        .env_remove("MSPFORM_STATE")
        .env_remove("MSPFORM_LOCK_TIMEOUT")
        .stdin(Stdio::null());
    c.output().unwrap()
}

/// Runs mspform off the async runtime's threads (the simulator answers on them).
async fn run(conf: &Path, state: &Path, rest: &[&str]) -> Output {
    let (conf, state) = (conf.to_path_buf(), state.to_path_buf());
    let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
        mspform(&conf, &state, &rest)
    })
    .await
    .unwrap()
}

fn short_names(sim: &Simulator) -> Vec<String> {
    live_names(sim, "audiocodes", "customers", "short_name")
        .into_iter()
        .filter(|n| CUSTOMERS.iter().any(|c| c.1 == n))
        .collect()
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protected_customer_whose_file_is_removed_is_kept_until_unprotected() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = voice_conf(&sim, dir.path(), "");
    let state = dir.path().join("state");
    let (key, short, full, rest) = CUSTOMERS[0];
    write_customer(&conf, key, short, full, rest, "protect = true");
    let out = run(&conf, &state, &["apply", "--auto-approve"]).await;
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("record its protection"),
        "{}",
        text(&out)
    );
    let protections = SledStore::read(&state, "test")
        .unwrap()
        .protections()
        .unwrap();
    assert_eq!(protections.keys().collect::<Vec<_>>(), ["customer.acme"]);
    assert!(
        protections["customer.acme"]
            .declared_at
            .as_deref()
            .is_some_and(|p| p.contains("acme.toml:")),
        "{protections:?}"
    );
    let out = run(&conf, &state, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(
        code(&out),
        Some(0),
        "recorded: nothing to do: {}",
        text(&out)
    );

    // The file goes (a bad merge): the customer is kept, the rest goes on.
    std::fs::remove_file(conf.join("acme.toml")).unwrap();
    std::fs::remove_file(conf.join("harbor.toml")).unwrap();
    let out = run(&conf, &state, &["plan", "--format", "markdown"]).await;
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    let md = String::from_utf8_lossy(&out.stdout);
    let warning = md.find("> [!WARNING]").expect("a warning block");
    assert!(
        md[warning..].contains("**Protected, kept:**") && md[warning..].contains("`customer.acme`"),
        "{md}"
    );
    assert!(
        md.contains("`customer.harbor`") && !md.contains("| - | `customer.acme`"),
        "{md}"
    );
    let out = run(&conf, &state, &["apply", "--auto-approve"]).await;
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert_eq!(
        short_names(&sim),
        ["Acme", "Coffee"],
        "harbor deleted, acme kept"
    );
    let out = run(&conf, &state, &["drift"]).await;
    assert_eq!(code(&out), Some(0), "kept is not drift: {}", text(&out));
    assert!(text(&out).contains("Protected, kept"), "{}", text(&out));

    // Lifted explicitly: the next apply deletes it.
    let out = run(&conf, &state, &["state", "unprotect", "customer.acme"]).await;
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    let out = run(&conf, &state, &["state", "unprotect", "customer.acme"]).await;
    assert_eq!(
        code(&out),
        Some(1),
        "not protected any more: {}",
        text(&out)
    );
    let out = run(&conf, &state, &["apply", "--auto-approve"]).await;
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert_eq!(short_names(&sim), ["Coffee"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protected_customers_replacement_is_refused_by_plan_and_reported_by_drift() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = voice_conf(&sim, dir.path(), "");
    let state = dir.path().join("state");
    let (key, short, full, rest) = CUSTOMERS[0];
    write_customer(&conf, key, short, full, rest, "protect = true");
    let out = run(&conf, &state, &["apply", "--auto-approve"]).await;
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    // AudioCodes cannot change a name in place: a portal edit means a replacement.
    sim.audiocodes_edit(AudiocodesEdit::SetFullName {
        customer: "Acme".into(),
        full_name: "Acme by hand".into(),
    })
    .unwrap();
    let writes = sim.write_calls("audiocodes");
    for args in [
        &["plan"][..],
        &[
            "apply",
            "--auto-approve",
            "--allow-replace",
            "customer.acme",
        ][..],
    ] {
        let out = run(&conf, &state, args).await;
        assert_eq!(code(&out), Some(1), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("customer.acme is protected (protect = true at ")
                && err.contains("its replacement is refused")
                && err.contains("mspform state unprotect customer.acme"),
            "{err}"
        );
    }
    assert_eq!(sim.write_calls("audiocodes"), writes, "nothing was sent");
    let out = run(&conf, &state, &["drift"]).await;
    assert_eq!(code(&out), Some(2), "drift reports it: {}", text(&out));
    assert!(
        text(&out).contains("its replacement is refused"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_more_than_the_bulk_threshold_needs_force_bulk() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = voice_conf(
        &sim,
        dir.path(),
        "[safety]\nbulk_percent = 50\nbulk_minimum = 3\n",
    );
    let state = dir.path().join("state");
    let out = run(&conf, &state, &["apply", "--auto-approve"]).await;
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    // One of three owned is a third: under 50 %.
    std::fs::remove_file(conf.join("coffee.toml")).unwrap();
    let out = run(&conf, &state, &["plan", "--format", "json"]).await;
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(plan.get("bulk").is_none(), "{plan}");
    // Two of three is more than half: refused, nothing sent.
    std::fs::remove_file(conf.join("harbor.toml")).unwrap();
    let saved = dir.path().join("plan.json");
    let out = run(
        &conf,
        &state,
        &["plan", "--out", saved.to_str().unwrap(), "--format", "json"],
    )
    .await;
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(file["bulk"], plan["bulk"], "the saved plan lists it too");
    assert_eq!(plan["bulk"][0]["changes"], 2, "{plan}");
    assert_eq!(plan["bulk"][0]["owned"], 3, "{plan}");
    let writes = sim.write_calls("audiocodes");
    let out = run(&conf, &state, &["apply", "--auto-approve"]).await;
    assert_eq!(code(&out), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bulk change")
            && err.contains("2 of the 3 customer objects provider ac owns")
            && err.contains("--force-bulk"),
        "{err}"
    );
    assert_eq!(sim.write_calls("audiocodes"), writes, "nothing was sent");
    let out = run(&conf, &state, &["apply", "--auto-approve", "--force-bulk"]).await;
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert_eq!(short_names(&sim), ["Acme"]);
}

/// The metrics file as name{labels} → value.
fn metrics(path: &Path) -> BTreeMap<String, f64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_ignores_what_rules_match_reports_new_drift_once_and_always_writes_metrics() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = voice_conf(&sim, dir.path(), "");
    let state = dir.path().join("state");
    let prom = dir.path().join("mspform.prom");
    let drift = [
        "drift",
        "--new-only",
        "--prometheus",
        prom.to_str().unwrap(),
    ];
    let out = run(&conf, &state, &["apply", "--auto-approve"]).await;
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    let out = run(&conf, &state, &drift).await;
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    let m = metrics(&prom);
    assert_eq!(m["mspform_drift_success"], 1.0);
    assert!(m["mspform_drift_last_run_timestamp_seconds"] > 1.0e9);

    sim.audiocodes_edit(AudiocodesEdit::SetFullName {
        customer: "Acme".into(),
        full_name: "Acme by hand".into(),
    })
    .unwrap();
    let out = run(&conf, &state, &drift).await;
    assert_eq!(code(&out), Some(2), "new drift: {}", text(&out));
    assert!(text(&out).contains("customer.acme"), "{}", text(&out));
    assert_eq!(metrics(&prom)["mspform_drift_new{provider=\"ac\"}"], 1.0);
    // The same drift again: not new, so no repeat; the metrics still count it.
    let out = run(&conf, &state, &drift).await;
    assert_eq!(code(&out), Some(0), "seen before: {}", text(&out));
    assert!(
        text(&out).contains("1 the previous drift run saw already are not shown"),
        "{}",
        text(&out)
    );
    let m = metrics(&prom);
    assert_eq!(
        m["mspform_drift_actions{provider=\"ac\",op=\"replace\"}"],
        1.0
    );
    assert_eq!(m["mspform_drift_new{provider=\"ac\"}"], 0.0);
    // The full report stays available.
    let out = run(&conf, &state, &["drift"]).await;
    assert_eq!(code(&out), Some(2), "{}", text(&out));

    // An ignore rule: counted, not reported.
    let rule = "[[ignore]]\naddress = \"customer.ac*\"\nfields = [\"name\"]\nreason = \"renamed by the customer\"\n";
    std::fs::write(
        conf.join("rules.toml"),
        format!("{rule}until = 2999-12-31\n"),
    )
    .unwrap();
    let out = run(
        &conf,
        &state,
        &["drift", "--prometheus", prom.to_str().unwrap()],
    )
    .await;
    assert_eq!(code(&out), Some(0), "ignored: {}", text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("customer.acme"),
        "{}",
        text(&out)
    );
    let m = metrics(&prom);
    assert_eq!(m["mspform_drift_ignored{provider=\"ac\"}"], 1.0);
    assert_eq!(
        m["mspform_drift_actions{provider=\"ac\",op=\"replace\"}"],
        0.0
    );
    // Expired: a warning, and the drift shows again (as new: ignored drift is not remembered).
    std::fs::write(
        conf.join("rules.toml"),
        format!("{rule}until = 2000-01-01\n"),
    )
    .unwrap();
    let out = run(&conf, &state, &drift).await;
    assert_eq!(code(&out), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("expired on 2000-01-01") && text(&out).contains("rules.toml:1:"),
        "{}",
        text(&out)
    );

    // A failed run still writes the file: success 0, a fresh timestamp.
    let before = metrics(&prom)["mspform_drift_last_run_timestamp_seconds"];
    assert_eq!(metrics(&prom)["mspform_drift_success"], 1.0);
    std::fs::write(conf.join("rules.toml"), "[[ignore]]\naddress = \"nope\"\n").unwrap();
    let out = run(&conf, &state, &drift).await;
    assert_eq!(code(&out), Some(1), "{}", text(&out));
    let m = metrics(&prom);
    assert_eq!(m["mspform_drift_success"], 0.0, "{m:?}");
    assert!(
        m["mspform_drift_last_run_timestamp_seconds"] >= before,
        "{m:?}"
    );
    assert!(!m.contains_key("mspform_drift_actions{provider=\"ac\",op=\"replace\"}"));
}

/// `key=value` lines of a systemd unit.
fn unit(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some((k, v)) = line.split_once('=') {
            out.entry(k.to_string()).or_default().push(v.to_string());
        }
    }
    out
}

/// The example systemd service's command, run as the timer would run it: it
/// succeeds (exit 2, drift, counts as success for the unit) and writes the
/// textfile node_exporter reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_systemd_drift_unit_runs_hourly_and_writes_the_textfile() {
    let service = unit(
        &std::fs::read_to_string(repo().join("examples/systemd/mspform-drift.service")).unwrap(),
    );
    let timer = unit(
        &std::fs::read_to_string(repo().join("examples/systemd/mspform-drift.timer")).unwrap(),
    );
    assert_eq!(timer["OnCalendar"], ["hourly"]);
    assert_eq!(timer["Unit"], ["mspform-drift.service"]);
    let ok_codes: Vec<i32> = std::iter::once(0)
        .chain(
            service["SuccessExitStatus"]
                .iter()
                .flat_map(|v| v.split_whitespace().map(|c| c.parse::<i32>().unwrap())),
        )
        .collect();
    let exec = &service["ExecStart"][0];
    let words: Vec<&str> = exec.split_whitespace().collect();
    assert!(
        words[0].ends_with("/mspform") && words[1] == "drift",
        "{exec}"
    );
    let textfile = words
        .iter()
        .position(|w| *w == "--prometheus")
        .map(|i| words[i + 1])
        .expect("--prometheus FILE");

    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = voice_conf(&sim, dir.path(), "");
    let state = dir.path().join("state");
    let out = run(&conf, &state, &["apply", "--auto-approve"]).await;
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    let prom = dir.path().join("mspform.prom");
    let args: Vec<String> = words[1..]
        .iter()
        .map(|w| {
            if *w == textfile {
                prom.display().to_string()
            } else {
                w.to_string()
            }
        })
        .collect();
    let service_run = |args: Vec<String>| {
        let (conf, state) = (conf.clone(), state.clone());
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_mspform"))
                .args(&args)
                .env("MSPFORM_CONFIG", &conf)
                .env("MSPFORM_STATE", &state)
                .env_remove("MSPFORM_LOCK_TIMEOUT")
                .stdin(Stdio::null())
                .output()
                .unwrap()
        })
    };
    let out = service_run(args.clone()).await.unwrap();
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert_eq!(metrics(&prom)["mspform_drift_success"], 1.0);
    sim.audiocodes_edit(AudiocodesEdit::SetFullName {
        customer: "Harbor".into(),
        full_name: "Harbor by hand".into(),
    })
    .unwrap();
    let out = service_run(args).await.unwrap();
    let status = code(&out).unwrap();
    assert!(
        ok_codes.contains(&status),
        "drift is a success for the unit: {status}"
    );
    assert_eq!(status, 2, "{}", text(&out));
    let m = metrics(&prom);
    assert_eq!(m["mspform_drift_success"], 1.0);
    assert_eq!(m["mspform_drift_new{provider=\"ac\"}"], 1.0, "{m:?}");
}
