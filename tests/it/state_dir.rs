//! The local state directory through the real binary: many processes starting
//! at once on one state, the directory's modes, the rotated refresh token kept
//! in no stale file, and a damaged state: a clear error, no vendor call, and a
//! backup that restores it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use crate::cli::{args, bin, run, write_portfolio};
use crate::support::*;

const VENDORS: [&str; 4] = ["aruba", "extreme", "ruckus", "audiocodes"];

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every path under `dir` (itself included) with its permission bits.
#[cfg(unix)]
fn modes(dir: &Path) -> Vec<(PathBuf, u32, bool)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        out.push((p.clone(), meta.permissions().mode() & 0o777, meta.is_dir()));
        if meta.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        }
    }
    out
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        } else if std::fs::read(&p)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
        {
            found.push(p);
        }
    }
    found
}

/// An empty `state export`, for commands that take the lock (`state import
/// --force`): the listings read a snapshot without it.
fn empty_export(dir: &Path) -> PathBuf {
    let path = dir.join("empty-export.json");
    let store = mspform::state::MemStore::new();
    let export = mspform::state::export::export(&store).unwrap();
    std::fs::write(&path, serde_json::to_string(&export).unwrap()).unwrap();
    path
}

/// Many `mspform state import --force` start at once on one state directory,
/// in rounds. Each either wins the lock (exit 0) or exits 3 naming the process that held it:
/// a pid of one of this round's winners, with its operation and start time —
/// never "pid 0", never sled's raw "WouldBlock".
#[test]
fn concurrent_starts_each_win_or_name_the_real_holder() {
    const ROUNDS: usize = 3;
    const PROCESSES: usize = 48;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let conf = dir.path().join("unused.toml");
    let empty = empty_export(dir.path());
    let empty = empty.display().to_string();
    let mut losers = 0;
    for round in 0..ROUNDS {
        let children: Vec<_> = (0..PROCESSES)
            .map(|_| {
                bin()
                    .args(args(&conf, &state, &["state", "import", &empty, "--force"]))
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let results: Vec<(u32, Output)> = children
            .into_iter()
            .map(|c| (c.id(), c.wait_with_output().unwrap()))
            .collect();
        let winners: BTreeSet<u32> = results
            .iter()
            .filter(|(_, o)| o.status.code() == Some(0))
            .map(|(pid, _)| *pid)
            .collect();
        assert!(!winners.is_empty(), "round {round}: someone wins");
        for (pid, out) in &results {
            if out.status.code() == Some(0) {
                continue;
            }
            losers += 1;
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(3),
                "round {round}, pid {pid}: {err}"
            );
            assert!(
                !err.contains("WouldBlock")
                    && !err.contains("pid 0 ")
                    && !err.contains("1970-01-01"),
                "round {round}, pid {pid}: {err}"
            );
            let holder: u32 = err
                .split("locked by pid ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("round {round}, pid {pid} names no holder: {err}"));
            assert!(
                winners.contains(&holder),
                "round {round}, pid {pid} names pid {holder}, not one of this round's winners {winners:?}: {err}"
            );
            assert!(err.contains("(state import)"), "{err}");
        }
    }
    assert!(
        losers > 0,
        "{ROUNDS} rounds of {PROCESSES} processes never overlapped; the test proved nothing"
    );
}

#[cfg(unix)]
#[test]
fn the_state_directory_is_private_and_an_exposed_one_is_warned_about_once() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let conf = dir.path().join("unused.toml");
    let empty = empty_export(dir.path()).display().to_string();
    // A command that opens the state for writing (the listings only read a snapshot).
    let list = || {
        bin()
            .args(args(&conf, &state, &["state", "import", &empty, "--force"]))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = list();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !text(&out).contains("could be read"),
        "a new directory: {}",
        text(&out)
    );
    let all = modes(&state);
    assert!(all.len() >= 8, "sled's files are there too: {all:?}");
    for (path, mode, is_dir) in &all {
        let want = if *is_dir { 0o700 } else { 0o600 };
        assert_eq!(*mode, want, "{}", path.display());
    }

    for (path, _, is_dir) in &all {
        let mode = if *is_dir { 0o755 } else { 0o644 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let out = list();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("could be read by group or others (mode 0755)")
            .count(),
        1,
        "one warning: {err}"
    );
    for (path, mode, is_dir) in modes(&state) {
        let want = if is_dir { 0o700 } else { 0o600 };
        assert_eq!(mode, want, "made private again: {}", path.display());
    }
    let out = list();
    assert!(!text(&out).contains("could be read"), "{}", text(&out));
}

/// Two rotations of the Aruba refresh token: the first rotated token is in no
/// file under the state directory (sled kept it in its log before), and the
/// live one only in credentials.json.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_superseded_refresh_token_is_in_no_file_under_the_state_directory() {
    use mspform::model::SecretRef;
    use mspform::vendors::aruba::model::ArubaAuth;
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desired = portfolio(&sim, dir.path());
    let secret = |name: &str, value: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, value).unwrap();
        SecretRef::File(path)
    };
    aruba_settings(&mut desired, |s| {
        s.auth = ArubaAuth::OAuth {
            client_id: secret("id", "sim-client"),
            client_secret: secret("secret", "sim-secret"),
            refresh_token: secret("refresh", "sim-refresh"),
            access_token: None,
        };
    });
    let (first, second) = {
        let store = store(dir.path());
        assert!(apply(&desired, &store).await.ok());
        let first = store.credential("aruba", "refresh_token").unwrap().unwrap();
        sim.advance_clock(7201);
        assert!(!plan(&desired, &store).await.plan.has_changes());
        let second = store.credential("aruba", "refresh_token").unwrap().unwrap();
        assert_ne!(first, second, "rotated twice");
        (first, second)
    };
    let state = dir.path().join("state");
    assert_eq!(files_containing(&state, &first), Vec::<PathBuf>::new());
    assert_eq!(
        files_containing(&state, &second),
        vec![state.join("credentials.json")]
    );
    #[cfg(unix)]
    for (path, mode, is_dir) in modes(&state) {
        assert_eq!(
            mode,
            if is_dir { 0o700 } else { 0o600 },
            "{}",
            path.display()
        );
    }
}

