//! The tables of a PostgreSQL state, created by versioned migrations that run
//! on first use. Every table lives in the state's own schema, so several
//! portfolios can share a database. A schema at a version newer than this
//! mspform knows is refused, never written to.
//!
//! Concurrent first uses are serialised by a transaction-level advisory lock,
//! and a schema already at the latest version is not touched (no DDL), so a
//! role with read access only can run plan and drift.

use tokio_postgres::Client;

use super::super::seal;

/// Advisory-lock key spaces (the first of the two keys): the state lock of a
/// schema, and its migrations.
pub const LOCK_CLASS: i32 = 0x6d73_7066; // "mspf"
pub const MIGRATE_CLASS: i32 = 0x6d73_7067;

/// The migrations, in order. Never edit one that has shipped: add the next.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        r#"
CREATE TABLE {s}.meta (
    id integer PRIMARY KEY CHECK (id = 1),
    lineage text NOT NULL,
    serial bigint NOT NULL
);
CREATE TABLE {s}.owned (
    address text PRIMARY KEY,
    provider text NOT NULL,
    vendor_id text,
    parent_id text,
    since bigint NOT NULL,
    origin text NOT NULL
);
CREATE TABLE {s}.facts (
    address text NOT NULL REFERENCES {s}.owned (address) ON DELETE CASCADE,
    name text NOT NULL,
    value jsonb NOT NULL,
    PRIMARY KEY (address, name)
);
CREATE TABLE {s}.journal (
    id bigint PRIMARY KEY,
    provider text NOT NULL,
    address text NOT NULL,
    action text NOT NULL,
    call text NOT NULL,
    natural_key text,
    status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'settled')),
    started_at bigint NOT NULL,
    finished_at bigint,
    detail text
);
CREATE TABLE {s}.credentials (
    provider text NOT NULL,
    name text NOT NULL,
    value text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, name)
);
CREATE TABLE {s}.lock_holder (
    id text PRIMARY KEY,
    pid integer NOT NULL,
    host text NOT NULL,
    username text NOT NULL,
    operation text NOT NULL,
    started_at bigint NOT NULL,
    ci_job_url text,
    backend_pid integer NOT NULL
);
"#,
    ),
    (
        2,
        r#"
CREATE TABLE {s}.protected (
    address text PRIMARY KEY,
    provider text NOT NULL,
    since bigint NOT NULL,
    declared_at text
);
CREATE TABLE {s}.drift (
    id integer PRIMARY KEY CHECK (id = 1),
    at bigint NOT NULL,
    seen jsonb NOT NULL
);
"#,
    ),
    (
        3,
        r#"
ALTER TABLE {s}.drift
    ADD COLUMN checked jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN list_calls jsonb NOT NULL DEFAULT '{}'::jsonb;
"#,
    ),
];

/// The newest schema version this mspform knows.
pub fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}

/// Quoted, schema-qualified table names (the schema name is checked to be
/// plain at parse time, and quoted all the same).
#[derive(Debug, Clone)]
pub struct Names {
    pub schema: String,
    pub quoted: String,
    pub meta: String,
    pub owned: String,
    pub facts: String,
    pub journal: String,
    pub credentials: String,
    pub holder: String,
    pub protected: String,
    pub drift: String,
    pub migrations: String,
    /// The second advisory-lock key: a stable hash of the schema name.
    pub key: i32,
}

impl Names {
    pub fn new(schema: &str) -> Names {
        let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
        let t = |name: &str| format!("{quoted}.{name}");
        Names {
            schema: schema.to_string(),
            meta: t("meta"),
            owned: t("owned"),
            facts: t("facts"),
            journal: t("journal"),
            credentials: t("credentials"),
            holder: t("lock_holder"),
            protected: t("protected"),
            drift: t("drift"),
            migrations: t("schema_migrations"),
            key: schema_key(schema),
            quoted,
        }
    }
}

/// FNV-1a of the schema name, as a non-negative 32-bit key.
fn schema_key(schema: &str) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in schema.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    (h & 0x7fff_ffff) as i32
}

/// Why the schema cannot be used.
#[derive(Debug)]
pub enum MigrateError {
    Db(tokio_postgres::Error),
    Newer { found: i32, known: i32 },
}

impl From<tokio_postgres::Error> for MigrateError {
    fn from(e: tokio_postgres::Error) -> Self {
        MigrateError::Db(e)
    }
}

async fn version(c: &Client, n: &Names) -> Result<Option<i32>, tokio_postgres::Error> {
    let exists: bool = c
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&n.migrations])
        .await?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = c
        .query_one(
            &format!("SELECT coalesce(max(version), 0) FROM {}", n.migrations),
            &[],
        )
        .await?;
    Ok(Some(row.get(0)))
}

/// Brings the schema to the latest version (creating it on first use).
/// Returns the versions applied.
pub async fn migrate(c: &Client, n: &Names) -> Result<Vec<i32>, MigrateError> {
    let known = latest();
    match version(c, n).await? {
        Some(v) if v > known => return Err(MigrateError::Newer { found: v, known }),
        Some(v) if v == known => return Ok(Vec::new()),
        _ => {}
    }
    c.batch_execute("BEGIN").await?;
    let result = migrate_locked(c, n, known).await;
    match result {
        Ok(applied) => {
            c.batch_execute("COMMIT").await?;
            Ok(applied)
        }
        Err(e) => {
            let _ = c.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

async fn migrate_locked(c: &Client, n: &Names, known: i32) -> Result<Vec<i32>, MigrateError> {
    c.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&MIGRATE_CLASS, &n.key],
    )
    .await?;
    c.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {q}; CREATE TABLE IF NOT EXISTS {m} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL)",
        q = n.quoted,
        m = n.migrations
    ))
    .await?;
    let current: i32 = c
        .query_one(
            &format!("SELECT coalesce(max(version), 0) FROM {}", n.migrations),
            &[],
        )
        .await?
        .get(0);
    if current > known {
        return Err(MigrateError::Newer {
            found: current,
            known,
        });
    }
    let by = format!("mspform {}", env!("CARGO_PKG_VERSION"));
    let mut applied = Vec::new();
    for (v, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        c.batch_execute(&sql.replace("{s}", &n.quoted)).await?;
        c.execute(
            &format!(
                "INSERT INTO {} (version, applied_by) VALUES ($1, $2)",
                n.migrations
            ),
            &[v, &by],
        )
        .await?;
        applied.push(*v);
    }
    c.execute(
        &format!(
            "INSERT INTO {} (id, lineage, serial) VALUES (1, $1, 0) ON CONFLICT (id) DO NOTHING",
            n.meta
        ),
        &[&seal::new_lineage()],
    )
    .await?;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_and_keys_stable_and_distinct() {
        let n = Names::new("acme_msp");
        assert_eq!(n.owned, "\"acme_msp\".owned");
        assert_eq!(n.key, Names::new("acme_msp").key);
        assert_ne!(n.key, Names::new("acme_msp2").key);
        assert!(n.key >= 0);
        assert_eq!(latest(), MIGRATIONS.len() as i32);
    }
}
