//! `seal.json`: what the sled database held when it was last closed cleanly —
//! its lineage (a random id given to a new database) and its serial (bumped by
//! every commit). sled treats a damaged log as a torn tail and silently opens
//! the intact prefix, possibly empty; comparing the database with its seal turns
//! that silent loss into an error. A kill -9 leaves an older seal behind, which
//! is fine: the database may be ahead of its seal, never behind it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::files;

pub const FILE_NAME: &str = "seal.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seal {
    pub version: u32,
    pub lineage: String,
    pub serial: u64,
    /// Unix seconds.
    pub written_at: u64,
}

/// A fresh lineage: unique enough to tell two databases apart (not a secret).
pub fn new_lineage() -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(nanos);
    h.write_u32(std::process::id());
    format!("{:016x}{:08x}", h.finish(), std::process::id())
}

pub fn load(dir: &Path) -> Result<Option<Seal>, String> {
    let path = dir.join(FILE_NAME);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{} is damaged: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{} cannot be read: {e}", path.display())),
    }
}

pub fn write(dir: &Path, lineage: &str, serial: u64) -> std::io::Result<()> {
    let seal = Seal {
        version: 1,
        lineage: lineage.to_string(),
        serial,
        written_at: super::now_unix(),
    };
    files::write_private(
        &dir.join(FILE_NAME),
        &serde_json::to_vec_pretty(&seal).unwrap_or_default(),
    )
}

/// Whether a database with `lineage` and `serial` is the one `seal` describes,
/// at the same or a later commit. The error is the problem, naming `db`.
pub fn check(seal: &Seal, lineage: Option<&str>, serial: u64, db: &Path) -> Result<(), String> {
    match lineage {
        None => Err(format!(
            "the sled database {} has lost its records: {FILE_NAME} says it held commit #{} when it was last closed, and it now opens without them (its files were damaged or replaced)",
            db.display(),
            seal.serial
        )),
        Some(l) if l != seal.lineage => Err(format!(
            "the sled database {} is not the one {FILE_NAME} describes (lineage {l}, expected {}): its files were replaced",
            db.display(),
            seal.lineage
        )),
        Some(_) if serial < seal.serial => Err(format!(
            "the sled database {} has lost records: its last commit is #{serial}, but it held #{} when it was last closed (its files were damaged or an older copy was put back)",
            db.display(),
            seal.serial
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_may_be_ahead_of_its_seal_never_behind_or_another() {
        let seal = Seal {
            version: 1,
            lineage: "abc".into(),
            serial: 10,
            written_at: 0,
        };
        let db = Path::new("st/db");
        assert!(check(&seal, Some("abc"), 10, db).is_ok());
        assert!(check(&seal, Some("abc"), 12, db).is_ok(), "after a kill -9");
        let behind = check(&seal, Some("abc"), 9, db).unwrap_err();
        assert!(
            behind.contains("st/db") && behind.contains("#9"),
            "{behind}"
        );
        assert!(check(&seal, Some("xyz"), 10, db).is_err());
        assert!(check(&seal, None, 0, db).is_err());
        assert_ne!(new_lineage(), new_lineage());
    }
}
