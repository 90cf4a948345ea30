//! The sled-backed [`StateStore`]: a private state directory (0700, files 0600)
//! that the store owns together with its lock. sled buffers writes in user space
//! and loses them on kill -9 unless flushed, so every mutating method flushes
//! before it returns: each one is a commit point.
//!
//! Layout of the directory: `db/` (sled: owned records, protections, journal,
//! and `meta` with the lineage and commit serial), `seal.json` (see `seal`),
//! `credentials.json` (see `credentials`), `drift.json` (what the last drift
//! run saw, see `drift`), `backup.json` (written before each apply),
//! `snapshot.json` (the records as of a recent commit, for readers: see
//! `snapshot`; republished at most every [`PUBLISH_EVERY`] — a large state
//! less often, so that publishing takes a bounded share of a run — and
//! always on close, so that a commit costs the same at 10 records or 100,000),
//! and the lock files (see `lock`).
//!
//! Readers (plan, drift, listings) never take the lock: [`SledStore::read`]
//! serves them the published snapshot, so they run beside an apply.
//!
//! Opening checks everything before any vendor call: the sled files, the seal,
//! and every record decodes; a problem is [`StateError::Unreadable`] with the
//! recovery steps. Dropping the store flushes and closes sled, and only then
//! (field order) releases the lock, so the next process never finds sled's own
//! file lock still held.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::credentials::CredentialFile;
use super::snapshot::{self, LiveStore, LoadError, Snapshot, SnapshotStore};
use super::{
    DriftMemory, JournalEntry, JournalStatus, OwnedRecord, Protection, StateError, StateLock,
    StateResult, StateStore, drift, export, files, now_unix, recovery, seal,
};

/// The tree in which mspform before 0.1 kept credentials; moved out on open.
const LEGACY_CREDENTIALS: &str = "credentials";
/// How long to wait for sled's own file lock once ours is held: only a process
/// that is exiting (the kernel drops our lock before sled's) can still hold it.
const SLED_LOCK_WAIT: Duration = Duration::from_secs(3);
/// How long a reader waits for a writer that holds the lock of a state without
/// a snapshot (one from before snapshots) to publish one as it opens.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(5);

/// The sled part: trees only, no lock, no other files.
struct Sled {
    db: sled::Db,
    owned: sled::Tree,
    protected: sled::Tree,
    journal: sled::Tree,
    meta: sled::Tree,
}

fn io(operation: &'static str) -> impl Fn(sled::Error) -> StateError {
    move |e| StateError::Io {
        operation,
        message: e.to_string(),
    }
}

fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> StateResult<T> {
    serde_json::from_slice(bytes).map_err(|e| StateError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        message: e.to_string(),
    })
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own plain structs to JSON cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn be_u64(bytes: &[u8]) -> u64 {
    let mut n = [0u8; 8];
    if bytes.len() == 8 {
        n.copy_from_slice(bytes);
    }
    u64::from_be_bytes(n)
}

/// What is wrong, for [`StateError::Unreadable`], without sled's backtrace noise.
fn sled_problem(db: &Path, e: &sled::Error) -> String {
    match e {
        sled::Error::Corruption { at, .. } => format!(
            "the sled database {} is damaged: its data does not check out{}",
            db.display(),
            at.map(|a| format!(" (at {a:?})")).unwrap_or_default()
        ),
        sled::Error::Io(e) => format!(
            "a file of the sled database {} cannot be read: {e}",
            db.display()
        ),
        other => format!(
            "the sled database {} cannot be opened: {other}",
            db.display()
        ),
    }
}

/// How mspform opens sled: without sled's background flusher. Every commit
/// point flushes (and fsyncs) itself, and the flusher thread also cleans
/// segments every 500 ms at a cost that grows with the database (idle: 0.3 ms
/// of CPU a second at 100 records, 2.3 ms at 15,000), which made each call of
/// a long apply cost more the larger the portfolio. Segments are still
/// cleaned on the write path: after 45,000 updates of 15,000 records the
/// files take 19 MB without the flusher and 18 MB with it.
pub(super) fn sled_config(path: &Path) -> sled::Config {
    sled::Config::new().path(path).flush_every_ms(None)
}

