//! Local state: what the portals cannot tell us. Ownership and vendor IDs, the
//! write journal, rotated refresh tokens, the protections of objects declared
//! `protect = true` (kept when their file is removed), and what the last drift
//! run saw (for `drift --new-only`). [`StateStore`] is the small trait every
//! store implements; [`SledStore`] is the real one (a private directory under a
//! lock), [`MemStore`] serves tests; [`export`] is the versioned JSON form of a
//! store (backups, `state export|import`).
//! Must not know about HTTP, TOML or vendors.

mod credentials;
mod drift;
pub mod export;
mod files;
pub mod location;
mod lock;
mod mem;
pub mod open;
pub mod pg;
#[cfg(any(test, feature = "sim"))]
pub mod pg_cluster;
mod recovery;
mod seal;
mod sled_store;
pub mod snapshot;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use export::StateExport;
/// Writes a file atomically with mode 0600 (exports hold vendor ids and names).
pub use files::write_private as write_private_file;
pub use location::StateLocation;
pub use lock::{LockInfo, StateLock, ci_job_url};
pub use mem::MemStore;
pub use pg::PgStore;
pub use sled_store::SledStore;
pub use snapshot::{LiveStore, Snapshot, SnapshotStore};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Another process holds the state's lock (exit code 3).
    #[error("state in {location} is locked by {holder}; {hint}")]
    Locked {
        location: String,
        holder: Box<LockInfo>,
        hint: String,
    },
    /// Another process holds the lock, but who is not clear (exit code 3).
    #[error("state in {location} is locked by another process, but {reason}")]
    LockUnclear { location: String, reason: String },
    /// The lock this run held is gone (its connection closed, or it was forced).
    #[error(
        "the lock on the state in {location} was lost ({reason}); this run writes nothing more to the state and sends nothing further to any vendor. Re-run: the journal settles what was in flight"
    )]
    LockLost { location: String, reason: String },
    /// Another run committed since this one read the state.
    #[error(
        "the state in {location} was written by another run since this one read it (this run read serial {read}, it is now {now}); this run writes nothing more and sends nothing further to any vendor. Re-run to plan from the current state"
    )]
    Moved {
        location: String,
        read: u64,
        now: u64,
    },
    /// A snapshot opened for reading (plan, drift, `state list`) was asked to write.
    #[error(
        "the state was opened read-only (a snapshot for plan, drift or a listing) and cannot {operation}"
    )]
    ReadOnly { operation: &'static str },
    #[error("cannot open state in {dir}: {message}")]
    Open { dir: String, message: String },
    /// The state exists but cannot be used; raised while opening, so before any
    /// vendor call. The message says how to recover.
    #[error("{}", recovery::message(dir, problem, recovery))]
    Unreadable {
        dir: PathBuf,
        problem: String,
        recovery: String,
    },
    #[error("state store failure ({operation}): {message}; nothing further was sent to any vendor")]
    Io {
        operation: &'static str,
        message: String,
    },
    #[error("state record {key} is corrupt: {message}")]
    Corrupt { key: String, message: String },
}

pub type StateResult<T> = Result<T, StateError>;

impl StateError {
    /// A state directory that cannot be used, with the recovery steps for it.
    pub fn unreadable(dir: &std::path::Path, problem: impl Into<String>) -> StateError {
        StateError::Unreadable {
            dir: dir.to_path_buf(),
            problem: problem.into(),
            recovery: recovery::steps(dir),
        }
    }
}

/// An object mspform created or adopted, with the vendor IDs it learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnedRecord {
    pub provider: String,
    /// The vendor's id (customer_id, site_id, serial).
    pub vendor_id: Option<String>,
    /// The id of the parent object at the vendor (site → customer id).
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Unix seconds when it was recorded.
    pub since: u64,
    /// How it came to be owned: "created" or "adopted".
    pub origin: String,
    /// Per-kind facts the vendor cannot read back (e.g. a device's site association).
    #[serde(default)]
    pub facts: BTreeMap<String, serde_json::Value>,
}

/// An object declared `protect = true`, recorded by the apply that saw it: its
/// delete or replacement is refused, and removing its file does not delete it,
/// until `mspform state unprotect ADDRESS` lifts the protection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protection {
    pub provider: String,
    /// Unix seconds when it was recorded.
    pub since: u64,
    /// Where the files declared it (`file:line:column`) when it was recorded.
    #[serde(default)]
    pub declared_at: Option<String>,
}

