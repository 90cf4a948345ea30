//! The PostgreSQL [`StateStore`]: shared state for teams and CI runners.
//!
//! - **Tables** (see `schema`): `owned` + `facts` (ownership and what the
//!   vendors cannot tell), `protected` (protections), `journal` (the write
//!   journal), `credentials` (rotated tokens), `drift` (what the last drift
//!   run saw; written without the lock, like credentials), `meta` (lineage and
//!   serial), `lock_holder`; created by versioned migrations on first use.
//! - **Lock**: a session-level advisory lock held on a dedicated connection for
//!   the whole run, plus a `lock_holder` row naming the holder (pid, host, user,
//!   operation, start, CI job URL, the lock session's backend pid). When the
//!   holder dies (kill -9), its sessions end and PostgreSQL drops the lock as
//!   soon as it notices; the next holder deletes rows left behind, and
//!   [`PgStore::force_unlock`] clears one by hand (ending its session if it
//!   still holds the lock).
//! - **Serial and lineage**: every commit is a transaction that first moves
//!   `meta.serial` from the value this run last saw to the next one (compare
//!   and swap, with the lineage). If another run committed meanwhile (the lock
//!   was lost or forced), the write is refused with [`StateError::Moved`]; a
//!   closed lock connection is [`StateError::LockLost`]. Either stops the apply
//!   before its next vendor write.
//! - **Durability**: each method commits before it returns (PostgreSQL's
//!   synchronous commit), so a journal entry is committed before its vendor
//!   write is sent.
//! - **Readers** ([`PgStore::read`]) take no lock: one repeatable-read,
//!   read-only transaction reads every record into a [`SnapshotStore`].

mod conn;
pub mod schema;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::Client;

use self::conn::{Clients, Worker, db_error, describe};
use self::schema::{LOCK_CLASS, MigrateError, Names};
use super::location::PgTarget;
use super::lock::{LockInfo, WAIT_POLL_MAX, waited};
use super::snapshot::{LiveStore, Snapshot, SnapshotStore};
use super::{
    DriftMemory, JournalEntry, JournalStatus, OwnedRecord, Protection, StateError, StateResult,
    StateStore, now_unix,
};

const LOCK_HINT: &str = "wait for it to finish, or pass --lock-timeout to wait for it. The lock is a PostgreSQL session lock: it goes away as soon as PostgreSQL notices that the holder's connection is gone (at once when the process dies on a reachable machine; after the server's TCP keepalive when the machine vanished). If the holder is hung, or its holder row outlived it, run `mspform state force-unlock ID` with the lock ID above";

pub struct PgStore {
    worker: Worker,
    names: Arc<Names>,
    lineage: String,
    /// The serial this run last read or committed.
    serial: Mutex<u64>,
    holder: LockInfo,
}

fn status_text(s: JournalStatus) -> &'static str {
    match s {
        JournalStatus::Pending => "pending",
        JournalStatus::Succeeded => "succeeded",
        JournalStatus::Failed => "failed",
        JournalStatus::Settled => "settled",
    }
}

