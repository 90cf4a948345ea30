//! Tests of [`SledStore`]: the conformance suite, durability across reopen, file
//! modes, credentials kept out of sled, and damaged state found on open.

use super::*;

fn rec(id: &str) -> OwnedRecord {
    OwnedRecord {
        provider: "aruba".into(),
        vendor_id: Some(id.into()),
        parent_id: None,
        since: 5,
        origin: "created".into(),
        facts: BTreeMap::new(),
    }
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        } else if std::fs::read(&p)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
        {
            found.push(p);
        }
    }
    found
}

fn populated(dir: &Path) {
    let store = SledStore::open(dir).unwrap();
    for i in 0..40 {
        store
            .put_owned(&format!("customer.c{i}"), &rec("x"))
            .unwrap();
    }
    store.write_backup().unwrap();
}

fn unreadable(dir: &Path) -> String {
    match SledStore::open(dir) {
        Err(e @ StateError::Unreadable { .. }) => e.to_string(),
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("the damaged state opened"),
    }
}

#[test]
fn sled_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    super::super::conformance::run(&store);
}

#[test]
fn sled_store_exports_and_imports_every_record() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    super::super::conformance::export_import(
        &SledStore::open(a.path()).unwrap(),
        &SledStore::open(b.path()).unwrap(),
    );
}

#[test]
fn sled_store_keeps_records_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open(dir.path()).unwrap();
        store.put_owned("customer.x", &rec("abc")).unwrap();
        store
            .set_credential("aruba", "refresh_token", "r1")
            .unwrap();
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
    assert_eq!(
        store
            .credential("aruba", "refresh_token")
            .unwrap()
            .as_deref(),
        Some("r1")
    );
}

#[test]
fn the_store_holds_the_lock_until_sled_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open_for(dir.path(), "apply").unwrap();
    let err = SledStore::open_for(dir.path(), "plan")
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("locked by pid") && err.contains("apply"),
        "{err}"
    );
    drop(store);
    // Free now, and sled's own lock on db/db with it.
    let again = SledStore::open_for(dir.path(), "plan");
    assert!(again.is_ok(), "{:?}", again.err().map(|e| e.to_string()));
}

#[cfg(unix)]
#[test]
fn the_directory_is_0700_and_every_file_in_it_0600() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("state");
    let check = |when: &str| {
        let mut stack = vec![dir.clone()];
        let mut files = 0;
        while let Some(p) = stack.pop() {
            let mode = files::mode_of(&p).unwrap();
            if p.is_dir() {
                assert_eq!(mode, 0o700, "{when}: {}", p.display());
                for e in std::fs::read_dir(&p).unwrap() {
                    stack.push(e.unwrap().path());
                }
            } else {
                files += 1;
                assert_eq!(mode, 0o600, "{when}: {}", p.display());
            }
        }
        assert!(files >= 6, "{when}: sled's files are among them ({files})");
    };
    {
        let store = SledStore::open(&dir).unwrap();
        store.put_owned("customer.x", &rec("abc")).unwrap();
        store
            .set_credential("aruba", "refresh_token", "r1")
            .unwrap();
        store.write_backup().unwrap();
        check("open");
    }
    check("closed");
}

#[test]
fn a_superseded_refresh_token_is_in_no_file_of_the_state() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open(dir.path()).unwrap();
        store.put_owned("customer.x", &rec("abc")).unwrap();
        store
            .set_credential("aruba", "refresh_token", "first-rotated-token-7f3a")
            .unwrap();
        store
            .set_credential("aruba", "refresh_token", "second-rotated-token-9c1e")
            .unwrap();
        store.write_backup().unwrap();
    }
    assert_eq!(
        files_containing(dir.path(), "first-rotated-token-7f3a"),
        Vec::<PathBuf>::new()
    );
    assert_eq!(
        files_containing(dir.path(), "second-rotated-token-9c1e"),
        vec![dir.path().join("credentials.json")],
        "the live token is in credentials.json only"
    );
}

