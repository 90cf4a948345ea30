//! The options several commands share (`-c`, `--state`, `--state-schema`,
//! `--lock-timeout`, `-v`, `--log-format`): one `clap::Args` group each, which
//! a command flattens into its own arguments when it reads them, so each
//! command's help lists exactly those, under "Global options", and rejects
//! the others. Given before the command (`mspform -c dir plan`, the form the
//! options had when they were global) they are still accepted: [`Early`]
//! holds those hidden top-level copies and [`merge`] hands them to the
//! command. Parsing only; nothing here opens a file.

use std::path::PathBuf;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args};

use super::{CliError, DEFAULT_CONFIG, LogFormat, parse_duration};
use crate::state::StateLocation;

/// The help heading of the shared options.
pub const HEADING: &str = "Global options";

/// `-c/--config`: for the commands that read the configuration.
#[derive(Debug, Clone, Args)]
pub struct ConfigArg {
    /// Configuration: a TOML file or a directory of them.
    #[arg(
        short = 'c',
        long = "config",
        help_heading = HEADING,
        default_value = DEFAULT_CONFIG,
        env = "MSPFORM_CONFIG"
    )]
    pub config: PathBuf,
}

/// `--state` and `--state-schema`: for the commands that read or write the state.
#[derive(Debug, Clone, Args)]
pub struct StateArgs {
    /// Where the state lives: a directory (sled, local) or a postgres:// or
    /// postgresql:// URL (shared by a team and its CI runners). The password
    /// comes from the URL, PGPASSWORD or ~/.pgpass.
    #[arg(
        long = "state",
        help_heading = HEADING,
        default_value = "state",
        env = "MSPFORM_STATE",
        value_name = "DIR_OR_URL"
    )]
    pub state: String,
    /// The PostgreSQL schema of the state (default `mspform`), so several
    /// portfolios can share one database; also `?schema=NAME` in the URL.
    #[arg(
        long = "state-schema",
        help_heading = HEADING,
        env = "MSPFORM_STATE_SCHEMA",
        value_name = "NAME"
    )]
    pub state_schema: Option<String>,
}

impl StateArgs {
    /// Where `--state` (and `--state-schema`) point.
    pub fn location(&self) -> Result<StateLocation, CliError> {
        StateLocation::parse(&self.state, self.state_schema.as_deref())
            .map_err(|e| CliError::Other(format!("--state: {e}")))
    }
}

/// `--lock-timeout`: for the commands that write the state under its lock.
#[derive(Debug, Clone, Args)]
pub struct LockArg {
    /// How long to wait for another run's lock on the state before exiting 3:
    /// e.g. 0 (the default), 30s, 5m, 1h.
    #[arg(
        long = "lock-timeout",
        help_heading = HEADING,
        default_value = "0",
        env = "MSPFORM_LOCK_TIMEOUT",
        value_name = "DURATION",
        value_parser = parse_duration
    )]
    pub lock_timeout: Duration,
}

/// `--log-format` alone: for a command whose logs have no levels to raise
/// (the simulator logs warnings only).
#[derive(Debug, Clone, Args)]
pub struct LogFormatArg {
    /// The log lines' format on stderr: text, or json for log shippers.
    #[arg(
        long = "log-format",
        help_heading = HEADING,
        value_enum,
        default_value = "text",
        env = "MSPFORM_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
}

/// `-v` and `--log-format`: for the commands that log (vendor calls, the
/// state, the files they read).
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// More log output on stderr (-v info: every vendor call with its status
    /// and time; -vv debug). MSPFORM_LOG overrides.
    #[arg(
        short = 'v',
        long = "verbose",
        help_heading = HEADING,
        action = clap::ArgAction::Count
    )]
    pub verbose: u8,
    #[command(flatten)]
    pub format: LogFormatArg,
}

/// The shared options given before the command, hidden from the help: the
/// command's own copy wins when both are given; these win over the
/// environment and the defaults, as they did when the options were global. A
/// command that does not read one ignores it, as it always did.
#[derive(Debug, Clone, Default, Args)]
pub struct Early {
    #[arg(short = 'c', long = "config", hide = true)]
    pub config: Option<PathBuf>,
    #[arg(long = "state", hide = true)]
    pub state: Option<String>,
    #[arg(long = "state-schema", hide = true)]
    pub state_schema: Option<String>,
    #[arg(long = "lock-timeout", hide = true, value_parser = parse_duration)]
    pub lock_timeout: Option<Duration>,
    #[arg(short = 'v', long = "verbose", hide = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[arg(long = "log-format", hide = true, value_enum)]
    pub log_format: Option<LogFormat>,
}

