//! `mspform apply`: plan, show, confirm, execute, report.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use super::{Cli, CliError, Status, load_config, open_state};
use crate::address::Address;
use crate::engine::{self, ApplyReport, Outcome};
use crate::model::Desired;
use crate::plan::{FORMAT_VERSION, Plan, render};
use crate::state::StateStore;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `plan --out FILE`: applied without asking, and refused if
    /// the configuration or the live state changed since it was made.
    pub plan_file: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Only apply these addresses. Repeatable.
    #[arg(long)]
    pub target: Vec<String>,
    /// Refuse a plan that deletes more objects than this.
    #[arg(long, default_value_t = 10)]
    pub max_deletes: usize,
    /// Apply a plan that deletes or replaces more than the bulk threshold
    /// (`[safety] bulk_percent`, 30 % by default) of the objects of one kind a
    /// provider owns.
    #[arg(long)]
    pub force_bulk: bool,
    /// Allow replacing this object (delete, then create again) where the vendor
    /// cannot change a field in place. Repeatable.
    #[arg(long = "allow-replace", value_name = "ADDRESS")]
    pub allow_replace: Vec<Address>,
    /// Send the administrator invitation of this customer again (for vendors
    /// that invite administrators). Repeatable.
    #[arg(long = "resend-invitation", value_name = "ADDRESS")]
    pub resend_invitations: Vec<Address>,
    /// When a provider cannot be read, apply the other providers' changes
    /// (by default nothing is applied). The run still exits 1.
    #[arg(long)]
    pub skip_unavailable: bool,
    /// Forget the objects state owns of this provider, which the files no longer
    /// declare (nothing is deleted at the vendor). Repeatable.
    #[arg(long = "allow-provider-removal", value_name = "PROVIDER")]
    pub allow_provider_removal: Vec<String>,
}

/// How `plan_and_apply` decides whether to go ahead.
pub struct ApplyOptions<'a> {
    pub targets: &'a [String],
    pub auto_approve: bool,
    /// The plan the user reviewed; the fresh plan must match it.
    pub saved: Option<Plan>,
    pub max_deletes: usize,
    /// Apply a bulk change (see `plan::bulk`).
    pub force_bulk: bool,
    /// Addresses the user allowed to be replaced.
    pub allow_replace: &'a [Address],
    pub resend_invitations: &'a [Address],
    /// Apply the readable providers when some cannot be read.
    pub skip_unavailable: bool,
    pub allow_provider_removal: &'a [String],
}

fn load_plan(path: &Path) -> Result<Plan, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Other(format!("cannot read the plan {}: {e}", path.display())))?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| {
        CliError::Other(format!(
            "{} is not a plan written by `mspform plan --out`: {e}",
            path.display()
        ))
    })?;
    if plan.format_version != FORMAT_VERSION {
        return Err(CliError::Other(format!(
            "{} has plan format version {}; this mspform reads version {FORMAT_VERSION}. Make the plan again.",
            path.display(),
            plan.format_version
        )));
    }
    Ok(plan)
}

