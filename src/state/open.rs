//! Opening a state wherever it lives ([`StateLocation`]): as a writer under
//! the lock (apply, `state rm|import|migrate`), or as a reader of a consistent
//! snapshot that takes no lock (plan, drift, import, `state list|show|journal|export`).
//! Also `state force-unlock` and the copy behind `state migrate`.

use std::sync::Arc;
use std::time::Duration;

use super::export::{self, ImportError};
use super::location::StateLocation;
use super::{PgStore, SledStore, StateError, StateResult, StateStore, lock};

/// Opens the state under its lock, waiting up to `lock_timeout` for it.
pub fn writer(
    location: &StateLocation,
    operation: &str,
    lock_timeout: Duration,
) -> StateResult<Arc<dyn StateStore>> {
    Ok(match location {
        StateLocation::Dir(dir) => Arc::new(SledStore::open_waiting(dir, operation, lock_timeout)?),
        StateLocation::Postgres(t) => Arc::new(PgStore::open(t, operation, lock_timeout)?),
    })
}

/// A consistent read-only snapshot of the state, without its lock.
pub fn reader(location: &StateLocation, operation: &str) -> StateResult<Arc<dyn StateStore>> {
    Ok(match location {
        StateLocation::Dir(dir) => Arc::new(SledStore::read(dir, operation)?),
        StateLocation::Postgres(t) => Arc::new(PgStore::read(t, operation)?),
    })
}

/// `state force-unlock ID`; returns what was done, in words.
pub fn force_unlock(location: &StateLocation, id: &str) -> StateResult<String> {
    match location {
        StateLocation::Postgres(t) => PgStore::force_unlock(t, id),
        StateLocation::Dir(dir) => {
            let last = lock::last_holder(dir);
            let named = last.as_ref().filter(|h| h.id == id);
            let shown = dir.display().to_string();
            match (lock::is_held(dir)?, named) {
                (true, Some(h)) => Err(StateError::Open {
                    dir: shown,
                    message: format!(
                        "lock {id} is held by the live process {h}. A local state's lock is the operating system's: it cannot be taken from a live process, and it goes away when that process exits. Stop it (kill {}) if it is hung",
                        h.pid
                    ),
                }),
                (true, None) => Err(StateError::Open {
                    dir: shown,
                    message: format!(
                        "no holder of its lock has ID {id}; nothing was changed{}",
                        last.map(|h| format!(" (held by {h})")).unwrap_or_default()
                    ),
                }),
                (false, _) => Ok(format!(
                    "The state in {shown} is not locked: a local state's lock is the operating system's, released when its holder exits{}. Nothing to do.",
                    last.map(|h| format!(" (the last holder was {h})"))
                        .unwrap_or_default()
                )),
            }
        }
    }
}

/// What `state migrate` copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub owned: usize,
    pub protected: usize,
    pub journal: usize,
    pub credentials: usize,
}

/// Copies every record, protection, journal entry, credential and the last
/// drift run of `from` into `to`
/// (empty, unless `force`), then checks that both hold the same.
pub fn copy(
    from: &dyn StateStore,
    to: &dyn StateStore,
    force: bool,
) -> Result<Copied, ImportError> {
    let exported = export::export(from)?;
    let summary = export::import(to, &exported, force)?;
    let credentials = from.all_credentials()?;
    for (provider, name, value) in &credentials {
        to.set_credential(provider, name, value)?;
    }
    let mut differences = Vec::new();
    if to.owned()? != from.owned()? {
        differences.push("the owned records");
    }
    if to.protections()? != from.protections()? {
        differences.push("the protections");
    }
    if to.last_drift()? != from.last_drift()? {
        differences.push("the last drift run");
    }
    let entries = |s: &dyn StateStore| -> StateResult<Vec<super::JournalEntry>> {
        Ok(s.journal()?.into_iter().map(|(_, e)| e).collect())
    };
    if entries(to)? != entries(from)? {
        differences.push("the journal");
    }
    let mut a = from.all_credentials()?;
    let mut b = to.all_credentials()?;
    a.sort();
    b.sort();
    if a != b {
        differences.push("the credentials");
    }
    if !differences.is_empty() {
        return Err(ImportError::Differs(differences.join(", ")));
    }
    Ok(Copied {
        owned: summary.owned,
        protected: summary.protected,
        journal: summary.journal,
        credentials: credentials.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_moves_records_journal_and_credentials_and_checks_them() {
        let (a, b) = (super::super::MemStore::new(), super::super::MemStore::new());
        a.set_credential("aruba", "refresh_token", "r1").unwrap();
        super::super::conformance::export_import(&a, &super::super::MemStore::new());
        let copied = copy(&a, &b, false).unwrap();
        assert_eq!(
            copied,
            Copied {
                owned: 2,
                protected: 1,
                journal: 2,
                credentials: 1
            }
        );
        assert_eq!(
            b.credential("aruba", "refresh_token").unwrap().as_deref(),
            Some("secret-r")
        );
        let again = copy(&a, &b, false).unwrap_err().to_string();
        assert!(again.contains("--force"), "{again}");
    }
}