/// The shared options one command reads (`None`: it does not take that one).
#[derive(Default)]
pub struct Uses<'a> {
    pub config: Option<&'a mut ConfigArg>,
    pub state: Option<&'a mut StateArgs>,
    pub lock: Option<&'a mut LockArg>,
    pub verbose: Option<&'a mut u8>,
    pub log_format: Option<&'a mut LogFormat>,
}

impl<'a> Uses<'a> {
    pub fn config(self, c: &'a mut ConfigArg) -> Self {
        Self {
            config: Some(c),
            ..self
        }
    }

    pub fn state(self, s: &'a mut StateArgs) -> Self {
        Self {
            state: Some(s),
            ..self
        }
    }

    pub fn lock(self, l: &'a mut LockArg) -> Self {
        Self {
            lock: Some(l),
            ..self
        }
    }

    pub fn log(self, l: &'a mut LogArgs) -> Self {
        Self {
            verbose: Some(&mut l.verbose),
            ..self.log_format(&mut l.format)
        }
    }

    pub fn log_format(self, f: &'a mut LogFormatArg) -> Self {
        Self {
            log_format: Some(&mut f.log_format),
            ..self
        }
    }

    /// The logging this command asked for: its `-v` count and `--log-format`.
    pub fn logging(&self) -> (u8, LogFormat) {
        (
            self.verbose.as_deref().copied().unwrap_or(0),
            self.log_format
                .as_deref()
                .copied()
                .unwrap_or(LogFormat::Text),
        )
    }
}

/// The matches of the innermost subcommand (`state rm` → `rm`'s).
pub fn leaf(matches: &ArgMatches) -> &ArgMatches {
    let mut here = matches;
    while let Some((_, sub)) = here.subcommand() {
        here = sub;
    }
    here
}

