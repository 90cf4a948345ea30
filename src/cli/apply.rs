//! `mspform apply`: plan, show, confirm, execute, report.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Args;

use super::{Cli, CliError, Status, load_config, open_state};
use crate::engine::{self, ApplyReport, Outcome};
use crate::model::Desired;
use crate::plan::render;
use crate::state::StateStore;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Only apply these addresses. Repeatable.
    #[arg(long)]
    pub target: Vec<String>,
}

fn confirm() -> Result<bool, CliError> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::Other(
            "refusing to apply without confirmation: standard input is not a terminal. Review the plan and pass --auto-approve".into(),
        ));
    }
    print!("\nDo you want to perform these actions? Only 'yes' will be accepted: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Other(format!("cannot read the answer: {e}")))?;
    Ok(line.trim() == "yes")
}

pub fn print_report(report: &ApplyReport) {
    println!();
    for (address, outcome) in &report.actions {
        match outcome {
            Outcome::Done => anstream::println!(
                "  {}ok{}      {address}",
                anstyle::AnsiColor::Green.render_fg(),
                anstyle::Reset
            ),
            Outcome::Failed(e) => anstream::println!(
                "  {}FAILED{}  {address}: {e}",
                anstyle::AnsiColor::Red.render_fg(),
                anstyle::Reset
            ),
            Outcome::Skipped(why) => anstream::println!(
                "  {}skipped{} {address}: {why}",
                anstyle::AnsiColor::Yellow.render_fg(),
                anstyle::Reset
            ),
        }
    }
    let ok = report.actions.len() - report.failed() - report.skipped();
    println!(
        "\nApply {}: {ok} done, {} failed, {} skipped; {} API call(s).{}",
        if report.ok() {
            "complete"
        } else {
            "incomplete"
        },
        report.failed(),
        report.skipped(),
        report.calls,
        if report.interrupted {
            " Interrupted: re-run apply to finish."
        } else {
            ""
        }
    );
}

/// Plan, then (when approved) apply; shared by `apply` and `demo`.
pub async fn plan_and_apply(
    desired: &Desired,
    store: Arc<dyn StateStore>,
    targets: &[String],
    auto_approve: bool,
) -> Result<Status, CliError> {
    let prepared = engine::plan(desired, store.clone(), targets).await?;
    anstream::print!("{}", render::text(&prepared.plan));
    if !prepared.plan.has_changes() {
        return Ok(Status::Ok);
    }
    if !auto_approve && !confirm()? {
        println!("Apply cancelled.");
        return Ok(Status::Ok);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\nInterrupted: finishing the call in flight, starting nothing new. Press Ctrl-C again to exit at once (the journal keeps the state recoverable)."
            );
            flag.store(true, Ordering::SeqCst);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    let report = engine::apply(&prepared, desired, store, &stop).await;
    watcher.abort();
    print_report(&report);
    Ok(if report.ok() {
        Status::Ok
    } else {
        Status::Failed
    })
}

pub async fn run(cli: &Cli, args: &ApplyArgs) -> Result<Status, CliError> {
    let desired = load_config(&cli.config)?;
    let (store, _lock) = open_state(&cli.state, "apply")?;
    plan_and_apply(&desired, store, &args.target, args.auto_approve).await
}
