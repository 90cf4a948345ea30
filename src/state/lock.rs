//! The single-writer lock of a state directory: an OS file lock (released by the
//! kernel when the holder dies, so kill -9 leaves no stale lock) and the record
//! of who holds it, for the error a second process prints.
//!
//! Three files, so that a loser always names the real holder:
//! - `lock` is what the holder keeps locked for its whole run; it is never written.
//! - `lock.json` names the holder (pid, host, operation, start); it is replaced
//!   atomically and left behind afterwards as "the last holder".
//! - `lock.gate` is locked for a moment around "try `lock`, then write or read
//!   `lock.json`". A winner writes its record before it lets go of the gate, and
//!   a loser reads the record while it holds the gate, so no loser can read the
//!   record before it is written, nor a previous holder's record.
//!
//! Must not know about sled: the store that owns a [`StateLock`] closes itself
//! before the lock goes (see `SledStore`). [`LockInfo`] (who holds a lock) is
//! shared with the PostgreSQL store's holder row.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{StateError, StateResult, files, now_unix};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Names this holding of the lock, for `mspform state force-unlock ID`.
    #[serde(default)]
    pub id: String,
    pub pid: u32,
    pub host: String,
    /// The operating-system user that runs the holder.
    #[serde(default)]
    pub user: String,
    /// Unix seconds.
    pub started_at: u64,
    pub operation: String,
    /// The CI job the holder runs in, when the environment names one.
    #[serde(default)]
    pub ci_job_url: Option<String>,
}

/// The CI job URL the usual CI systems put in the environment, if any.
pub fn ci_job_url() -> Option<String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(url) = var("MSPFORM_CI_JOB_URL") {
        return Some(url);
    }
    if let (Some(server), Some(repo), Some(run)) = (
        var("GITHUB_SERVER_URL"),
        var("GITHUB_REPOSITORY"),
        var("GITHUB_RUN_ID"),
    ) {
        return Some(format!("{server}/{repo}/actions/runs/{run}"));
    }
    [
        "CI_JOB_URL",
        "BUILD_URL",
        "BUILDKITE_BUILD_URL",
        "CIRCLE_BUILD_URL",
    ]
    .iter()
    .find_map(|name| var(name))
}

fn user_name() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| {
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                // The owner of our own /proc entry is the effective user; its
                // name comes from /etc/passwd when it is there.
                let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
                    return "unknown".into();
                };
                std::fs::read_to_string("/etc/passwd")
                    .ok()
                    .and_then(|text| {
                        text.lines().find_map(|l| {
                            let f: Vec<&str> = l.split(':').collect();
                            (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
                        })
                    })
                    .unwrap_or_else(|| format!("uid {uid}"))
            }
            #[cfg(not(unix))]
            {
                "unknown".to_string()
            }
        })
}

impl LockInfo {
    /// This process, about to hold a lock for `operation`.
    pub fn mine(operation: &str) -> LockInfo {
        LockInfo {
            id: super::seal::new_lineage(),
            pid: std::process::id(),
            host: host_name(),
            user: user_name(),
            started_at: now_unix(),
            operation: operation.to_string(),
            ci_job_url: ci_job_url(),
        }
    }
}

impl std::fmt::Display for LockInfo {
    /// `pid N on HOST since TIME (OPERATION)`, then the user, CI job and lock ID.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on {} since {} ({})",
            self.pid,
            self.host,
            crate::clock::fmt_utc(self.started_at),
            self.operation
        )?;
        let mut extra = Vec::new();
        if !self.user.is_empty() {
            extra.push(format!("user {}", self.user));
        }
        if let Some(url) = &self.ci_job_url {
            extra.push(format!("CI job {url}"));
        }
        if !self.id.is_empty() {
            extra.push(format!("lock ID {}", self.id));
        }
        if !extra.is_empty() {
            write!(f, " [{}]", extra.join(", "))?;
        }
        Ok(())
    }
}

