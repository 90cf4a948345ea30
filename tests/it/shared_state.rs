//! Shared state through the real binary, against the AudioCodes simulator:
//! PostgreSQL as the state of two working directories (two CI runners), the
//! lock between two applies (exit 3 naming the holder, or waiting with
//! `--lock-timeout`), kill -9 of the holder, plan and drift beside a held lock
//! (sled and PostgreSQL), `state migrate` sled → PostgreSQL → sled, and the
//! password from PGPASSWORD or a password file.
//!
//! PostgreSQL comes from `mspform::state::pg_cluster` (a throwaway cluster per
//! test binary); without it these tests say so on stderr and pass, unless
//! `MSPFORM_REQUIRE_PG=1`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use mspform::sim::{AudiocodesEdit, Simulator};
use mspform::state::pg_cluster::{self, Cluster};
use mspform::state::{PgStore, SledStore, StateLocation, StateStore};

use crate::support::*;

const PROVIDER_TENANT: &str = "8d2f5c1e-3b7a-4c9e-a1f0-6e4b2d7c9a53";
const APP_ID: &str = "c7e1a4b2-9f3d-4e8a-b6c5-2d1f0e9a8b74";
const CLIENT_ID: &str = "5a9e2c7f-1b4d-4f6a-8e3c-9d0b7a6f5e12";
const CREATE: &str = "POST /api/v2/customer";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mspform"));
    c.env("NO_COLOR", "1")
        .env_remove("MSPFORM_LOG")
        .env_remove("MSPFORM_CONFIG")
        .env_remove("MSPFORM_STATE")
        .env_remove("MSPFORM_STATE_SCHEMA")
        .env_remove("MSPFORM_LOCK_TIMEOUT")
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .stdin(Stdio::null());
    c
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A working directory (a CI runner's checkout): the AudioCodes provider
/// against `sim` with two customers, secrets in files. Returns the config dir.
fn checkout(sim: &Simulator, dir: &Path) -> PathBuf {
    let conf = dir.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(conf.join("client-id"), CLIENT_ID).unwrap();
    std::fs::write(conf.join("client-secret"), "sim-ac-secret").unwrap();
    let base = sim.base_url("audiocodes");
    std::fs::write(
        conf.join("main.toml"),
        format!(
            r#"[providers.ac]
type = "audiocodes-live"
base_url = "{base}"
calls_per_second = 1000
create_timeout_secs = 60
oauth = {{ tenant_id = "{PROVIDER_TENANT}", client_id = {{ file = "client-id" }}, client_secret = {{ file = "client-secret" }}, scope = "api://{APP_ID}/.default", token_url = "{base}/{{tenant_id}}/oauth2/v2.0/token" }}

[customers.acme]
provider = "ac"
name = "AcmeCorp"
short_name = "Acme"
customer_type = "TENANT_TYPE"
ms_tenant_id = "4bf50a33-a383-4d3f-9403-220c898bc1b2"
site = {{ sbc_id = 5, onboarding_script = 10008, cleanup_script = 10701 }}

[customers.harbor]
provider = "ac"
name = "HarborClinic"
short_name = "Harbor"
customer_type = "IPGROUP_TYPE"
ms_tenant_id = "c0161094-80c8-47de-ace0-ccd06f188b82"
site = {{ sbc_id = 7, onboarding_script = 10007, cleanup_script = 10700 }}
"#
        ),
    )
    .unwrap();
    conf
}

fn args(conf: &Path, state: &str, rest: &[&str]) -> Vec<String> {
    let mut v = vec![
        "-c".to_string(),
        conf.display().to_string(),
        "--state".into(),
        state.to_string(),
    ];
    v.extend(rest.iter().map(|s| s.to_string()));
    v
}

async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || bin().args(&args).output().unwrap())
        .await
        .unwrap()
}