fn vendor_calls(sim: &mspform::sim::Simulator) -> Vec<u64> {
    VENDORS.iter().map(|v| sim.total_calls(v)).collect()
}

/// A damaged state: `plan` and `apply` stop before any vendor call, name the
/// database, say nothing was changed, and print recovery steps that work — the
/// backup taken before the last apply restores every record, and the next plan
/// has nothing to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_state_stops_before_any_vendor_call_and_its_backup_restores_it() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let before = dir.path().join("before.json");
    let out = run(args(
        &conf,
        &state,
        &["state", "export", before.to_str().unwrap()],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // A second apply with a change: its backup is the state the first one left.
    let file = conf.join("coffee-shop.toml");
    let edited = std::fs::read_to_string(&file)
        .unwrap()
        .replace("Located at 15th and T Street", "Moved to 16th Street");
    std::fs::write(&file, edited).unwrap();
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let records = |path: &Path| -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        serde_json::json!({"owned": v["owned"], "journal": v["journal"]})
    };
    let backup = state.join("backup.json");
    assert_eq!(
        records(&backup),
        records(&before),
        "backup = state before the apply"
    );
    assert_eq!(
        records(&before)["owned"].as_object().unwrap().len(),
        3 + 4 + 19,
        "the customers, sites and devices of the portfolio"
    );

    // Damage sled's files (its config and the head of its log).
    std::fs::write(state.join("db/conf"), b"not sled's config at all").unwrap();
    // Readers (plan, drift, state list) read the snapshot the last commit
    // published, without the lock; the damage stops the next writer.
    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let calls = vendor_calls(&sim);
    for cmd in [
        &["apply", "--auto-approve"][..],
        &["state", "rm", "customer.coffee-shop"],
    ] {
        let out = run(args(&conf, &state, cmd)).await;
        assert_eq!(out.status.code(), Some(1), "{cmd:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&state.join("db").display().to_string()),
            "{err}"
        );
        assert!(err.contains("Nothing was changed at any vendor"), "{err}");
        assert!(err.contains("mspform state import --state"), "{err}");
        assert!(!err.contains("backtrace"), "{err}");
    }
    assert_eq!(
        vendor_calls(&sim),
        calls,
        "no vendor call on a damaged state"
    );

    // The recovery steps, as printed.
    let broken = dir.path().join("state.broken");
    std::fs::rename(&state, &broken).unwrap();
    let out = run(args(
        &conf,
        &state,
        &[
            "state",
            "import",
            broken.join("backup.json").to_str().unwrap(),
        ],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let restored = dir.path().join("restored.json");
    let out = run(args(
        &conf,
        &state,
        &["state", "export", restored.to_str().unwrap()],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        records(&restored),
        records(&before),
        "every record restored"
    );

    let out = run(args(
        &conf,
        &state,
        &[
            "state",
            "import",
            broken.join("backup.json").to_str().unwrap(),
        ],
    ))
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "a non-empty state needs --force"
    );
    assert!(text(&out).contains("--force"), "{}", text(&out));

    let writes: Vec<u64> = VENDORS.iter().map(|v| sim.write_calls(v)).collect();
    let out = run(args(&conf, &state, &["plan", "--detailed-exitcode"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("No changes."), "{}", text(&out));
    assert_eq!(
        VENDORS
            .iter()
            .map(|v| sim.write_calls(v))
            .collect::<Vec<_>>(),
        writes
    );
}

/// sled opens a log whose head is garbage as an empty database; the state's
/// seal turns that into the same clear error instead of "nothing is owned".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_in_sleds_log_is_an_error_not_an_empty_state() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_portfolio(&sim, dir.path());
    let state = dir.path().join("state");
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let log = state.join("db/db");
    let len = std::fs::metadata(&log).unwrap().len() as usize;
    std::fs::write(&log, vec![0x5a; len]).unwrap();
    let calls = vendor_calls(&sim);
    let out = run(args(&conf, &state, &["apply", "--auto-approve"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has lost") && err.contains("Nothing was changed"),
        "{err}"
    );
    assert_eq!(vendor_calls(&sim), calls);
}
