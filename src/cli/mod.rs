//! Command-line interface: argument parsing, logging setup, and the one place
//! where results become exit codes. One file per command.

mod apply;
#[cfg(feature = "sim")]
mod demo;
mod import;
mod plan;
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
use crate::state::{StateError, StateLocation, StateStore};

/// Exit codes: 0 success or no changes, 1 error, 2 changes present (with
/// --detailed-exitcode, drift), 3 the state is locked by someone else.
pub const EXIT_OK: i32 = 0;
pub const EXIT_ERROR: i32 = 1;
pub const EXIT_CHANGES: i32 = 2;
/// The state's lock is held by another run (after `--lock-timeout`): busy, not broken.
pub const EXIT_LOCKED: i32 = 3;
/// An apply stopped by Ctrl-C (after finishing the calls in flight).
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Debug, Parser)]
#[command(
    name = "mspform",
    version,
    about = "Desired-state management of MSP customer portfolios (Terraform for MSPs)"
)]
pub struct Cli {
    /// Configuration: a TOML file or a directory of them.
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        default_value = "mspform.toml",
        env = "MSPFORM_CONFIG"
    )]
    pub config: PathBuf,
    /// Where the state lives: a directory (sled, local) or a postgres:// or
    /// postgresql:// URL (shared by a team and its CI runners). The password
    /// comes from the URL, PGPASSWORD or ~/.pgpass.
    #[arg(
        long = "state",
        global = true,
        default_value = "state",
        env = "MSPFORM_STATE",
        value_name = "DIR_OR_URL"
    )]
    pub state: String,
    /// The PostgreSQL schema of the state (default `mspform`), so several
    /// portfolios can share one database; also `?schema=NAME` in the URL.
    #[arg(
        long = "state-schema",
        global = true,
        env = "MSPFORM_STATE_SCHEMA",
        value_name = "NAME"
    )]
    pub state_schema: Option<String>,
    /// How long a command that writes the state (apply, state rm|import|migrate)
    /// waits for another run's lock before exiting 3: e.g. 0 (the default),
    /// 30s, 5m, 1h.
    #[arg(
        long = "lock-timeout",
        global = true,
        default_value = "0",
        env = "MSPFORM_LOCK_TIMEOUT",
        value_name = "DURATION",
        value_parser = parse_duration
    )]
    pub lock_timeout: Duration,
    /// More log output on stderr (-v info, -vv debug). MSPFORM_LOG overrides.
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
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
    Validate(validate::ValidateArgs),
    /// Read live state and show what apply would change.
    Plan(plan::PlanArgs),
    /// Make the changes, after showing the plan and asking.
    Apply(apply::ApplyArgs),
    /// Report drift from the configuration; exit code 2 when there is any.
    Drift(plan::DriftArgs),
    /// Inspect or edit the state; move it between a directory and PostgreSQL.
    #[command(subcommand)]
    State(state::StateCommand),
    /// Clear a state lock left behind (the same as `state force-unlock ID`).
    ForceUnlock { id: String },
    /// The vendor simulator.
    #[command(subcommand)]
    #[cfg(feature = "sim")]
    Sim(sim::SimCommand),
    /// Print desired-state TOML for live customers (start managing an existing portfolio).
    Import(import::ImportArgs),
    /// Run plan → apply → plan against an embedded simulator with the example files.
    #[cfg(feature = "sim")]
    Demo(demo::DemoArgs),
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

fn init_logging(verbose: u8) {
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
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Loads the configuration, then checks every secret it references (all in one
/// pass, each at its place), so that no command makes a vendor call with a
/// secret missing.
pub fn load_config(path: &Path) -> Result<Desired, CliError> {
    let desired = crate::config::load(path)?;
    crate::config::check_secrets(&desired)?;
    Ok(desired)
}

/// Where `--state` (and `--state-schema`) point.
pub fn state_location(cli: &Cli) -> Result<StateLocation, CliError> {
    StateLocation::parse(&cli.state, cli.state_schema.as_deref())
        .map_err(|e| CliError::Other(format!("--state: {e}")))
}

/// Opens the state under its lock, waiting up to `--lock-timeout` for it. The
/// store owns the lock and lets go of it when the last handle is dropped.
pub fn open_state(cli: &Cli, operation: &str) -> Result<Arc<dyn StateStore>, CliError> {
    Ok(crate::state::open::writer(
        &state_location(cli)?,
        operation,
        cli.lock_timeout,
    )?)
}

/// A consistent read-only snapshot of the state, without its lock, for the
/// commands that only read it: they run beside an apply.
pub fn read_state(cli: &Cli, operation: &str) -> Result<Arc<dyn StateStore>, CliError> {
    Ok(crate::state::open::reader(
        &state_location(cli)?,
        operation,
    )?)
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the async runtime: {e}")))
}

/// Entry point: returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    init_logging(cli.verbose);
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

fn run(cli: Cli) -> Result<Status, CliError> {
    match &cli.command {
        Command::Validate(args) => validate::run(&cli, args),
        Command::Plan(args) => runtime()?.block_on(plan::run(&cli, args)),
        Command::Drift(args) => runtime()?.block_on(plan::drift(&cli, args)),
        Command::Apply(args) => runtime()?.block_on(apply::run(&cli, args)),
        Command::State(cmd) => state::run(&cli, cmd),
        Command::ForceUnlock { id } => {
            state::run(&cli, &state::StateCommand::ForceUnlock { id: id.clone() })
        }
        #[cfg(feature = "sim")]
        Command::Sim(cmd) => runtime()?.block_on(sim::run(cmd)),
        Command::Import(args) => runtime()?.block_on(import::run(&cli, args)),
        #[cfg(feature = "sim")]
        Command::Demo(args) => demo::run(&cli, args),
    }
}

#[cfg(test)]
mod tests {
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
