//! [`PgStore`] against a throwaway cluster (see `pg_cluster`): the
//! conformance suite, the lock and its holder, serial and lineage, readers
//! beside a writer, and schema versions. Each test has its own schema. Without
//! PostgreSQL installed they say so on stderr and pass; with
//! `MSPFORM_REQUIRE_PG=1` they fail.

use super::*;
use crate::state::location::StateLocation;
use crate::state::pg_cluster;

fn target(tag: &str) -> Option<PgTarget> {
    let cluster = pg_cluster::shared()?;
    match StateLocation::parse(&cluster.url(), Some(&cluster.fresh_schema(tag))) {
        Ok(StateLocation::Postgres(t)) => Some(*t),
        other => panic!("not a PostgreSQL location: {other:?}"),
    }
}

/// Runs SQL on the cluster as another client would, for setting up and looking.
fn sql(t: &PgTarget, statement: &str) -> Vec<tokio_postgres::Row> {
    let worker = Worker::start(t, "test", false).unwrap();
    let statement = statement.to_string();
    worker
        .call("test sql", move |c| async move {
            c.data
                .query(&statement, &[])
                .await
                .map_err(db_error("test sql"))
        })
        .unwrap()
}

fn rec(id: &str) -> OwnedRecord {
    OwnedRecord {
        provider: "ac".into(),
        vendor_id: Some(id.into()),
        parent_id: None,
        since: 3,
        origin: "created".into(),
        facts: BTreeMap::new(),
    }
}

#[test]
fn pg_store_passes_the_conformance_suite() {
    let Some(t) = target("conformance") else {
        return;
    };
    let store = PgStore::open(&t, "test", Duration::ZERO).unwrap();
    crate::state::conformance::run(&store);
}

#[test]
fn pg_store_exports_and_imports_every_record() {
    let (Some(a), Some(b)) = (target("export_a"), target("export_b")) else {
        return;
    };
    crate::state::conformance::export_import(
        &PgStore::open(&a, "test", Duration::ZERO).unwrap(),
        &PgStore::open(&b, "test", Duration::ZERO).unwrap(),
    );
}

#[test]
fn a_second_writer_is_refused_naming_the_holder_and_gets_it_once_released() {
    let Some(t) = target("lock") else { return };
    let first = PgStore::open(&t, "apply", Duration::ZERO).unwrap();
    let err = PgStore::open(&t, "state rm", Duration::ZERO)
        .err()
        .expect("the lock is held");
    let msg = err.to_string();
    assert!(matches!(err, StateError::Locked { .. }), "{msg}");
    assert!(
        msg.contains(&format!("locked by pid {} on ", std::process::id()))
            && msg.contains("(apply)")
            && msg.contains(&first.holder().id)
            && msg.contains("force-unlock"),
        "{msg}"
    );
    assert!(!msg.contains(pg_cluster::PASSWORD), "{msg}");
    drop(first);
    let second = PgStore::open(&t, "state rm", Duration::ZERO).unwrap();
    let rows = sql(
        &t,
        &format!("SELECT id, operation FROM \"{}\".lock_holder", t.schema()),
    );
    assert_eq!(rows.len(), 1, "one holder row: the current holder's");
    assert_eq!(rows[0].get::<_, String>(0), second.holder().id);
    assert_eq!(rows[0].get::<_, String>(1), "state rm");
}

#[test]
fn a_writer_waits_for_the_lock_within_its_timeout() {
    let Some(t) = target("wait") else { return };
    let first = PgStore::open(&t, "apply", Duration::ZERO).unwrap();
    let t2 = t.clone();
    let waiter = std::thread::spawn(move || PgStore::open(&t2, "apply", Duration::from_secs(60)));
    // The waiter is polling; once the holder lets go it gets the lock.
    while sql(
        &t,
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'mspform apply (lock)'",
    )
    .len()
        < 2
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    first.put_owned("customer.a", &rec("g1")).unwrap();
    drop(first);
    let second = waiter.join().unwrap().expect("the waiter gets the lock");
    assert_eq!(
        second.owned().unwrap().len(),
        1,
        "and sees the holder's write"
    );
}

/// Another run committed since this one read the state (the lock was lost or
/// forced): this run's next write is refused and changes nothing.
#[test]
fn a_write_after_another_run_committed_is_refused() {
    let Some(t) = target("serial") else { return };
    let store = PgStore::open(&t, "apply", Duration::ZERO).unwrap();
    store.put_owned("customer.a", &rec("g1")).unwrap();
    let read = store.serial();
    sql(
        &t,
        &format!("UPDATE \"{}\".meta SET serial = serial + 1", t.schema()),
    );
    let err = store.put_owned("customer.b", &rec("g2")).unwrap_err();
    assert!(
        matches!(err, StateError::Moved { read: r, now, .. } if r == read && now == read + 1),
        "{err}"
    );
    assert!(err.to_string().contains("another run"), "{err}");
    let owned = sql(&t, &format!("SELECT address FROM \"{}\".owned", t.schema()));
    assert_eq!(owned.len(), 1, "the refused write left nothing");
    let journal = store.journal_begin(&JournalEntry {
        provider: "ac".into(),
        address: "customer.b".into(),
        action: "create".into(),
        call: "POST /x".into(),
        natural_key: None,
        status: JournalStatus::Pending,
        started_at: 1,
        finished_at: None,
        detail: None,
    });
    assert!(
        journal.is_err(),
        "no journal entry either, so no vendor write"
    );
}

