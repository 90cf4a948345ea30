//! One run of the real CLI binary as a child process, measured.
//!
//! How: the child is spawned with stdout and stderr going to files (no pipe can
//! fill up), then waited for on a blocking thread (`waitid` with `WNOWAIT`, so
//! the benchmark itself wakes once, not every few milliseconds beside the child
//! it measures) and reaped with `wait4`, while the in-process simulator keeps
//! serving. `wait4` hands back the child's own resource usage:
//! `ru_utime + ru_stime` is its CPU time and
//! `ru_maxrss` its peak resident set (kilobytes on Linux), both for that one
//! process, not for the benchmark. Wall time runs from spawn to the child's end.
//! A child still running after the timeout is killed (SIGKILL, by its pid, while
//! it is certainly not reaped yet) and reported as such.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// What one child run did.
#[derive(Clone, Debug)]
pub struct ChildRun {
    /// The command line after the binary, for the report.
    pub args: Vec<String>,
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub timed_out: bool,
    pub wall: Duration,
    pub cpu: Duration,
    pub max_rss_kb: u64,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl ChildRun {
    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn stdout_text(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// The first non-empty line of stderr (or of stdout when stderr is empty).
    pub fn first_line(&self) -> String {
        let err = self.stderr_text();
        let text = if err.trim().is_empty() {
            self.stdout_text()
        } else {
            err
        };
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("(no output)")
            .to_string()
    }

    /// A clap usage error (exit 1, with clap's usage text): the flag or
    /// subcommand does not exist (yet).
    pub fn is_usage_error(&self) -> bool {
        let err = self.stderr_text();
        self.code == Some(1)
            && (err.contains("\nUsage:") || err.starts_with("Usage:"))
            && (err.contains("unexpected argument")
                || err.contains("unrecognized subcommand")
                || err.contains("invalid value")
                || err.contains("error:"))
    }
}

/// Runs `bin args` in `dir` with `env` added to a cleaned environment; output
/// files are named after `label`.
pub fn run(
    bin: &Path,
    args: &[String],
    env: &[(String, String)],
    dir: &Path,
    label: &str,
    timeout: Duration,
) -> anyhow::Result<ChildRun> {
    let stdout = dir.join(format!("{label}.stdout"));
    let stderr = dir.join(format!("{label}.stderr"));
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).context("stdout file")?)
        .stderr(std::fs::File::create(&stderr).context("stderr file")?);
    for (k, _) in std::env::vars() {
        if k.starts_with("MSPFORM_") || k == "RUST_LOG" || k == "CI" {
            cmd.env_remove(k);
        }
    }
    cmd.env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let pid = libc::pid_t::try_from(child.id()).context("pid out of range")?;
    // Reaped below with wait4; `child` is never waited on (dropping it does not wait).
    drop(child);
    let (timed_out, status, usage) = reap(pid, start, timeout)?;
    let wall = start.elapsed();
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ok(ChildRun {
        args: args.to_vec(),
        code,
        timed_out,
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_kb: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        stdout,
        stderr,
    })
}

/// Waits for the child `pid` to end (killing it at `timeout`) and reaps it:
/// whether it was killed, its wait status and its resource usage. The wait
/// blocks (`waitid` with `WNOWAIT`: the child ends but stays unreaped), so
/// the benchmark wakes once, not every few milliseconds beside the child it
/// measures. A second thread kills the child at the timeout; it only does so
/// before the child is reaped, so the pid it signals is still this child.
fn reap(
    pid: libc::pid_t,
    start: Instant,
    timeout: Duration,
) -> anyhow::Result<(bool, libc::c_int, libc::rusage)> {
    use std::sync::{Condvar, Mutex};
    // Set (under the lock) once the child has ended, before it is reaped.
    let ended = (Mutex::new(false), Condvar::new());
    let timed_out = std::thread::scope(|scope| -> anyhow::Result<bool> {
        let killer = scope.spawn(|| {
            let left = timeout.saturating_sub(start.elapsed());
            let guard = ended.0.lock().unwrap_or_else(|e| e.into_inner());
            let (guard, _) = ended
                .1
                .wait_timeout_while(guard, left, |ended| !*ended)
                .unwrap_or_else(|e| e.into_inner());
            if *guard {
                return false;
            }
            // SAFETY: the child is not reaped (that waits for `ended`, whose
            // lock is held here), so the pid is still ours.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            true
        });
        let waited = wait_ended(pid);
        *ended.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
        ended.1.notify_all();
        let killed = killer.join().unwrap_or(false);
        waited?;
        Ok(killed)
    })?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; an all-zero value is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own child, ended and not reaped yet; status and
        // usage are valid pointers.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((timed_out, status, usage));
        }
        let e = std::io::Error::last_os_error();
        if r >= 0 || e.kind() != std::io::ErrorKind::Interrupted {
            bail!("wait4 on child {pid}: {e}");
        }
    }
}

/// Blocks until the child `pid` has ended, leaving it unreaped.
fn wait_ended(pid: libc::pid_t) -> anyhow::Result<()> {
    loop {
        // SAFETY: siginfo_t is plain old data; an all-zero value is valid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: pid is our own unreaped child; info is a valid pointer.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                libc::id_t::try_from(pid).unwrap_or(0),
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            bail!("waitid on child {pid}: {e}");
        }
    }
}