/// What the last drift run saw, for `drift --new-only`: per provider, the
/// fingerprint of every drifted field (or object). Not a record of the state:
/// drift writes it without the state's lock, beside a running apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftMemory {
    /// Unix seconds of the run.
    pub at: u64,
    /// Provider key → fingerprints (see `crate::plan::drift`).
    pub seen: BTreeMap<String, BTreeSet<String>>,
    /// Rolling checks (`drift --full-every`): provider key → customer key →
    /// when the customer was last fully read (Unix seconds).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checked: BTreeMap<String, BTreeMap<String, u64>>,
    /// Provider key → API calls the last run's MSP-wide reads cost (its refresh
    /// without the per-customer reads): the base a `--max-calls` budget
    /// subtracts before sizing the next slice.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub list_calls: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalStatus {
    /// Written before the call was sent; not yet known to have succeeded.
    Pending,
    Succeeded,
    Failed,
    /// Found pending by a later run and settled by reading live state.
    Settled,
}

/// One vendor write, journaled and flushed before it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub provider: String,
    pub address: String,
    pub action: String,
    /// "METHOD /path" of the call, without query secrets.
    pub call: String,
    /// The natural key a retried create is found by (e.g. the customer name).
    #[serde(default)]
    pub natural_key: Option<String>,
    pub status: JournalStatus,
    pub started_at: u64,
    #[serde(default)]
    pub finished_at: Option<u64>,
    #[serde(default)]
    pub detail: Option<String>,
}

/// The state store contract. Every write that matters is durable when the method
/// returns (implementations flush), so a kill -9 right after loses nothing.
pub trait StateStore: Send + Sync {
    fn owned(&self) -> StateResult<BTreeMap<String, OwnedRecord>>;
    fn get_owned(&self, address: &str) -> StateResult<Option<OwnedRecord>>;
    fn put_owned(&self, address: &str, record: &OwnedRecord) -> StateResult<()>;
    /// Writes several owned records as one commit point (the devices one
    /// vendor call moved: one flush, not one each). The default writes them
    /// one by one.
    fn put_owned_all(&self, records: &[(String, OwnedRecord)]) -> StateResult<()> {
        for (address, record) in records {
            self.put_owned(address, record)?;
        }
        Ok(())
    }
    fn remove_owned(&self, address: &str) -> StateResult<bool>;
    /// Records a write before it is sent; returns its journal id.
    fn journal_begin(&self, entry: &JournalEntry) -> StateResult<u64>;
    fn journal_finish(
        &self,
        id: u64,
        status: JournalStatus,
        detail: Option<String>,
    ) -> StateResult<()>;
    /// All journal entries, oldest first.
    fn journal(&self) -> StateResult<Vec<(u64, JournalEntry)>>;
    /// Removes finished entries (never pending ones), keeping the newest `keep`.
    fn journal_prune(&self, keep: usize) -> StateResult<usize>;
    fn credential(&self, provider: &str, name: &str) -> StateResult<Option<String>>;
    /// Replaces a credential; the value it replaces is gone from storage when
    /// this returns (a rotated refresh token must not linger).
    fn set_credential(&self, provider: &str, name: &str, value: &str) -> StateResult<()>;
    /// Every saved credential as (provider, name, value), for `state migrate`
    /// only: never printed, exported or logged.
    fn all_credentials(&self) -> StateResult<Vec<(String, String, String)>>;
    /// Protections by address (see [`Protection`]).
    fn protections(&self) -> StateResult<BTreeMap<String, Protection>>;
    /// Records (or replaces) the protection of `address`; a commit point.
    fn set_protection(&self, address: &str, protection: &Protection) -> StateResult<()>;
    /// Lifts the protection of `address`; false when it had none.
    fn remove_protection(&self, address: &str) -> StateResult<bool>;
    /// What the last drift run saw (`None` before the first one).
    fn last_drift(&self) -> StateResult<Option<DriftMemory>>;
    /// Replaces what the last drift run saw. Like a credential, it is written
    /// live, also through a read-only snapshot (drift takes no lock).
    fn set_last_drift(&self, memory: &DriftMemory) -> StateResult<()>;
    /// Removes every owned record, protection and journal entry (credentials
    /// and the last drift run stay).
    fn reset(&self) -> StateResult<()>;
    /// Writes a backup of the records where this store keeps it, before an
    /// apply's first vendor write; returns where. Stores without a place for one
    /// write nothing.
    fn write_backup(&self) -> StateResult<Option<PathBuf>> {
        Ok(None)
    }
}