fn spawn(args: &[String]) -> Child {
    bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A PostgreSQL state URL with a schema of its own, or `None` (skipped loudly).
fn pg_state(tag: &str) -> Option<(&'static Cluster, String)> {
    let cluster = pg_cluster::shared()?;
    let schema = cluster.fresh_schema(tag);
    Some((cluster, format!("{}&schema={schema}", cluster.url())))
}

fn pg_target(url: &str) -> mspform::state::location::PgTarget {
    match StateLocation::parse(url, None).unwrap() {
        StateLocation::Postgres(t) => *t,
        StateLocation::Dir(_) => unreachable!("a URL"),
    }
}

/// The short names of the customers these tests declare, as live (a
/// duplicate would show twice); the inventory's own customer is left out.
fn short_names(sim: &Simulator) -> Vec<String> {
    live_names(sim, "audiocodes", "customers", "short_name")
        .into_iter()
        .filter(|n| n == "Acme" || n == "Harbor")
        .collect()
}

/// The pid a lock message names: "locked by pid N on ...".
fn holder_pid(message: &str) -> Option<u32> {
    message
        .split("locked by pid ")
        .nth(1)?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

/// Two runners' checkouts, one PostgreSQL state, two applies started at once
/// with the default --lock-timeout 0: exactly one runs, the other exits 3
/// naming it; every object exists once, and is owned once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_at_once_one_runs_the_other_exits_3_naming_it() {
    let Some((_, state)) = pg_state("race") else {
        return;
    };
    let sim = sim(false).await;
    // Each create answers 3 s after it committed: the winner holds the lock
    // for at least 6 s, far longer than two processes take to start.
    sim.audiocodes_switches(|s| s.create_latency_ms = 3000);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (conf_a, conf_b) = (checkout(&sim, a.path()), checkout(&sim, b.path()));
    let mut children = vec![
        spawn(&args(&conf_a, &state, &["apply", "--auto-approve"])),
        spawn(&args(&conf_b, &state, &["apply", "--auto-approve"])),
    ];
    let pids: Vec<u32> = children.iter().map(Child::id).collect();
    let outs: Vec<Output> = tokio::task::spawn_blocking(move || {
        children
            .drain(..)
            .map(|c| c.wait_with_output().unwrap())
            .collect()
    })
    .await
    .unwrap();
    let codes: Vec<Option<i32>> = outs.iter().map(|o| o.status.code()).collect();
    let winner = codes.iter().position(|c| *c == Some(0)).unwrap_or_else(|| {
        panic!(
            "nobody ran: {codes:?}\n{}\n{}",
            text(&outs[0]),
            text(&outs[1])
        )
    });
    let loser = 1 - winner;
    assert_eq!(
        codes[loser],
        Some(3),
        "the other exits 3: {}",
        text(&outs[loser])
    );
    let err = String::from_utf8_lossy(&outs[loser].stderr);
    assert_eq!(holder_pid(&err), Some(pids[winner]), "{err}");
    assert!(err.contains("(apply)") && err.contains("lock ID"), "{err}");
    assert!(!err.contains(pg_cluster::PASSWORD), "{err}");
    assert_eq!(short_names(&sim), ["Acme", "Harbor"]);
    assert_eq!(sim.calls("audiocodes", CREATE), 2, "one create each");
    let store = PgStore::read(&pg_target(&state), "test").unwrap();
    assert_eq!(
        store.owned().unwrap().keys().collect::<Vec<_>>(),
        ["customer.acme", "customer.harbor"]
    );
}

/// The same race with --lock-timeout: the second waits for the first, then
/// finds nothing left to do. Both succeed; every object exists once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_lock_timeout_the_second_apply_waits_and_both_succeed() {
    let Some((_, state)) = pg_state("wait") else {
        return;
    };
    let sim = sim(false).await;
    sim.audiocodes_switches(|s| s.create_latency_ms = 3000);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (conf_a, conf_b) = (checkout(&sim, a.path()), checkout(&sim, b.path()));
    let wait = ["apply", "--auto-approve", "--lock-timeout", "5m"];
    let mut children = vec![
        spawn(&args(&conf_a, &state, &wait)),
        spawn(&args(&conf_b, &state, &wait)),
    ];
    let outs: Vec<Output> = tokio::task::spawn_blocking(move || {
        children
            .drain(..)
            .map(|c| c.wait_with_output().unwrap())
            .collect()
    })
    .await
    .unwrap();
    for out in &outs {
        assert_eq!(out.status.code(), Some(0), "{}", text(out));
    }
    let waited: Vec<&Output> = outs
        .iter()
        .filter(|o| {
            String::from_utf8_lossy(&o.stderr).contains("Waiting up to 300 s for the state lock")
        })
        .collect();
    assert_eq!(waited.len(), 1, "exactly one waited");
    assert_eq!(short_names(&sim), ["Acme", "Harbor"]);
    assert_eq!(
        sim.calls("audiocodes", CREATE),
        2,
        "the waiter created nothing"
    );
}