/// A state written by an mspform that kept credentials in sled: the tokens move
/// to credentials.json and sled is rebuilt, so neither the live token nor the
/// superseded ones stay in sled's files.
#[test]
fn credentials_an_older_mspform_kept_in_sled_move_out_of_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled_config(&dir.path().join("db")).open().unwrap();
        let owned = db.open_tree("owned").unwrap();
        owned.insert("customer.x", encode(&rec("abc"))).unwrap();
        let journal = db.open_tree("journal").unwrap();
        let id = db.generate_id().unwrap() + 1000;
        let entry = JournalEntry {
            provider: "aruba".into(),
            address: "customer.x".into(),
            action: "create".into(),
            call: "POST /msp_api/v2/customers".into(),
            natural_key: None,
            status: JournalStatus::Succeeded,
            started_at: 1,
            finished_at: Some(2),
            detail: None,
        };
        journal.insert(id.to_be_bytes(), encode(&entry)).unwrap();
        let creds = db.open_tree("credentials").unwrap();
        creds
            .insert("aruba/refresh_token", "legacy-old-token-1")
            .unwrap();
        db.flush().unwrap();
        creds
            .insert("aruba/refresh_token", "legacy-live-token-2")
            .unwrap();
        db.flush().unwrap();
    }
    assert!(
        !files_containing(dir.path(), "legacy-old-token-1").is_empty(),
        "sled's log keeps it"
    );
    let old_ids: Vec<u64> = {
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(
            store
                .credential("aruba", "refresh_token")
                .unwrap()
                .as_deref(),
            Some("legacy-live-token-2")
        );
        assert_eq!(store.owned().unwrap().len(), 1);
        let ids: Vec<u64> = store.journal().unwrap().iter().map(|(id, _)| *id).collect();
        let new = store.journal_begin(&store.journal().unwrap()[0].1).unwrap();
        assert!(
            ids.iter().all(|id| new > *id),
            "new journal ids sort after old ones"
        );
        ids
    };
    assert_eq!(old_ids.len(), 1);
    assert_eq!(
        files_containing(dir.path(), "legacy-old-token-1"),
        Vec::<PathBuf>::new()
    );
    assert_eq!(
        files_containing(dir.path(), "legacy-live-token-2"),
        vec![dir.path().join("credentials.json")]
    );
    assert!(!dir.path().join("db.old").exists() && !dir.path().join("db.new").exists());
}

#[test]
fn a_rebuild_interrupted_between_its_renames_is_undone_on_open() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    std::fs::rename(dir.path().join("db"), dir.path().join("db.old")).unwrap();
    std::fs::create_dir(dir.path().join("db.new")).unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(store.owned().unwrap().len(), 40);
}

#[test]
fn garbage_in_sleds_config_is_an_error_with_recovery_steps() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    std::fs::write(dir.path().join("db/conf"), b"garbage garbage garbage").unwrap();
    let msg = unreadable(dir.path());
    assert!(
        msg.contains(&dir.path().join("db").display().to_string()),
        "{msg}"
    );
    assert!(msg.contains("Nothing was changed at any vendor"), "{msg}");
    assert!(msg.contains("mspform state import"), "{msg}");
    assert!(!msg.contains("backtrace"), "{msg}");
}

/// sled opens a log with a damaged head as an empty database; the seal turns
/// that silent loss into an error.
#[test]
fn garbage_in_sleds_log_is_an_error_not_an_empty_state() {
    for (name, damage) in [("whole file", 0usize), ("middle", 1), ("truncated", 2)] {
        let dir = tempfile::tempdir().unwrap();
        populated(dir.path());
        let path = dir.path().join("db/db");
        let mut bytes = std::fs::read(&path).unwrap();
        match damage {
            0 => bytes.iter_mut().for_each(|b| *b = 0x5a),
            1 => {
                let len = bytes.len();
                bytes[len / 3..len / 3 + 4096]
                    .iter_mut()
                    .for_each(|b| *b = 0xa5);
            }
            _ => bytes.truncate(100),
        }
        std::fs::write(&path, bytes).unwrap();
        let msg = unreadable(dir.path());
        assert!(msg.contains("has lost"), "{name}: {msg}");
        assert!(
            msg.contains("Nothing was changed at any vendor"),
            "{name}: {msg}"
        );
    }
}

#[test]
fn a_record_that_does_not_decode_is_named() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    {
        let db = sled_config(&dir.path().join("db")).open().unwrap();
        db.open_tree("owned")
            .unwrap()
            .insert("customer.c7", &b"{not json"[..])
            .unwrap();
        db.flush().unwrap();
    }
    let msg = unreadable(dir.path());
    assert!(
        msg.contains("customer.c7") && msg.contains("does not decode"),
        "{msg}"
    );
}

#[test]
fn a_file_that_cannot_be_read_is_an_error_with_recovery_steps() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    std::fs::remove_file(dir.path().join("db/conf")).unwrap();
    std::fs::create_dir(dir.path().join("db/conf")).unwrap();
    let msg = unreadable(dir.path());
    assert!(msg.contains("cannot be read"), "{msg}");

    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    std::fs::write(dir.path().join("credentials.json"), "{").unwrap();
    let msg = unreadable(dir.path());
    assert!(msg.contains("credentials.json is damaged"), "{msg}");
}

/// plan and drift read the snapshot the writer publishes (at a commit at most
/// every PUBLISH_EVERY, and on close), so they run while an apply holds the
/// lock, and see its commits.
#[test]
fn a_reader_sees_the_writers_commits_without_taking_its_lock() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SledStore::open_for(dir.path(), "apply").unwrap();
    std::thread::sleep(super::PUBLISH_EVERY);
    writer.put_owned("customer.a", &rec("g1")).unwrap();
    let first = SledStore::read(dir.path(), "plan").unwrap();
    assert_eq!(first.owned().unwrap().len(), 1);
    std::thread::sleep(super::PUBLISH_EVERY);
    let id = writer.journal_begin(&entry()).unwrap();
    let second = SledStore::read(dir.path(), "drift").unwrap();
    assert_eq!(second.owned().unwrap().len(), 1);
    assert_eq!(
        second.journal().unwrap()[0].0,
        id,
        "the pending write shows"
    );
    assert_eq!(
        first.journal().unwrap().len(),
        0,
        "a snapshot does not move"
    );
    let err = second.put_owned("customer.b", &rec("g2")).unwrap_err();
    assert!(matches!(err, StateError::ReadOnly { .. }), "{err}");
    // The writer was not disturbed: its lock still refuses a second writer.
    assert!(SledStore::open_for(dir.path(), "apply").is_err());
    writer
        .journal_finish(id, JournalStatus::Succeeded, None)
        .unwrap();
    drop(writer);
    let after = SledStore::read(dir.path(), "plan").unwrap();
    assert_eq!(
        after.journal().unwrap()[0].1.status,
        JournalStatus::Succeeded
    );
}

