//! The one path by which a vendor's steps touch state: vendor ids learned as
//! creates succeed, write contexts for the transport's journal, recording
//! ownership (which settles the address's journal entries), updating facts,
//! and forgetting. Every write is flushed by the store before it returns.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use super::http::{OpenEntries, WriteCtx};
use super::{ProviderError, Stop};
use crate::address::Address;
use crate::state::{JournalStatus, OwnedRecord, StateStore, now_unix};

/// State as one provider's apply sees it.
pub struct Ledger {
    provider: String,
    store: Arc<dyn StateStore>,
    stop: Stop,
    /// This provider's unsettled journal entries, read once.
    open: Arc<OpenEntries>,
    /// Address → vendor id: from the refresh, growing as creates succeed.
    ids: Mutex<BTreeMap<Address, String>>,
}

impl Ledger {
    pub fn new(
        provider: &str,
        store: Arc<dyn StateStore>,
        ids: BTreeMap<Address, String>,
        stop: Stop,
    ) -> Ledger {
        let open = Arc::new(OpenEntries::default());
        match store.journal() {
            Ok(entries) => {
                for (id, e) in entries {
                    if e.provider == provider
                        && matches!(e.status, JournalStatus::Pending | JournalStatus::Succeeded)
                    {
                        open.add(&e.address, id, &e.action);
                    }
                }
            }
            // The engine read the journal just before; a failure here shows on the next write.
            Err(e) => tracing::warn!(provider, error = %e, "cannot read the journal"),
        }
        Ledger {
            provider: provider.to_string(),
            store,
            stop,
            open,
            ids: Mutex::new(ids),
        }
    }

    /// Ctrl-C: a step waiting on the vendor (an activity, a move, provisioning)
    /// ends its wait early when this is set; the journal lets the next run resume.
    pub fn stop(&self) -> &Stop {
        &self.stop
    }

    pub fn provider(&self) -> &str {
        &self.provider
    }

    pub fn store(&self) -> &Arc<dyn StateStore> {
        &self.store
    }

    fn ids(&self) -> MutexGuard<'_, BTreeMap<Address, String>> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The vendor id of an address, or an error naming it.
    pub fn id(&self, address: &Address) -> Result<String, ProviderError> {
        self.try_id(address).ok_or_else(|| ProviderError::Other {
            provider: self.provider.clone(),
            message: format!("no vendor id known for {address}"),
        })
    }

    pub fn try_id(&self, address: &Address) -> Option<String> {
        self.ids().get(address).cloned()
    }

    /// Remembers the vendor id of an address for the rest of the run.
    pub fn set_id(&self, address: &Address, id: &str) {
        self.ids().insert(address.clone(), id.to_string());
    }

    /// Forgets the vendor id of an address for the rest of the run (deleted).
    pub fn drop_id(&self, address: &Address) -> Option<String> {
        self.ids().remove(address)
    }

    /// Every known id, for steps that look across addresses.
    pub fn known_ids(&self) -> BTreeMap<Address, String> {
        self.ids().clone()
    }

    /// The journal context of a write about `address`.
    pub fn write(&self, address: &Address, action: &str, natural_key: Option<&str>) -> WriteCtx {
        WriteCtx {
            store: self.store.clone(),
            address: address.to_string(),
            action: action.to_string(),
            natural_key: natural_key.map(str::to_string),
            open: Some(self.open.clone()),
        }
    }

    /// The journal context of one write about several objects at once (a batch:
    /// a device move, a licence assignment), named by `what` in the journal.
    pub fn write_batch(&self, what: &str, action: &str) -> WriteCtx {
        WriteCtx {
            store: self.store.clone(),
            address: what.to_string(),
            action: action.to_string(),
            natural_key: None,
            open: Some(self.open.clone()),
        }
    }

