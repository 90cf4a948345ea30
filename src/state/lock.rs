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
//! before the lock goes (see `SledStore`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{StateError, StateResult, files, now_unix};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub pid: u32,
    pub host: String,
    /// Unix seconds.
    pub started_at: u64,
    pub operation: String,
}

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
                    dir: dir.display().to_string(),
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
        files::ensure_dir(dir).map_err(|e| open_err(dir, dir, e))?;
        let path = dir.join("lock");
        let file = files::open_private(&path).map_err(|e| open_err(dir, &path, e))?;
        let record = dir.join("lock.json");
        let gate = hold_gate(dir)?;
        match file.try_lock() {
            Ok(()) => {
                let info = LockInfo {
                    pid: std::process::id(),
                    host: host_name(),
                    started_at: now_unix(),
                    operation: operation.to_string(),
                };
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
                        dir: dir_name,
                        holder,
                    }),
                    // Only a holder that does not follow this protocol (an older
                    // mspform, or a hand-edited file) gets here.
                    Ok(Err(e)) => Err(StateError::LockUnclear {
                        dir: dir_name,
                        reason: format!(
                            "its holder record {} does not parse: {e}",
                            record.display()
                        ),
                    }),
                    Err(e) => Err(StateError::LockUnclear {
                        dir: dir_name,
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
