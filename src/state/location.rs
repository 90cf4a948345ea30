//! Where the state lives, from `--state` / `MSPFORM_STATE`: a directory (sled,
//! the default `./state`) or a `postgres://` / `postgresql://` URL with an
//! optional `schema=NAME` option (or `--state-schema NAME`), so several
//! portfolios can share one database.
//!
//! Credentials come from the URL, then `PGPASSWORD`, then the password file
//! (`PGPASSFILE` or `~/.pgpass`, in libpq's format and with its rule that a
//! file group or others can read is ignored), never from the TOML. The
//! password is never part of what is shown: [`PgTarget`]'s `Display` is
//! `postgres://USER@HOST:PORT/DB (schema S)`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::Host;

/// The schema when neither the URL nor `--state-schema` names one.
pub const DEFAULT_SCHEMA: &str = "mspform";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub enum StateLocation {
    Dir(PathBuf),
    Postgres(Box<PgTarget>),
}

/// A PostgreSQL database and schema holding a state.
#[derive(Clone)]
pub struct PgTarget {
    config: tokio_postgres::Config,
    schema: String,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgTarget({self})")
    }
}

impl std::fmt::Debug for StateLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl std::fmt::Display for StateLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateLocation::Dir(d) => write!(f, "{}", d.display()),
            StateLocation::Postgres(t) => write!(f, "{t}"),
        }
    }
}

impl std::fmt::Display for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let user = self.config.get_user().unwrap_or("");
        let db = self.config.get_dbname().unwrap_or(user);
        write!(
            f,
            "postgres://{user}@{host}:{port}/{db} (schema {})",
            self.schema
        )
    }
}

fn is_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// A schema name mspform can put in SQL as a quoted identifier without surprises.
pub fn check_schema(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with("pg_");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the state schema {name:?} is not a plain PostgreSQL name: use 1 to 63 lower-case letters, digits and underscores, starting with a letter or underscore, not with pg_"
        ))
    }
}

/// Takes mspform's own `schema=` option out of a URL's query (the driver
/// refuses options it does not know); returns the URL left and the schema.
fn split_schema(url: &str) -> Result<(String, Option<String>), String> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), None));
    };
    let mut schema = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("schema", value)) => {
                if schema.replace(value.to_string()).is_some() {
                    return Err("the state URL names schema= twice".into());
                }
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, schema))
}

impl StateLocation {
    /// Reads `--state` (and `--state-schema`). A URL is checked here, before any
    /// connection; the error never quotes the URL (it may hold a password).
    pub fn parse(text: &str, schema: Option<&str>) -> Result<StateLocation, String> {
        if !is_url(text) {
            if schema.is_some() {
                return Err(format!(
                    "--state-schema applies to a PostgreSQL state only, and --state {text} is a directory"
                ));
            }
            return Ok(StateLocation::Dir(PathBuf::from(text)));
        }
        let (url, in_url) = split_schema(text)?;
        let schema = match (in_url, schema) {
            (Some(a), Some(b)) if a != b => {
                return Err(format!(
                    "the state URL says schema={a} and --state-schema says {b}: give one"
                ));
            }
            (Some(a), _) => a,
            (None, Some(b)) => b.to_string(),
            (None, None) => DEFAULT_SCHEMA.to_string(),
        };
        check_schema(&schema)?;
        let mut config = tokio_postgres::Config::from_str(&url).map_err(|e| {
            format!("the state URL is not a PostgreSQL connection URL that mspform can use: {e}")
        })?;
        if config.get_user().is_none() {
            let user = ["PGUSER", "USER", "LOGNAME"]
                .iter()
                .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
                .ok_or("the state URL names no user (postgres://USER@HOST/DB), and neither PGUSER nor USER is set")?;
            config.user(user);
        }
        if config.get_hosts().is_empty() {
            config.host(std::env::var("PGHOST").unwrap_or_else(|_| "localhost".into()));
        }
        if config.get_ports().is_empty()
            && let Some(port) = std::env::var("PGPORT").ok().and_then(|p| p.parse().ok())
        {
            config.port(port);
        }
        if config.get_password().is_none()
            && let Some(password) = password_from_env(&config)
        {
            config.password(password);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.keepalives(true).keepalives_idle(KEEPALIVE_IDLE);
        Ok(StateLocation::Postgres(Box::new(PgTarget {
            config,
            schema,
        })))
    }
}

impl PgTarget {
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The connection settings, naming this run in `pg_stat_activity`.
    pub fn config(&self, application_name: &str) -> tokio_postgres::Config {
        let mut c = self.config.clone();
        c.application_name(application_name);
        c
    }

