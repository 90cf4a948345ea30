//! `mspform plan` and `mspform drift`: refresh, diff, print. Never writes to a
//! vendor, nor to the state's records: they read a consistent snapshot of it
//! without the lock, so they run while an apply holds it. `drift` applies the
//! `[[ignore]]` rules, records what it saw (the one thing it writes, live,
//! like a rotated credential) for `--new-only`, and writes the Prometheus
//! textfile after every run, failed ones included.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use clap::Args;

use super::globals::{ConfigArg, LogArgs, StateArgs};
use super::{CallArgs, CliError, FormatArg, SelectArgs, Status, load_config, read_state};
use crate::engine;
use crate::model::Desired;
use crate::plan::{Plan, drift, render, rolling};
use crate::state::StateStore;

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Also write the plan as JSON to this file.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Exit 2 when there are changes (0 none, 1 error).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// List every unmanaged object (live, not declared, not owned) with its
    /// provider, instead of a count per provider.
    #[arg(long)]
    pub show_unmanaged: bool,
    #[command(flatten)]
    pub watch: super::progress::WatchArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub calls: CallArgs,
    /// Send the administrator invitation of this customer again (for vendors
    /// that invite administrators). Repeatable.
    #[arg(long = "resend-invitation", value_name = "ADDRESS")]
    pub resend_invitations: Vec<crate::address::Address>,
    /// Forget the objects state owns of this provider, which the files no longer
    /// declare (nothing is deleted at the vendor). Repeatable.
    #[arg(long = "allow-provider-removal", value_name = "PROVIDER")]
    pub allow_provider_removal: Vec<String>,
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Also write Prometheus metrics (node_exporter textfile format) to this
    /// file, atomically, after every run (a failed one too, with
    /// mspform_drift_success 0).
    #[arg(long)]
    pub prometheus: Option<std::path::PathBuf>,
    /// Report only drift the previous drift run did not see (exit 2 only for
    /// new drift), for alerting without repeats; `drift` without it reports
    /// everything, and the metrics always count everything.
    #[arg(long)]
    pub new_only: bool,
    /// List every unmanaged object with its provider, instead of a count per provider.
    #[arg(long)]
    pub show_unmanaged: bool,
    #[command(flatten)]
    pub watch: super::progress::WatchArgs,
    /// A rolling check: read every customer fully at least once per this
    /// period (e.g. 24h), and each run only a slice of the per-customer reads
    /// (an Aruba tenant's sites and auto-licence setting), least recently
    /// read first. The MSP-wide lists (customers, device inventory) are read
    /// every run. The first run reads everything.
    #[arg(long, value_name = "DURATION", value_parser = super::parse_duration)]
    pub full_every: Option<std::time::Duration>,
    #[command(flatten)]
    pub select: SelectArgs,
    /// With --full-every, the slice of per-customer reads is cut to fit.
    #[command(flatten)]
    pub calls: CallArgs,
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

/// Writes a file others may read (a plan, metrics, imported files) crash-safely.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    crate::atomic::write(path, contents, crate::atomic::SHARED)
}

/// The Markdown options of this run: the CI run's page, where the JSON plan is
/// kept as an artifact, for the note on a plan too long for a comment.
fn markdown_options() -> render::MarkdownOptions {
    render::MarkdownOptions {
        artifact: crate::state::ci_job_url(),
        ..render::MarkdownOptions::default()
    }
}

fn print(plan: &Plan, format: FormatArg, show_unmanaged: bool) {
    let text = match format {
        FormatArg::Markdown => render::markdown_with(plan, &markdown_options()),
        FormatArg::Text => render::text_with(plan, &super::text_options(show_unmanaged)),
        other => render::render(plan, other.into()),
    };
    anstream::print!("{text}");
}

pub async fn run(args: &PlanArgs) -> Result<Status, CliError> {
    args.watch.start()?;
    super::progress::print_progress(true);
    let started = super::run_started("plan", &args.config.config);
    let result = plan_run(args).await;
    super::run_finished(&result, started);
    result
}