impl Sled {
    /// Opens `path`; waits (bounded) while an exiting process still holds sled's lock.
    fn open(dir: &Path, path: &Path) -> StateResult<Sled> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        let db = loop {
            match sled_config(path).open() {
                Ok(db) => break db,
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                    if start.elapsed() >= SLED_LOCK_WAIT {
                        return Err(StateError::Open {
                            dir: dir.display().to_string(),
                            message: format!(
                                "the sled database {} is held open by another process although the state lock is free: an older mspform (it locked lock.json instead of lock), or a process stuck while exiting. Find it with `fuser {}`",
                                path.display(),
                                path.join("db").display()
                            ),
                        });
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(StateError::unreadable(dir, sled_problem(path, &e))),
            }
        };
        let tree = |name: &str| {
            db.open_tree(name)
                .map_err(|e| StateError::unreadable(dir, sled_problem(path, &e)))
        };
        Ok(Sled {
            owned: tree("owned")?,
            protected: tree("protected")?,
            journal: tree("journal")?,
            meta: tree("meta")?,
            db,
        })
    }

    fn lineage(&self) -> StateResult<Option<String>> {
        Ok(self
            .meta
            .get("lineage")
            .map_err(io("read meta"))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// The last commit's serial. Journal keys count too: before serials existed
    /// they came from sled's id generator, and new ids must sort after them.
    fn serial(&self) -> StateResult<u64> {
        let meta = self
            .meta
            .get("serial")
            .map_err(io("read meta"))?
            .map(|v| be_u64(&v))
            .unwrap_or(0);
        let last = self
            .journal
            .last()
            .map_err(io("read journal"))?
            .map(|(k, _)| be_u64(&k))
            .unwrap_or(0);
        Ok(meta.max(last))
    }

    /// Bumps the commit serial; the caller writes and flushes after.
    fn bump(&self) -> StateResult<u64> {
        let next = self
            .meta
            .update_and_fetch("serial", |old| {
                Some((old.map(be_u64).unwrap_or(0) + 1).to_be_bytes().to_vec())
            })
            .map_err(io("write meta"))?;
        Ok(next.map(|v| be_u64(&v)).unwrap_or(0))
    }

    fn flush(&self) -> StateResult<()> {
        self.db.flush().map_err(io("flush"))?;
        Ok(())
    }

    /// Reads and decodes every record, so damage shows now, before any vendor call.
    fn check_records(&self, dir: &Path, path: &Path) -> StateResult<()> {
        for (name, tree) in [
            ("owned", &self.owned),
            ("protection", &self.protected),
            ("journal", &self.journal),
        ] {
            for item in tree.iter() {
                let (k, v) =
                    item.map_err(|e| StateError::unreadable(dir, sled_problem(path, &e)))?;
                let decoded = match name {
                    "owned" => decode::<OwnedRecord>(&k, &v).map(drop),
                    "protection" => decode::<Protection>(&k, &v).map(drop),
                    _ => decode::<JournalEntry>(&k, &v).map(drop),
                };
                if let Err(e) = decoded {
                    let key = if name == "journal" {
                        format!("#{}", be_u64(&k))
                    } else {
                        String::from_utf8_lossy(&k).into_owned()
                    };
                    return Err(StateError::unreadable(
                        dir,
                        format!(
                            "the {name} record {key} in the sled database {} does not decode ({e})",
                            path.display()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Credentials an older mspform kept in sled, as (provider, name, value).
    fn legacy_credentials(&self) -> StateResult<Option<Vec<(String, String, String)>>> {
        let present = self
            .db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == LEGACY_CREDENTIALS.as_bytes());
        if !present {
            return Ok(None);
        }
        let tree = self
            .db
            .open_tree(LEGACY_CREDENTIALS)
            .map_err(io("open tree"))?;
        let mut out = Vec::new();
        for item in tree.iter() {
            let (k, v) = item.map_err(io("read credential"))?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let (provider, name) = key.split_once('/').unwrap_or((key.as_str(), ""));
            out.push((
                provider.to_string(),
                name.to_string(),
                String::from_utf8_lossy(&v).into_owned(),
            ));
        }
        Ok(Some(out))
    }
}

/// Finishes or undoes a rebuild that a crash interrupted: `db.old` is always a
/// complete database, and `db.new` is complete only once renamed to `db`.
fn settle_rebuild(dir: &Path) -> std::io::Result<()> {
    let (db, old, new) = (dir.join("db"), dir.join("db.old"), dir.join("db.new"));
    if !db.exists() && old.exists() {
        std::fs::rename(&old, &db)?;
        files::sync_dir(dir);
    }
    if new.exists() {
        std::fs::remove_dir_all(&new)?;
    }
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

/// Moves credentials an older mspform kept in sled to `credentials.json`, then
/// copies every record into a new database and swaps it in, so the tokens (and
/// the superseded ones sled's log still held) are in no file afterwards.
fn move_credentials_out(
    dir: &Path,
    old: Sled,
    legacy: Vec<(String, String, String)>,
    credentials: &CredentialFile,
) -> StateResult<Sled> {
    let fs = |e: std::io::Error| StateError::Io {
        operation: "move credentials out of sled",
        message: e.to_string(),
    };
    // The file is newer than anything sled held, so its values win.
    credentials.set_all(&legacy, true).map_err(fs)?;
    let new_path = dir.join("db.new");
    if new_path.exists() {
        std::fs::remove_dir_all(&new_path).map_err(fs)?;
    }
    {
        let new = Sled::open(dir, &new_path)?;
        for (from, to) in [
            (&old.owned, &new.owned),
            (&old.protected, &new.protected),
            (&old.journal, &new.journal),
            (&old.meta, &new.meta),
        ] {
            for item in from.iter() {
                let (k, v) = item.map_err(io("copy records"))?;
                to.insert(k, v).map_err(io("copy records"))?;
            }
        }
        new.flush()?;
    }
    drop(old);
    std::fs::rename(dir.join("db"), dir.join("db.old")).map_err(fs)?;
    std::fs::rename(&new_path, dir.join("db")).map_err(fs)?;
    files::sync_dir(dir);
    std::fs::remove_dir_all(dir.join("db.old")).map_err(fs)?;
    tracing::info!(dir = %dir.display(), "moved saved credentials out of the sled database into credentials.json");
    Sled::open(dir, &dir.join("db"))
}

pub struct SledStore {
    sled: Sled,
    dir: PathBuf,
    credentials: CredentialFile,
    lineage: String,
    /// The serial `seal.json` holds; the seal is rewritten on close when it moved.
    sealed_serial: u64,
    /// The serial of the last published `snapshot.json`.
    published: AtomicU64,
    /// When `snapshot.json` was last published, and how long that took.
    published_at: std::sync::Mutex<Option<(Instant, Duration)>>,
    /// Declared last: fields drop in declaration order, so sled is closed (and
    /// its own file lock released) before this lock is.
    _lock: StateLock,
}

/// How stale `snapshot.json` may be while a run writes (see [`SledStore::commit`]).
pub const PUBLISH_EVERY: Duration = Duration::from_secs(1);
/// A large state is republished less often: publishing takes at most about
/// 1/1000 of a run's time (a 10 ms publish every 10 s), whatever the size.
/// (At 1/200 it was still a third of an apply's CPU per call at 1,000
/// customers: a rate-bound apply spends ~143 ms of wall per Aruba call.)
const PUBLISH_SHARE: u32 = 1000;

impl SledStore {
    /// Opens (or creates) the state in `dir` under its lock, for a library user
    /// or a test; commands use [`SledStore::open_for`] to name their operation.
    pub fn open(dir: &Path) -> StateResult<SledStore> {
        Self::open_for(dir, "open")
    }

    /// Takes the lock of `dir` (failing at once, naming the holder, when another
    /// process has it), opens and checks the state; `operation` is what a second
    /// process is told the holder is doing.
    pub fn open_for(dir: &Path, operation: &str) -> StateResult<SledStore> {
        Self::open_waiting(dir, operation, Duration::ZERO)
    }

    /// [`SledStore::open_for`], waiting up to `lock_timeout` for the lock.
    pub fn open_waiting(
        dir: &Path,
        operation: &str,
        lock_timeout: Duration,
    ) -> StateResult<SledStore> {
        let exposed = if dir.is_dir() {
            files::mode_of(dir).filter(|m| files::is_exposed(*m))
        } else {
            None
        };
        let lock = StateLock::acquire_waiting(dir, operation, lock_timeout)?;
        if let Some(mode) = exposed {
            let fixed = match files::make_private(dir) {
                Ok(_) => "mspform made it private (directory 0700, files 0600)".to_string(),
                Err(e) => format!(
                    "making it private failed ({e}); run `chmod -R go= {}`",
                    dir.display()
                ),
            };
            tracing::warn!(
                "the state directory {} could be read by group or others (mode {mode:04o}); it holds ownership records and rotated refresh tokens. {fixed}",
                dir.display()
            );
        }
        let fs = |operation: &'static str| {
            move |e: std::io::Error| StateError::Io {
                operation,
                message: e.to_string(),
            }
        };
        settle_rebuild(dir).map_err(fs("finish an interrupted rebuild"))?;
        let db_path = dir.join("db");
        let mut sled = Sled::open(dir, &db_path)?;
        let credentials =
            CredentialFile::load(dir).map_err(|problem| StateError::unreadable(dir, problem))?;
        if let Some(legacy) = sled.legacy_credentials()? {
            sled = move_credentials_out(dir, sled, legacy, &credentials)?;
        }
        let sealed = seal::load(dir).map_err(|problem| StateError::unreadable(dir, problem))?;
        let lineage = sled.lineage()?;
        let serial = sled.serial()?;
        if let Some(s) = &sealed {
            seal::check(s, lineage.as_deref(), serial, &db_path)
                .map_err(|problem| StateError::unreadable(dir, problem))?;
        }
        sled.check_records(dir, &db_path)?;
        let lineage = match lineage {
            Some(l) => l,
            None => {
                let l = seal::new_lineage();
                sled.meta
                    .insert("lineage", l.as_bytes())
                    .map_err(io("write meta"))?;
                l
            }
        };
        // A state from before serials: record the one derived from the journal.
        let stored = sled.meta.get("serial").map_err(io("read meta"))?;
        if stored.as_deref() != Some(&serial.to_be_bytes()[..]) {
            sled.meta
                .insert("serial", &serial.to_be_bytes())
                .map_err(io("write meta"))?;
        }
        sled.flush()?;
        if sealed.as_ref().map(|s| s.serial) != Some(serial) {
            seal::write(dir, &lineage, serial).map_err(fs("write seal.json"))?;
        }
        let store = SledStore {
            sled,
            dir: dir.to_path_buf(),
            credentials,
            lineage,
            sealed_serial: serial,
            published: AtomicU64::new(u64::MAX),
            published_at: std::sync::Mutex::new(None),
            _lock: lock,
        };
        store.publish()?;
        files::make_private(dir).map_err(fs("make the state directory private"))?;
        Ok(store)
    }

    /// A consistent read-only snapshot of the state in `dir`, without taking
    /// its lock: what the last commit published. A state without a snapshot
    /// (written before snapshots existed) is opened under the lock for a moment
    /// to publish one; if a writer holds it, that writer publishes one as it
    /// opens, which is waited for (bounded). A state that does not exist yet
    /// is an empty one (nothing is created).
    pub fn read(dir: &Path, operation: &str) -> StateResult<SnapshotStore> {
        let credentials = || -> StateResult<Box<dyn LiveStore>> {
            Ok(Box::new(SledLive {
                credentials: CredentialFile::load(dir)
                    .map_err(|p| StateError::unreadable(dir, p))?,
                dir: dir.to_path_buf(),
            }))
        };
        if !dir.join("db").exists() && !dir.join(snapshot::FILE_NAME).exists() {
            return Ok(SnapshotStore::new(Snapshot::default(), credentials()?));
        }
        let why = match snapshot::load(dir) {
            Ok(s) => return Ok(SnapshotStore::new(s, credentials()?)),
            Err(LoadError::Missing) => None,
            Err(LoadError::Unusable(why)) => Some(why),
        };
        let locked = match SledStore::open_for(dir, operation) {
            Ok(store) => {
                let snap = store.snapshot()?;
                drop(store);
                return Ok(SnapshotStore::new(snap, credentials()?));
            }
            Err(e @ (StateError::Locked { .. } | StateError::LockUnclear { .. })) => e,
            Err(e) => return Err(e),
        };
        let start = Instant::now();
        while start.elapsed() < SNAPSHOT_WAIT {
            std::thread::sleep(Duration::from_millis(50));
            if let Ok(s) = snapshot::load(dir) {
                return Ok(SnapshotStore::new(s, credentials()?));
            }
        }
        Err(match (locked, why) {
            (
                StateError::Locked {
                    location,
                    holder,
                    hint,
                },
                Some(why),
            ) => StateError::Locked {
                location,
                holder,
                hint: format!(
                    "its snapshot for readers cannot be used ({why}), so this read needs the lock; {hint}"
                ),
            },
            (e, _) => e,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every record as of now (the caller holds the lock, so it is one commit).
    fn snapshot(&self) -> StateResult<Snapshot> {
        snapshot::take(self, &self.lineage, self.sled.serial()?)
    }

    /// Republishes `snapshot.json` when the serial moved since the last time.
    fn publish(&self) -> StateResult<()> {
        let serial = self.sled.serial()?;
        if self.published.load(Ordering::SeqCst) == serial {
            return Ok(());
        }
        let started = Instant::now();
        let snap = snapshot::take(self, &self.lineage, serial)?;
        snapshot::publish(&self.dir, &snap).map_err(|e| StateError::Io {
            operation: "publish snapshot.json for readers",
            message: format!("{}: {e}", self.dir.join(snapshot::FILE_NAME).display()),
        })?;
        self.published.store(serial, Ordering::SeqCst);
        if let Ok(mut at) = self.published_at.lock() {
            *at = Some((Instant::now(), started.elapsed()));
        }
        Ok(())
    }

    /// A commit point: durable in sled first, then visible to readers — at
    /// once unless a snapshot was published less than [`PUBLISH_EVERY`] ago,
    /// or less than [`PUBLISH_SHARE`] times as long ago as that publish took
    /// (the snapshot is a full copy: publishing it on every journal write made
    /// each write cost as much as the whole state, and publishing it at a fixed
    /// interval made a call's share of the cost grow with the state). Closing
    /// the store publishes the last commit.
    fn commit(&self) -> StateResult<()> {
        self.sled.flush()?;
        let recent = self
            .published_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .is_some_and(|(at, took)| at.elapsed() < PUBLISH_EVERY.max(took * PUBLISH_SHARE));
        if recent {
            return Ok(());
        }
        self.publish()
    }
}

/// The live side of a snapshot of a state directory: `credentials.json` and
/// `drift.json`, read and written without the state's lock.
struct SledLive {
    credentials: CredentialFile,
    dir: PathBuf,
}

impl LiveStore for SledLive {
    fn get(&self, provider: &str, name: &str) -> StateResult<Option<String>> {
        Ok(self.credentials.get(provider, name))
    }
    fn set(&self, provider: &str, name: &str, value: &str) -> StateResult<()> {
        self.credentials
            .set(provider, name, value)
            .map_err(|e| StateError::Io {
                operation: "write credentials.json",
                message: format!("{}: {e}", self.credentials.path().display()),
            })
    }
    fn all(&self) -> StateResult<Vec<(String, String, String)>> {
        Ok(self.credentials.all())
    }
    fn last_drift(&self) -> StateResult<Option<DriftMemory>> {
        drift::load(&self.dir)
    }
    fn set_last_drift(&self, memory: &DriftMemory) -> StateResult<()> {
        drift::save(&self.dir, memory)
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        if let Err(e) = self.sled.flush() {
            tracing::warn!(error = %e, "could not flush the state on close");
            return;
        }
        if let Err(e) = self.publish() {
            tracing::warn!(error = %e, "could not publish the last snapshot on close");
        }
        match self.sled.serial() {
            Ok(serial) if serial != self.sealed_serial => {
                if let Err(e) = seal::write(&self.dir, &self.lineage, serial) {
                    tracing::warn!(error = %e, "could not write seal.json");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not read the commit serial on close"),
        }
        // sled may have written new files (snapshots) with the umask's mode.
        if let Err(e) = files::make_private(&self.dir) {
            tracing::warn!(error = %e, "could not make the state directory private");
        }
    }
}

impl StateStore for SledStore {
    fn owned(&self) -> StateResult<BTreeMap<String, OwnedRecord>> {
        let mut out = BTreeMap::new();
        for item in self.sled.owned.iter() {
            let (k, v) = item.map_err(io("read owned"))?;
            out.insert(String::from_utf8_lossy(&k).into_owned(), decode(&k, &v)?);
        }
        Ok(out)
    }

    fn get_owned(&self, address: &str) -> StateResult<Option<OwnedRecord>> {
        match self.sled.owned.get(address).map_err(io("read owned"))? {
            Some(v) => Ok(Some(decode(address.as_bytes(), &v)?)),
            None => Ok(None),
        }
    }

    fn put_owned(&self, address: &str, record: &OwnedRecord) -> StateResult<()> {
        self.sled
            .owned
            .insert(address, encode(record))
            .map_err(io("write owned"))?;
        self.sled.bump()?;
        self.commit()
    }

    /// One sled batch (applied atomically) and one flush.
    fn put_owned_all(&self, records: &[(String, OwnedRecord)]) -> StateResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for (address, record) in records {
            batch.insert(address.as_bytes(), encode(record));
        }
        self.sled
            .owned
            .apply_batch(batch)
            .map_err(io("write owned"))?;
        self.sled.bump()?;
        self.commit()
    }

    fn remove_owned(&self, address: &str) -> StateResult<bool> {
        let existed = self
            .sled
            .owned
            .remove(address)
            .map_err(io("remove owned"))?
            .is_some();
        self.sled.bump()?;
        self.commit()?;
        Ok(existed)
    }

    fn journal_begin(&self, entry: &JournalEntry) -> StateResult<u64> {
        let id = self.sled.bump()?;
        self.sled
            .journal
            .insert(id.to_be_bytes(), encode(entry))
            .map_err(io("write journal"))?;
        self.commit()?;
        Ok(id)
    }

    fn journal_finish(
        &self,
        id: u64,
        status: JournalStatus,
        detail: Option<String>,
    ) -> StateResult<()> {
        let key = id.to_be_bytes();
        if let Some(v) = self.sled.journal.get(key).map_err(io("read journal"))? {
            let mut entry: JournalEntry = decode(&key, &v)?;
            entry.status = status;
            entry.detail = detail;
            entry.finished_at = Some(now_unix());
            self.sled
                .journal
                .insert(key, encode(&entry))
                .map_err(io("write journal"))?;
            self.sled.bump()?;
            self.commit()?;
        }
        Ok(())
    }

    fn journal(&self) -> StateResult<Vec<(u64, JournalEntry)>> {
        let mut out = Vec::new();
        for item in self.sled.journal.iter() {
            let (k, v) = item.map_err(io("read journal"))?;
            out.push((be_u64(&k), decode(&k, &v)?));
        }
        Ok(out)
    }

    fn journal_prune(&self, keep: usize) -> StateResult<usize> {
        let entries = self.journal()?;
        let ids = super::prunable(&entries, keep);
        for id in &ids {
            self.sled
                .journal
                .remove(id.to_be_bytes())
                .map_err(io("prune journal"))?;
        }
        self.sled.bump()?;
        self.commit()?;
        Ok(ids.len())
    }

    fn credential(&self, provider: &str, name: &str) -> StateResult<Option<String>> {
        Ok(self.credentials.get(provider, name))
    }

    fn set_credential(&self, provider: &str, name: &str, value: &str) -> StateResult<()> {
        self.credentials
            .set(provider, name, value)
            .map_err(|e| StateError::Io {
                operation: "write credentials.json",
                message: format!("{}: {e}", self.credentials.path().display()),
            })
    }

    fn all_credentials(&self) -> StateResult<Vec<(String, String, String)>> {
        Ok(self.credentials.all())
    }

    fn protections(&self) -> StateResult<BTreeMap<String, Protection>> {
        let mut out = BTreeMap::new();
        for item in self.sled.protected.iter() {
            let (k, v) = item.map_err(io("read protections"))?;
            out.insert(String::from_utf8_lossy(&k).into_owned(), decode(&k, &v)?);
        }
        Ok(out)
    }

    fn set_protection(&self, address: &str, protection: &Protection) -> StateResult<()> {
        self.sled
            .protected
            .insert(address, encode(protection))
            .map_err(io("write protection"))?;
        self.sled.bump()?;
        self.commit()
    }

    fn remove_protection(&self, address: &str) -> StateResult<bool> {
        let existed = self
            .sled
            .protected
            .remove(address)
            .map_err(io("remove protection"))?
            .is_some();
        self.sled.bump()?;
        self.commit()?;
        Ok(existed)
    }

    fn last_drift(&self) -> StateResult<Option<DriftMemory>> {
        drift::load(&self.dir)
    }

    fn set_last_drift(&self, memory: &DriftMemory) -> StateResult<()> {
        drift::save(&self.dir, memory)
    }

    fn reset(&self) -> StateResult<()> {
        self.sled.owned.clear().map_err(io("reset owned"))?;
        self.sled
            .protected
            .clear()
            .map_err(io("reset protections"))?;
        self.sled.journal.clear().map_err(io("reset journal"))?;
        self.sled.bump()?;
        self.commit()
    }

    fn write_backup(&self) -> StateResult<Option<PathBuf>> {
        let path = self.dir.join(recovery::BACKUP);
        let body = serde_json::to_vec_pretty(&export::export(self)?).unwrap_or_default();
        files::write_private(&path, &body).map_err(|e| StateError::Io {
            operation: "write the backup",
            message: format!("{}: {e}", path.display()),
        })?;
        Ok(Some(path))
    }
}

#[cfg(test)]
#[path = "sled_store_tests.rs"]
mod tests;
