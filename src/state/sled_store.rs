//! The sled-backed [`StateStore`]. sled buffers writes in user space and loses
//! them on kill -9 unless flushed, so every mutating method flushes before it
//! returns: each one is a commit point.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{
    JournalEntry, JournalStatus, OwnedRecord, StateError, StateResult, StateStore, now_unix,
};

pub struct SledStore {
    db: sled::Db,
    owned: sled::Tree,
    journal: sled::Tree,
    credentials: sled::Tree,
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

impl SledStore {
    /// Opens (or creates) the database in `dir/db`. The caller holds the state lock.
    pub fn open(dir: &Path) -> StateResult<SledStore> {
        let db = sled::Config::new()
            .path(dir.join("db"))
            .open()
            .map_err(|e| StateError::Open {
                dir: dir.display().to_string(),
                message: e.to_string(),
            })?;
        let tree = |name: &str| db.open_tree(name).map_err(io("open tree"));
        Ok(SledStore {
            owned: tree("owned")?,
            journal: tree("journal")?,
            credentials: tree("credentials")?,
            db,
        })
    }

    fn flush(&self) -> StateResult<()> {
        self.db.flush().map_err(io("flush"))?;
        Ok(())
    }
}

impl StateStore for SledStore {
    fn owned(&self) -> StateResult<BTreeMap<String, OwnedRecord>> {
        let mut out = BTreeMap::new();
        for item in self.owned.iter() {
            let (k, v) = item.map_err(io("read owned"))?;
            out.insert(String::from_utf8_lossy(&k).into_owned(), decode(&k, &v)?);
        }
        Ok(out)
    }

    fn get_owned(&self, address: &str) -> StateResult<Option<OwnedRecord>> {
        match self.owned.get(address).map_err(io("read owned"))? {
            Some(v) => Ok(Some(decode(address.as_bytes(), &v)?)),
            None => Ok(None),
        }
    }

    fn put_owned(&self, address: &str, record: &OwnedRecord) -> StateResult<()> {
        self.owned
            .insert(address, encode(record))
            .map_err(io("write owned"))?;
        self.flush()
    }

    fn remove_owned(&self, address: &str) -> StateResult<bool> {
        let existed = self
            .owned
            .remove(address)
            .map_err(io("remove owned"))?
            .is_some();
        self.flush()?;
        Ok(existed)
    }

    fn journal_begin(&self, entry: &JournalEntry) -> StateResult<u64> {
        let id = self.db.generate_id().map_err(io("journal id"))?;
        self.journal
            .insert(id.to_be_bytes(), encode(entry))
            .map_err(io("write journal"))?;
        self.flush()?;
        Ok(id)
    }

    fn journal_finish(
        &self,
        id: u64,
        status: JournalStatus,
        detail: Option<String>,
    ) -> StateResult<()> {
        let key = id.to_be_bytes();
        if let Some(v) = self.journal.get(key).map_err(io("read journal"))? {
            let mut entry: JournalEntry = decode(&key, &v)?;
            entry.status = status;
            entry.detail = detail;
            entry.finished_at = Some(now_unix());
            self.journal
                .insert(key, encode(&entry))
                .map_err(io("write journal"))?;
            self.flush()?;
        }
        Ok(())
    }

    fn journal(&self) -> StateResult<Vec<(u64, JournalEntry)>> {
        let mut out = Vec::new();
        for item in self.journal.iter() {
            let (k, v) = item.map_err(io("read journal"))?;
            let mut id = [0u8; 8];
            if k.len() == 8 {
                id.copy_from_slice(&k);
            }
            out.push((u64::from_be_bytes(id), decode(&k, &v)?));
        }
        Ok(out)
    }

    fn journal_prune(&self, keep: usize) -> StateResult<usize> {
        let entries = self.journal()?;
        let ids = super::prunable(&entries, keep);
        for id in &ids {
            self.journal
                .remove(id.to_be_bytes())
                .map_err(io("prune journal"))?;
        }
        self.flush()?;
        Ok(ids.len())
    }

    fn credential(&self, provider: &str, name: &str) -> StateResult<Option<String>> {
        let key = format!("{provider}/{name}");
        Ok(self
            .credentials
            .get(&key)
            .map_err(io("read credential"))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    fn set_credential(&self, provider: &str, name: &str, value: &str) -> StateResult<()> {
        let key = format!("{provider}/{name}");
        self.credentials
            .insert(key, value.as_bytes())
            .map_err(io("write credential"))?;
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sled_store_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        super::super::conformance::run(&store);
    }

    #[test]
    fn sled_store_keeps_records_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            let rec = OwnedRecord {
                provider: "aruba".into(),
                vendor_id: Some("abc".into()),
                parent_id: None,
                since: 5,
                origin: "created".into(),
                facts: BTreeMap::new(),
            };
            store.put_owned("customer.x", &rec).unwrap();
        }
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(
            store
                .get_owned("customer.x")
                .unwrap()
                .unwrap()
                .vendor_id
                .as_deref(),
            Some("abc")
        );
    }
}
