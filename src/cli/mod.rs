//! Command-line interface: argument parsing, logging setup, and the one place
//! where results become exit codes. One file per command.

mod apply;
mod bars;
#[cfg(feature = "sim")]
mod demo;
pub mod globals;
mod import;
mod init;
mod plan;
mod progress;
mod schema;
#[cfg(feature = "sim")]
mod sim;
mod state;
mod validate;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::ConfigErrors;
use crate::engine::EngineError;
use crate::model::Desired;
use crate::state::{StateError, StateStore};

/// Exit codes: 0 success or no changes, 1 error, 2 changes present (with
/// --detailed-exitcode, drift), 3 the state is locked by someone else.
pub const EXIT_OK: i32 = 0;
pub const EXIT_ERROR: i32 = 1;
pub const EXIT_CHANGES: i32 = 2;
/// The state's lock is held by another run (after `--lock-timeout`): busy, not broken.
pub const EXIT_LOCKED: i32 = 3;
/// An apply stopped by Ctrl-C (after finishing the calls in flight).
pub const EXIT_INTERRUPTED: i32 = 130;

/// `-c` when not given.
pub const DEFAULT_CONFIG: &str = "mspform.toml";

/// `mspform --version`: the version, the git commit and the build date.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("MSPFORM_COMMIT"),
    ", built ",
    env!("MSPFORM_BUILD_DATE"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "mspform",
    version = VERSION,
    about = "Desired-state management of MSP customer portfolios (Terraform for MSPs)",
    after_help = "Each command lists the options it reads (-c, --state, -v, …) under \"Global options\" in its help: `mspform help plan`."
)]
pub struct Cli {
    /// `-c`, `--state`, … given before the command (hidden; see `globals`).
    #[command(flatten)]
    pub early: globals::Early,
    #[command(subcommand)]
    pub command: Command,
}

/// `--target` and `--exclude`: the part of the portfolio a run reads and plans.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SelectArgs {
    /// Only read and plan the objects matching this address glob (e.g.
    /// customer.acme, 'customer.acme-*', device.AP0000001), what lies inside
    /// them (a customer's sites and devices) and what they depend on (a
    /// device's customer and site). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub target: Vec<String>,
    /// Leave out the objects matching this address glob, what lies inside
    /// them and what depends on them. Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

/// `--max-calls`: what a run may spend.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CallArgs {
    /// Send at most N API calls in this run (refresh and apply together), or
    /// PROVIDER=N for one provider. A run whose estimate exceeds it is refused
    /// before any write; a run that reaches it stops cleanly (nothing more is
    /// sent) and says what remains. Repeatable.
    #[arg(long = "max-calls", value_name = "N|PROVIDER=N")]
    pub max_calls: Vec<String>,
}

impl CallArgs {
    pub fn limits(&self) -> Result<crate::vendor::CallLimits, CliError> {
        crate::vendor::CallLimits::parse(&self.max_calls).map_err(CliError::Other)
    }
}

