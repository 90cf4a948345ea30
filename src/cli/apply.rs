//! `mspform apply`: plan, show, confirm, execute, report.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use super::globals::{ConfigArg, LockArg, LogArgs, StateArgs};
use super::{CallArgs, CliError, SelectArgs, Status, load_config, open_state};
use crate::address::Address;
use crate::engine::{self, ApplyReport, Outcome};
use crate::model::Desired;
use crate::plan::{FORMAT_VERSION, Plan, render};
use crate::state::StateStore;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `plan --out FILE`: applied without asking. Only the
    /// objects its actions rest on are read again; an action whose objects or
    /// planned change differ now is refused by name (and, without
    /// --allow-partial, nothing is applied).
    pub plan_file: Option<PathBuf>,
    /// With a saved plan: apply the actions that still hold when others are
    /// refused (the run still exits 1 and names the refused ones).
    #[arg(long, requires = "plan_file")]
    pub allow_partial: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// List every unmanaged object with its provider, instead of a count per provider.
    #[arg(long)]
    pub show_unmanaged: bool,
    #[command(flatten)]
    pub watch: super::progress::WatchArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub calls: CallArgs,
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
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub lock: LockArg,
    #[command(flatten)]
    pub log: LogArgs,
}

/// How `plan_and_apply` decides whether to go ahead.
pub struct ApplyOptions<'a> {
    /// `--target` / `--exclude` (a saved plan selects exactly its own inputs).
    pub selection: engine::Selection,
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
    /// With a saved plan: apply what still holds when some actions are refused.
    pub allow_partial: bool,
    /// `--max-calls`.
    pub max_calls: crate::vendor::CallLimits,
    /// `--show-unmanaged`.
    pub show_unmanaged: bool,
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

