//! `mspform plan` and `mspform drift`: refresh, diff, print. Never writes to a
//! vendor, nor to the state: they read a consistent snapshot of it without the
//! lock, so they run while an apply holds it.

use std::path::Path;

use clap::Args;

use super::{Cli, CliError, FormatArg, Status, load_config, read_state};
use crate::engine;
use crate::plan::{Plan, render};

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
    /// Only plan these addresses (e.g. customer.acme, device.AP0000001). Repeatable.
    #[arg(long)]
    pub target: Vec<String>,
    /// Send the administrator invitation of this customer again (for vendors
    /// that invite administrators). Repeatable.
    #[arg(long = "resend-invitation", value_name = "ADDRESS")]
    pub resend_invitations: Vec<crate::address::Address>,
    /// Forget the objects state owns of this provider, which the files no longer
    /// declare (nothing is deleted at the vendor). Repeatable.
    #[arg(long = "allow-provider-removal", value_name = "PROVIDER")]
    pub allow_provider_removal: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Also write Prometheus metrics (node_exporter textfile format) to this file.
    #[arg(long)]
    pub prometheus: Option<std::path::PathBuf>,
}

/// Writes a file others may read (a plan, metrics, imported files) crash-safely.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    crate::atomic::write(path, contents, crate::atomic::SHARED)
}

pub async fn run(cli: &Cli, args: &PlanArgs) -> Result<Status, CliError> {
    let plan = make(cli, args).await?;
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

async fn make(cli: &Cli, args: &PlanArgs) -> Result<Plan, CliError> {
    let desired = load_config(&cli.config)?;
    // A snapshot, without the lock: a plan or drift check runs beside an apply.
    let store = read_state(cli, "plan")?;
    let options = engine::PlanOptions {
        resend_invitations: args.resend_invitations.iter().cloned().collect(),
        allow_provider_removal: args.allow_provider_removal.iter().cloned().collect(),
    };
    let prepared = engine::plan_with(&desired, store, &args.target, &options).await?;
    anstream::print!("{}", render::render(&prepared.plan, args.format.into()));
    if let Some(out) = &args.out {
        write_atomic(out, render::json(&prepared.plan).as_bytes()).map_err(|e| {
            CliError::Other(format!("cannot write the plan to {}: {e}", out.display()))
        })?;
    }
    Ok(prepared.plan)
}

/// Drift as Prometheus metrics, for a cron job's node_exporter textfile.
pub fn prometheus(plan: &Plan) -> String {
    use crate::diff::Op;
    let mut out = String::from(
        "# HELP mspform_drift_actions Changes apply would make, by provider and operation.\n# TYPE mspform_drift_actions gauge\n",
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
            out.push_str(&format!(
                "mspform_drift_actions{{provider=\"{}\",op=\"{name}\"}} {n}\n",
                p.provider
            ));
        }
    }
    out.push_str("# HELP mspform_unmanaged_objects Live objects nobody declared, left alone.\n# TYPE mspform_unmanaged_objects gauge\n");
    for p in &plan.providers {
        let n = plan
            .unmanaged
            .iter()
            .filter(|u| u.provider == p.provider)
            .count();
        out.push_str(&format!(
            "mspform_unmanaged_objects{{provider=\"{}\"}} {n}\n",
            p.provider
        ));
    }
    out.push_str("# HELP mspform_provider_up Whether the provider could be read (1) or not (0).\n# TYPE mspform_provider_up gauge\n");
    for p in &plan.providers {
        out.push_str(&format!(
            "mspform_provider_up{{provider=\"{}\"}} 1\n",
            p.provider
        ));
    }
    for u in &plan.unavailable {
        out.push_str(&format!(
            "mspform_provider_up{{provider=\"{}\"}} 0\n",
            u.provider
        ));
    }
    out.push_str("# HELP mspform_refresh_api_calls API calls the refresh spent.\n# TYPE mspform_refresh_api_calls gauge\n");
    for p in &plan.providers {
        out.push_str(&format!(
            "mspform_refresh_api_calls{{provider=\"{}\"}} {}\n",
            p.provider, p.calls
        ));
    }
    out.push_str(&format!(
        "# HELP mspform_drift_last_run_timestamp_seconds When the drift check ran.\n# TYPE mspform_drift_last_run_timestamp_seconds gauge\nmspform_drift_last_run_timestamp_seconds {}\n",
        crate::clock::now_unix()
    ));
    out
}

pub async fn drift(cli: &Cli, args: &DriftArgs) -> Result<Status, CliError> {
    let plan_args = PlanArgs {
        format: args.format,
        out: None,
        detailed_exitcode: true,
        target: Vec::new(),
        resend_invitations: Vec::new(),
        allow_provider_removal: Vec::new(),
    };
    let plan = make(cli, &plan_args).await?;
    if let Some(path) = &args.prometheus {
        write_atomic(path, prometheus(&plan).as_bytes()).map_err(|e| {
            CliError::Other(format!("cannot write metrics to {}: {e}", path.display()))
        })?;
    }
    // Drift that could not look at a provider is not "no drift" (0) nor "drift" (2).
    if !plan.unavailable.is_empty() {
        return Err(CliError::Unavailable(plan.unavailable));
    }
    Ok(if plan.has_changes() {
        Status::Changes
    } else {
        Status::Ok
    })
}
