//! In-memory [`StateStore`] for tests: same contract, no durability.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{
    DriftMemory, JournalEntry, JournalStatus, OwnedRecord, Protection, StateResult, StateStore,
    now_unix,
};

#[derive(Default)]
pub struct MemStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    owned: BTreeMap<String, OwnedRecord>,
    journal: BTreeMap<u64, JournalEntry>,
    next: u64,
    credentials: BTreeMap<(String, String), String>,
    protected: BTreeMap<String, Protection>,
    last_drift: Option<DriftMemory>,
}

impl MemStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }
}

impl StateStore for MemStore {
    fn owned(&self) -> StateResult<BTreeMap<String, OwnedRecord>> {
        Ok(self.with(|i| i.owned.clone()))
    }
    fn get_owned(&self, address: &str) -> StateResult<Option<OwnedRecord>> {
        Ok(self.with(|i| i.owned.get(address).cloned()))
    }
    fn put_owned(&self, address: &str, record: &OwnedRecord) -> StateResult<()> {
        self.with(|i| i.owned.insert(address.to_string(), record.clone()));
        Ok(())
    }
    fn remove_owned(&self, address: &str) -> StateResult<bool> {
        Ok(self.with(|i| i.owned.remove(address).is_some()))
    }
    fn journal_begin(&self, entry: &JournalEntry) -> StateResult<u64> {
        Ok(self.with(|i| {
            i.next += 1;
            i.journal.insert(i.next, entry.clone());
            i.next
        }))
    }
    fn journal_finish(
        &self,
        id: u64,
        status: JournalStatus,
        detail: Option<String>,
    ) -> StateResult<()> {
        self.with(|i| {
            if let Some(e) = i.journal.get_mut(&id) {
                e.status = status;
                e.detail = detail;
                e.finished_at = Some(now_unix());
            }
        });
        Ok(())
    }
    fn journal(&self) -> StateResult<Vec<(u64, JournalEntry)>> {
        Ok(self.with(|i| i.journal.iter().map(|(k, v)| (*k, v.clone())).collect()))
    }
    fn journal_prune(&self, keep: usize) -> StateResult<usize> {
        let entries = self.journal()?;
        let ids = super::prunable(&entries, keep);
        self.with(|i| ids.iter().for_each(|id| drop(i.journal.remove(id))));
        Ok(ids.len())
    }
    fn credential(&self, provider: &str, name: &str) -> StateResult<Option<String>> {
        Ok(self.with(|i| {
            i.credentials
                .get(&(provider.to_string(), name.to_string()))
                .cloned()
        }))
    }
    fn set_credential(&self, provider: &str, name: &str, value: &str) -> StateResult<()> {
        self.with(|i| {
            i.credentials
                .insert((provider.to_string(), name.to_string()), value.to_string())
        });
        Ok(())
    }
    fn all_credentials(&self) -> StateResult<Vec<(String, String, String)>> {
        Ok(self.with(|i| {
            i.credentials
                .iter()
                .map(|((p, n), v)| (p.clone(), n.clone(), v.clone()))
                .collect()
        }))
    }
    fn protections(&self) -> StateResult<BTreeMap<String, Protection>> {
        Ok(self.with(|i| i.protected.clone()))
    }
    fn set_protection(&self, address: &str, protection: &Protection) -> StateResult<()> {
        self.with(|i| i.protected.insert(address.to_string(), protection.clone()));
        Ok(())
    }
    fn remove_protection(&self, address: &str) -> StateResult<bool> {
        Ok(self.with(|i| i.protected.remove(address).is_some()))
    }
    fn last_drift(&self) -> StateResult<Option<DriftMemory>> {
        Ok(self.with(|i| i.last_drift.clone()))
    }
    fn set_last_drift(&self, memory: &DriftMemory) -> StateResult<()> {
        self.with(|i| i.last_drift = Some(memory.clone()));
        Ok(())
    }
    fn reset(&self) -> StateResult<()> {
        self.with(|i| {
            i.owned.clear();
            i.journal.clear();
            i.protected.clear();
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn mem_store_passes_the_conformance_suite() {
        super::super::conformance::run(&super::MemStore::new());
    }
}
