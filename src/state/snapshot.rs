//! A consistent, read-only picture of a state, for the commands that only read
//! it (`plan`, `drift`, `import`, `state list|show|journal|export`): they run
//! beside an apply that holds the lock instead of failing on it.
//!
//! - [`Snapshot`] is the records at one commit (lineage and serial included).
//! - [`SnapshotStore`] serves a snapshot through [`StateStore`]: reads only; a
//!   write to the records is [`StateError::ReadOnly`]. Credentials and the
//!   memory of the last drift run are not part of the picture: they are read
//!   and written live through a [`LiveStore`] (a plan may rotate a refresh
//!   token; a drift run records what it saw).
//! - The sled store publishes its snapshot as `snapshot.json` in the state
//!   directory after every commit ([`publish`]), because sled lets only one
//!   process open its database; readers load it ([`load`]) without the lock.
//!   The file is replaced atomically, so a reader sees one commit or the next,
//!   never a mix; it is not fsynced (sled is the durable copy, and every writer
//!   publishes anew when it opens).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{
    DriftMemory, JournalEntry, OwnedRecord, Protection, StateError, StateResult, StateStore, files,
};

pub const FILE_NAME: &str = "snapshot.json";
const FORMAT: &str = "mspform-snapshot";
const VERSION: u32 = 1;

/// The records of a state at one commit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub lineage: String,
    pub serial: u64,
    pub owned: BTreeMap<String, OwnedRecord>,
    /// Protected objects by address (absent in snapshots of older mspform: none).
    #[serde(default)]
    pub protected: BTreeMap<String, Protection>,
    /// Oldest first, with their ids.
    pub journal: Vec<(u64, JournalEntry)>,
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    format: String,
    version: u32,
    written_at: u64,
    #[serde(flatten)]
    snapshot: Snapshot,
}

/// What is read and written live beside a snapshot, without the lock: the
/// credentials, and the memory of the last drift run.
pub trait LiveStore: Send + Sync {
    fn get(&self, provider: &str, name: &str) -> StateResult<Option<String>>;
    fn set(&self, provider: &str, name: &str, value: &str) -> StateResult<()>;
    fn all(&self) -> StateResult<Vec<(String, String, String)>>;
    fn last_drift(&self) -> StateResult<Option<DriftMemory>>;
    fn set_last_drift(&self, memory: &DriftMemory) -> StateResult<()>;
}

/// A [`Snapshot`] behind the [`StateStore`] trait, read-only.
pub struct SnapshotStore {
    snapshot: Snapshot,
    credentials: Box<dyn LiveStore>,
}

impl SnapshotStore {
    pub fn new(snapshot: Snapshot, credentials: Box<dyn LiveStore>) -> SnapshotStore {
        SnapshotStore {
            snapshot,
            credentials,
        }
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }
}

fn read_only<T>(operation: &'static str) -> StateResult<T> {
    Err(StateError::ReadOnly { operation })
}

impl StateStore for SnapshotStore {
    fn owned(&self) -> StateResult<BTreeMap<String, OwnedRecord>> {
        Ok(self.snapshot.owned.clone())
    }
    fn get_owned(&self, address: &str) -> StateResult<Option<OwnedRecord>> {
        Ok(self.snapshot.owned.get(address).cloned())
    }
    fn put_owned(&self, _: &str, _: &OwnedRecord) -> StateResult<()> {
        read_only("record ownership")
    }
    fn remove_owned(&self, _: &str) -> StateResult<bool> {
        read_only("forget an owned record")
    }
    fn journal_begin(&self, _: &JournalEntry) -> StateResult<u64> {
        read_only("journal a vendor write")
    }
    fn journal_finish(
        &self,
        _: u64,
        _: super::JournalStatus,
        _: Option<String>,
    ) -> StateResult<()> {
        read_only("finish a journal entry")
    }
    fn journal(&self) -> StateResult<Vec<(u64, JournalEntry)>> {
        Ok(self.snapshot.journal.clone())
    }
    fn journal_prune(&self, _: usize) -> StateResult<usize> {
        read_only("prune the journal")
    }
    fn credential(&self, provider: &str, name: &str) -> StateResult<Option<String>> {
        self.credentials.get(provider, name)
    }
    fn set_credential(&self, provider: &str, name: &str, value: &str) -> StateResult<()> {
        self.credentials.set(provider, name, value)
    }
    fn all_credentials(&self) -> StateResult<Vec<(String, String, String)>> {
        self.credentials.all()
    }
    fn protections(&self) -> StateResult<BTreeMap<String, Protection>> {
        Ok(self.snapshot.protected.clone())
    }
    fn set_protection(&self, _: &str, _: &Protection) -> StateResult<()> {
        read_only("record a protection")
    }
    fn remove_protection(&self, _: &str) -> StateResult<bool> {
        read_only("lift a protection")
    }
    fn last_drift(&self) -> StateResult<Option<DriftMemory>> {
        self.credentials.last_drift()
    }
    fn set_last_drift(&self, memory: &DriftMemory) -> StateResult<()> {
        self.credentials.set_last_drift(memory)
    }
    fn reset(&self) -> StateResult<()> {
        read_only("reset the state")
    }
}

