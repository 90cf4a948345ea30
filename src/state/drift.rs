//! `drift.json` of a state directory: what the last drift run saw (see
//! [`DriftMemory`]). Drift reads the state without its lock, beside an apply,
//! and sled lets one process open its database, so this lives in a plain file
//! of its own, replaced atomically (mode 0600) by every drift run. Two drift
//! runs at once: the last one to finish wins, which is what "the previous
//! run" means.

use std::path::{Path, PathBuf};

use super::{DriftMemory, StateError, StateResult, files};

pub const FILE_NAME: &str = "drift.json";

#[derive(serde::Serialize, serde::Deserialize)]
struct OnDisk {
    version: u32,
    #[serde(flatten)]
    memory: DriftMemory,
}

const VERSION: u32 = 1;

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Reads `dir/drift.json`; `None` when there is none yet. A file that does not
/// parse is an error naming it (`--new-only` would otherwise report old drift
/// as new, or hide new drift).
pub fn load(dir: &Path) -> StateResult<Option<DriftMemory>> {
    let path = path(dir);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(StateError::Io {
                operation: "read the last drift run",
                message: format!("{}: {e}", path.display()),
            });
        }
    };
    let disk: OnDisk = serde_json::from_slice(&bytes).map_err(|e| StateError::Corrupt {
        key: path.display().to_string(),
        message: format!("{e}; delete the file to start the drift memory afresh"),
    })?;
    Ok(Some(disk.memory))
}

/// Replaces `dir/drift.json` (creating the private directory if needed).
pub fn save(dir: &Path, memory: &DriftMemory) -> StateResult<()> {
    let path = path(dir);
    let io = |e: std::io::Error| StateError::Io {
        operation: "record the drift run",
        message: format!("{}: {e}", path.display()),
    };
    files::ensure_dir(dir).map_err(io)?;
    let body = serde_json::to_vec_pretty(&OnDisk {
        version: VERSION,
        memory: memory.clone(),
    })
    .unwrap_or_default();
    files::write_private(&path, &body).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_privately_and_reads_back_and_names_a_damaged_file() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        assert_eq!(load(&state).unwrap(), None);
        let mut m = DriftMemory {
            at: 3,
            ..DriftMemory::default()
        };
        m.seen.entry("ac".into()).or_default().insert("x".into());
        save(&state, &m).unwrap();
        assert_eq!(load(&state).unwrap(), Some(m));
        assert_eq!(
            files::mode_of(&state.join(FILE_NAME)),
            Some(files::FILE_MODE)
        );
        std::fs::write(state.join(FILE_NAME), b"{").unwrap();
        let err = load(&state).unwrap_err().to_string();
        assert!(err.contains(FILE_NAME), "{err}");
    }
}
