//! The versioned JSON form of a state: every owned record (with its facts),
//! every protection, every journal entry (oldest first), and what the last
//! drift run saw. It is the backup written before each apply
//! and what `mspform state export|import` read and write.
//!
//! Credentials are left out on purpose: a backup is taken before an apply, and
//! the apply may rotate a vendor refresh token, so a backup holding it would
//! keep a superseded token on disk. They stay in `credentials.json` alone.
//! Pure data plus the [`StateStore`] calls: no files here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    DriftMemory, JournalEntry, OwnedRecord, Protection, StateResult, StateStore, now_unix,
};

/// Names the kind of file, so a plan or some other JSON is refused by name.
pub const FORMAT: &str = "mspform-state";
/// Bumped when the shape changes; a newer file is refused, never half-read.
/// Version 2 added `protected` and `last_drift` (a version 1 file has neither).
pub const VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateExport {
    pub format: String,
    pub version: u32,
    /// Unix seconds.
    pub written_at: u64,
    /// The mspform that wrote it.
    pub written_by: String,
    pub owned: BTreeMap<String, OwnedRecord>,
    /// Protected objects by address (version 2).
    #[serde(default)]
    pub protected: BTreeMap<String, Protection>,
    /// Oldest first; ids are not kept (the importing store numbers them anew, in order).
    pub journal: Vec<JournalEntry>,
    /// What the last drift run saw (version 2; absent before the first one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_drift: Option<DriftMemory>,
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub owned: usize,
    pub journal: usize,
    pub protected: usize,
}

/// Why a file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    State(#[from] super::StateError),
    #[error("it is not a state export written by `mspform state export` or an apply's backup: {0}")]
    NotAnExport(String),
    #[error(
        "it has state format version {0}; this mspform reads version {VERSION} and older. Use the mspform that wrote it, or a newer one"
    )]
    Newer(u32),
    #[error("after the copy, the two states differ in {0}; check both with `mspform state export`")]
    Differs(String),
    #[error(
        "the target state is not empty ({owned} owned record(s), {protected} protection(s), {journal} journal entr(y/ies)); nothing was imported. Import into an empty state directory, or pass --force to replace what it holds"
    )]
    NotEmpty {
        owned: usize,
        protected: usize,
        journal: usize,
    },
}

pub fn export(store: &dyn StateStore) -> StateResult<StateExport> {
    Ok(StateExport {
        format: FORMAT.into(),
        version: VERSION,
        written_at: now_unix(),
        written_by: format!("mspform {}", env!("CARGO_PKG_VERSION")),
        owned: store.owned()?,
        protected: store.protections()?,
        journal: store.journal()?.into_iter().map(|(_, e)| e).collect(),
        last_drift: store.last_drift()?,
    })
}

/// Reads an export, refusing other JSON and newer versions.
pub fn parse(text: &str) -> Result<StateExport, ImportError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ImportError::NotAnExport(e.to_string()))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(ImportError::NotAnExport(format!(
            "its \"format\" is not \"{FORMAT}\""
        )));
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v > u64::from(VERSION) => {
            return Err(ImportError::Newer(u32::try_from(v).unwrap_or(u32::MAX)));
        }
        Some(_) => {}
        None => return Err(ImportError::NotAnExport("it has no \"version\"".into())),
    }
    serde_json::from_value(value).map_err(|e| ImportError::NotAnExport(e.to_string()))
}

/// Writes `export` into `store`. An empty store only, unless `force`, which
/// first removes what the store holds (credentials stay).
pub fn import(
    store: &dyn StateStore,
    export: &StateExport,
    force: bool,
) -> Result<ImportSummary, ImportError> {
    let owned = store.owned()?.len();
    let protected = store.protections()?.len();
    let journal = store.journal()?.len();
    if owned + protected + journal > 0 {
        if !force {
            return Err(ImportError::NotEmpty {
                owned,
                protected,
                journal,
            });
        }
        store.reset()?;
    }
    for (address, record) in &export.owned {
        store.put_owned(address, record)?;
    }
    for (address, protection) in &export.protected {
        store.set_protection(address, protection)?;
    }
    if let Some(drift) = &export.last_drift {
        store.set_last_drift(drift)?;
    }
    // `journal_begin` stores the entry as given (status, times, detail) and
    // numbers it after everything before it, so the order is kept.
    for entry in &export.journal {
        store.journal_begin(entry)?;
    }
    Ok(ImportSummary {
        owned: export.owned.len(),
        journal: export.journal.len(),
        protected: export.protected.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_version_or_other_json_is_refused_by_name() {
        let newer = format!(
            r#"{{"format":"{FORMAT}","version":{},"written_at":1,"written_by":"x","owned":{{}},"journal":[]}}"#,
            VERSION + 1
        );
        let err = parse(&newer).unwrap_err().to_string();
        assert!(err.contains(&format!("version {}", VERSION + 1)), "{err}");
        let plan = r#"{"format_version":1,"actions":[]}"#;
        assert!(matches!(parse(plan), Err(ImportError::NotAnExport(_))));
        assert!(matches!(
            parse("not json"),
            Err(ImportError::NotAnExport(_))
        ));
        let current = format!(
            r#"{{"format":"{FORMAT}","version":{VERSION},"written_at":1,"written_by":"x","owned":{{}},"journal":[]}}"#
        );
        assert!(parse(&current).is_ok());
        // A version 1 file (before protections) still reads, with none.
        let v1 = format!(
            r#"{{"format":"{FORMAT}","version":1,"written_at":1,"written_by":"x","owned":{{}},"journal":[]}}"#
        );
        let old = parse(&v1).unwrap();
        assert!(old.protected.is_empty() && old.last_drift.is_none());
    }

    #[test]
    fn mem_store_exports_and_imports_every_record() {
        let (a, b) = (super::super::MemStore::new(), super::super::MemStore::new());
        super::super::conformance::export_import(&a, &b);
    }
}