impl<T: StateStore + ?Sized> StateStore for std::sync::Arc<T> {
    fn owned(&self) -> StateResult<BTreeMap<String, OwnedRecord>> {
        (**self).owned()
    }
    fn get_owned(&self, address: &str) -> StateResult<Option<OwnedRecord>> {
        (**self).get_owned(address)
    }
    fn put_owned(&self, address: &str, record: &OwnedRecord) -> StateResult<()> {
        (**self).put_owned(address, record)
    }
    fn put_owned_all(&self, records: &[(String, OwnedRecord)]) -> StateResult<()> {
        (**self).put_owned_all(records)
    }
    fn remove_owned(&self, address: &str) -> StateResult<bool> {
        (**self).remove_owned(address)
    }
    fn journal_begin(&self, entry: &JournalEntry) -> StateResult<u64> {
        (**self).journal_begin(entry)
    }
    fn journal_finish(
        &self,
        id: u64,
        status: JournalStatus,
        detail: Option<String>,
    ) -> StateResult<()> {
        (**self).journal_finish(id, status, detail)
    }
    fn journal(&self) -> StateResult<Vec<(u64, JournalEntry)>> {
        (**self).journal()
    }
    fn journal_prune(&self, keep: usize) -> StateResult<usize> {
        (**self).journal_prune(keep)
    }
    fn credential(&self, provider: &str, name: &str) -> StateResult<Option<String>> {
        (**self).credential(provider, name)
    }
    fn set_credential(&self, provider: &str, name: &str, value: &str) -> StateResult<()> {
        (**self).set_credential(provider, name, value)
    }
    fn all_credentials(&self) -> StateResult<Vec<(String, String, String)>> {
        (**self).all_credentials()
    }
    fn protections(&self) -> StateResult<BTreeMap<String, Protection>> {
        (**self).protections()
    }
    fn set_protection(&self, address: &str, protection: &Protection) -> StateResult<()> {
        (**self).set_protection(address, protection)
    }
    fn remove_protection(&self, address: &str) -> StateResult<bool> {
        (**self).remove_protection(address)
    }
    fn last_drift(&self) -> StateResult<Option<DriftMemory>> {
        (**self).last_drift()
    }
    fn set_last_drift(&self, memory: &DriftMemory) -> StateResult<()> {
        (**self).set_last_drift(memory)
    }
    fn reset(&self) -> StateResult<()> {
        (**self).reset()
    }
    fn write_backup(&self) -> StateResult<Option<PathBuf>> {
        (**self).write_backup()
    }
}

pub use crate::clock::now_unix;

/// Ids of finished journal entries beyond the newest `keep` finished ones.
pub fn prunable(entries: &[(u64, JournalEntry)], keep: usize) -> Vec<u64> {
    let finished: Vec<u64> = entries
        .iter()
        .filter(|(_, e)| e.status != JournalStatus::Pending)
        .map(|(id, _)| *id)
        .collect();
    let excess = finished.len().saturating_sub(keep);
    finished.into_iter().take(excess).collect()
}

/// Pending journal entries: writes that may or may not have reached the vendor.
pub fn pending(store: &dyn StateStore) -> StateResult<Vec<(u64, JournalEntry)>> {
    Ok(store
        .journal()?
        .into_iter()
        .filter(|(_, e)| e.status == JournalStatus::Pending)
        .collect())
}

#[cfg(test)]
pub(crate) mod conformance {
    //! One suite every [`StateStore`] must pass.
    use super::*;

    fn record(provider: &str, id: &str) -> OwnedRecord {
        OwnedRecord {
            provider: provider.into(),
            vendor_id: Some(id.into()),
            parent_id: None,
            since: 1,
            origin: "created".into(),
            facts: BTreeMap::new(),
        }
    }

