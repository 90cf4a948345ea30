//! `mspform state list|show|rm|journal|export|import`: what mspform owns, and
//! the versioned JSON form of it for backups and recovery. Credentials are never
//! shown or exported.

use std::path::PathBuf;

use clap::Subcommand;

use super::{Cli, CliError, Status, open_state};
use crate::state::export::{self, ImportError};

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
    /// Write every owned record and journal entry as versioned JSON (no credentials).
    Export {
        /// Write here (atomically, mode 0600) instead of to stdout.
        file: Option<PathBuf>,
    },
    /// Restore records from `state export` or an apply's backup (`backup.json`).
    Import {
        file: PathBuf,
        /// Replace what a non-empty state holds.
        #[arg(long)]
        force: bool,
    },
}

fn operation(cmd: &StateCommand) -> &'static str {
    match cmd {
        StateCommand::List => "state list",
        StateCommand::Show { .. } => "state show",
        StateCommand::Rm { .. } => "state rm",
        StateCommand::Journal => "state journal",
        StateCommand::Export { .. } => "state export",
        StateCommand::Import { .. } => "state import",
    }
}

pub fn run(cli: &Cli, cmd: &StateCommand) -> Result<Status, CliError> {
    // Read the import before taking the lock: a bad file changes nothing.
    let import =
        match cmd {
            StateCommand::Import { file, .. } => {
                let text = std::fs::read_to_string(file)
                    .map_err(|e| CliError::Other(format!("cannot read {}: {e}", file.display())))?;
                Some(export::parse(&text).map_err(|e| {
                    CliError::Other(format!("cannot import {}: {e}", file.display()))
                })?)
            }
            _ => None,
        };
    let store = open_state(&cli.state, operation(cmd))?;
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
        StateCommand::Export { file } => {
            let body =
                serde_json::to_string_pretty(&export::export(store.as_ref())?).unwrap_or_default();
            match file {
                Some(path) => {
                    crate::state::write_private_file(path, body.as_bytes()).map_err(|e| {
                        CliError::Other(format!("cannot write {}: {e}", path.display()))
                    })?;
                    eprintln!("Wrote {}.", path.display());
                }
                None => println!("{body}"),
            }
        }
        StateCommand::Import { file, force } => {
            let Some(import) = import else {
                return Err(CliError::Other("nothing to import".into()));
            };
            let summary = export::import(store.as_ref(), &import, *force).map_err(|e| match e {
                ImportError::State(e) => CliError::State(e),
                other => CliError::Other(format!("cannot import {}: {other}", file.display())),
            })?;
            println!(
                "Imported {} owned record(s) and {} journal entr(y/ies) from {} (written {}). Credentials are not part of it; run `mspform plan` to check the result.",
                summary.owned,
                summary.journal,
                file.display(),
                crate::clock::fmt_utc(import.written_at)
            );
        }
    }
    Ok(Status::Ok)
}
