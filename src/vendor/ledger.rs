//! The one path by which a vendor's steps touch state: vendor ids learned as
//! creates succeed, write contexts for the transport's journal, recording
//! ownership (which settles the address's journal entries), updating facts,
//! and forgetting. Every write is flushed by the store before it returns.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use super::http::WriteCtx;
use super::{ProviderError, Stop};
use crate::address::Address;
use crate::state::{JournalEntry, JournalStatus, OwnedRecord, StateStore, now_unix};

/// State as one provider's apply sees it.
pub struct Ledger {
    provider: String,
    store: Arc<dyn StateStore>,
    stop: Stop,
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
        Ledger {
            provider: provider.to_string(),
            store,
            stop,
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

    /// Journal entries of this provider about `address` whose outcome was not
    /// settled (pending, or succeeded but not yet recorded), optionally of one action.
    pub fn open(
        &self,
        address: &Address,
        action: Option<&str>,
    ) -> Result<Vec<(u64, JournalEntry)>, ProviderError> {
        let key = address.to_string();
        Ok(self
            .store
            .journal()?
            .into_iter()
            .filter(|(_, e)| {
                e.provider == self.provider
                    && e.address == key
                    && action.is_none_or(|a| e.action == a)
                    && matches!(e.status, JournalStatus::Pending | JournalStatus::Succeeded)
            })
            .collect())
    }

    /// An earlier run journaled a create of `address` that was never recorded.
    pub fn open_create(&self, address: &Address) -> Result<bool, ProviderError> {
        Ok(!self.open(address, Some("create"))?.is_empty())
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
        for (id, _) in self.open(address, action)? {
            self.store
                .journal_finish(id, status, Some(detail.to_string()))?;
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