fn status_of(text: &str, id: i64) -> StateResult<JournalStatus> {
    Ok(match text {
        "pending" => JournalStatus::Pending,
        "succeeded" => JournalStatus::Succeeded,
        "failed" => JournalStatus::Failed,
        "settled" => JournalStatus::Settled,
        other => {
            return Err(StateError::Corrupt {
                key: format!("journal #{id}"),
                message: format!("unknown status {other:?}"),
            });
        }
    })
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

async fn read_owned(
    c: &Client,
    n: &Names,
) -> Result<BTreeMap<String, OwnedRecord>, tokio_postgres::Error> {
    let rows = c
        .query(
            &format!(
                "SELECT o.address, o.provider, o.vendor_id, o.parent_id, o.since, o.origin, f.name, f.value FROM {} o LEFT JOIN {} f ON f.address = o.address ORDER BY o.address, f.name",
                n.owned, n.facts
            ),
            &[],
        )
        .await?;
    let mut out: BTreeMap<String, OwnedRecord> = BTreeMap::new();
    for row in rows {
        let address: String = row.get(0);
        let record = out.entry(address).or_insert_with(|| OwnedRecord {
            provider: row.get(1),
            vendor_id: row.get(2),
            parent_id: row.get(3),
            since: to_u64(row.get(4)),
            origin: row.get(5),
            facts: BTreeMap::new(),
        });
        let name: Option<String> = row.get(6);
        if let Some(name) = name {
            let value: serde_json::Value = row.get(7);
            record.facts.insert(name, value);
        }
    }
    Ok(out)
}

/// Inserts or replaces one owned record with its facts (inside the caller's
/// transaction).
async fn write_owned(
    c: &Client,
    n: &Names,
    address: &str,
    r: &OwnedRecord,
) -> Result<(), tokio_postgres::Error> {
    c.execute(
        &format!(
            "INSERT INTO {} (address, provider, vendor_id, parent_id, since, origin) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (address) DO UPDATE SET provider = EXCLUDED.provider, vendor_id = EXCLUDED.vendor_id, parent_id = EXCLUDED.parent_id, since = EXCLUDED.since, origin = EXCLUDED.origin",
            n.owned
        ),
        &[
            &address,
            &r.provider,
            &r.vendor_id,
            &r.parent_id,
            &to_i64(r.since),
            &r.origin,
        ],
    )
    .await?;
    c.execute(
        &format!("DELETE FROM {} WHERE address = $1", n.facts),
        &[&address],
    )
    .await?;
    for (name, value) in &r.facts {
        c.execute(
            &format!(
                "INSERT INTO {} (address, name, value) VALUES ($1, $2, $3)",
                n.facts
            ),
            &[&address, name, value],
        )
        .await?;
    }
    Ok(())
}

async fn read_one_owned(
    c: &Client,
    n: &Names,
    address: &str,
) -> Result<Option<OwnedRecord>, tokio_postgres::Error> {
    let Some(row) = c
        .query_opt(
            &format!(
                "SELECT provider, vendor_id, parent_id, since, origin FROM {} WHERE address = $1",
                n.owned
            ),
            &[&address],
        )
        .await?
    else {
        return Ok(None);
    };
    let facts = c
        .query(
            &format!(
                "SELECT name, value FROM {} WHERE address = $1 ORDER BY name",
                n.facts
            ),
            &[&address],
        )
        .await?
        .into_iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, serde_json::Value>(1)))
        .collect();
    Ok(Some(OwnedRecord {
        provider: row.get(0),
        vendor_id: row.get(1),
        parent_id: row.get(2),
        since: to_u64(row.get(3)),
        origin: row.get(4),
        facts,
    }))
}

async fn read_protections(
    c: &Client,
    n: &Names,
) -> Result<BTreeMap<String, Protection>, tokio_postgres::Error> {
    Ok(c.query(
        &format!(
            "SELECT address, provider, since, declared_at FROM {} ORDER BY address",
            n.protected
        ),
        &[],
    )
    .await?
    .into_iter()
    .map(|r| {
        (
            r.get(0),
            Protection {
                provider: r.get(1),
                since: to_u64(r.get(2)),
                declared_at: r.get(3),
            },
        )
    })
    .collect())
}

async fn read_drift(c: &Client, n: &Names) -> StateResult<Option<DriftMemory>> {
    let Some(row) = c
        .query_opt(
            &format!("SELECT at, seen, checked, list_calls FROM {}", n.drift),
            &[],
        )
        .await
        .map_err(db_error("read the last drift run"))?
    else {
        return Ok(None);
    };
    let corrupt = |e: serde_json::Error| StateError::Corrupt {
        key: n.drift.clone(),
        message: e.to_string(),
    };
    let seen = serde_json::from_value(row.get(1)).map_err(corrupt)?;
    let checked = serde_json::from_value(row.get(2)).map_err(corrupt)?;
    let list_calls = serde_json::from_value(row.get(3)).map_err(corrupt)?;
    Ok(Some(DriftMemory {
        at: to_u64(row.get(0)),
        seen,
        checked,
        list_calls,
    }))
}

