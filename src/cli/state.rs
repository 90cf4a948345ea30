//! `mspform state list|show|rm`: what mspform owns. Credentials are never shown.

use clap::Subcommand;

use super::{Cli, CliError, Status, open_state};

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the addresses mspform owns.
    List,
    /// Show one owned record (vendor ids, facts).
    Show { address: String },
    /// Forget an address: mspform stops owning it; nothing is changed at the vendor.
    Rm { address: String },
    /// Show the write journal (pending entries are settled by the next plan/apply).
    Journal,
}

pub fn run(cli: &Cli, cmd: &StateCommand) -> Result<Status, CliError> {
    let (store, _lock) = open_state(&cli.state, "state")?;
    match cmd {
        StateCommand::List => {
            for (address, record) in store.owned()? {
                println!(
                    "{address}\t{}\t{}",
                    record.provider,
                    record.vendor_id.unwrap_or_default()
                );
            }
        }
        StateCommand::Show { address } => match store.get_owned(address)? {
            Some(record) => println!(
                "{}",
                serde_json::to_string_pretty(&record).unwrap_or_default()
            ),
            None => {
                return Err(CliError::Other(format!(
                    "{address} is not in the state; `mspform state list` shows what is"
                )));
            }
        },
        StateCommand::Rm { address } => {
            if !store.remove_owned(address)? {
                return Err(CliError::Other(format!("{address} is not in the state")));
            }
            println!("Forgot {address}; the live object is untouched.");
        }
        StateCommand::Journal => {
            for (id, e) in store.journal()? {
                println!(
                    "{id}\t{:?}\t{}\t{}\t{}\t{}",
                    e.status, e.provider, e.address, e.action, e.call
                );
            }
        }
    }
    Ok(Status::Ok)
}