/// The saved plan must describe exactly the changes the fresh one would make.
fn check_saved(saved: &Plan, fresh: &Plan) -> Result<(), CliError> {
    let protect = |p: &Plan| {
        p.protect
            .iter()
            .map(|x| x.address.clone())
            .collect::<Vec<_>>()
    };
    if saved.actions == fresh.actions && protect(saved) == protect(fresh) {
        return Ok(());
    }
    let describe = |p: &Plan| {
        p.actions
            .iter()
            .map(|a| format!("{:?} {}", a.op, a.address))
            .chain(p.protect.iter().map(|x| format!("Protect {}", x.address)))
            .collect::<Vec<_>>()
    };
    let (old, new) = (describe(saved), describe(fresh));
    let gone: Vec<&String> = old.iter().filter(|a| !new.contains(a)).collect();
    let added: Vec<&String> = new.iter().filter(|a| !old.contains(a)).collect();
    Err(CliError::Other(format!(
        "the saved plan is stale: the configuration or the live state changed since it was made (no longer planned: {gone:?}; newly planned: {added:?}; or changed values). Nothing was applied; run `mspform plan --out` again and review it."
    )))
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
            Outcome::Partial { done, not_started } => anstream::println!(
                "  {}partly{}  {address}: done: {}; not started: {}",
                anstyle::AnsiColor::Yellow.render_fg(),
                anstyle::Reset,
                done.join(", "),
                not_started.join(", ")
            ),
        }
    }
    let ok = report.actions.len() - report.failed() - report.skipped() - report.partial();
    let partial = match report.partial() {
        0 => String::new(),
        n => format!(", {n} partly done"),
    };
    println!(
        "\nApply {}: {ok} done, {} failed, {} skipped{partial}; {} API call(s).{}",
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
    opts: ApplyOptions<'_>,
) -> Result<Status, CliError> {
    let options = engine::PlanOptions {
        resend_invitations: opts.resend_invitations.iter().cloned().collect(),
        allow_provider_removal: opts.allow_provider_removal.iter().cloned().collect(),
        ..Default::default()
    };
    let mut prepared = engine::plan_with(desired, store.clone(), opts.targets, &options)
        .await?
        .refuse_protected()?;
    // The reviewed plan covered only the providers it could read: apply no more.
    let unreviewed: Vec<String> = opts
        .saved
        .iter()
        .flat_map(|s| s.unavailable.iter().map(|u| u.provider.clone()))
        .collect();
    prepared.plan.drop_providers(&unreviewed);
    anstream::print!("{}", render::text(&prepared.plan));
    if let Some(saved) = &opts.saved {
        check_saved(saved, &prepared.plan)?;
    }
    let mut skipped = prepared.plan.unavailable.clone();
    for u in opts.saved.iter().flat_map(|s| &s.unavailable) {
        if !skipped.iter().any(|k| k.provider == u.provider) {
            skipped.push(u.clone());
        }
    }
    if !skipped.is_empty() && !opts.skip_unavailable {
        return Err(CliError::Other(format!(
            "{} provider(s) could not be read when the plan was made ({}); nothing was applied. Fix the cause, or re-run with --skip-unavailable to apply the other providers' changes only.",
            skipped.len(),
            skipped
                .iter()
                .map(|u| u.provider.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if !prepared.plan.has_changes() {
        return Ok(finish_status(None, &skipped));
    }
    let refused: Vec<String> = prepared
        .plan
        .actions
        .iter()
        .filter(|a| a.op == crate::diff::Op::Replace && !opts.allow_replace.contains(&a.address))
        .map(|a| format!("{} ({})", a.address, a.replace_because.join(", ")))
        .collect();
    if !refused.is_empty() {
        return Err(CliError::Other(format!(
            "the plan replaces {} (the vendor cannot change these fields in place, so the object would be deleted and created again, tearing down its configuration); nothing was applied. Re-run with --allow-replace ADDRESS for each replacement you intend, or revert the change in the files.",
            refused.join("; ")
        )));
    }
    // Both guards are checked, so one re-run can name every override it needs.
    let mut refusals = Vec::new();
    let deletes = prepared.plan.summary.delete + prepared.plan.summary.replace;
    if deletes > opts.max_deletes {
        refusals.push(format!(
            "the plan deletes {deletes} objects, more than --max-deletes {} (re-run with --max-deletes {deletes} if they are intended)",
            opts.max_deletes
        ));
    }
    if !prepared.plan.bulk.is_empty() && !opts.force_bulk {
        refusals.push(format!(
            "the plan is a bulk change: {} — a directory renamed or files lost in a merge look like this (re-run with --force-bulk if it is intended; the threshold is [safety] bulk_percent)",
            bulk_text(&prepared.plan.bulk)
        ));
    }
    if !refusals.is_empty() {
        return Err(CliError::Other(format!(
            "{}; nothing was applied. Review the deletes above.",
            refusals.join("; and ")
        )));
    }
    if !opts.auto_approve && opts.saved.is_none() && !confirm()? {
        println!("Apply cancelled.");
        return Ok(Status::Failed);
    }
    // The backup a recovery restores: the state as it was before this apply's
    // first vendor write. Without it, nothing is sent.
    if let Some(path) = store.write_backup()? {
        tracing::info!(backup = %path.display(), "state backed up before the apply");
    }
    let stop = engine::Stop::new();
    let flag = stop.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\nInterrupted: finishing the call in flight, starting nothing new. Press Ctrl-C again to exit at once (the journal keeps the state recoverable)."
            );
            flag.stop();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(super::EXIT_INTERRUPTED);
            }
        }
    });
    let report = engine::apply(&prepared, desired, store, &stop).await;
    watcher.abort();
    print_report(&report);
    Ok(finish_status(Some(&report), &skipped))
}

/// The bulk changes in words, joined.
pub fn bulk_text(bulk: &[crate::plan::BulkChange]) -> String {
    bulk.iter()
        .map(|b| {
            format!(
                "it deletes or replaces {} of the {} {} objects provider {} owns (more than {} %)",
                b.changes,
                b.owned,
                b.kind.word(),
                b.provider,
                b.threshold_percent
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// How an apply ends: interrupted (130), incomplete or with skipped providers
/// (1), or complete (0). Skipped providers are named last, so they are seen.
fn finish_status(report: Option<&ApplyReport>, skipped: &[crate::plan::Unavailable]) -> Status {
    for u in skipped {
        anstream::println!(
            "{}Skipped provider {}{}: it could not be read, so nothing was applied to it ({}).",
            anstyle::AnsiColor::Yellow.render_fg(),
            u.provider,
            anstyle::Reset,
            u.error
        );
    }
    match report {
        Some(r) if r.interrupted => Status::Interrupted,
        Some(r) if !r.ok() => Status::Failed,
        _ if !skipped.is_empty() => Status::Failed,
        _ => Status::Ok,
    }
}

pub async fn run(cli: &Cli, args: &ApplyArgs) -> Result<Status, CliError> {
    let desired = load_config(&cli.config)?;
    let store = open_state(cli, "apply")?;
    let saved = match &args.plan_file {
        Some(path) => Some(load_plan(path)?),
        None => None,
    };
    // A saved plan carries its own targets.
    let targets = saved
        .as_ref()
        .map(|p| p.targets.clone())
        .unwrap_or_else(|| args.target.clone());
    let resend = saved
        .as_ref()
        .map(|p| p.resend_invitations.clone())
        .unwrap_or_else(|| args.resend_invitations.clone());
    let removal = saved
        .as_ref()
        .map(|p| p.allow_provider_removal.clone())
        .unwrap_or_else(|| args.allow_provider_removal.clone());
    let opts = ApplyOptions {
        targets: &targets,
        auto_approve: args.auto_approve,
        saved,
        max_deletes: args.max_deletes,
        force_bulk: args.force_bulk,
        allow_replace: &args.allow_replace,
        resend_invitations: &resend,
        skip_unavailable: args.skip_unavailable,
        allow_provider_removal: &removal,
    };
    plan_and_apply(&desired, store, opts).await
}
