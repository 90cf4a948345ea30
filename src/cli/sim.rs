//! `mspform sim serve`: the vendor simulator as its own process.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::globals::{LogFormatArg, Uses};
use super::{CliError, Status};
use crate::sim::{Inventory, SimOptions};

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve the simulated vendor APIs until Ctrl-C.
    #[command(
        after_help = "Examples:\n  mspform sim serve --listen 127.0.0.1:8080 --data ./simdata\n  mspform sim serve --listen 127.0.0.1:8080 --inventory examples/sim-inventory.toml"
    )]
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address for all vendors under /aruba, … and the /_sim control endpoints.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Also serve Aruba Central at the root of this address, as the real cloud does.
    #[arg(long)]
    pub aruba_listen: Option<SocketAddr>,
    /// Also serve ExtremeCloud at the root of this address.
    #[arg(long)]
    pub extreme_listen: Option<SocketAddr>,
    /// Also serve RUCKUS One at the root of this address.
    #[arg(long)]
    pub ruckus_listen: Option<SocketAddr>,
    /// Inventory TOML (default: the embedded examples/sim-inventory.toml).
    #[arg(long)]
    pub inventory: Option<PathBuf>,
    /// Persist the simulated clouds here so separate runs see the same data.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Also serve AudioCodes Live Platform at the root of this address.
    #[arg(long)]
    pub audiocodes_listen: Option<SocketAddr>,
    #[command(flatten)]
    pub log: LogFormatArg,
}

impl SimCommand {
    /// The shared options it reads: only `--log-format` (it logs warnings).
    pub fn uses(&mut self) -> Uses<'_> {
        let SimCommand::Serve(args) = self;
        Uses::default().log_format(&mut args.log)
    }
}

pub async fn run(cmd: &SimCommand) -> Result<Status, CliError> {
    let SimCommand::Serve(args) = cmd;
    let inventory = match &args.inventory {
        Some(path) => Inventory::from_file(path).map_err(|e| CliError::Other(format!("{e:#}")))?,
        None => Inventory::embedded(),
    };
    let opts = SimOptions {
        listen: args.listen,
        aruba_listen: args.aruba_listen,
        extreme_listen: args.extreme_listen,
        ruckus_listen: args.ruckus_listen,
        inventory,
        data_dir: args.data.clone(),
        audiocodes_listen: args.audiocodes_listen,
    };
    crate::sim::serve(opts)
        .await
        .map_err(|e| CliError::Other(format!("simulator: {e:#}")))?;
    Ok(Status::Ok)
}
