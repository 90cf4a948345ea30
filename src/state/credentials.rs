//! `credentials.json` of a state directory: the rotated refresh tokens, kept out
//! of sled because sled keeps every old value in its log until it rewrites the
//! segment, so a superseded token would stay on disk. This file is replaced
//! atomically (mode 0600) on every change, so the old value is in no file
//! afterwards. A plan may rotate a token while an apply holds the state lock,
//! so every change re-reads the file under its own short lock
//! (`credentials.lock`) and rewrites it with this one change, never with a
//! stale copy: two processes lose neither's token.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::files;

pub const FILE_NAME: &str = "credentials.json";
const LOCK_NAME: &str = "credentials.lock";
/// Each holder keeps `credentials.lock` for one read-modify-write.
const LOCK_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct OnDisk {
    version: u32,
    /// provider key → credential name → value.
    credentials: BTreeMap<String, BTreeMap<String, String>>,
}

pub struct CredentialFile {
    path: PathBuf,
    values: Mutex<OnDisk>,
}

impl CredentialFile {
    /// Reads `dir/credentials.json`; a missing file is an empty one. The error
    /// is the problem, for [`super::StateError::Unreadable`]; it never quotes the
    /// file's contents.
    pub fn load(dir: &Path) -> Result<CredentialFile, String> {
        let path = dir.join(FILE_NAME);
        let values = read(&path)?;
        Ok(CredentialFile {
            path,
            values: Mutex::new(values),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut OnDisk) -> T) -> T {
        let mut guard = self.values.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// Holds `credentials.lock` (bounded wait) for one read-modify-write.
    fn exclusive(&self) -> std::io::Result<std::fs::File> {
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        files::ensure_dir(dir)?;
        let lock = files::open_private(&dir.join(LOCK_NAME))?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match lock.try_lock() {
                Ok(()) => return Ok(lock),
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(std::io::Error::other(format!(
                        "{} stayed locked for {} s",
                        dir.join(LOCK_NAME).display(),
                        LOCK_WAIT.as_secs()
                    )));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
        }
    }
}

/// The file's contents; a missing file is an empty one.
fn read(path: &Path) -> Result<OnDisk, String> {
    Ok(match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<OnDisk>(&bytes).map_err(|e| {
            format!(
                "{} is damaged (line {}, column {}: {:?})",
                path.display(),
                e.line(),
                e.column(),
                e.classify()
            )
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => OnDisk {
            version: 1,
            ..OnDisk::default()
        },
        Err(e) => return Err(format!("{} cannot be read: {e}", path.display())),
    })
}

impl CredentialFile {
    pub fn get(&self, provider: &str, name: &str) -> Option<String> {
        self.with(|v| {
            v.credentials
                .get(provider)
                .and_then(|m| m.get(name))
                .cloned()
        })
    }

    /// Sets values and rewrites the file; the in-memory copy changes only once
    /// the file is written. Entries already present are kept when `keep_existing`.
    pub fn set_all(
        &self,
        entries: &[(String, String, String)],
        keep_existing: bool,
    ) -> std::io::Result<()> {
        let _lock = self.exclusive()?;
        // Another process may have changed the file since it was loaded.
        let current = read(&self.path).map_err(std::io::Error::other)?;
        self.with(|v| {
            *v = current;
            let mut next = v.clone();
            next.version = 1;
            for (provider, name, value) in entries {
                let slot = next.credentials.entry(provider.clone()).or_default();
                if keep_existing && slot.contains_key(name) {
                    continue;
                }
                slot.insert(name.clone(), value.clone());
            }
            if next.credentials == v.credentials && self.path.exists() {
                return Ok(());
            }
            let body = serde_json::to_vec_pretty(&next).unwrap_or_default();
            files::write_private(&self.path, &body)?;
            *v = next;
            Ok(())
        })
    }

    pub fn set(&self, provider: &str, name: &str, value: &str) -> std::io::Result<()> {
        self.set_all(&[(provider.into(), name.into(), value.into())], false)
    }

    /// Every value as (provider, name, value).
    pub fn all(&self) -> Vec<(String, String, String)> {
        self.with(|v| {
            v.credentials
                .iter()
                .flat_map(|(p, m)| m.iter().map(|(n, x)| (p.clone(), n.clone(), x.clone())))
                .collect()
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file holds anything worth carrying to a restored state.
    pub fn is_empty(&self) -> bool {
        self.with(|v| v.credentials.values().all(BTreeMap::is_empty))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_value_replaces_the_old_one_in_the_only_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = CredentialFile::load(dir.path()).unwrap();
        assert!(file.is_empty());
        file.set("aruba", "refresh_token", "first-token-abc")
            .unwrap();
        file.set("aruba", "refresh_token", "second-token-def")
            .unwrap();
        let again = CredentialFile::load(dir.path()).unwrap();
        assert_eq!(
            again.get("aruba", "refresh_token").as_deref(),
            Some("second-token-def")
        );
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains("first-token-abc"),
                "the superseded token is in no file"
            );
        }
    }

    /// Two holders of the same file (an apply, and a plan beside it): each
    /// change is made to what the file holds now, so neither loses the other's.
    #[test]
    fn two_writers_keep_each_others_values() {
        let dir = tempfile::tempdir().unwrap();
        let apply = CredentialFile::load(dir.path()).unwrap();
        let plan = CredentialFile::load(dir.path()).unwrap();
        plan.set("aruba", "refresh_token", "from-plan").unwrap();
        apply.set("other", "refresh_token", "from-apply").unwrap();
        let again = CredentialFile::load(dir.path()).unwrap();
        assert_eq!(
            again.get("aruba", "refresh_token").as_deref(),
            Some("from-plan")
        );
        assert_eq!(
            again.get("other", "refresh_token").as_deref(),
            Some("from-apply")
        );
    }

    #[test]
    fn a_damaged_file_is_named_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "{\"version\":1, secret-xyz").unwrap();
        let problem = CredentialFile::load(dir.path()).err().unwrap();
        assert!(problem.contains(FILE_NAME), "{problem}");
        assert!(!problem.contains("secret-xyz"), "{problem}");
    }
}