    /// Records ownership (keeping `since` when the record names the same
    /// object), remembers the id, and settles the address's journal entries.
    pub fn own(
        &self,
        address: &Address,
        vendor_id: Option<&str>,
        parent_id: Option<&str>,
        origin: &str,
        facts: BTreeMap<String, Value>,
    ) -> Result<(), ProviderError> {
        let key = address.to_string();
        let since = self
            .store
            .get_owned(&key)?
            .filter(|r| r.vendor_id.as_deref() == vendor_id && vendor_id.is_some())
            .map_or_else(now_unix, |r| r.since);
        self.store.put_owned(
            &key,
            &OwnedRecord {
                provider: self.provider.clone(),
                vendor_id: vendor_id.map(str::to_string),
                parent_id: parent_id.map(str::to_string),
                since,
                origin: origin.to_string(),
                facts,
            },
        )?;
        if let Some(id) = vendor_id {
            self.set_id(address, id);
        }
        self.settle(address, "object recorded as owned")
    }

    /// Changes an owned record (creating it with `fresh` when missing).
    pub fn update(
        &self,
        address: &Address,
        fresh: impl FnOnce() -> OwnedRecord,
        change: impl FnOnce(&mut OwnedRecord),
    ) -> Result<(), ProviderError> {
        let key = address.to_string();
        let mut record = self.store.get_owned(&key)?.unwrap_or_else(fresh);
        change(&mut record);
        self.store.put_owned(&key, &record)?;
        Ok(())
    }

    /// [`Ledger::update`] of several addresses, each with what its record
    /// needs (`T`), written as one commit point of the state: one flush for
    /// the devices a vendor call touched, not one each.
    pub fn update_all<T>(
        &self,
        items: impl IntoIterator<Item = (Address, T)>,
        fresh: impl Fn(&T) -> OwnedRecord,
        change: impl Fn(&T, &mut OwnedRecord),
    ) -> Result<(), ProviderError> {
        let mut records = Vec::new();
        for (address, item) in items {
            let key = address.to_string();
            let mut record = match self.store.get_owned(&key)? {
                Some(r) => r,
                None => fresh(&item),
            };
            change(&item, &mut record);
            records.push((key, record));
        }
        self.store.put_owned_all(&records)?;
        Ok(())
    }

    /// The owned record of an address, if any.
    pub fn record(&self, address: &Address) -> Result<Option<OwnedRecord>, ProviderError> {
        Ok(self.store.get_owned(&address.to_string())?)
    }

    /// A fresh record of this provider (for [`Ledger::update`]).
    pub fn fresh(
        &self,
        vendor_id: Option<&str>,
        parent_id: Option<&str>,
        origin: &str,
    ) -> OwnedRecord {
        OwnedRecord {
            provider: self.provider.clone(),
            vendor_id: vendor_id.map(str::to_string),
            parent_id: parent_id.map(str::to_string),
            since: now_unix(),
            origin: origin.to_string(),
            facts: BTreeMap::new(),
        }
    }

    /// Drops the ownership record (the object is gone, or no longer ours).
    pub fn forget(&self, address: &Address) -> Result<(), ProviderError> {
        self.store.remove_owned(&address.to_string())?;
        self.drop_id(address);
        Ok(())
    }

    /// Ids of this provider's journal entries about `address` whose outcome was
    /// not settled (pending, or succeeded but not yet recorded), optionally of
    /// one action; oldest first. From the index, not the journal.
    pub fn open(&self, address: &Address, action: Option<&str>) -> Vec<u64> {
        self.open.of(&address.to_string(), action)
    }

    /// An earlier run journaled a create of `address` that was never recorded.
    pub fn open_create(&self, address: &Address) -> Result<bool, ProviderError> {
        Ok(!self.open(address, Some("create")).is_empty())
    }

    /// Settles every open journal entry of `address`.
    pub fn settle(&self, address: &Address, why: &str) -> Result<(), ProviderError> {
        self.close(address, None, JournalStatus::Settled, why)
    }