async fn plan_run(args: &PlanArgs) -> Result<Status, CliError> {
    let plan = make(args).await?;
    print(&plan, args.format, args.show_unmanaged);
    if let Some(out) = &args.out {
        write_atomic(out, render::json(&plan).as_bytes()).map_err(|e| {
            CliError::Other(format!("cannot write the plan to {}: {e}", out.display()))
        })?;
    }
    // A plan that could not read every provider is incomplete: never "no changes".
    if !plan.unavailable.is_empty() {
        return Err(CliError::Unavailable(plan.unavailable));
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        Status::Changes
    } else {
        Status::Ok
    })
}

async fn make(args: &PlanArgs) -> Result<Plan, CliError> {
    let desired = load_config(&args.config.config)?;
    // A snapshot, without the lock: a plan or drift check runs beside an apply.
    let store = read_state(&args.state, "plan")?;
    plan_from(&desired, store, args, false, Default::default()).await
}

/// The plan; a replacement of a protected object is an error, unless
/// `report_refused` (drift), which reports it as a warning instead.
async fn plan_from(
    desired: &Desired,
    store: Arc<dyn StateStore>,
    args: &PlanArgs,
    report_refused: bool,
    scope: crate::vendor::Scope,
) -> Result<Plan, CliError> {
    let options = engine::PlanOptions {
        resend_invitations: args.resend_invitations.iter().cloned().collect(),
        allow_provider_removal: args.allow_provider_removal.iter().cloned().collect(),
        scope,
        max_calls: args.calls.limits()?,
    };
    let mut prepared =
        engine::plan_with(desired, store, &args.select.selection()?, &options).await?;
    if report_refused {
        let refused = std::mem::take(&mut prepared.refused);
        prepared.plan.warnings.extend(refused);
    }
    Ok(prepared.refuse_protected()?.plan)
}

/// What a drift run found, for its metrics (`None` where it did not get that far).
#[derive(Default)]
pub struct DriftRun {
    /// The whole drift (ignore rules applied; not cut to new drift).
    pub plan: Option<Plan>,
    /// Drifted fields (or objects) ignored, by provider.
    pub ignored: BTreeMap<String, usize>,
    /// Drifted fields (or objects) the previous run did not see, by provider.
    pub new: BTreeMap<String, usize>,
    /// Whether the run completed and read every provider.
    pub success: bool,
    /// Provider → when every customer had last been fully read.
    pub last_full: BTreeMap<String, u64>,
}

