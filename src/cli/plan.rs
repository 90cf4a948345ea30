//! `mspform plan` and `mspform drift`: refresh, diff, print. Never writes to a vendor.

use std::io::Write;
use std::path::Path;

use clap::Args;

use super::{Cli, CliError, FormatArg, Status, load_config, open_state};
use crate::engine;
use crate::plan::render;

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
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
}

/// Writes a file crash-safely: temp file, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("plan")
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

pub async fn run(cli: &Cli, args: &PlanArgs) -> Result<Status, CliError> {
    let desired = load_config(&cli.config)?;
    let (store, _lock) = open_state(&cli.state, "plan")?;
    let prepared = engine::plan(&desired, store, &args.target).await?;
    anstream::print!("{}", render::render(&prepared.plan, args.format.into()));
    if let Some(out) = &args.out {
        write_atomic(out, render::json(&prepared.plan).as_bytes()).map_err(|e| {
            CliError::Other(format!("cannot write the plan to {}: {e}", out.display()))
        })?;
    }
    Ok(if args.detailed_exitcode && prepared.plan.has_changes() {
        Status::Changes
    } else {
        Status::Ok
    })
}

pub async fn drift(cli: &Cli, args: &DriftArgs) -> Result<Status, CliError> {
    let plan = PlanArgs {
        format: args.format,
        out: None,
        detailed_exitcode: true,
        target: Vec::new(),
    };
    run(cli, &plan).await
}