/// The hint after "locked by ..." for the local lock.
const LOCAL_HINT: &str = "wait for it to finish, or pass --lock-timeout to wait for it. The lock is the operating system's, so it goes away by itself when that process exits; if it does not, that process is hung: stop it";

/// How long to pause between tries while waiting for a lock: growing to this.
pub const WAIT_POLL_MAX: Duration = Duration::from_millis(500);

/// The gate is held for microseconds by each contender; this bounds the wait
/// for it even if a contender were stopped while holding it.
const GATE_WAIT: Duration = Duration::from_secs(5);
const GATE_POLL_MAX: Duration = Duration::from_millis(10);

/// Held for as long as the value lives.
pub struct StateLock {
    _file: File,
    path: PathBuf,
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// Takes the gate: bounded in time, polling with a short growing pause.
fn hold_gate(dir: &Path) -> StateResult<File> {
    let path = dir.join("lock.gate");
    let gate = files::open_private(&path).map_err(|e| open_err(dir, &path, e))?;
    let start = Instant::now();
    let mut pause = Duration::from_micros(200);
    loop {
        match gate.try_lock() {
            Ok(()) => return Ok(gate),
            Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < GATE_WAIT => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(GATE_POLL_MAX);
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StateError::LockUnclear {
                    location: dir.display().to_string(),
                    reason: format!(
                        "{} stayed locked for {} s; a process that was starting or stopping on this state is stuck. Find it with `fuser {}`",
                        path.display(),
                        GATE_WAIT.as_secs(),
                        path.display()
                    ),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(open_err(dir, &path, e)),
        }
    }
}

fn open_err(dir: &Path, path: &Path, e: std::io::Error) -> StateError {
    StateError::Open {
        dir: dir.display().to_string(),
        message: format!("{}: {e}", path.display()),
    }
}

impl StateLock {
    /// Takes the lock of `dir` at once or fails naming the holder. `dir` exists.
    pub fn acquire(dir: &Path, operation: &str) -> StateResult<StateLock> {
        Self::acquire_waiting(dir, operation, Duration::ZERO)
    }

    /// Takes the lock of `dir`, waiting up to `timeout` while another process
    /// holds it; then fails naming the holder.
    pub fn acquire_waiting(
        dir: &Path,
        operation: &str,
        timeout: Duration,
    ) -> StateResult<StateLock> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(20);
        let mut told = false;
        loop {
            match Self::try_acquire(dir, operation) {
                Err(e @ (StateError::Locked { .. } | StateError::LockUnclear { .. })) => {
                    if start.elapsed() >= timeout {
                        return Err(waited(e, timeout));
                    }
                    if !told {
                        told = true;
                        tracing::warn!(
                            "{e}; waiting up to {} s for it (--lock-timeout)",
                            timeout.as_secs()
                        );
                        eprintln!(
                            "Waiting up to {} s for the state lock: {e}",
                            timeout.as_secs()
                        );
                    }
                    std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
                    pause = (pause * 2).min(WAIT_POLL_MAX);
                }
                other => return other,
            }
        }
    }

    fn try_acquire(dir: &Path, operation: &str) -> StateResult<StateLock> {
        files::ensure_dir(dir).map_err(|e| open_err(dir, dir, e))?;
        let path = dir.join("lock");
        let file = files::open_private(&path).map_err(|e| open_err(dir, &path, e))?;
        let record = dir.join("lock.json");
        let gate = hold_gate(dir)?;
        match file.try_lock() {
            Ok(()) => {
                let info = LockInfo::mine(operation);
                let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
                files::write_private(&record, &body).map_err(|e| open_err(dir, &record, e))?;
                drop(gate);
                Ok(StateLock { _file: file, path })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let text = std::fs::read_to_string(&record);
                drop(gate);
                let dir_name = dir.display().to_string();
                match text.map(|t| serde_json::from_str::<LockInfo>(&t)) {
                    Ok(Ok(holder)) => Err(StateError::Locked {
                        location: dir_name,
                        holder: Box::new(holder),
                        hint: LOCAL_HINT.into(),
                    }),
                    // Only a holder that does not follow this protocol (an older
                    // mspform, or a hand-edited file) gets here.
                    Ok(Err(e)) => Err(StateError::LockUnclear {
                        location: dir_name,
                        reason: format!(
                            "its holder record {} does not parse: {e}",
                            record.display()
                        ),
                    }),
                    Err(e) => Err(StateError::LockUnclear {
                        location: dir_name,
                        reason: format!(
                            "its holder record {} cannot be read: {e}",
                            record.display()
                        ),
                    }),
                }
            }
            Err(std::fs::TryLockError::Error(e)) => Err(open_err(dir, &path, e)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Adds "after waiting N s" to a lock error when the caller waited.
pub fn waited(e: StateError, timeout: Duration) -> StateError {
    if timeout.is_zero() {
        return e;
    }
    let note = format!(" (after waiting {} s, --lock-timeout)", timeout.as_secs());
    match e {
        StateError::Locked {
            location,
            holder,
            hint,
        } => StateError::Locked {
            location,
            holder,
            hint: format!("{hint}{note}"),
        },
        StateError::LockUnclear { location, reason } => StateError::LockUnclear {
            location,
            reason: format!("{reason}{note}"),
        },
        other => other,
    }
}

/// The holder record of `dir`'s lock (the last holder's when it is free).
pub fn last_holder(dir: &Path) -> Option<LockInfo> {
    let text = std::fs::read_to_string(dir.join("lock.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether `dir`'s lock is held by a live process right now (probing it takes
/// it for an instant when it is free).
pub fn is_held(dir: &Path) -> StateResult<bool> {
    let path = dir.join("lock");
    if !path.exists() {
        return Ok(false);
    }
    let file = files::open_private(&path).map_err(|e| open_err(dir, &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(false),
        Err(std::fs::TryLockError::WouldBlock) => Ok(true),
        Err(std::fs::TryLockError::Error(e)) => Err(open_err(dir, &path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_fails_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let _held = StateLock::acquire(dir.path(), "apply").unwrap();
        let err = StateLock::acquire(dir.path(), "plan").err().unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("apply"), "{msg}");
    }

    #[test]
    fn lock_is_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        drop(StateLock::acquire(dir.path(), "apply").unwrap());
        assert!(StateLock::acquire(dir.path(), "apply").is_ok());
    }

    /// The window the old design had: the lock taken, its holder not yet
    /// written. With the gate, a loser cannot look in that window: while the
    /// gate is held it waits, and the record it reads is the holder's.
    #[test]
    fn a_loser_never_reads_a_previous_holders_record() {
        let dir = tempfile::tempdir().unwrap();
        drop(StateLock::acquire(dir.path(), "old-run").unwrap());
        // A new holder that has taken `lock` but holds the gate, as if it were
        // about to write its record.
        let gate = hold_gate(dir.path()).unwrap();
        let lock = files::open_private(&dir.path().join("lock")).unwrap();
        lock.try_lock().unwrap();
        let loser = {
            let dir = dir.path().to_path_buf();
            std::thread::spawn(move || StateLock::acquire(&dir, "plan").err())
        };
        let info = LockInfo {
            pid: 4242,
            host: "h".into(),
            started_at: 7,
            operation: "new-run".into(),
            ..LockInfo::mine("x")
        };
        files::write_private(
            &dir.path().join("lock.json"),
            &serde_json::to_vec(&info).unwrap(),
        )
        .unwrap();
        drop(gate);
        let err = loser.join().unwrap().expect("the lock is held").to_string();
        assert!(err.contains("pid 4242") && err.contains("new-run"), "{err}");
    }
}