/// Hands the options given before the command to the command (`leaf`: its
/// matches), unless it was given its own on the command line. `-v` counts
/// add up.
pub fn merge(early: &Early, uses: Uses<'_>, leaf: &ArgMatches) {
    // Only asked for ids the command has: clap checks that in debug builds.
    let own = |id: &str| leaf.value_source(id) == Some(ValueSource::CommandLine);
    if let (Some(c), Some(v)) = (uses.config, &early.config)
        && !own("config")
    {
        c.config = v.clone();
    }
    if let Some(s) = uses.state {
        if let Some(v) = &early.state
            && !own("state")
        {
            s.state = v.clone();
        }
        if let Some(v) = &early.state_schema
            && !own("state_schema")
        {
            s.state_schema = Some(v.clone());
        }
    }
    if let (Some(l), Some(v)) = (uses.lock, early.lock_timeout)
        && !own("lock_timeout")
    {
        l.lock_timeout = v;
    }
    if let Some(v) = uses.verbose {
        *v = v.saturating_add(early.verbose);
    }
    if let (Some(f), Some(v)) = (uses.log_format, early.log_format)
        && !own("log_format")
    {
        *f = v;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::CommandFactory;

    use super::super::{Cli, Command, parse_from};
    use super::*;
    use crate::cli::state::StateCommand;

    /// The long help of `mspform PATH…`, as `mspform PATH… --help` prints it.
    fn help(path: &[&str]) -> String {
        let mut cmd = Cli::command();
        cmd.build();
        let mut here = &mut cmd;
        for name in path {
            here = here
                .find_subcommand_mut(name)
                .unwrap_or_else(|| panic!("no command {name}"));
        }
        here.render_long_help().to_string()
    }

    /// The part of a help under "Global options:" (up to the examples).
    fn global_section(help: &str) -> &str {
        let start = help.find("Global options:").unwrap_or(help.len());
        let end = help[start..]
            .find("Examples:")
            .map_or(help.len(), |e| start + e);
        &help[start..end]
    }

    #[test]
    fn each_command_s_help_lists_only_the_shared_options_it_reads() {
        let completions = help(&["completions"]);
        for option in [
            "--config",
            "--state",
            "--state-schema",
            "--lock-timeout",
            "--verbose",
            "--log-format",
        ] {
            assert!(!completions.contains(option), "{option}:\n{completions}");
        }
        assert!(!completions.contains("Global options"), "{completions}");

        let plan = help(&["plan"]);
        let globals = global_section(&plan);
        for option in [
            "-c, --config",
            "--state <",
            "--state-schema",
            "-v, --verbose",
        ] {
            assert!(
                globals.contains(option),
                "{option} under the heading:\n{plan}"
            );
            let before = &plan[..plan.find("Global options:").unwrap_or(0)];
            assert!(
                !before.contains(option),
                "{option} above the heading:\n{plan}"
            );
        }
        assert!(globals.contains("MSPFORM_CONFIG"), "{plan}");
        assert!(
            !plan.contains("--lock-timeout"),
            "plan takes no lock:\n{plan}"
        );

        let validate = help(&["validate"]);
        assert!(
            global_section(&validate).contains("-c, --config"),
            "{validate}"
        );
        for option in ["--lock-timeout", "--state"] {
            assert!(!validate.contains(option), "{option}:\n{validate}");
        }

        let rm = help(&["state", "rm"]);
        assert!(global_section(&rm).contains("--lock-timeout"), "{rm}");
        assert!(!rm.contains("--config"), "{rm}");
        assert!(!help(&["state", "list"]).contains("--lock-timeout"));

        let top = help(&[]);
        for option in [
            "--state <",
            "--lock-timeout",
            "--log-format",
            "Global options:",
        ] {
            assert!(
                !top.contains(option),
                "{option} is hidden at the top:\n{top}"
            );
        }
    }

    /// Every leaf command against the table of what it reads; a command not
    /// in the table (e.g. a new one) must take none of the shared options.
    #[test]
    fn the_shared_options_of_every_command() {
        const CONFIG: &str = "config";
        const STATE: [&str; 2] = ["state", "state-schema"];
        const LOCK: &str = "lock-timeout";
        const LOG: [&str; 2] = ["verbose", "log-format"];
        let with = |parts: &[&[&str]]| -> Vec<String> {
            let mut v: Vec<String> = parts.concat().iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        };
        let read_state = with(&[&STATE, &LOG]);
        let write_state = with(&[&STATE, &[LOCK], &LOG]);
        let table: Vec<(&str, Vec<String>)> = vec![
            ("validate", with(&[&[CONFIG], &LOG])),
            ("plan", with(&[&[CONFIG], &STATE, &LOG])),
            ("drift", with(&[&[CONFIG], &STATE, &LOG])),
            ("import", with(&[&[CONFIG], &STATE, &LOG])),
            ("apply", with(&[&[CONFIG], &STATE, &[LOCK], &LOG])),
            ("demo", with(&[&[CONFIG], &LOG])),
            ("sim serve", with(&[&["log-format"]])),
            ("state list", read_state.clone()),
            ("state show", read_state.clone()),
            ("state journal", read_state.clone()),
            ("state export", read_state.clone()),
            ("state force-unlock", read_state.clone()),
            ("force-unlock", read_state.clone()),
            ("state rm", write_state.clone()),
            ("state unprotect", write_state.clone()),
            ("state import", write_state.clone()),
            ("state migrate", write_state.clone()),
        ];
        let shared = with(&[&[CONFIG], &STATE, &[LOCK], &LOG]);
        fn leaves(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
            let subs: Vec<_> = cmd
                .get_subcommands()
                .filter(|s| s.get_name() != "help")
                .collect();
            if subs.is_empty() {
                out.push((path.trim().to_string(), cmd.clone()));
            }
            for s in subs {
                leaves(s, &format!("{path} {}", s.get_name()), out);
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut all = Vec::new();
        for s in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            leaves(s, s.get_name(), &mut all);
        }
        let mut seen = 0;
        for (path, leaf) in &all {
            let mut has: Vec<String> = leaf
                .get_arguments()
                .filter_map(|a| a.get_long())
                .filter(|l| shared.iter().any(|s| s == l))
                .map(str::to_string)
                .collect();
            has.sort();
            for a in leaf.get_arguments() {
                if a.get_long().is_some_and(|l| shared.iter().any(|s| s == l)) {
                    assert_eq!(a.get_help_heading(), Some(HEADING), "{path}: {a:?}");
                    assert!(!a.is_hide_set(), "{path}: {a:?}");
                }
            }
            let want = table
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, w)| w.clone())
                .unwrap_or_default();
            seen += usize::from(table.iter().any(|(p, _)| p == path));
            assert_eq!(has, want, "{path}");
        }
        // Every row names a command that exists (with the sim feature, all of them).
        if cfg!(feature = "sim") {
            assert_eq!(seen, table.len());
        }
    }

    /// The words of the first `mspform …` command on an example line, as a
    /// shell splits them (quotes removed), up to a comment, pipe, redirect or `&&`.
    fn example_words(line: &str) -> Option<Vec<String>> {
        let start = line.find("mspform ")?;
        let (mut words, mut word, mut quote) = (Vec::new(), String::new(), None);
        let mut nested = 0; // inside `$(…)`, a space does not split
        for ch in line[start..].chars() {
            match (quote, ch) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), c) => word.push(c),
                (None, '\'' | '"') => quote = Some(ch),
                (None, '(') if word.ends_with('$') => {
                    nested += 1;
                    word.push(ch);
                }
                (None, ')') if nested > 0 => {
                    nested -= 1;
                    word.push(ch);
                }
                (None, ' ') if nested > 0 => word.push(ch),
                (None, ' ') => {
                    if !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                }
                (None, c) => word.push(c),
            }
        }
        words.push(word);
        let end = words
            .iter()
            .position(|w| ["#", "|", ">", "&&"].contains(&w.as_str()))
            .unwrap_or(words.len());
        words.truncate(end);
        Some(words)
    }

    /// Each command's help examples parse: none passes an option the command
    /// does not take.
    #[test]
    fn every_help_example_parses() {
        fn walk(cmd: &clap::Command, examples: &mut Vec<String>) {
            if let Some(help) = cmd.get_after_help().map(|h| h.to_string())
                && let Some(listed) = help.strip_prefix("Examples:")
            {
                examples.extend(listed.lines().map(str::to_string));
            }
            for sub in cmd.get_subcommands() {
                walk(sub, examples);
            }
        }
        let mut lines = Vec::new();
        walk(&Cli::command(), &mut lines);
        let mut parsed = 0;
        for line in &lines {
            let Some(words) = example_words(line) else {
                continue;
            };
            if let Err(e) = parse_from(&words) {
                panic!("{line}: {e}");
            }
            parsed += 1;
        }
        assert!(parsed > 30, "{parsed} examples");
    }

    fn parse(args: &[&str]) -> Cli {
        parse_from(std::iter::once("mspform").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn a_command_rejects_the_shared_options_it_does_not_read() {
        for args in [
            &["completions", "bash", "--state", "s"][..],
            &["man", "-c", "x"],
            &["init", "--lock-timeout", "5m"],
            &["validate", "--state", "s"],
            &["plan", "--lock-timeout", "5m"],
            &["state", "list", "-c", "x"],
        ] {
            let err = parse_from(std::iter::once("mspform").chain(args.iter().copied()))
                .err()
                .unwrap_or_else(|| panic!("{args:?} was accepted"));
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{args:?}"
            );
        }
    }

    #[test]
    fn options_before_the_command_still_reach_it_and_its_own_win() {
        let cli = parse(&[
            "-c",
            "early-conf",
            "--state",
            "early-state",
            "--state-schema",
            "early",
            "--lock-timeout",
            "5m",
            "-v",
            "--log-format",
            "json",
            "apply",
            "-v",
        ]);
        let Command::Apply(a) = &cli.command else {
            panic!("{cli:?}")
        };
        assert_eq!(a.config.config, Path::new("early-conf"));
        assert_eq!(a.state.state, "early-state");
        assert_eq!(a.state.state_schema.as_deref(), Some("early"));
        assert_eq!(a.lock.lock_timeout, Duration::from_secs(300));
        assert_eq!(
            (a.log.verbose, a.log.format.log_format),
            (2, LogFormat::Json)
        );

        let cli = parse(&[
            "-c",
            "early-conf",
            "--state",
            "early-state",
            "plan",
            "-c",
            "own-conf",
            "--state=own-state",
        ]);
        let Command::Plan(p) = &cli.command else {
            panic!("{cli:?}")
        };
        assert_eq!(p.config.config, Path::new("own-conf"));
        assert_eq!(p.state.state, "own-state");

        let mut cli = parse(&[
            "--state",
            "early-state",
            "--lock-timeout",
            "1h",
            "state",
            "rm",
            "x",
        ]);
        let Command::State(StateCommand::Rm { on, .. }) = &cli.command else {
            panic!("{cli:?}")
        };
        assert_eq!(on.at.state, "early-state");
        assert_eq!(on.lock.lock_timeout, Duration::from_secs(3600));
        assert_eq!(cli.command.uses().logging(), (0, LogFormat::Text));

        // A command that reads none of them ignores them there, as it always did.
        let cli = parse(&["-c", "x", "--state", "s", "completions", "bash"]);
        assert!(
            matches!(cli.command, Command::Completions { .. }),
            "{cli:?}"
        );
    }
}
