//! `mspform validate`: load and check the configuration; no vendor call.

use super::{Cli, CliError, Status, load_config};

pub fn run(cli: &Cli) -> Result<Status, CliError> {
    let desired = load_config(&cli.config)?;
    let sites: usize = desired
        .customers
        .values()
        .filter_map(|c| c.sites())
        .map(|s| s.len())
        .sum();
    println!(
        "The configuration is valid: {} provider(s), {} customer(s), {} site(s), {} device(s), {} partner(s).",
        desired.providers.len(),
        desired.customers.len(),
        sites,
        desired.devices.len(),
        desired.partners.len()
    );
    Ok(Status::Ok)
}
