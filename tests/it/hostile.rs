//! A corpus of hostile configurations, generated here into temporary
//! directories from the four-vendor example (pointed at an in-process
//! simulator, every secret in a file): symbolic links, loops, unreadable and
//! special files, empty files, 10 MB files, 50,000-deep nesting, binary garbage,
//! invalid UTF-8, control characters, case-only duplicates, unset secrets, type
//! and length errors. Every one is refused with a clear error at its file (and
//! line and column where one exists): in process, and through the real binary
//! with 0 panics and 0 vendor calls. The cases are in `hostile/`.

mod files;
mod values;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mspform::config::{ConfigErrors, check_secrets, load};
use mspform::sim::Simulator;

use crate::cli::{args, run};
use crate::support::*;

/// What a case must report: these fragments, all on one error's first line
/// (`file:line:col: key: message`), e.g. the place and the message.
pub(super) struct Case {
    name: String,
    /// The `-c` path.
    config: PathBuf,
    expect: Vec<String>,
}

/// Builds cases, each in its own copy of the example.
pub(super) struct Corpus<'a> {
    sim: &'a Simulator,
    root: PathBuf,
    copies: usize,
    pub(super) cases: Vec<Case>,
}

impl Corpus<'_> {
    /// A fresh copy of the example (secrets in files); returns `(dir, conf)`.
    pub(super) fn copy(&mut self) -> (PathBuf, PathBuf) {
        self.copies += 1;
        let dir = self.root.join(format!("{:03}", self.copies));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = write_mixed(self.sim, &dir);
        (dir, conf)
    }

    pub(super) fn add(&mut self, name: impl Into<String>, config: PathBuf, expect: Vec<String>) {
        self.cases.push(Case {
            name: name.into(),
            config,
            expect,
        });
    }

    /// Replaces the first `from` (after `prefix`) in `file` by `to`; the error
    /// is expected at the start of `to` (`file:line:col`), with `message` in it.
    pub(super) fn replace(
        &mut self,
        name: impl Into<String>,
        file: &str,
        (prefix, from): (&str, &str),
        to: &str,
        message: &str,
    ) {
        let name = name.into();
        let (_, conf) = self.copy();
        let path = conf.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let at = text
            .find(&format!("{prefix}{from}"))
            .unwrap_or_else(|| panic!("{name}: {file} holds {prefix}{from:?}"))
            + prefix.len();
        let before = &text[..at];
        let line = before.matches('\n').count() + 1;
        let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
            .chars()
            .count()
            + 1;
        let changed = format!("{before}{to}{}", &text[at + from.len()..]);
        std::fs::write(&path, changed).unwrap();
        let place = format!("{}:{line}:{column}: ", path.display());
        self.add(name, conf, vec![place, message.to_string()]);
    }

    /// Adds a file to a copy of the example.
    pub(super) fn with_file(&mut self, name: &str, file: &str, bytes: &[u8], expect: &[&str]) {
        let (_, conf) = self.copy();
        let path = conf.join(file);
        std::fs::write(&path, bytes).unwrap();
        let mut e = vec![path.display().to_string()];
        e.extend(expect.iter().map(|s| s.to_string()));
        self.add(name, conf, e);
    }
}

fn corpus(sim: &Simulator, root: &Path) -> Vec<Case> {
    let mut c = Corpus {
        sim,
        root: root.to_path_buf(),
        copies: 0,
        cases: Vec::new(),
    };
    files::add(&mut c);
    values::add(&mut c);
    c.cases
}

/// Whether one error of `text` (its block: first line, places and help) holds
/// every expected fragment.
fn matches(case: &Case, text: &str) -> bool {
    text.split("\n\n")
        .any(|block| case.expect.iter().all(|e| block.contains(e.as_str())))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_configuration_is_refused_without_a_panic_or_a_vendor_call() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let cases = corpus(&sim, dir.path());
    assert!(cases.len() >= 129, "{} cases", cases.len());
    let state = dir.path().join("state");
    let mut failures = String::new();

    // In process: load and check the secrets, as every command does.
    for case in &cases {
        let result = load(&case.config).and_then(|d| check_secrets(&d));
        match result {
            Ok(()) => writeln!(failures, "{}: loaded", case.name).unwrap(),
            Err(errors @ ConfigErrors(_)) => {
                let text = errors.to_string();
                if !matches(case, &text) {
                    writeln!(
                        failures,
                        "{}: expected {:?} in\n{text}",
                        case.name, case.expect
                    )
                    .unwrap();
                }
                if text.chars().any(|c| c.is_control() && c != '\n') {
                    writeln!(
                        failures,
                        "{}: a control character is shown:\n{text}",
                        case.name
                    )
                    .unwrap();
                }
            }
        }
    }

    // The real binary: exit code 1, a clear error, no panic, no vendor call.
    for case in &cases {
        let out = run(args(&case.config, &state, &["plan"])).await;
        let err = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(1) || err.contains("panicked") {
            writeln!(
                failures,
                "{}: exit {:?} (signal or panic?)\n{err}",
                case.name,
                out.status.code()
            )
            .unwrap();
        } else if !matches(case, &err) {
            writeln!(
                failures,
                "{}: expected {:?} in\n{err}",
                case.name, case.expect
            )
            .unwrap();
        }
    }
    // `apply` and `validate` load the same way: a sample through them too.
    for case in cases.iter().step_by(9) {
        for cmd in [&["apply", "--auto-approve"][..], &["validate"]] {
            let out = run(args(&case.config, &state, cmd)).await;
            if out.status.code() != Some(1) {
                writeln!(
                    failures,
                    "{} ({cmd:?}): exit {:?}",
                    case.name,
                    out.status.code()
                )
                .unwrap();
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
    for vendor in ["aruba", "extreme", "ruckus", "audiocodes"] {
        assert_eq!(sim.total_calls(vendor), 0, "no call to {vendor}");
    }
    assert!(!state.exists(), "no state was opened");
}