async fn write_drift(c: &Client, n: &Names, m: &DriftMemory) -> StateResult<()> {
    let seen = serde_json::to_value(&m.seen).unwrap_or_default();
    let checked = serde_json::to_value(&m.checked).unwrap_or_default();
    let list_calls = serde_json::to_value(&m.list_calls).unwrap_or_default();
    c.execute(
        &format!(
            "INSERT INTO {} (id, at, seen, checked, list_calls) VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at, seen = EXCLUDED.seen, checked = EXCLUDED.checked, list_calls = EXCLUDED.list_calls",
            n.drift
        ),
        &[&to_i64(m.at), &seen, &checked, &list_calls],
    )
    .await
    .map_err(db_error("record the drift run"))?;
    Ok(())
}

async fn read_journal(c: &Client, n: &Names) -> StateResult<Vec<(u64, JournalEntry)>> {
    let rows = c
        .query(
            &format!(
                "SELECT id, provider, address, action, call, natural_key, status, started_at, finished_at, detail FROM {} ORDER BY id",
                n.journal
            ),
            &[],
        )
        .await
        .map_err(db_error("read the journal"))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.get(0);
        let status: String = row.get(6);
        out.push((
            to_u64(id),
            JournalEntry {
                provider: row.get(1),
                address: row.get(2),
                action: row.get(3),
                call: row.get(4),
                natural_key: row.get(5),
                status: status_of(&status, id)?,
                started_at: to_u64(row.get(7)),
                finished_at: row.get::<_, Option<i64>>(8).map(to_u64),
                detail: row.get(9),
            },
        ));
    }
    Ok(out)
}

async fn read_meta(c: &Client, n: &Names) -> StateResult<(String, u64)> {
    let row = c
        .query_one(&format!("SELECT lineage, serial FROM {}", n.meta), &[])
        .await
        .map_err(db_error("read the state's serial"))?;
    Ok((row.get(0), to_u64(row.get(1))))
}

async fn insert_journal(
    c: &Client,
    n: &Names,
    id: u64,
    e: &JournalEntry,
) -> Result<u64, tokio_postgres::Error> {
    c.execute(
        &format!(
            "INSERT INTO {} (id, provider, address, action, call, natural_key, status, started_at, finished_at, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            n.journal
        ),
        &[
            &to_i64(id),
            &e.provider,
            &e.address,
            &e.action,
            &e.call,
            &e.natural_key,
            &status_text(e.status),
            &to_i64(e.started_at),
            &e.finished_at.map(to_i64),
            &e.detail,
        ],
    )
    .await
}

fn migrate_error(location: &str, e: MigrateError) -> StateError {
    match e {
        MigrateError::Db(e) => StateError::Open {
            dir: location.to_string(),
            message: format!("cannot create or upgrade its tables: {}", describe(&e)),
        },
        MigrateError::Newer { found, known } => StateError::Open {
            dir: location.to_string(),
            message: format!(
                "its tables are at schema version {found}, newer than this mspform knows ({known}); nothing was changed. Use the mspform that upgraded them, or a newer one"
            ),
        },
    }
}

fn migrate(worker: &Worker, names: &Arc<Names>) -> StateResult<()> {
    let n = names.clone();
    let location = worker.location().to_string();
    worker.call("migrate the state's tables", move |c| async move {
        match schema::migrate(&c.data, &n).await {
            Ok(applied) => {
                if !applied.is_empty() {
                    tracing::info!(schema = %n.schema, versions = ?applied, "created or upgraded the state's tables");
                }
                Ok(())
            }
            Err(e) => Err(migrate_error(&location, e)),
        }
    })
}

/// Who holds the lock of `n`, as seen from `c`: `Ok(None)` when nobody does.
/// A holder that took the lock a moment ago may not have written its row yet:
/// it is asked again for up to [`HOLDER_ROW_WAIT`] before being reported as
/// unclear.
async fn holder(c: &Client, n: &Names, location: &str) -> StateResult<Option<StateError>> {
    let started = std::time::Instant::now();
    loop {
        match holder_once(c, n, location).await? {
            Some(StateError::LockUnclear { .. }) if started.elapsed() < HOLDER_ROW_WAIT => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            other => return Ok(other),
        }
    }
}