/// A state written before snapshots existed: a reader opens it under the lock
/// for a moment (publishing one); with the lock held by a writer that never
/// publishes (an older mspform), the reader fails naming it, after a bounded wait.
#[test]
fn a_state_without_a_snapshot_is_read_under_the_lock_once() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    std::fs::remove_file(dir.path().join(snapshot::FILE_NAME)).unwrap();
    let read = SledStore::read(dir.path(), "plan").unwrap();
    assert_eq!(read.owned().unwrap().len(), 40);
    assert!(dir.path().join(snapshot::FILE_NAME).exists(), "published");

    std::fs::remove_file(dir.path().join(snapshot::FILE_NAME)).unwrap();
    let _old_writer = StateLock::acquire(dir.path(), "apply").unwrap();
    let err = SledStore::read(dir.path(), "plan").err().unwrap();
    assert!(matches!(err, StateError::Locked { .. }), "{err}");
}

#[test]
fn a_missing_state_reads_as_empty_and_is_not_created() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("state");
    let read = SledStore::read(&dir, "plan").unwrap();
    assert!(read.owned().unwrap().is_empty());
    assert!(!dir.exists());
}

fn entry() -> JournalEntry {
    JournalEntry {
        provider: "ac".into(),
        address: "customer.a".into(),
        action: "create".into(),
        call: "POST /api/v2/customer".into(),
        natural_key: Some("A".into()),
        status: JournalStatus::Pending,
        started_at: 1,
        finished_at: None,
        detail: None,
    }
}

/// Protections reach readers with the snapshot; a reader (drift) records the
/// drift run in drift.json beside the writer holding the lock.
#[test]
fn readers_see_protections_and_record_the_drift_run_beside_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SledStore::open_for(dir.path(), "apply").unwrap();
    std::thread::sleep(super::PUBLISH_EVERY);
    let guard = Protection {
        provider: "ac".into(),
        since: 4,
        declared_at: None,
    };
    writer.set_protection("customer.acme", &guard).unwrap();
    let reader = SledStore::read(dir.path(), "drift").unwrap();
    assert_eq!(reader.protections().unwrap()["customer.acme"], guard);
    let memory = DriftMemory {
        at: 12,
        ..DriftMemory::default()
    };
    reader.set_last_drift(&memory).unwrap();
    assert_eq!(writer.last_drift().unwrap(), Some(memory));
    drop(writer);
    let reopened = SledStore::open(dir.path()).unwrap();
    assert_eq!(
        reopened.protections().unwrap().len(),
        1,
        "kept across reopen"
    );
}

/// A burst of commits does not republish the whole state each time (that made
/// every journal write cost as much as the state): the snapshot follows at
/// most every PUBLISH_EVERY, and closing the store publishes the last commit.
#[test]
fn a_burst_of_commits_is_published_at_intervals_and_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SledStore::open_for(dir.path(), "apply").unwrap();
    for i in 0..200 {
        writer
            .put_owned(&format!("customer.c{i}"), &rec("g"))
            .unwrap();
    }
    let during = SledStore::read(dir.path(), "plan")
        .unwrap()
        .owned()
        .unwrap()
        .len();
    assert!(during < 200, "not every commit was published: {during}");
    drop(writer);
    let after = SledStore::read(dir.path(), "plan")
        .unwrap()
        .owned()
        .unwrap()
        .len();
    assert_eq!(after, 200, "closing publishes the last commit");
}

/// The store runs no sled flusher thread while it is open (its periodic
/// segment cleaning cost CPU in proportion to the state's size; commits flush
/// themselves). Every sled database of this test binary is opened through
/// `sled_config`, so no other test's flusher can show here.
#[cfg(target_os = "linux")]
#[test]
fn an_open_store_runs_no_background_flusher() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    store.put_owned("customer.c1", &rec("c1")).unwrap();
    let names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim().to_string())
        .collect();
    assert!(!names.is_empty(), "threads listed");
    assert!(
        !names.iter().any(|n| n == "log flusher"),
        "threads of the test process: {names:?}"
    );
    drop(store);
    assert_eq!(
        SledStore::open(dir.path())
            .unwrap()
            .get_owned("customer.c1")
            .unwrap(),
        Some(rec("c1")),
        "the commit is durable without the flusher"
    );
}
