//! A throwaway PostgreSQL cluster for tests (test builds and the `sim`
//! feature only; a production build has none): `initdb` in a temporary
//! directory, `postgres` on a free port on 127.0.0.1, password authentication
//! over TCP. Started once per test binary ([`shared`]); each test takes its own
//! schema ([`Cluster::fresh_schema`]).
//!
//! - The binaries come from `MSPFORM_PG_BIN`, else `initdb` on `PATH`, else the
//!   newest `/usr/lib/postgresql/<version>/bin` (Debian's `postgresql`).
//! - `initdb` refuses to run as root: as root, the cluster runs as `nobody`
//!   (through `setpriv`), in a directory that user owns.
//! - A watchdog (`sh`, in its own process group) stops the cluster and removes its
//!   directory once the test process has exited, however it exits.
//! - Missing PostgreSQL: [`shared`] returns `None` after saying loudly on
//!   stderr that the test is skipped and how to install it; with
//!   `MSPFORM_REQUIRE_PG=1` (set by `.ci/run`) it panics instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The superuser the tests connect as, and its password.
pub const USER: &str = "mspform";
pub const PASSWORD: &str = "throwaway-cluster-pw";

pub const INSTALL: &str = "install PostgreSQL (Debian/Ubuntu: `sudo apt-get install -y postgresql`), or point MSPFORM_PG_BIN at a directory holding initdb and pg_ctl";

pub struct Cluster {
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
    run_as: Option<(u32, u32)>,
}

static SCHEMAS: AtomicU32 = AtomicU32::new(0);

fn find_bin() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(d) = std::env::var_os("MSPFORM_PG_BIN").map(PathBuf::from) {
        return has(&d).then_some(d);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if has(&d) {
                return Some(d);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

/// uid and gid of `nobody` (and its group), from /etc/passwd.
fn nobody() -> Option<(u32, u32)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&"nobody") && f.len() > 3)
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
            .flatten()
    })
}

#[cfg(unix)]
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[cfg(not(unix))]
fn is_root() -> bool {
    false
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

impl Cluster {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.run_as {
            Some((uid, gid)) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg("--")
                    .arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn run(&self, mut c: Command, what: &str) -> Result<(), String> {
        let out = c
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Starts a cluster; `Ok(None)` when PostgreSQL is not installed.
    pub fn start() -> Result<Option<Cluster>, String> {
        let Some(bin) = find_bin() else {
            return Ok(None);
        };
        let run_as = if is_root() {
            Some(
                nobody()
                    .ok_or("running as root, and there is no user `nobody` to run PostgreSQL as")?,
            )
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("mspform-pg-")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?
            .keep();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Some((uid, gid)) = run_as {
                std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                    .map_err(|e| format!("chown {}: {e}", dir.display()))?;
            }
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("chmod {}: {e}", dir.display()))?;
        }
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, PASSWORD).map_err(|e| format!("{}: {e}", pwfile.display()))?;
        #[cfg(unix)]
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", pwfile.display()))?;
        }
        let mut cluster = Cluster {
            port: 0,
            dir,
            bin,
            run_as,
        };
        cluster.watch();
        let data = cluster.dir.join("data");
        let mut init = cluster.command("initdb");
        init.arg("-D")
            .arg(&data)
            .args([
                "-U",
                USER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()));
        cluster.run(init, "initdb")?;
        let mut last = String::new();
        for _ in 0..3 {
            cluster.port = free_port()?;
            let mut ctl = cluster.command("pg_ctl");
            ctl.arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(cluster.dir.join("log"))
                .args(["-w", "-t", "60", "-o"])
                .arg(format!(
                    "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=200",
                    cluster.port,
                    cluster.dir.display()
                ))
                .arg("start");
            match cluster.run(ctl, "pg_ctl start") {
                Ok(()) => return Ok(Some(cluster)),
                Err(e) => last = e,
            }
        }
        let log = std::fs::read_to_string(cluster.dir.join("log")).unwrap_or_default();
        Err(format!("{last}\n{log}"))
    }

    /// Stops the cluster and removes its directory once this process exits.
    fn watch(&self) {
        let stop = match self.run_as {
            Some((uid, gid)) => format!(
                "setpriv --reuid={uid} --regid={gid} --clear-groups -- {}",
                self.bin.join("pg_ctl").display()
            ),
            None => self.bin.join("pg_ctl").display().to_string(),
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} -D '{dir}/data' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            dir = self.dir.display()
        );
        let mut c = Command::new("sh");
        c.args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Its own process group: a Ctrl-C to the test run does not stop it early.
            c.process_group(0);
        }
        let _ = c.spawn();
    }

    /// A URL of the cluster's database with the password in it.
    pub fn url(&self) -> String {
        format!(
            "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// The same URL without the password (it comes from PGPASSWORD or a pgpass file).
    pub fn url_without_password(&self) -> String {
        format!(
            "postgres://{USER}@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// A schema name no other test of this process uses.
    pub fn fresh_schema(&self, tag: &str) -> String {
        let tag: String = tag
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(30)
            .collect();
        format!(
            "t{}_{}_{tag}",
            std::process::id(),
            SCHEMAS.fetch_add(1, Ordering::SeqCst)
        )
    }
}

/// The cluster of this test process, started on first use; `None` (after a
/// loud note on stderr) when PostgreSQL is not installed and
/// `MSPFORM_REQUIRE_PG` is not `1`.
pub fn shared() -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Result<Option<Cluster>, String>> = OnceLock::new();
    let required = std::env::var("MSPFORM_REQUIRE_PG").is_ok_and(|v| v == "1");
    match CLUSTER.get_or_init(Cluster::start) {
        Ok(Some(c)) => Some(c),
        Ok(None) if required => {
            panic!("MSPFORM_REQUIRE_PG=1 but PostgreSQL is not installed: {INSTALL}")
        }
        Ok(None) => {
            // Straight to the process's stderr: the test harness captures
            // eprintln! of a passing test, and this must be seen.
            use std::io::Write;
            static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
            if !SAID.swap(true, Ordering::SeqCst) {
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** SKIPPED: every test that needs PostgreSQL passes without running, because PostgreSQL is not installed here: {INSTALL}. (MSPFORM_REQUIRE_PG=1 makes this a failure.) ***\n"
                );
            }
            None
        }
        Err(e) => panic!("PostgreSQL is installed but a throwaway cluster did not start: {e}"),
    }
}