/// Keeps the actions of a saved plan that still hold (see `engine::saved`):
/// refuses the plan when any is refused, unless `allow_partial`, and says
/// what the fresh read found that the plan does not have.
fn check_saved(
    saved: &Plan,
    prepared: &mut engine::Prepared,
    desired: &Desired,
    allow_partial: bool,
) -> Result<(Vec<String>, bool), CliError> {
    let deps = engine::Dependencies::new(desired, &prepared.owned);
    // An action whose provider could not be read again is not stale: it is unchecked.
    let unread: std::collections::BTreeMap<&str, &str> = prepared
        .plan
        .unavailable
        .iter()
        .map(|u| (u.provider.as_str(), u.error.as_str()))
        .collect();
    let (unchecked, checkable): (Vec<_>, Vec<_>) = saved
        .actions
        .iter()
        .cloned()
        .partition(|a| unread.contains_key(a.provider.as_str()));
    let readable = Plan {
        actions: checkable,
        ..saved.clone()
    };
    let check = engine::saved::recheck(&readable, &prepared.plan, &prepared.live, &deps);
    let refused: Vec<String> = unchecked
        .iter()
        .map(|a| {
            format!(
                "{}: not checked: its provider could not be read again ({})",
                a.address,
                unread[a.provider.as_str()]
            )
        })
        .chain(
            check
                .refused
                .iter()
                .map(|r| format!("{}: {}", r.address, r.why)),
        )
        .collect();
    if !refused.is_empty() && !allow_partial {
        return Err(CliError::Other(format!(
            "the saved plan is stale: {} of its {} action(s) do not hold or could not be checked; nothing was applied:\n{}\nRun `mspform plan --out` again and review it, or re-run with --allow-partial to apply the {} action(s) that still hold.",
            refused.len(),
            saved.actions.len(),
            refused
                .iter()
                .map(|r| format!("  - {r}"))
                .collect::<Vec<_>>()
                .join("\n"),
            check.holds.len()
        )));
    }
    let any_refused = !refused.is_empty();
    let mut notes: Vec<String> = refused
        .into_iter()
        .map(|r| format!("not applied: {r}"))
        .collect();
    if !check.unplanned.is_empty() {
        notes.push(format!(
            "not applied, not in the saved plan (changed since it was made; the next plan shows them): {}",
            check
                .unplanned
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let keep = |a: &crate::diff::Action| check.holds.contains(&a.address);
    prepared.plan.actions.retain(keep);
    let protect: std::collections::BTreeSet<&Address> =
        saved.protect.iter().map(|p| &p.address).collect();
    prepared
        .plan
        .protect
        .retain(|p| protect.contains(&p.address));
    prepared.plan.recount();
    Ok((notes, any_refused))
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

/// The actions in the order they finished (their last step), each with how
/// long it ran (first step started to last step settled); actions none of
/// whose steps ran come last, in address order.
fn in_run_order(report: &ApplyReport) -> Vec<(&Address, &Outcome, Option<f64>)> {
    let mut last: std::collections::BTreeMap<&Address, (usize, Option<f64>, f64)> =
        std::collections::BTreeMap::new();
    for (i, step) in report.steps.iter().enumerate() {
        for a in &step.addresses {
            let e = last.entry(a).or_insert((i, None, step.settled));
            e.0 = i;
            e.2 = e.2.max(step.settled);
            if let Some(started) = step.started {
                e.1 = Some(e.1.map_or(started, |s: f64| s.min(started)));
            }
        }
    }
    let mut rows: Vec<(usize, &Address, &Outcome, Option<f64>)> = report
        .actions
        .iter()
        .map(|(a, o)| match last.get(a) {
            Some((i, Some(started), settled)) => (*i, a, o, Some(settled - started)),
            Some((i, None, _)) => (*i, a, o, None),
            None => (usize::MAX, a, o, None),
        })
        .collect();
    rows.sort_by_key(|(i, a, _, _)| (*i, (*a).clone()));
    rows.into_iter().map(|(_, a, o, s)| (a, o, s)).collect()
}

pub fn print_report(report: &ApplyReport) {
    println!();
    for (address, outcome, seconds) in in_run_order(report) {
        let took = seconds.map(|s| format!(" ({s:.1}s)")).unwrap_or_default();
        let address = format!("{address}{took}");
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
    for (provider, (why, done, failed, left)) in halted(report) {
        anstream::println!(
            "\n{}Stopped early:{} {provider} — {why}\n  {done} step(s) of {provider} done, {failed} failed, {left} not started; nothing more was sent to it.",
            anstyle::AnsiColor::Yellow.render_fg(),
            anstyle::Reset
        );
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

/// Providers whose run stopped early (daily quota, `--max-calls`): why, and
/// how many of their steps were done and not started.
fn halted(
    report: &ApplyReport,
) -> std::collections::BTreeMap<String, (String, usize, usize, usize)> {
    let mut out = std::collections::BTreeMap::new();
    for step in &report.steps {
        if let Outcome::Skipped(why) = &step.outcome
            && let Some(why) = why.strip_prefix("not started: ")
        {
            let entry = out
                .entry(step.provider.clone())
                .or_insert_with(|| (why.to_string(), 0, 0, 0));
            entry.3 += 1;
        }
    }
    for step in &report.steps {
        if let Some(entry) = out.get_mut(&step.provider) {
            match step.outcome {
                Outcome::Done => entry.1 += 1,
                Outcome::Failed(_) => entry.2 += 1,
                _ => {}
            }
        }
    }
    out
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
        max_calls: opts.max_calls.clone(),
        ..Default::default()
    };
    // A saved plan re-reads only what its actions rest on.
    let selection = match &opts.saved {
        Some(saved) if !saved.has_changes() => {
            println!("The saved plan has no changes; nothing to apply.");
            return Ok(Status::Ok);
        }
        Some(saved) => engine::Selection::exact(
            saved
                .actions
                .iter()
                .map(|a| a.address.clone())
                .chain(saved.protect.iter().map(|p| p.address.clone())),
        ),
        None => opts.selection.clone(),
    };
    let mut prepared = engine::plan_with(desired, store.clone(), &selection, &options)
        .await?
        .refuse_protected()?;
    // The reviewed plan covered only the providers it could read: apply no more.
    let unreviewed: Vec<String> = opts
        .saved
        .iter()
        .flat_map(|s| s.unavailable.iter().map(|u| u.provider.clone()))
        .collect();
    prepared.plan.drop_providers(&unreviewed);
    let (mut stale, mut partial) = (Vec::new(), false);
    if let Some(saved) = &opts.saved {
        (stale, partial) = check_saved(saved, &mut prepared, desired, opts.allow_partial)?;
    }
    anstream::print!(
        "{}",
        render::text_with(&prepared.plan, &super::text_options(opts.show_unmanaged))
    );
    for note in &stale {
        anstream::println!(
            "{}Warning:{} {note}",
            anstyle::AnsiColor::Yellow.render_fg(),
            anstyle::Reset
        );
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
        return Ok(finish_status(None, &skipped, partial));
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
    refusals.extend(over_budget(&prepared.plan, &opts.max_calls));
    if !prepared.plan.bulk.is_empty() && !opts.force_bulk {
        refusals.push(format!(
            "the plan is a bulk change: {} — a directory renamed or files lost in a merge look like this (re-run with --force-bulk if it is intended; the threshold is [safety] bulk_percent)",
            bulk_text(&prepared.plan.bulk)
        ));
    }
    if !refusals.is_empty() {
        return Err(CliError::Other(format!(
            "{}; nothing was applied. Review the plan above.",
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
    Ok(finish_status(Some(&report), &skipped, partial))
}

/// Where the plan's refresh and estimated apply exceed `--max-calls`, in words.
pub fn over_budget(plan: &Plan, limits: &crate::vendor::CallLimits) -> Vec<String> {
    let mut over = Vec::new();
    for p in &plan.providers {
        let needed = p.calls + p.apply_calls;
        if let Some(&limit) = limits.per_provider.get(&p.provider)
            && needed > limit
        {
            over.push(format!(
                "{}: the refresh spent {} call(s) and the apply is estimated at {}, {needed} in all, more than --max-calls {}={limit}",
                p.provider, p.calls, p.apply_calls, p.provider
            ));
        }
    }
    let needed: u64 = plan.providers.iter().map(|p| p.calls + p.apply_calls).sum();
    if let Some(limit) = limits.total
        && needed > limit
    {
        over.push(format!(
            "the refresh and the estimated apply come to {needed} call(s) in all, more than --max-calls {limit}"
        ));
    }
    over
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

/// How an apply ends: interrupted (130), incomplete, with skipped providers or
/// with refused saved-plan actions (1), or complete (0). Skipped providers are
/// named last, so they are seen.
fn finish_status(
    report: Option<&ApplyReport>,
    skipped: &[crate::plan::Unavailable],
    refused: bool,
) -> Status {
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
        _ if !skipped.is_empty() || refused => Status::Failed,
        _ => Status::Ok,
    }
}

pub async fn run(args: &ApplyArgs) -> Result<Status, CliError> {
    args.watch.start()?;
    super::progress::print_progress(false);
    let started = super::run_started("apply", &args.config.config);
    let result = apply_run(args).await;
    super::run_finished(&result, started);
    result
}

async fn apply_run(args: &ApplyArgs) -> Result<Status, CliError> {
    let desired = load_config(&args.config.config)?;
    let store = open_state(&args.state, &args.lock, "apply")?;
    let saved = match &args.plan_file {
        Some(path) => Some(load_plan(path)?),
        None => None,
    };
    if saved.is_some() && !(args.select.target.is_empty() && args.select.exclude.is_empty()) {
        return Err(CliError::Other(
            "--target and --exclude do not go with a saved plan: it applies exactly its own actions (make the plan with them instead)".into(),
        ));
    }
    let resend = saved
        .as_ref()
        .map(|p| p.resend_invitations.clone())
        .unwrap_or_else(|| args.resend_invitations.clone());
    let removal = saved
        .as_ref()
        .map(|p| p.allow_provider_removal.clone())
        .unwrap_or_else(|| args.allow_provider_removal.clone());
    let opts = ApplyOptions {
        selection: args.select.selection()?,
        auto_approve: args.auto_approve,
        saved,
        max_deletes: args.max_deletes,
        force_bulk: args.force_bulk,
        allow_replace: &args.allow_replace,
        resend_invitations: &resend,
        skip_unavailable: args.skip_unavailable,
        allow_provider_removal: &removal,
        allow_partial: args.allow_partial,
        max_calls: args.calls.limits()?,
        show_unmanaged: args.show_unmanaged,
    };
    plan_and_apply(&desired, store, opts).await
}