    /// Ends the open journal entries of `address` (of one action, or all).
    pub fn close(
        &self,
        address: &Address,
        action: Option<&str>,
        status: JournalStatus,
        detail: &str,
    ) -> Result<(), ProviderError> {
        let key = address.to_string();
        for id in self.open(address, action) {
            self.store
                .journal_finish(id, status, Some(detail.to_string()))?;
            self.open.remove(&key, id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemStore;

    fn ledger() -> Ledger {
        Ledger::new(
            "p",
            Arc::new(MemStore::default()),
            BTreeMap::new(),
            Stop::new(),
        )
    }

    #[test]
    fn owning_records_the_id_and_settles_the_journal() {
        let l = ledger();
        let a = Address::customer("acme");
        let ctx = l.write(&a, "create", Some("Acme"));
        let id = ctx.begin("p", "POST /x").unwrap();
        assert!(l.open_create(&a).unwrap());
        l.own(&a, Some("c1"), None, "created", BTreeMap::new())
            .unwrap();
        assert_eq!(l.id(&a).unwrap(), "c1");
        assert!(!l.open_create(&a).unwrap());
        let entry = l.store().journal().unwrap();
        assert_eq!(entry[0].0, id);
        assert_eq!(entry[0].1.status, JournalStatus::Settled);
        assert_eq!(
            l.record(&a).unwrap().unwrap().vendor_id.as_deref(),
            Some("c1")
        );
    }

    #[test]
    fn owning_the_same_object_again_keeps_since() {
        let l = ledger();
        let a = Address::customer("acme");
        l.update(&a, || l.fresh(Some("c1"), None, "created"), |r| r.since = 5)
            .unwrap();
        l.own(&a, Some("c1"), None, "created", BTreeMap::new())
            .unwrap();
        assert_eq!(l.record(&a).unwrap().unwrap().since, 5);
        l.own(&a, Some("c2"), None, "created", BTreeMap::new())
            .unwrap();
        assert_ne!(l.record(&a).unwrap().unwrap().since, 5);
    }

    /// A store that counts how often the whole journal is read, and the
    /// commits of owned records.
    struct Counting {
        inner: MemStore,
        reads: std::sync::atomic::AtomicUsize,
        commits: std::sync::atomic::AtomicUsize,
    }

    impl StateStore for Counting {
        fn owned(&self) -> crate::state::StateResult<BTreeMap<String, OwnedRecord>> {
            self.inner.owned()
        }
        fn get_owned(&self, a: &str) -> crate::state::StateResult<Option<OwnedRecord>> {
            self.inner.get_owned(a)
        }
        fn put_owned(&self, a: &str, r: &OwnedRecord) -> crate::state::StateResult<()> {
            self.commits
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.inner.put_owned(a, r)
        }
        fn put_owned_all(
            &self,
            records: &[(String, OwnedRecord)],
        ) -> crate::state::StateResult<()> {
            self.commits
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.inner.put_owned_all(records)
        }
        fn remove_owned(&self, a: &str) -> crate::state::StateResult<bool> {
            self.inner.remove_owned(a)
        }
        fn journal_begin(&self, e: &crate::state::JournalEntry) -> crate::state::StateResult<u64> {
            self.inner.journal_begin(e)
        }
        fn journal_finish(
            &self,
            id: u64,
            status: JournalStatus,
            detail: Option<String>,
        ) -> crate::state::StateResult<()> {
            self.inner.journal_finish(id, status, detail)
        }
        fn journal(&self) -> crate::state::StateResult<Vec<(u64, crate::state::JournalEntry)>> {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.inner.journal()
        }
        fn journal_prune(&self, keep: usize) -> crate::state::StateResult<usize> {
            self.inner.journal_prune(keep)
        }
        fn credential(&self, p: &str, n: &str) -> crate::state::StateResult<Option<String>> {
            self.inner.credential(p, n)
        }
        fn set_credential(&self, p: &str, n: &str, v: &str) -> crate::state::StateResult<()> {
            self.inner.set_credential(p, n, v)
        }
        fn all_credentials(&self) -> crate::state::StateResult<Vec<(String, String, String)>> {
            self.inner.all_credentials()
        }
        fn protections(
            &self,
        ) -> crate::state::StateResult<BTreeMap<String, crate::state::Protection>> {
            self.inner.protections()
        }
        fn set_protection(
            &self,
            a: &str,
            p: &crate::state::Protection,
        ) -> crate::state::StateResult<()> {
            self.inner.set_protection(a, p)
        }
        fn remove_protection(&self, a: &str) -> crate::state::StateResult<bool> {
            self.inner.remove_protection(a)
        }
        fn last_drift(&self) -> crate::state::StateResult<Option<crate::state::DriftMemory>> {
            self.inner.last_drift()
        }
        fn set_last_drift(&self, m: &crate::state::DriftMemory) -> crate::state::StateResult<()> {
            self.inner.set_last_drift(m)
        }
        fn reset(&self) -> crate::state::StateResult<()> {
            self.inner.reset()
        }
    }

    #[test]
    fn recording_objects_never_reads_the_whole_journal_again() {
        let store = Arc::new(Counting {
            inner: MemStore::default(),
            reads: Default::default(),
            commits: Default::default(),
        });
        let l = Ledger::new("p", store.clone(), BTreeMap::new(), Stop::new());
        for n in 0..200 {
            let a = Address::customer(format!("c{n}"));
            let ctx = l.write(&a, "create", None);
            let id = ctx.begin("p", "POST /x").unwrap();
            ctx.finish(id, Ok(200)).unwrap();
            assert!(l.open_create(&a).unwrap());
            l.own(&a, Some("id"), None, "created", BTreeMap::new())
                .unwrap();
            assert!(!l.open_create(&a).unwrap());
        }
        assert_eq!(
            store.reads.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "read once, when the ledger was made"
        );
        // The index and the journal agree: nothing is left unsettled.
        assert!(
            store
                .inner
                .journal()
                .unwrap()
                .iter()
                .all(|(_, e)| e.status == JournalStatus::Settled)
        );
    }

    /// The records one vendor call changes (the devices of a move) are one
    /// commit of the state, not one each; a record that exists is changed in
    /// place (its `since` kept), a missing one made fresh.
    #[test]
    fn updating_many_records_is_one_commit() {
        let store = Arc::new(Counting {
            inner: MemStore::default(),
            reads: Default::default(),
            commits: Default::default(),
        });
        let l = Ledger::new("p", store.clone(), BTreeMap::new(), Stop::new());
        let old = Address::device("SN0");
        l.update(
            &old,
            || l.fresh(Some("SN0"), None, "adopted"),
            |r| r.since = 5,
        )
        .unwrap();
        let commits = || store.commits.load(std::sync::atomic::Ordering::SeqCst);
        let before = commits();
        let serials: Vec<String> = (0..10).map(|n| format!("SN{n}")).collect();
        l.update_all(
            serials.iter().map(|s| (Address::device(s), s.as_str())),
            |s| l.fresh(Some(s), None, "created"),
            |_, r| r.parent_id = Some("c1".into()),
        )
        .unwrap();
        assert_eq!(commits() - before, 1, "one commit for ten records");
        let owned = store.owned().unwrap();
        assert_eq!(owned.len(), 10);
        assert!(owned.values().all(|r| r.parent_id.as_deref() == Some("c1")));
        assert_eq!(owned["device.SN0"].since, 5);
        assert_eq!(owned["device.SN0"].origin, "adopted");
        assert_eq!(owned["device.SN7"].vendor_id.as_deref(), Some("SN7"));
    }

    #[test]
    fn a_failed_write_is_not_open_and_an_earlier_runs_entry_is() {
        let store: Arc<dyn StateStore> = Arc::new(MemStore::default());
        let a = Address::customer("acme");
        let earlier = Ledger::new("p", store.clone(), BTreeMap::new(), Stop::new());
        let ctx = earlier.write(&a, "create", None);
        ctx.begin("p", "POST /x").unwrap();
        let l = Ledger::new("p", store.clone(), BTreeMap::new(), Stop::new());
        assert!(
            l.open_create(&a).unwrap(),
            "an earlier run's pending create"
        );
        let other = Ledger::new("q", store, BTreeMap::new(), Stop::new());
        assert!(!other.open_create(&a).unwrap(), "another provider's is not");
        let b = Address::customer("b");
        let ctx = l.write(&b, "create", None);
        let id = ctx.begin("p", "POST /x").unwrap();
        let refused = ProviderError::Http {
            provider: "p".into(),
            call: "POST /x".into(),
            status: 400,
            body: String::new(),
        };
        ctx.finish(id, Err(&refused)).unwrap();
        assert!(!l.open_create(&b).unwrap(), "a refused create is settled");
    }

    #[test]
    fn forgetting_drops_record_and_id() {
        let l = ledger();
        let a = Address::device("S1");
        l.own(&a, Some("S1"), Some("c1"), "created", BTreeMap::new())
            .unwrap();
        l.forget(&a).unwrap();
        assert!(l.record(&a).unwrap().is_none());
        assert!(l.try_id(&a).is_none());
    }
}
