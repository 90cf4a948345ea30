//! The single-writer lock of a state directory: an OS file lock (released by the
//! kernel when the holder dies, so kill -9 leaves no stale lock) on `lock.json`,
//! whose contents name the holder for the error a second process prints.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{StateError, StateResult, now_unix};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub pid: u32,
    pub host: String,
    /// Unix seconds.
    pub started_at: u64,
    pub operation: String,
}

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

impl StateLock {
    /// Takes the lock of `dir` at once or fails naming the holder.
    pub fn acquire(dir: &Path, operation: &str) -> StateResult<StateLock> {
        let open_err = |e: std::io::Error| StateError::Open {
            dir: dir.display().to_string(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(open_err)?;
        let path = dir.join("lock.json");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(open_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = serde_json::from_str(&text).unwrap_or(LockInfo {
                    pid: 0,
                    host: "unknown".into(),
                    started_at: 0,
                    operation: "unknown".into(),
                });
                return Err(StateError::Locked {
                    dir: dir.display().to_string(),
                    holder,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(open_err(e)),
        }
        let info = LockInfo {
            pid: std::process::id(),
            host: host_name(),
            started_at: now_unix(),
            operation: operation.to_string(),
        };
        let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
        file.set_len(0).map_err(open_err)?;
        file.seek(SeekFrom::Start(0)).map_err(open_err)?;
        file.write_all(&body).map_err(open_err)?;
        file.sync_all().map_err(open_err)?;
        Ok(StateLock { _file: file, path })
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
}