    pub fn run(store: &dyn StateStore) {
        assert!(store.owned().unwrap().is_empty());
        store
            .put_owned("customer.a", &record("aruba", "c1"))
            .unwrap();
        store.put_owned("site.a/x", &record("aruba", "7")).unwrap();
        assert_eq!(store.owned().unwrap().len(), 2);
        assert_eq!(
            store
                .get_owned("customer.a")
                .unwrap()
                .unwrap()
                .vendor_id
                .as_deref(),
            Some("c1")
        );
        assert!(store.remove_owned("customer.a").unwrap());
        assert!(!store.remove_owned("customer.a").unwrap());
        assert!(store.get_owned("customer.a").unwrap().is_none());

        // Several records in one commit: new ones added, an existing one
        // replaced (facts and all), nothing else touched.
        let mut moved = record("aruba", "SN1");
        moved.parent_id = Some("c9".into());
        moved.facts.insert("site".into(), serde_json::json!("hq"));
        store
            .put_owned_all(&[
                ("device.SN1".into(), moved.clone()),
                ("device.SN2".into(), record("aruba", "SN2")),
                ("site.a/x".into(), record("aruba", "8")),
            ])
            .unwrap();
        store.put_owned_all(&[]).unwrap();
        let owned = store.owned().unwrap();
        assert_eq!(owned.len(), 3, "{owned:?}");
        assert_eq!(owned["device.SN1"], moved);
        assert_eq!(owned["site.a/x"].vendor_id.as_deref(), Some("8"));
        for a in ["device.SN1", "device.SN2"] {
            assert!(store.remove_owned(a).unwrap());
        }

        let entry = JournalEntry {
            provider: "aruba".into(),
            address: "customer.a".into(),
            action: "create".into(),
            call: "POST /msp_api/v2/customers".into(),
            natural_key: Some("A".into()),
            status: JournalStatus::Pending,
            started_at: 1,
            finished_at: None,
            detail: None,
        };
        let first = store.journal_begin(&entry).unwrap();
        let second = store.journal_begin(&entry).unwrap();
        assert!(second > first, "journal ids increase");
        assert_eq!(pending(store).unwrap().len(), 2);
        store
            .journal_finish(first, JournalStatus::Succeeded, None)
            .unwrap();
        let left = pending(store).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].0, second);
        let all = store.journal().unwrap();
        assert_eq!(all[0].1.status, JournalStatus::Succeeded);
        assert!(all[0].1.finished_at.is_some());

        let third = store.journal_begin(&entry).unwrap();
        store
            .journal_finish(third, JournalStatus::Failed, Some("x".into()))
            .unwrap();
        assert_eq!(
            store.journal_prune(1).unwrap(),
            1,
            "one of two finished entries goes"
        );
        let left: Vec<u64> = store.journal().unwrap().iter().map(|(id, _)| *id).collect();
        assert_eq!(left, vec![second, third], "the pending entry always stays");

        assert_eq!(store.credential("aruba", "refresh_token").unwrap(), None);
        store
            .set_credential("aruba", "refresh_token", "r2")
            .unwrap();
        assert_eq!(
            store
                .credential("aruba", "refresh_token")
                .unwrap()
                .as_deref(),
            Some("r2")
        );
        store
            .set_credential("aruba", "refresh_token", "r3")
            .unwrap();
        store
            .set_credential("other", "refresh_token", "o1")
            .unwrap();
        assert_eq!(
            store
                .credential("aruba", "refresh_token")
                .unwrap()
                .as_deref(),
            Some("r3")
        );
        let mut all = store.all_credentials().unwrap();
        all.sort();
        let want = |p: &str, v: &str| (p.to_string(), "refresh_token".to_string(), v.to_string());
        assert_eq!(all, vec![want("aruba", "r3"), want("other", "o1")]);

        assert!(store.protections().unwrap().is_empty());
        let guard = Protection {
            provider: "aruba".into(),
            since: 5,
            declared_at: Some("a.toml:3:1".into()),
        };
        store.set_protection("customer.b", &guard).unwrap();
        store
            .set_protection(
                "partner.p",
                &Protection {
                    declared_at: None,
                    ..guard.clone()
                },
            )
            .unwrap();
        let kept = store.protections().unwrap();
        assert_eq!(kept.len(), 2);
        assert_eq!(kept["customer.b"], guard);
        assert_eq!(kept["partner.p"].declared_at, None);
        assert!(store.remove_protection("partner.p").unwrap());
        assert!(!store.remove_protection("partner.p").unwrap());
        assert_eq!(
            store.protections().unwrap().keys().collect::<Vec<_>>(),
            ["customer.b"],
            "a protection outlives nothing but its removal"
        );

        assert_eq!(store.last_drift().unwrap(), None);
        let mut drift = DriftMemory {
            at: 7,
            ..DriftMemory::default()
        };
        drift
            .seen
            .entry("aruba".into())
            .or_default()
            .insert("update customer.b description".into());
        store.set_last_drift(&drift).unwrap();
        assert_eq!(store.last_drift().unwrap().as_ref(), Some(&drift));
        drift.at = 8;
        drift.seen.clear();
        store.set_last_drift(&drift).unwrap();
        assert_eq!(
            store.last_drift().unwrap().as_ref(),
            Some(&drift),
            "the last run replaces the one before"
        );

        store
            .put_owned("customer.b", &record("aruba", "c2"))
            .unwrap();
        store.reset().unwrap();
        assert!(store.owned().unwrap().is_empty());
        assert!(store.journal().unwrap().is_empty());
        assert!(
            store.protections().unwrap().is_empty(),
            "reset drops protections"
        );
        assert_eq!(
            store.last_drift().unwrap().as_ref(),
            Some(&drift),
            "reset keeps the last drift run"
        );
        assert_eq!(
            store
                .credential("other", "refresh_token")
                .unwrap()
                .as_deref(),
            Some("o1"),
            "reset keeps credentials"
        );
        let after = store.journal_begin(&entry).unwrap();
        assert_eq!(store.journal().unwrap().len(), 1);
        assert!(after > third, "ids keep increasing after a reset");
    }

    /// What `a` holds, exported and imported into the empty `b`, is what `b` holds.
    pub fn export_import(a: &dyn StateStore, b: &dyn StateStore) {
        let mut facts = BTreeMap::new();
        facts.insert("site".to_string(), serde_json::json!("7"));
        let mut rec = record("aruba", "c1");
        rec.facts = facts;
        a.put_owned("customer.a", &rec).unwrap();
        a.put_owned("site.a/x", &record("aruba", "7")).unwrap();
        let entry = JournalEntry {
            provider: "aruba".into(),
            address: "customer.a".into(),
            action: "create".into(),
            call: "POST /msp_api/v2/customers".into(),
            natural_key: Some("A".into()),
            status: JournalStatus::Pending,
            started_at: 1,
            finished_at: None,
            detail: None,
        };
        let done = a.journal_begin(&entry).unwrap();
        a.journal_finish(done, JournalStatus::Succeeded, Some("ok".into()))
            .unwrap();
        a.journal_begin(&entry).unwrap();
        a.set_credential("aruba", "refresh_token", "secret-r")
            .unwrap();
        a.set_protection(
            "customer.a",
            &Protection {
                provider: "aruba".into(),
                since: 9,
                declared_at: Some("acme.toml:1:1".into()),
            },
        )
        .unwrap();
        let mut drift = DriftMemory {
            at: 11,
            ..DriftMemory::default()
        };
        drift
            .seen
            .entry("aruba".into())
            .or_default()
            .insert("update customer.a name".into());
        a.set_last_drift(&drift).unwrap();

        let exported = export::export(a).unwrap();
        let text = serde_json::to_string(&exported).unwrap();
        assert!(
            !text.contains("secret-r"),
            "an export carries no credential"
        );
        let parsed = export::parse(&text).unwrap();
        let summary = export::import(b, &parsed, false).unwrap();
        assert_eq!((summary.owned, summary.journal), (2, 2));
        assert_eq!(b.owned().unwrap(), a.owned().unwrap());
        assert_eq!(b.protections().unwrap(), a.protections().unwrap());
        assert_eq!(b.last_drift().unwrap(), Some(drift));
        let entries = |s: &dyn StateStore| -> Vec<JournalEntry> {
            s.journal().unwrap().into_iter().map(|(_, e)| e).collect()
        };
        assert_eq!(entries(b), entries(a), "same entries, same order");
        assert_eq!(
            pending(b).unwrap().len(),
            1,
            "the pending write stays pending"
        );

        let err = export::import(b, &parsed, false).unwrap_err().to_string();
        assert!(err.contains("--force"), "{err}");
        b.put_owned("customer.extra", &record("aruba", "x"))
            .unwrap();
        b.set_protection(
            "customer.extra",
            &Protection {
                provider: "aruba".into(),
                since: 1,
                declared_at: None,
            },
        )
        .unwrap();
        export::import(b, &parsed, true).unwrap();
        assert_eq!(b.owned().unwrap(), a.owned().unwrap(), "--force replaces");
        assert_eq!(
            b.protections().unwrap(),
            a.protections().unwrap(),
            "--force replaces the protections too"
        );
    }
}