/// kill -9 of the lock holder while its create is in flight (committed at the
/// vendor, its answer not yet back): PostgreSQL drops the lock with the
/// session, the next apply gets it and converges without a duplicate, and the
/// journal in PostgreSQL shows the killed run's entry settled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_holder_then_the_next_apply_takes_the_lock_and_converges() {
    let Some((_, state)) = pg_state("kill") else {
        return;
    };
    let sim = sim(false).await;
    sim.audiocodes_switches(|s| s.create_latency_ms = 30_000);
    let dir = tempfile::tempdir().unwrap();
    let conf = checkout(&sim, dir.path());
    let mut child = spawn(&args(&conf, &state, &["apply", "--auto-approve"]));
    // Wait (bounded) until the first create is journaled and sent: `state
    // journal` reads a snapshot, so it works while the apply holds the lock.
    let start = Instant::now();
    loop {
        let out = run(args(&conf, &state, &["state", "journal"])).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        // AudioCodes creates run side by side: one or both may be in flight.
        if String::from_utf8_lossy(&out.stdout).contains("Pending")
            && sim.calls("audiocodes", CREATE) >= 1
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the apply never got to its first create"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed by a signal: {status:?}");
    let sent = sim.calls("audiocodes", CREATE);
    assert_eq!(
        short_names(&sim).len() as u64,
        sent,
        "the killed creates committed at the vendor"
    );

    sim.audiocodes_switches(|s| s.create_latency_ms = 0);
    let out = run(args(
        &conf,
        &state,
        &["apply", "--auto-approve", "--lock-timeout", "60s"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(short_names(&sim), ["Acme", "Harbor"], "no duplicate");
    assert_eq!(
        sim.calls("audiocodes", CREATE),
        2,
        "the killed creates were not sent again"
    );
    let journal = PgStore::read(&pg_target(&state), "test")
        .unwrap()
        .journal()
        .unwrap();
    let first = &journal[0].1;
    assert_eq!(first.action, "create", "{journal:#?}");
    assert_eq!(
        first.status,
        mspform::state::JournalStatus::Settled,
        "{journal:#?}"
    );
    assert!(
        journal
            .iter()
            .all(|(_, e)| e.status != mspform::state::JournalStatus::Pending),
        "{journal:#?}"
    );
}

/// plan and drift run while an apply holds the lock, on both backends, and see
/// the state the holder has (no changes, then the portal edit as drift); an
/// apply exits 3 naming the holder.
async fn readers_beside_a_held_lock(state: &str, hold: impl FnOnce() -> Box<dyn std::any::Any>) {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = checkout(&sim, dir.path());
    let out = run(args(&conf, state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let _held = hold();

    let out = run(args(&conf, state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "plan sees what the state owns: {}",
        text(&out)
    );
    let out = run(args(&conf, state, &["drift"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(args(&conf, state, &["state", "list"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);

    sim.audiocodes_edit(AudiocodesEdit::SetFullName {
        customer: "Acme".into(),
        full_name: "Edited In The Portal".into(),
    })
    .unwrap();
    let out = run(args(&conf, state, &["drift"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    let writes = sim.write_calls("audiocodes");
    let out = run(args(&conf, state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(holder_pid(&err), Some(std::process::id()), "{err}");
    assert!(err.contains("(apply)"), "{err}");
    assert_eq!(sim.write_calls("audiocodes"), writes, "no vendor write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_drift_run_while_an_apply_holds_a_sled_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let held = state.clone();
    readers_beside_a_held_lock(&state.display().to_string(), move || {
        Box::new(SledStore::open_for(&held, "apply").unwrap())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_drift_run_while_an_apply_holds_a_postgres_state() {
    let Some((_, state)) = pg_state("readers") else {
        return;
    };
    let target = pg_target(&state);
    readers_beside_a_held_lock(&state, move || {
        Box::new(PgStore::open(&target, "apply", Duration::ZERO).unwrap())
    })
    .await;
}

/// Everything a state holds, comparable across stores (journal without ids).
fn contents(store: &dyn StateStore) -> String {
    let mut credentials = store.all_credentials().unwrap();
    credentials.sort();
    let journal: Vec<_> = store
        .journal()
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    format!("{:?}\n{journal:?}\n{credentials:?}", store.owned().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_migrate_round_trip_sled_to_postgres_to_sled_keeps_every_record() {
    let Some((_, url)) = pg_state("migrate") else {
        return;
    };
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = checkout(&sim, dir.path());
    let local = dir.path().join("state").display().to_string();
    let out = run(args(&conf, &local, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    {
        let store = SledStore::open(&dir.path().join("state")).unwrap();
        store
            .set_credential("ac", "refresh_token", "rotated-token-77")
            .unwrap();
    }
    let before = contents(&SledStore::read(&dir.path().join("state"), "test").unwrap());
    assert!(
        before.contains("customer.acme") && before.contains("action: \"create\""),
        "{before}"
    );

    let out = run(args(&conf, &local, &["state", "migrate", "--to", &url])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("both hold the same records")
            && !text(&out).contains("rotated-token-77"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains(pg_cluster::PASSWORD), "{}", text(&out));
    let in_pg = contents(&PgStore::read(&pg_target(&url), "test").unwrap());
    assert_eq!(in_pg, before);
    // The PostgreSQL state is the state now: plan finds nothing to do.
    let out = run(args(&conf, &url, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A second copy into a non-empty state needs --force.
    let out = run(args(&conf, &local, &["state", "migrate", "--to", &url])).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("--force"), "{}", text(&out));

    let back = dir.path().join("back");
    let out = run(args(
        &conf,
        &url,
        &["state", "migrate", "--to", &back.display().to_string()],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let round_trip = contents(&SledStore::read(&back, "test").unwrap());
    assert_eq!(round_trip, before);
}

/// The password comes from the URL, PGPASSWORD or a password file, and is in
/// no message when it is wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_comes_from_pgpassword_or_a_password_file() {
    let Some(cluster) = pg_cluster::shared() else {
        return;
    };
    let schema = cluster.fresh_schema("password");
    let url = format!("{}&schema={schema}", cluster.url_without_password());
    let dir = tempfile::tempdir().unwrap();
    let list = |env: &[(&str, &str)]| {
        let mut c = bin();
        c.args(["--state", &url, "state", "list"]);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = list(&[("PGPASSWORD", pg_cluster::PASSWORD)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = list(&[("PGPASSWORD", "wrong-password-123")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("password authentication failed")
            && !text(&out).contains("wrong-password-123"),
        "{}",
        text(&out)
    );
    let pgpass = dir.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "127.0.0.1:{}:postgres:mspform:{}\n",
            cluster.port,
            pg_cluster::PASSWORD
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = list(&[("PGPASSFILE", &pgpass.display().to_string())]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}