/// `state force-unlock ID` of a live holder ends its lock session: the holder's
/// next write fails, and the next run gets the lock.
#[test]
fn force_unlock_clears_the_row_and_ends_a_live_holders_session() {
    let Some(t) = target("force") else { return };
    let holder = PgStore::open(&t, "apply", Duration::ZERO).unwrap();
    let id = holder.holder().id.clone();
    let wrong = PgStore::force_unlock(&t, "not-an-id")
        .unwrap_err()
        .to_string();
    assert!(
        wrong.contains("no lock holder has ID") && wrong.contains(&id),
        "{wrong}"
    );
    let said = PgStore::force_unlock(&t, &id).unwrap();
    assert!(said.contains("was ended"), "{said}");
    let next = PgStore::open(&t, "apply", Duration::from_secs(30)).unwrap();
    let err = holder.put_owned("customer.a", &rec("g1")).unwrap_err();
    assert!(
        matches!(err, StateError::LockLost { .. } | StateError::Moved { .. }),
        "{err}"
    );
    drop(next);
}

/// A holder row left behind (its session ended without removing it) names a
/// holder that is gone: the next run takes the lock and clears it.
#[test]
fn a_stale_holder_row_does_not_block_the_next_run() {
    let Some(t) = target("stale") else { return };
    drop(PgStore::open(&t, "apply", Duration::ZERO).unwrap());
    sql(
        &t,
        &format!(
            "INSERT INTO \"{}\".lock_holder VALUES ('dead', 1, 'gone-host', 'u', 'apply', 1, NULL, 999999)",
            t.schema()
        ),
    );
    let store = PgStore::open(&t, "apply", Duration::ZERO).unwrap();
    let rows = sql(
        &t,
        &format!("SELECT id FROM \"{}\".lock_holder", t.schema()),
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(0), store.holder().id);
}

#[test]
fn a_reader_sees_a_consistent_snapshot_while_a_writer_holds_the_lock() {
    let Some(t) = target("reader") else { return };
    let writer = PgStore::open(&t, "apply", Duration::ZERO).unwrap();
    writer.put_owned("customer.a", &rec("g1")).unwrap();
    let snapshot = PgStore::read(&t, "plan").unwrap();
    assert_eq!(snapshot.owned().unwrap().len(), 1);
    writer.put_owned("customer.b", &rec("g2")).unwrap();
    assert_eq!(
        snapshot.owned().unwrap().len(),
        1,
        "a snapshot does not move"
    );
    assert_eq!(PgStore::read(&t, "plan").unwrap().owned().unwrap().len(), 2);
    let err = snapshot.remove_owned("customer.a").unwrap_err();
    assert!(matches!(err, StateError::ReadOnly { .. }), "{err}");
    snapshot
        .set_credential("ac", "refresh_token", "rotated-by-plan")
        .unwrap();
    assert_eq!(
        writer.credential("ac", "refresh_token").unwrap().as_deref(),
        Some("rotated-by-plan"),
        "credentials are live, not part of the snapshot"
    );
}

#[test]
fn a_schema_newer_than_this_mspform_is_refused_untouched() {
    let Some(t) = target("newer") else { return };
    drop(PgStore::open(&t, "apply", Duration::ZERO).unwrap());
    let next = schema::latest() + 1;
    sql(
        &t,
        &format!(
            "INSERT INTO \"{}\".schema_migrations (version, applied_by) VALUES ({next}, 'mspform 9')",
            t.schema()
        ),
    );
    for err in [
        PgStore::open(&t, "apply", Duration::ZERO).err().unwrap(),
        PgStore::read(&t, "plan").err().unwrap(),
    ] {
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("schema version {next}")) && msg.contains("newer"),
            "{msg}"
        );
    }
    let holders = sql(
        &t,
        &format!("SELECT id FROM \"{}\".lock_holder", t.schema()),
    );
    assert!(holders.is_empty(), "the refused run took no lock");
}

/// Protections reach readers with the snapshot; a reader (drift) records the
/// drift run live, beside the writer holding the lock.
#[test]
fn readers_see_protections_and_record_the_drift_run_beside_a_writer() {
    let Some(t) = target("protect_drift") else {
        return;
    };
    let writer = PgStore::open(&t, "apply", Duration::ZERO).unwrap();
    let guard = Protection {
        provider: "ac".into(),
        since: 4,
        declared_at: Some("acme.toml:5:1".into()),
    };
    writer.set_protection("customer.acme", &guard).unwrap();
    let reader = PgStore::read(&t, "drift").unwrap();
    assert_eq!(reader.protections().unwrap()["customer.acme"], guard);
    assert!(matches!(
        reader.remove_protection("customer.acme"),
        Err(StateError::ReadOnly { .. })
    ));
    let mut memory = DriftMemory {
        at: 12,
        ..DriftMemory::default()
    };
    memory
        .seen
        .entry("ac".into())
        .or_default()
        .insert("delete customer.x".into());
    reader.set_last_drift(&memory).unwrap();
    assert_eq!(writer.last_drift().unwrap(), Some(memory));
}