    /// The same database with another schema.
    pub fn with_schema(&self, schema: &str) -> Result<PgTarget, String> {
        check_schema(schema)?;
        Ok(PgTarget {
            config: self.config.clone(),
            schema: schema.to_string(),
        })
    }
}

/// `PGPASSWORD`, else the matching line of the password file.
fn password_from_env(config: &tokio_postgres::Config) -> Option<String> {
    if let Ok(p) = std::env::var("PGPASSWORD")
        && !p.is_empty()
    {
        return Some(p);
    }
    let file = match std::env::var_os("PGPASSFILE") {
        Some(f) => PathBuf::from(f),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".pgpass"),
    };
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        _ => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("");
    let db = config.get_dbname().unwrap_or(user);
    pgpass_lookup(&file, &host, port, db, user)
}

/// The password for (host, port, db, user) in a libpq password file. A file
/// that group or others can read is ignored with a warning, as libpq does.
pub fn pgpass_lookup(file: &Path, host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                "the password file {} can be read by group or others (mode {:04o}); it is ignored, as libpq does: chmod 0600 it",
                file.display(),
                mode & 0o7777
            );
            return None;
        }
    }
    let text = std::fs::read_to_string(file).ok()?;
    let port = port.to_string();
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = pgpass_fields(line);
        if fields.len() < 5 {
            continue;
        }
        let matches = |field: &str, value: &str| field == "*" || field == value;
        if matches(&fields[0], host)
            && matches(&fields[1], &port)
            && matches(&fields[2], db)
            && matches(&fields[3], user)
        {
            return Some(fields[4..].join(":"));
        }
    }
    None
}

/// Splits a password-file line at unescaped colons, undoing `\:` and `\\`.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next()
                    && let Some(last) = fields.last_mut()
                {
                    last.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(last) = fields.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(text: &str, schema: Option<&str>) -> PgTarget {
        match StateLocation::parse(text, schema).unwrap() {
            StateLocation::Postgres(t) => *t,
            StateLocation::Dir(d) => panic!("a directory: {}", d.display()),
        }
    }

    #[test]
    fn a_directory_or_a_url_and_the_schema_from_either_place() {
        assert!(matches!(
            StateLocation::parse("state", None).unwrap(),
            StateLocation::Dir(_)
        ));
        assert!(StateLocation::parse("state", Some("x")).is_err());
        let t = pg("postgres://ci:s3cret-pw@db.example:6543/infra", None);
        assert_eq!(t.schema(), DEFAULT_SCHEMA);
        let shown = t.to_string();
        assert_eq!(
            shown,
            "postgres://ci@db.example:6543/infra (schema mspform)"
        );
        assert!(!format!("{t:?}").contains("s3cret-pw"));
        let t = pg(
            "postgresql://ci:pw@db/infra?sslmode=disable&schema=acme_msp",
            None,
        );
        assert_eq!(t.schema(), "acme_msp");
        assert_eq!(
            t.config("x").get_ssl_mode(),
            tokio_postgres::config::SslMode::Disable
        );
        assert_eq!(pg("postgres://ci@db/infra", Some("b")).schema(), "b");
        let both = StateLocation::parse("postgres://ci@db/i?schema=a", Some("b"))
            .err()
            .unwrap();
        assert!(both.contains("schema=a") && both.contains("b"), "{both}");
        for bad in ["Acme", "a-b", "pg_x", "", "a;drop"] {
            assert!(check_schema(bad).is_err(), "{bad}");
        }
        let err = StateLocation::parse("postgres://ci:topsecret@db/i?bogus=1", None)
            .err()
            .unwrap();
        assert!(!err.contains("topsecret"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn the_password_file_is_read_as_libpq_reads_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:*:ci:wrong\ndb.example:*:infra:ci:pa\\:ss\\\\word\n*:*:*:*:fallback\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            pgpass_lookup(&file, "db.example", 6543, "infra", "ci").as_deref(),
            Some("pa:ss\\word")
        );
        assert_eq!(
            pgpass_lookup(&file, "elsewhere", 5432, "x", "y").as_deref(),
            Some("fallback")
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            pgpass_lookup(&file, "db.example", 6543, "infra", "ci"),
            None,
            "a file others can read is ignored"
        );
    }
}