impl SelectArgs {
    pub fn selection(&self) -> Result<crate::engine::Selection, CliError> {
        crate::engine::Selection::parse(&self.target, &self.exclude).map_err(CliError::Other)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Markdown,
}

impl From<FormatArg> for crate::plan::render::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Text => Self::Text,
            FormatArg::Json => Self::Json,
            FormatArg::Markdown => Self::Markdown,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration and every secret it references, without calling any vendor.
    #[command(
        after_help = "Examples:\n  mspform validate -c portfolio/\n  mspform validate --offline -c portfolio/   # in CI without credentials: the files only"
    )]
    Validate(validate::ValidateArgs),
    /// Read live state and show what apply would change.
    #[command(
        after_help = "Examples:\n  mspform plan -c portfolio/\n  mspform plan --out plan.json --format markdown > plan.md   # a pull request: comment + artifact\n  mspform plan --target 'customer.acme-*' --detailed-exitcode"
    )]
    Plan(plan::PlanArgs),
    /// Make the changes, after showing the plan and asking.
    #[command(
        after_help = "Examples:\n  mspform apply -c portfolio/\n  mspform apply plan.json --lock-timeout 10m   # a saved plan, on merge\n  mspform apply --target customer.acme-retail --max-calls aruba=500"
    )]
    Apply(apply::ApplyArgs),
    /// Report drift from the configuration; exit code 2 when there is any.
    #[command(
        after_help = "Examples:\n  mspform drift --new-only --prometheus /var/lib/node_exporter/textfile_collector/mspform.prom\n  mspform drift --full-every 24h --max-calls aruba=200   # hourly, within Aruba's daily quota"
    )]
    Drift(plan::DriftArgs),
    /// Inspect or edit the state; move it between a directory and PostgreSQL.
    #[command(subcommand)]
    State(state::StateCommand),
    /// Clear a state lock left behind (the same as `state force-unlock ID`).
    #[command(
        after_help = "Examples:\n  mspform force-unlock 7f3c2a91   # the lock ID a \"locked by\" message names"
    )]
    ForceUnlock {
        /// The lock ID the "locked by" message names.
        id: String,
        #[command(flatten)]
        on: state::ReadOpts,
    },
    /// The vendor simulator.
    #[command(subcommand)]
    #[cfg(feature = "sim")]
    Sim(sim::SimCommand),
    /// Print desired-state TOML for live customers (start managing an existing portfolio).
    #[command(
        after_help = "Examples:\n  mspform import -c providers.toml --out portfolio/\n  mspform import -c providers.toml --provider aruba --customer \"Acme Retail\""
    )]
    Import(import::ImportArgs),
    /// Run plan → apply → plan against an embedded simulator with the example files.
    #[cfg(feature = "sim")]
    #[command(
        after_help = "Examples:\n  mspform demo                      # the bundled four-vendor example\n  mspform demo -c examples/portfolio"
    )]
    Demo(demo::DemoArgs),
    /// Write a starter configuration: providers.toml and one example customer per vendor.
    #[command(
        after_help = "Examples:\n  mspform init --dir portfolio\n  mspform init --provider aruba-central --provider ruckus-one --dir portfolio"
    )]
    Init(init::InitArgs),
    /// Print the JSON Schema of the configuration, for editors (taplo, VS Code).
    #[command(
        after_help = "Examples:\n  mspform schema > mspform.schema.json   # files name it: #:schema ./mspform.schema.json\n  mspform schema --out portfolio/mspform.schema.json"
    )]
    Schema(schema::SchemaArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Examples:\n  mspform completions bash > ~/.local/share/bash-completion/completions/mspform\n  mspform completions zsh > \"${fpath[1]}/_mspform\"\n  mspform completions fish > ~/.config/fish/completions/mspform.fish"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write man pages: one for mspform and one per subcommand (mspform-plan.1, …).
    #[command(
        after_help = "Examples:\n  mspform man --out ~/.local/share/man/man1 && man mspform-apply\n  mspform man | man -l -"
    )]
    Man {
        /// The directory to write the pages into (created if missing);
        /// without it, the main page goes to stdout.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// How a plan is shown on stdout: word diffs only where colour is on (their
/// markers are unreadable without it), the unmanaged list on request.
pub fn text_options(show_unmanaged: bool) -> crate::plan::render::TextOptions {
    let colour = anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
    crate::plan::render::TextOptions {
        word_diff: colour,
        list_unmanaged: show_unmanaged,
    }
}

/// Emits `run_started` (with the providers the configuration declares, when
/// it loads) and returns the start time for [`run_finished`].
fn run_started(command: &str, config: &Path) -> std::time::Instant {
    if crate::events::wanted() {
        let providers = crate::config::load(config)
            .map(|d| d.providers.keys().cloned().collect())
            .unwrap_or_default();
        crate::events::emit(crate::events::Event::RunStarted {
            command: command.into(),
            providers,
        });
    }
    std::time::Instant::now()
}

/// Emits `run_finished`: whether the command succeeded, the API calls it
/// sent, and how long it took.
fn run_finished(result: &Result<Status, CliError>, started: std::time::Instant) {
    crate::events::emit(crate::events::Event::RunFinished {
        ok: matches!(result, Ok(Status::Ok | Status::Changes)),
        calls: crate::vendor::transport::calls_in_process(),
        seconds: started.elapsed().as_secs_f64(),
    });
}

/// `mspform completions SHELL`: the script on stdout.
fn completions(shell: clap_complete::Shell) -> Result<Status, CliError> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    // Generated into memory: clap_complete panics when its writer fails
    // (`mspform completions bash | head`).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "mspform", &mut script);
    print_stdout(&script, "the completion script")?;
    Ok(Status::Ok)
}