/// How long a lock holder's row may take to appear after it took the lock.
const HOLDER_ROW_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

async fn holder_once(c: &Client, n: &Names, location: &str) -> StateResult<Option<StateError>> {
    let rows = c
        .query(
            &format!(
                "SELECT l.pid, h.id, h.pid, h.host, h.username, h.operation, h.started_at, h.ci_job_url FROM pg_locks l LEFT JOIN {} h ON h.backend_pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = $1 AND l.objid = $2",
                n.holder
            ),
            &[&(LOCK_CLASS as u32), &(n.key as u32)],
        )
        .await
        .map_err(db_error("find the lock holder"))?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let backend: i32 = row.get(0);
    let id: Option<String> = row.get(1);
    Ok(Some(match id {
        Some(id) => StateError::Locked {
            location: location.to_string(),
            holder: Box::new(LockInfo {
                id,
                pid: u32::try_from(row.get::<_, i32>(2)).unwrap_or(0),
                host: row.get(3),
                user: row.get(4),
                operation: row.get(5),
                started_at: to_u64(row.get(6)),
                ci_job_url: row.get(7),
            }),
            hint: LOCK_HINT.into(),
        },
        None => StateError::LockUnclear {
            location: location.to_string(),
            reason: format!(
                "the PostgreSQL session (backend pid {backend}) that holds it has not written its holder row (yet): it is starting, or it is not mspform. `SELECT * FROM pg_stat_activity WHERE pid = {backend}` shows it"
            ),
        },
    }))
}

impl PgStore {
    /// Connects, creates or upgrades the tables, and takes the lock (waiting
    /// up to `lock_timeout` while another run holds it, then failing with
    /// [`StateError::Locked`] naming the holder).
    pub fn open(
        target: &PgTarget,
        operation: &str,
        lock_timeout: Duration,
    ) -> StateResult<PgStore> {
        let worker = Worker::start(target, &format!("mspform {operation}"), true)?;
        let names = Arc::new(Names::new(target.schema()));
        migrate(&worker, &names)?;
        let me = LockInfo::mine(operation);
        let start = Instant::now();
        let mut pause = Duration::from_millis(50);
        let mut told = false;
        loop {
            let (n, info, location) = (names.clone(), me.clone(), worker.location().to_string());
            let outcome = worker.call("take the state lock", move |c| async move {
                let lock = c.lock.as_ref().ok_or_else(|| StateError::Io {
                    operation: "take the state lock",
                    message: "no lock connection".into(),
                })?;
                let got: bool = lock
                    .query_one("SELECT pg_try_advisory_lock($1, $2)", &[&LOCK_CLASS, &n.key])
                    .await
                    .map_err(db_error("take the state lock"))?
                    .get(0);
                if !got {
                    return holder(lock, &n, &location).await.map(|h| {
                        Some(h.unwrap_or_else(|| StateError::LockUnclear {
                            location: location.clone(),
                            reason: "it was released just now".into(),
                        }))
                    });
                }
                // We hold it: rows of earlier holders are stale.
                lock.execute(&format!("DELETE FROM {}", n.holder), &[])
                    .await
                    .map_err(db_error("record the lock holder"))?;
                lock.execute(
                    &format!(
                        "INSERT INTO {} (id, pid, host, username, operation, started_at, ci_job_url, backend_pid) VALUES ($1, $2, $3, $4, $5, $6, $7, pg_backend_pid())",
                        n.holder
                    ),
                    &[
                        &info.id,
                        &i32::try_from(info.pid).unwrap_or(i32::MAX),
                        &info.host,
                        &info.user,
                        &info.operation,
                        &to_i64(info.started_at),
                        &info.ci_job_url,
                    ],
                )
                .await
                .map_err(db_error("record the lock holder"))?;
                Ok(None)
            })?;
            let Some(busy) = outcome else { break };
            if start.elapsed() >= lock_timeout {
                return Err(waited(busy, lock_timeout));
            }
            if !told {
                told = true;
                eprintln!(
                    "Waiting up to {} s for the state lock: {busy}",
                    lock_timeout.as_secs()
                );
            }
            std::thread::sleep(pause.min(lock_timeout.saturating_sub(start.elapsed())));
            pause = (pause * 2).min(WAIT_POLL_MAX);
        }
        let n = names.clone();
        let (lineage, serial) = worker.call("read the state's serial", move |c| async move {
            read_meta(&c.data, &n).await
        })?;
        Ok(PgStore {
            worker,
            names,
            lineage,
            serial: Mutex::new(serial),
            holder: me,
        })
    }