fn gauge(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

/// Drift as Prometheus metrics, for a cron job's node_exporter textfile.
/// Written after every run, also a failed one: `mspform_drift_success 0`
/// and the time of the run, so an alert sees a broken job, not stale numbers.
pub fn prometheus(run: &DriftRun, now: u64) -> String {
    use crate::diff::Op;
    let mut out = String::new();
    gauge(
        &mut out,
        "mspform_drift_success",
        "Whether the last drift run completed and read every provider (1) or not (0).",
    );
    let _ = writeln!(out, "mspform_drift_success {}", u8::from(run.success));
    gauge(
        &mut out,
        "mspform_drift_last_run_timestamp_seconds",
        "When the last drift run ended (Unix seconds), successful or not.",
    );
    let _ = writeln!(out, "mspform_drift_last_run_timestamp_seconds {now}");
    if !run.last_full.is_empty() {
        gauge(
            &mut out,
            "mspform_drift_last_full_check_timestamp",
            "When every customer of the provider had last been fully read (Unix seconds): the oldest full read of any of its customers.",
        );
        for (provider, at) in &run.last_full {
            let _ = writeln!(
                out,
                "mspform_drift_last_full_check_timestamp{{provider=\"{provider}\"}} {at}"
            );
        }
    }
    let Some(plan) = &run.plan else {
        return out;
    };
    gauge(
        &mut out,
        "mspform_drift_actions",
        "Changes apply would make, by provider and operation (ignored drift left out).",
    );
    for p in &plan.providers {
        for (op, name) in [
            (Op::Create, "create"),
            (Op::Update, "update"),
            (Op::Delete, "delete"),
            (Op::Adopt, "adopt"),
            (Op::Forget, "forget"),
            (Op::Replace, "replace"),
        ] {
            let n = plan
                .actions
                .iter()
                .filter(|a| a.provider == p.provider && a.op == op)
                .count();
            let _ = writeln!(
                out,
                "mspform_drift_actions{{provider=\"{}\",op=\"{name}\"}} {n}",
                p.provider
            );
        }
    }
    let per_provider = |out: &mut String, name: &str, help: &str, n: &dyn Fn(&str) -> usize| {
        gauge(out, name, help);
        for p in &plan.providers {
            let _ = writeln!(
                out,
                "{name}{{provider=\"{}\"}} {}",
                p.provider,
                n(&p.provider)
            );
        }
    };
    per_provider(
        &mut out,
        "mspform_drift_ignored",
        "Drifted fields (or objects) an active [[ignore]] rule matched: counted, not reported.",
        &|p| run.ignored.get(p).copied().unwrap_or(0),
    );
    per_provider(
        &mut out,
        "mspform_drift_new",
        "Drifted fields (or objects) the previous drift run did not see.",
        &|p| run.new.get(p).copied().unwrap_or(0),
    );
    per_provider(
        &mut out,
        "mspform_unmanaged_objects",
        "Live objects nobody declared, left alone.",
        &|p| plan.unmanaged.iter().filter(|u| u.provider == p).count(),
    );
    per_provider(
        &mut out,
        "mspform_protected_kept",
        "Protected objects kept although the files no longer declare them.",
        &|p| plan.kept.iter().filter(|k| k.provider == p).count(),
    );
    gauge(
        &mut out,
        "mspform_provider_up",
        "Whether the provider could be read (1) or not (0).",
    );
    for p in &plan.providers {
        let _ = writeln!(out, "mspform_provider_up{{provider=\"{}\"}} 1", p.provider);
    }
    for u in &plan.unavailable {
        let _ = writeln!(out, "mspform_provider_up{{provider=\"{}\"}} 0", u.provider);
    }
    per_provider(
        &mut out,
        "mspform_refresh_api_calls",
        "API calls the refresh spent.",
        &|p| {
            plan.providers
                .iter()
                .find(|x| x.provider == p)
                .map_or(0, |x| x.calls as usize)
        },
    );
    out
}

/// Every provider's declared customers and what its vendor reads one
/// customer at a time, for a rolling check.
fn rolling_customers(desired: &Desired) -> Vec<rolling::ProviderCustomers> {
    desired
        .providers
        .values()
        .map(|p| rolling::ProviderCustomers {
            provider: p.key.clone(),
            customers: desired
                .customers
                .iter()
                .filter(|(_, c)| c.provider == p.key)
                .map(|(k, _)| k.clone())
                .collect(),
            reads: p
                .info()
                .per_customer_reads
                .iter()
                .map(|r| r.to_string())
                .collect(),
            budget: None,
        })
        .collect()
}

/// `mspform drift`: the plan as a drift report. The metrics file (if asked
/// for) is written whatever happens, last, so it describes this run.
pub async fn drift(args: &DriftArgs) -> Result<Status, CliError> {
    args.watch.start()?;
    super::progress::print_progress(true);
    let started = super::run_started("drift", &args.config.config);
    let mut run = DriftRun::default();
    let result = drift_run(args, &mut run).await;
    super::run_finished(&result, started);
    run.success = matches!(result, Ok(Status::Ok | Status::Changes));
    if let Some(path) = &args.prometheus {
        let metrics = prometheus(&run, crate::clock::now_unix());
        if let Err(e) = write_atomic(path, metrics.as_bytes()) {
            let message = format!("cannot write metrics to {}: {e}", path.display());
            return match result {
                // The run's own error says more; the metrics problem goes to the log.
                Err(err) => {
                    tracing::error!("{message}");
                    Err(err)
                }
                Ok(_) => Err(CliError::Other(message)),
            };
        }
    }
    result
}

async fn drift_run(args: &DriftArgs, run: &mut DriftRun) -> Result<Status, CliError> {
    let plan_args = PlanArgs {
        format: args.format,
        out: None,
        detailed_exitcode: true,
        show_unmanaged: args.show_unmanaged,
        watch: Default::default(),
        select: args.select.clone(),
        calls: args.calls.clone(),
        resend_invitations: Vec::new(),
        allow_provider_removal: Vec::new(),
        config: args.config.clone(),
        state: args.state.clone(),
        log: args.log.clone(),
    };
    let desired = load_config(&args.config.config)?;
    let store = read_state(&args.state, "drift")?;
    let previous = store.last_drift()?;
    let now = crate::clock::now_unix();
    let limits = args.calls.limits()?;
    // `--max-calls`: what the per-customer reads may spend is the limit less
    // what the MSP-wide lists cost last time (the first time: a tenth of the
    // limit, at least 5 calls, is kept for them).
    let listed = |provider: &str, limit: u64| {
        previous
            .as_ref()
            .and_then(|m| m.list_calls.get(provider))
            .copied()
            .unwrap_or_else(|| (limit / 10).max(5))
    };
    let mut customers = rolling_customers(&desired);
    for p in &mut customers {
        p.budget = limits
            .per_provider
            .get(&p.provider)
            .map(|n| n.saturating_sub(listed(&p.provider, *n)));
    }
    let total_budget = limits.total.map(|n| {
        n.saturating_sub(
            customers
                .iter()
                .map(|p| listed(&p.provider, n))
                .sum::<u64>(),
        )
    });
    let checked = previous
        .as_ref()
        .map(|m| m.checked.clone())
        .unwrap_or_default();
    let slice = args.full_every.map(|period| {
        rolling::slice(
            &customers,
            &checked,
            now,
            previous.as_ref().map(|m| m.at),
            period.as_secs(),
            total_budget,
        )
    });
    let scope = match &slice {
        Some(s) => crate::vendor::Scope::everything().with_deep(s.deep.clone()),
        None => crate::vendor::Scope::everything(),
    };
    let mut plan = plan_from(&desired, store.clone(), &plan_args, true, scope).await?;
    run.ignored = drift::ignore(&mut plan, &desired.ignore, crate::clock::today());
    let read: BTreeSet<String> = plan.providers.iter().map(|p| p.provider.clone()).collect();
    let notes = plan.drift.get_or_insert_with(Default::default);
    if let Some(slice) = &slice {
        notes.coverage = slice
            .coverage
            .iter()
            .filter(|c| read.contains(&c.provider))
            .cloned()
            .collect();
    }
    let mut memory = drift::memory(&plan, previous.as_ref(), now);
    let deep: BTreeSet<String> = match &slice {
        Some(s) => s.deep.clone(),
        None => desired.customers.keys().cloned().collect(),
    };
    // A targeted drift check reads only part of the portfolio: the cursor stays.
    memory.checked = if args.select.target.is_empty() && args.select.exclude.is_empty() {
        rolling::advance(&checked, &customers, &read, &deep, now)
    } else {
        checked.clone()
    };
    for p in &plan.providers {
        let per_customer = customers
            .iter()
            .find(|c| c.provider == p.provider)
            .map_or(0, |c| {
                c.reads.len() as u64
                    * c.customers.iter().filter(|k| deep.contains(*k)).count() as u64
            });
        memory
            .list_calls
            .insert(p.provider.clone(), p.calls.saturating_sub(per_customer));
    }
    run.last_full = rolling::last_full_checks(&memory.checked, &customers);
    for (provider, seen) in &memory.seen {
        let before = previous.as_ref().and_then(|m| m.seen.get(provider));
        let new = seen
            .iter()
            .filter(|f| before.is_none_or(|b| !b.contains(*f)))
            .count();
        run.new.insert(provider.clone(), new);
    }
    let mut shown = plan.clone();
    if args.new_only {
        drift::new_only(&mut shown, previous.as_ref());
    }
    run.plan = Some(plan);
    print(&shown, args.format, args.show_unmanaged);
    store.set_last_drift(&memory)?;
    // Drift that could not look at a provider is not "no drift" (0) nor "drift" (2).
    if !shown.unavailable.is_empty() {
        return Err(CliError::Unavailable(shown.unavailable));
    }
    Ok(if shown.has_changes() {
        Status::Changes
    } else {
        Status::Ok
    })
}