/// Writes `bytes` (`what`, for the error) to stdout. A reader that left early
/// (`| head`) is not an error: nothing is lost.
pub(crate) fn print_stdout(bytes: &[u8], what: &str) -> Result<(), CliError> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Other(format!("cannot write {what}: {e}"))),
        Ok(()) => Ok(()),
    }
}

/// `mspform man [--out DIR]`: roff pages.
fn man(out: Option<&Path>) -> Result<Status, CliError> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let failed = |e: std::io::Error| CliError::Other(format!("cannot write the man pages: {e}"));
    match out {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(failed)?;
            clap_mangen::generate_to(cmd, dir).map_err(failed)?;
            println!("Wrote the man pages into {}", dir.display());
        }
        None => clap_mangen::Man::new(cmd)
            .render(&mut std::io::stdout())
            .map_err(failed)?,
    }
    Ok(Status::Ok)
}

/// Why a command failed; decides the message and the exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    #[error("{0}")]
    Engine(#[from] EngineError),
    #[error("{0}")]
    State(#[from] StateError),
    /// Providers that could not be read; the output covers the others only.
    #[error(
        "{} provider(s) could not be read, so the output above covers the others only:\n{}",
        .0.len(),
        .0.iter().map(|u| format!("  - {}", u.error)).collect::<Vec<_>>().join("\n")
    )]
    Unavailable(Vec<crate::plan::Unavailable>),
    #[error("{0}")]
    Other(String),
}

/// What a successful command reports.
pub enum Status {
    Ok,
    Changes,
    Failed,
    /// Stopped by Ctrl-C.
    Interrupted,
}

/// `0`, `500ms`, `30s`, `5m`, `1h` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration: use e.g. 0, 30s, 5m, 1h or 1d"))?;
    let d = match unit.trim() {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        "d" => Duration::from_secs(n.saturating_mul(86_400)),
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?}; use ms, s, m, h or d"
            ));
        }
    };
    Ok(d)
}

pub fn exit_code(result: &Result<Status, CliError>) -> i32 {
    match result {
        Err(CliError::State(StateError::Locked { .. } | StateError::LockUnclear { .. })) => {
            EXIT_LOCKED
        }
        Ok(Status::Ok) => EXIT_OK,
        Ok(Status::Changes) => EXIT_CHANGES,
        Ok(Status::Interrupted) => EXIT_INTERRUPTED,
        Ok(Status::Failed) | Err(_) => EXIT_ERROR,
    }
}

fn init_logging(verbose: u8, format: LogFormat) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("MSPFORM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("mspform={default}")));
    // HTTP libraries log full URLs at debug level, and the OAuth refresh carries
    // its secrets in the query string: keep them quiet whatever MSPFORM_LOG says.
    for quiet in [
        "reqwest=warn",
        "hyper=warn",
        "hyper_util=warn",
        "h2=warn",
        "rustls=warn",
    ] {
        if let Ok(directive) = quiet.parse() {
            filter = filter.add_directive(directive);
        }
    }
    use std::io::IsTerminal;
    let ansi = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    bars::json_logs(format == LogFormat::Json);
    // Through the progress bars when they are drawn, so a log line does not tear them.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(bars::LogWriter)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(ansi).try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Loads the configuration, then checks every secret it references (all in one
/// pass, each at its place), so that no command makes a vendor call with a
/// secret missing.
pub fn load_config(path: &Path) -> Result<Desired, CliError> {
    let desired = crate::config::load(path)?;
    crate::config::check_secrets(&desired)?;
    Ok(desired)
}

/// Opens the state under its lock, waiting up to `--lock-timeout` for it. The
/// store owns the lock and lets go of it when the last handle is dropped.
pub fn open_state(
    state: &globals::StateArgs,
    lock: &globals::LockArg,
    operation: &str,
) -> Result<Arc<dyn StateStore>, CliError> {
    Ok(crate::state::open::writer(
        &state.location()?,
        operation,
        lock.lock_timeout,
    )?)
}

/// A consistent read-only snapshot of the state, without its lock, for the
/// commands that only read it: they run beside an apply.
pub fn read_state(
    state: &globals::StateArgs,
    operation: &str,
) -> Result<Arc<dyn StateStore>, CliError> {
    Ok(crate::state::open::reader(&state.location()?, operation)?)
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the async runtime: {e}")))
}

/// Entry point: returns the process exit code.
pub fn main() -> i32 {
    // A usage error exits 1, like every other error: clap's own code (2) is
    // the "changes present" of plan and drift, which a cron job treats as fine.
    let mut cli = match parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    let (verbose, log_format) = cli.command.uses().logging();
    init_logging(verbose, log_format);
    let result = run(cli);
    if let Err(e) = &result {
        anstream::eprintln!(
            "{}error:{} {e}",
            anstyle::Style::new()
                .bold()
                .fg_color(Some(anstyle::AnsiColor::Red.into())),
            anstyle::Reset
        );
    }
    exit_code(&result)
}

/// Parses the command line: the options given before the command are handed
/// to it (`globals::merge`).
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut Cli::command()))?;
    let uses = cli.command.uses();
    globals::merge(&cli.early, uses, globals::leaf(&matches));
    Ok(cli)
}