/// Replaces `dir/snapshot.json` with `snapshot` (mode 0600, atomic rename).
pub fn publish(dir: &Path, snapshot: &Snapshot) -> std::io::Result<()> {
    use std::io::Write;
    let body = serde_json::to_vec(&OnDisk {
        format: FORMAT.into(),
        version: VERSION,
        written_at: super::now_unix(),
        snapshot: snapshot.clone(),
    })
    .unwrap_or_default();
    let mut builder = tempfile::Builder::new();
    builder.prefix(".snapshot-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(files::FILE_MODE));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(&body)?;
    tmp.persist(dir.join(FILE_NAME)).map_err(|e| e.error)?;
    Ok(())
}

/// Why a published snapshot cannot be used.
#[derive(Debug)]
pub enum LoadError {
    Missing,
    Unusable(String),
}

/// Reads `dir/snapshot.json`.
pub fn load(dir: &Path) -> Result<Snapshot, LoadError> {
    let path: PathBuf = dir.join(FILE_NAME);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(LoadError::Missing),
        Err(e) => {
            return Err(LoadError::Unusable(format!(
                "{} cannot be read: {e}",
                path.display()
            )));
        }
    };
    let disk: OnDisk = serde_json::from_slice(&bytes)
        .map_err(|e| LoadError::Unusable(format!("{} does not parse: {e}", path.display())))?;
    if disk.format != FORMAT || disk.version > VERSION {
        return Err(LoadError::Unusable(format!(
            "{} is format {:?} version {}, not one this mspform reads",
            path.display(),
            disk.format,
            disk.version
        )));
    }
    Ok(disk.snapshot)
}

/// Reads a whole store into a snapshot (the caller makes it consistent: under
/// the lock, or inside one transaction).
pub fn take(store: &dyn StateStore, lineage: &str, serial: u64) -> StateResult<Snapshot> {
    Ok(Snapshot {
        lineage: lineage.to_string(),
        serial,
        owned: store.owned()?,
        protected: store.protections()?,
        journal: store.journal()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoCredentials;
    impl LiveStore for NoCredentials {
        fn get(&self, _: &str, _: &str) -> StateResult<Option<String>> {
            Ok(None)
        }
        fn set(&self, _: &str, _: &str, _: &str) -> StateResult<()> {
            Ok(())
        }
        fn all(&self) -> StateResult<Vec<(String, String, String)>> {
            Ok(Vec::new())
        }
        fn last_drift(&self) -> StateResult<Option<DriftMemory>> {
            Ok(None)
        }
        fn set_last_drift(&self, _: &DriftMemory) -> StateResult<()> {
            Ok(())
        }
    }

    #[test]
    fn a_published_snapshot_reads_back_and_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let mut snap = Snapshot {
            lineage: "l1".into(),
            serial: 7,
            ..Snapshot::default()
        };
        snap.owned.insert(
            "customer.a".into(),
            OwnedRecord {
                provider: "ac".into(),
                vendor_id: Some("g1".into()),
                parent_id: None,
                since: 1,
                origin: "created".into(),
                facts: BTreeMap::new(),
            },
        );
        publish(dir.path(), &snap).unwrap();
        assert_eq!(
            files::mode_of(&dir.path().join(FILE_NAME)),
            Some(files::FILE_MODE)
        );
        snap.protected.insert(
            "customer.a".into(),
            Protection {
                provider: "ac".into(),
                since: 2,
                declared_at: None,
            },
        );
        publish(dir.path(), &snap).unwrap();
        let back = load(dir.path()).unwrap();
        assert_eq!(back, snap);
        let store = SnapshotStore::new(back, Box::new(NoCredentials));
        assert_eq!(store.owned().unwrap().len(), 1);
        assert_eq!(store.protections().unwrap().len(), 1);
        let err = store.remove_owned("customer.a").unwrap_err().to_string();
        assert!(err.contains("read-only"), "{err}");
        let err = store.remove_protection("customer.a").unwrap_err();
        assert!(matches!(err, StateError::ReadOnly { .. }), "{err}");
        std::fs::write(dir.path().join(FILE_NAME), b"{").unwrap();
        assert!(matches!(load(dir.path()), Err(LoadError::Unusable(_))));
    }
}
