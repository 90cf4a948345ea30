//! `mspform validate`: load and check the configuration and the secrets it
//! references (`--offline`: the files only); no vendor call.

use clap::Args;

use super::globals::{ConfigArg, LogArgs};
use super::{CliError, Status, load_config};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Check the files only, not the secrets they reference (for CI linting
    /// without credentials).
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub log: LogArgs,
}

pub fn run(args: &ValidateArgs) -> Result<Status, CliError> {
    let desired = if args.offline {
        crate::config::load(&args.config.config)?
    } else {
        load_config(&args.config.config)?
    };
    let sites: usize = desired.customers.values().map(|c| c.sites.len()).sum();
    let secrets = if args.offline {
        format!(
            "; {} secret reference(s) not checked (--offline)",
            desired.secrets.len()
        )
    } else {
        format!("; {} secret reference(s) checked", desired.secrets.len())
    };
    println!(
        "The configuration is valid: {} provider(s), {} customer(s), {} site(s), {} device(s), {} partner(s){secrets}.",
        desired.providers.len(),
        desired.customers.len(),
        sites,
        desired.devices.len(),
        desired.partners.len()
    );
    Ok(Status::Ok)
}