impl Command {
    /// The shared options this command reads.
    pub fn uses(&mut self) -> globals::Uses<'_> {
        let none = globals::Uses::default();
        match self {
            Command::Validate(a) => none.config(&mut a.config).log(&mut a.log),
            Command::Plan(a) => none
                .config(&mut a.config)
                .state(&mut a.state)
                .log(&mut a.log),
            Command::Drift(a) => none
                .config(&mut a.config)
                .state(&mut a.state)
                .log(&mut a.log),
            Command::Apply(a) => none
                .config(&mut a.config)
                .state(&mut a.state)
                .lock(&mut a.lock)
                .log(&mut a.log),
            Command::Import(a) => none
                .config(&mut a.config)
                .state(&mut a.state)
                .log(&mut a.log),
            Command::State(cmd) => cmd.uses(),
            Command::ForceUnlock { on, .. } => on.uses(),
            #[cfg(feature = "sim")]
            Command::Demo(a) => none.config(&mut a.config).log(&mut a.log),
            #[cfg(feature = "sim")]
            Command::Sim(cmd) => cmd.uses(),
            // completions, man, init: none of them.
            _ => none,
        }
    }
}

fn run(cli: Cli) -> Result<Status, CliError> {
    match &cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Plan(args) => runtime()?.block_on(plan::run(args)),
        Command::Drift(args) => runtime()?.block_on(plan::drift(args)),
        Command::Apply(args) => runtime()?.block_on(apply::run(args)),
        Command::State(cmd) => state::run(cmd),
        Command::ForceUnlock { id, on } => state::run(&state::StateCommand::ForceUnlock {
            id: id.clone(),
            on: on.clone(),
        }),
        #[cfg(feature = "sim")]
        Command::Sim(cmd) => runtime()?.block_on(sim::run(cmd)),
        Command::Import(args) => runtime()?.block_on(import::run(args)),
        #[cfg(feature = "sim")]
        Command::Demo(args) => demo::run(args),
        Command::Completions { shell } => completions(*shell),
        Command::Init(args) => init::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Man { out } => man(out.as_deref()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_command_s_help_ends_with_examples() {
        use clap::CommandFactory;
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let here = format!("{path} {}", cmd.get_name());
            if cmd.get_subcommands().next().is_none() {
                let examples = cmd
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                if !examples.starts_with("Examples:") || examples.lines().count() < 2 {
                    missing.push(here.clone());
                }
            }
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(sub, &here, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "without examples: {missing:?}");
    }

    use super::*;

    #[test]
    fn durations_and_the_lock_exit_code() {
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("5w").is_err());
        let locked = Err(CliError::State(StateError::LockUnclear {
            location: "x".into(),
            reason: "y".into(),
        }));
        assert_eq!(exit_code(&locked), EXIT_LOCKED);
        let other = Err(CliError::State(StateError::ReadOnly { operation: "x" }));
        assert_eq!(exit_code(&other), EXIT_ERROR);
    }
}