    /// A consistent read-only snapshot, without the lock: every record read in
    /// one repeatable-read transaction. Credentials stay live.
    pub fn read(target: &PgTarget, operation: &str) -> StateResult<SnapshotStore> {
        let worker = Worker::start(target, &format!("mspform {operation}"), false)?;
        let names = Arc::new(Names::new(target.schema()));
        migrate(&worker, &names)?;
        let n = names.clone();
        let snapshot = worker.call("read a snapshot of the state", move |c| async move {
            c.data
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await
                .map_err(db_error("read a snapshot of the state"))?;
            let read = async {
                let (lineage, serial) = read_meta(&c.data, &n).await?;
                let owned = read_owned(&c.data, &n)
                    .await
                    .map_err(db_error("read owned records"))?;
                let protected = read_protections(&c.data, &n)
                    .await
                    .map_err(db_error("read protections"))?;
                let journal = read_journal(&c.data, &n).await?;
                Ok(Snapshot {
                    lineage,
                    serial,
                    owned,
                    protected,
                    journal,
                })
            }
            .await;
            let _ = c.data.batch_execute("COMMIT").await;
            read
        })?;
        Ok(SnapshotStore::new(
            snapshot,
            Box::new(PgCredentials { worker, names }),
        ))
    }

    /// Clears the holder row `id` left behind; if its session still holds the
    /// lock, ends that session (the holder's next state write then fails, and
    /// it stops). Returns what was done, in words.
    pub fn force_unlock(target: &PgTarget, id: &str) -> StateResult<String> {
        let worker = Worker::start(target, "mspform state force-unlock", false)?;
        let names = Arc::new(Names::new(target.schema()));
        migrate(&worker, &names)?;
        let (n, id, location) = (names.clone(), id.to_string(), worker.location().to_string());
        worker.call("force the state lock open", move |c| async move {
            let op = "force the state lock open";
            let row = c
                .data
                .query_opt(
                    &format!(
                        "SELECT pid, host, operation, backend_pid FROM {} WHERE id = $1",
                        n.holder
                    ),
                    &[&id],
                )
                .await
                .map_err(db_error(op))?;
            let Some(row) = row else {
                let now = holder(&c.data, &n, &location).await?;
                return Err(StateError::Open {
                    dir: location.clone(),
                    message: format!(
                        "no lock holder has ID {id}; nothing was changed. {}",
                        match now {
                            Some(e) => format!("Now: {e}"),
                            None => "The state is not locked.".into(),
                        }
                    ),
                });
            };
            let (pid, host, operation, backend): (i32, String, String, i32) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            let holds: bool = c
                .data
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = $1 AND objid = $2 AND pid = $3)",
                    &[&(LOCK_CLASS as u32), &(n.key as u32), &backend],
                )
                .await
                .map_err(db_error(op))?
                .get(0);
            let mut said = format!(
                "Removed lock holder {id} (pid {pid} on {host}, {operation})"
            );
            if holds {
                let ended: bool = c
                    .data
                    .query_one("SELECT pg_terminate_backend($1)", &[&backend])
                    .await
                    .map_err(db_error(op))?
                    .get(0);
                said.push_str(&if ended {
                    format!("; its PostgreSQL session (backend pid {backend}) still held the lock and was ended, so that run stops at its next state write")
                } else {
                    format!("; its PostgreSQL session (backend pid {backend}) still holds the lock and could not be ended (this role may not signal it): ask an administrator to run SELECT pg_terminate_backend({backend})")
                });
            } else {
                said.push_str("; its session was gone already, so the lock was free");
            }
            c.data
                .execute(&format!("DELETE FROM {} WHERE id = $1", n.holder), &[&id])
                .await
                .map_err(db_error(op))?;
            Ok(format!("{said}."))
        })
    }

    /// Who holds this store's lock (this run).
    pub fn holder(&self) -> &LockInfo {
        &self.holder
    }

    pub fn lineage(&self) -> &str {
        &self.lineage
    }

    /// The serial this run last read or committed.
    pub fn serial(&self) -> u64 {
        *self.serial.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One commit: checks the lock, moves the serial from the one this run saw
    /// to the next (refusing if another run committed), runs `body` with the
    /// new serial, and commits.
    fn commit<T, F, Fut>(&self, operation: &'static str, body: F) -> StateResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Clients>, Arc<Names>, u64) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, tokio_postgres::Error>> + 'static,
    {
        let expected = self.serial();
        let (n, lineage, location) = (
            self.names.clone(),
            self.lineage.clone(),
            self.worker.location().to_string(),
        );
        let (value, serial) = self.worker.call(operation, move |c| async move {
            if c.lock_lost() {
                return Err(StateError::LockLost {
                    location,
                    reason: "the connection that held it closed".into(),
                });
            }
            c.data
                .batch_execute("BEGIN")
                .await
                .map_err(db_error(operation))?;
            let result = async {
                let moved = c
                    .data
                    .query_opt(
                        &format!(
                            "UPDATE {} SET serial = serial + 1 WHERE id = 1 AND serial = $1 AND lineage = $2 RETURNING serial",
                            n.meta
                        ),
                        &[&to_i64(expected), &lineage],
                    )
                    .await
                    .map_err(db_error(operation))?;
                let Some(row) = moved else {
                    let now = read_meta(&c.data, &n).await?;
                    return Err(StateError::Moved {
                        location: location.clone(),
                        read: expected,
                        now: now.1,
                    });
                };
                let serial = to_u64(row.get(0));
                let value = body(c.clone(), n.clone(), serial)
                    .await
                    .map_err(db_error(operation))?;
                Ok((value, serial))
            }
            .await;
            match result {
                Ok(v) => {
                    c.data
                        .batch_execute("COMMIT")
                        .await
                        .map_err(db_error(operation))?;
                    Ok(v)
                }
                Err(e) => {
                    let _ = c.data.batch_execute("ROLLBACK").await;
                    Err(e)
                }
            }
        })?;
        *self.serial.lock().unwrap_or_else(|e| e.into_inner()) = serial;
        Ok(value)
    }

    fn query<T, F, Fut>(&self, operation: &'static str, f: F) -> StateResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Clients>, Arc<Names>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = StateResult<T>> + 'static,
    {
        let n = self.names.clone();
        self.worker.call(operation, move |c| f(c, n))
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Best effort: the row goes with a clean exit; a crash leaves it for
        // the next holder (or force-unlock) to clear.
        let (n, id) = (self.names.clone(), self.holder.id.clone());
        let _ = self
            .worker
            .call("release the state lock", move |c| async move {
                if let Some(lock) = &c.lock {
                    let _ = lock
                        .execute(&format!("DELETE FROM {} WHERE id = $1", n.holder), &[&id])
                        .await;
                    let _ = lock
                        .execute("SELECT pg_advisory_unlock($1, $2)", &[&LOCK_CLASS, &n.key])
                        .await;
                }
                Ok(())
            });
    }
}

async fn get_credential(
    c: &Client,
    n: &Names,
    provider: &str,
    name: &str,
) -> StateResult<Option<String>> {
    Ok(c.query_opt(
        &format!(
            "SELECT value FROM {} WHERE provider = $1 AND name = $2",
            n.credentials
        ),
        &[&provider, &name],
    )
    .await
    .map_err(db_error("read a credential"))?
    .map(|r| r.get(0)))
}

async fn set_credential(
    c: &Client,
    n: &Names,
    provider: &str,
    name: &str,
    value: &str,
) -> StateResult<()> {
    c.execute(
        &format!(
            "INSERT INTO {} (provider, name, value) VALUES ($1, $2, $3) ON CONFLICT (provider, name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
            n.credentials
        ),
        &[&provider, &name, &value],
    )
    .await
    .map_err(db_error("save a credential"))?;
    Ok(())
}

async fn all_credentials(c: &Client, n: &Names) -> StateResult<Vec<(String, String, String)>> {
    Ok(c.query(
        &format!(
            "SELECT provider, name, value FROM {} ORDER BY provider, name",
            n.credentials
        ),
        &[],
    )
    .await
    .map_err(db_error("read credentials"))?
    .into_iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect())
}

/// Live credentials beside a snapshot (a plan may rotate a refresh token).
struct PgCredentials {
    worker: Worker,
    names: Arc<Names>,
}

impl LiveStore for PgCredentials {
    fn get(&self, provider: &str, name: &str) -> StateResult<Option<String>> {
        let (n, p, k) = (self.names.clone(), provider.to_string(), name.to_string());
        self.worker.call("read a credential", move |c| async move {
            get_credential(&c.data, &n, &p, &k).await
        })
    }
    fn set(&self, provider: &str, name: &str, value: &str) -> StateResult<()> {
        let (n, p, k, v) = (
            self.names.clone(),
            provider.to_string(),
            name.to_string(),
            value.to_string(),
        );
        self.worker.call("save a credential", move |c| async move {
            set_credential(&c.data, &n, &p, &k, &v).await
        })
    }
    fn all(&self) -> StateResult<Vec<(String, String, String)>> {
        let n = self.names.clone();
        self.worker.call("read credentials", move |c| async move {
            all_credentials(&c.data, &n).await
        })
    }
    fn last_drift(&self) -> StateResult<Option<DriftMemory>> {
        let n = self.names.clone();
        self.worker
            .call("read the last drift run", move |c| async move {
                read_drift(&c.data, &n).await
            })
    }
    fn set_last_drift(&self, memory: &DriftMemory) -> StateResult<()> {
        let (n, m) = (self.names.clone(), memory.clone());
        self.worker
            .call("record the drift run", move |c| async move {
                write_drift(&c.data, &n, &m).await
            })
    }
}

impl StateStore for PgStore {
    fn owned(&self) -> StateResult<BTreeMap<String, OwnedRecord>> {
        self.query("read owned records", |c, n| async move {
            read_owned(&c.data, &n)
                .await
                .map_err(db_error("read owned records"))
        })
    }

    fn get_owned(&self, address: &str) -> StateResult<Option<OwnedRecord>> {
        let address = address.to_string();
        self.query("read an owned record", move |c, n| async move {
            read_one_owned(&c.data, &n, &address)
                .await
                .map_err(db_error("read an owned record"))
        })
    }

    fn put_owned(&self, address: &str, record: &OwnedRecord) -> StateResult<()> {
        let (address, r) = (address.to_string(), record.clone());
        self.commit("record ownership", move |c, n, _| async move {
            write_owned(&c.data, &n, &address, &r).await
        })
    }

    /// One transaction for all of them.
    fn put_owned_all(&self, records: &[(String, OwnedRecord)]) -> StateResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let records = records.to_vec();
        self.commit("record ownership", move |c, n, _| async move {
            for (address, r) in &records {
                write_owned(&c.data, &n, address, r).await?;
            }
            Ok(())
        })
    }

    fn remove_owned(&self, address: &str) -> StateResult<bool> {
        let address = address.to_string();
        self.commit("forget an owned record", move |c, n, _| async move {
            let removed = c
                .data
                .execute(
                    &format!("DELETE FROM {} WHERE address = $1", n.owned),
                    &[&address],
                )
                .await?;
            Ok(removed > 0)
        })
    }

    fn journal_begin(&self, entry: &JournalEntry) -> StateResult<u64> {
        let entry = entry.clone();
        self.commit("journal a vendor write", move |c, n, serial| async move {
            insert_journal(&c.data, &n, serial, &entry).await?;
            Ok(serial)
        })
    }

    fn journal_finish(
        &self,
        id: u64,
        status: JournalStatus,
        detail: Option<String>,
    ) -> StateResult<()> {
        self.commit("finish a journal entry", move |c, n, _| async move {
            c.data
                .execute(
                    &format!(
                        "UPDATE {} SET status = $2, detail = $3, finished_at = $4 WHERE id = $1",
                        n.journal
                    ),
                    &[
                        &to_i64(id),
                        &status_text(status),
                        &detail,
                        &to_i64(now_unix()),
                    ],
                )
                .await?;
            Ok(())
        })
    }

    fn journal(&self) -> StateResult<Vec<(u64, JournalEntry)>> {
        self.query("read the journal", |c, n| async move {
            read_journal(&c.data, &n).await
        })
    }

    fn journal_prune(&self, keep: usize) -> StateResult<usize> {
        let ids: Vec<i64> = super::prunable(&self.journal()?, keep)
            .into_iter()
            .map(to_i64)
            .collect();
        let count = ids.len();
        self.commit("prune the journal", move |c, n, _| async move {
            c.data
                .execute(
                    &format!("DELETE FROM {} WHERE id = ANY($1)", n.journal),
                    &[&ids],
                )
                .await?;
            Ok(count)
        })
    }

    fn credential(&self, provider: &str, name: &str) -> StateResult<Option<String>> {
        let (p, k) = (provider.to_string(), name.to_string());
        self.query("read a credential", move |c, n| async move {
            get_credential(&c.data, &n, &p, &k).await
        })
    }

    fn set_credential(&self, provider: &str, name: &str, value: &str) -> StateResult<()> {
        let (p, k, v) = (provider.to_string(), name.to_string(), value.to_string());
        self.query("save a credential", move |c, n| async move {
            set_credential(&c.data, &n, &p, &k, &v).await
        })
    }

    fn all_credentials(&self) -> StateResult<Vec<(String, String, String)>> {
        self.query("read credentials", |c, n| async move {
            all_credentials(&c.data, &n).await
        })
    }

    fn protections(&self) -> StateResult<BTreeMap<String, Protection>> {
        self.query("read protections", |c, n| async move {
            read_protections(&c.data, &n)
                .await
                .map_err(db_error("read protections"))
        })
    }

    fn set_protection(&self, address: &str, protection: &Protection) -> StateResult<()> {
        let (address, p) = (address.to_string(), protection.clone());
        self.commit("record a protection", move |c, n, _| async move {
            c.data
                .execute(
                    &format!(
                        "INSERT INTO {} (address, provider, since, declared_at) VALUES ($1, $2, $3, $4) ON CONFLICT (address) DO UPDATE SET provider = EXCLUDED.provider, since = EXCLUDED.since, declared_at = EXCLUDED.declared_at",
                        n.protected
                    ),
                    &[&address, &p.provider, &to_i64(p.since), &p.declared_at],
                )
                .await?;
            Ok(())
        })
    }

    fn remove_protection(&self, address: &str) -> StateResult<bool> {
        let address = address.to_string();
        self.commit("lift a protection", move |c, n, _| async move {
            let removed = c
                .data
                .execute(
                    &format!("DELETE FROM {} WHERE address = $1", n.protected),
                    &[&address],
                )
                .await?;
            Ok(removed > 0)
        })
    }

    fn last_drift(&self) -> StateResult<Option<DriftMemory>> {
        self.query("read the last drift run", |c, n| async move {
            read_drift(&c.data, &n).await
        })
    }

    fn set_last_drift(&self, memory: &DriftMemory) -> StateResult<()> {
        let m = memory.clone();
        self.query("record the drift run", move |c, n| async move {
            write_drift(&c.data, &n, &m).await
        })
    }

    fn reset(&self) -> StateResult<()> {
        self.commit("reset the state", |c, n, _| async move {
            c.data
                .batch_execute(&format!(
                    "DELETE FROM {}; DELETE FROM {}; DELETE FROM {}; DELETE FROM {}",
                    n.facts, n.owned, n.protected, n.journal
                ))
                .await
        })
    }
}

#[cfg(test)]
mod tests;
