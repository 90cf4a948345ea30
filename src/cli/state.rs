//! `mspform state list|show|rm|unprotect|journal|export|import|migrate|force-unlock`:
//! what mspform owns, lifting a protection, the versioned JSON form of it for backups and recovery,
//! moving a state between a directory and PostgreSQL, and clearing a lock left
//! behind. Credentials are never shown or exported (`migrate` carries them).
//! The listings read a snapshot without the lock; `rm`, `unprotect`, `import`
//! and `migrate` take it (waiting up to `--lock-timeout`).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::globals::{LockArg, LogArgs, StateArgs, Uses};
use super::{CliError, Status, open_state, read_state};
use crate::state::StateLocation;
use crate::state::export::{self, ImportError};

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the addresses mspform owns.
    #[command(
        after_help = "Examples:\n  mspform state list\n  mspform state list --state postgres://mspform@db.example.net/mspform"
    )]
    List {
        #[command(flatten)]
        on: ReadOpts,
    },
    /// Show one owned record (vendor ids, facts).
    #[command(
        after_help = "Examples:\n  mspform state show customer.acme-retail\n  mspform state show device.CN12345678"
    )]
    Show {
        /// The address: customer.KEY, site.CUSTOMER/SITE, device.SERIAL or partner.KEY (`state list` shows them).
        address: String,
        #[command(flatten)]
        on: ReadOpts,
    },
    /// Forget an address: mspform stops owning it; nothing is changed at the vendor.
    #[command(
        after_help = "Examples:\n  mspform state rm customer.old-client      # the next plan shows it as unmanaged\n  mspform state rm site.acme-retail/warehouse"
    )]
    Rm {
        /// The address to forget: customer.KEY, site.CUSTOMER/SITE, device.SERIAL or partner.KEY.
        address: String,
        #[command(flatten)]
        on: WriteOpts,
    },
    /// Lift the protection an apply recorded for an object declared
    /// `protect = true`: its delete or replacement is planned again (e.g. a
    /// customer whose file was removed is deleted by the next apply).
    #[command(
        after_help = "Examples:\n  mspform state unprotect customer.acme-retail && mspform plan"
    )]
    Unprotect {
        /// The protected address (as `plan` lists it under "Protected, kept").
        address: String,
        #[command(flatten)]
        on: WriteOpts,
    },
    /// Show the write journal (pending entries are settled by the next plan/apply).
    #[command(
        after_help = "Examples:\n  mspform state journal\n  mspform state journal | grep pending   # writes whose answer never came"
    )]
    Journal {
        #[command(flatten)]
        on: ReadOpts,
    },
    /// Write every owned record and journal entry as versioned JSON (no credentials).
    #[command(
        after_help = "Examples:\n  mspform state export backup-$(date +%F).json\n  mspform state export | jq '.owned | length'"
    )]
    Export {
        /// Write here (atomically, mode 0600) instead of to stdout.
        file: Option<PathBuf>,
        #[command(flatten)]
        on: ReadOpts,
    },
    /// Restore records from `state export` or an apply's backup (`backup.json`).
    #[command(
        after_help = "Examples:\n  mspform state import backup-2026-12-01.json --state ./new-state\n  mspform state import state/backup.json --force"
    )]
    Import {
        file: PathBuf,
        /// Replace what a non-empty state holds.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        on: WriteOpts,
    },
    /// Copy the whole state (records, journal, saved credentials) to another
    /// place, e.g. from a directory into PostgreSQL or back, and check that both
    /// hold the same records. The source is left as it was.
    #[command(
        after_help = "Examples:\n  PGPASSWORD=… mspform state migrate --state ./state --to postgres://mspform@db.example.net/mspform\n  mspform state migrate --state postgres://mspform@db.example.net/mspform --to ./state-copy"
    )]
    Migrate {
        /// The destination: a directory or a postgres:// URL (`?schema=NAME` optional).
        #[arg(long, value_name = "DIR_OR_URL")]
        to: String,
        /// The destination's PostgreSQL schema (default `mspform`).
        #[arg(long = "to-schema", value_name = "NAME")]
        to_schema: Option<String>,
        /// Replace what a non-empty destination holds.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        on: WriteOpts,
    },
    /// Clear a lock left behind, by the lock ID its holder is named with. On
    /// PostgreSQL, a holder that still holds it has its lock session ended.
    #[command(
        after_help = "Examples:\n  mspform state force-unlock 7f3c2a91   # the lock ID a \"locked by\" message names"
    )]
    ForceUnlock {
        /// The lock ID the "locked by" message names.
        id: String,
        #[command(flatten)]
        on: ReadOpts,
    },
}

/// What a state command that only reads it takes: where it is, and logging.
#[derive(Debug, Clone, Args)]
pub struct ReadOpts {
    #[command(flatten)]
    pub at: StateArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

impl ReadOpts {
    pub fn uses(&mut self) -> Uses<'_> {
        Uses::default().state(&mut self.at).log(&mut self.log)
    }
}

/// What a state command that writes it takes: also `--lock-timeout`.
#[derive(Debug, Clone, Args)]
pub struct WriteOpts {
    #[command(flatten)]
    pub at: StateArgs,
    #[command(flatten)]
    pub lock: LockArg,
    #[command(flatten)]
    pub log: LogArgs,
}

impl WriteOpts {
    pub fn uses(&mut self) -> Uses<'_> {
        Uses::default()
            .state(&mut self.at)
            .lock(&mut self.lock)
            .log(&mut self.log)
    }
}

impl StateCommand {
    /// The shared options this state command reads.
    pub fn uses(&mut self) -> Uses<'_> {
        match self {
            StateCommand::List { on }
            | StateCommand::Show { on, .. }
            | StateCommand::Journal { on }
            | StateCommand::Export { on, .. }
            | StateCommand::ForceUnlock { on, .. } => on.uses(),
            StateCommand::Rm { on, .. }
            | StateCommand::Unprotect { on, .. }
            | StateCommand::Import { on, .. }
            | StateCommand::Migrate { on, .. } => on.uses(),
        }
    }
}

fn operation(cmd: &StateCommand) -> &'static str {
    match cmd {
        StateCommand::List { .. } => "state list",
        StateCommand::Show { .. } => "state show",
        StateCommand::Rm { .. } => "state rm",
        StateCommand::Unprotect { .. } => "state unprotect",
        StateCommand::Journal { .. } => "state journal",
        StateCommand::Export { .. } => "state export",
        StateCommand::Import { .. } => "state import",
        StateCommand::Migrate { .. } => "state migrate",
        StateCommand::ForceUnlock { .. } => "state force-unlock",
    }
}

fn same_place(a: &StateLocation, b: &StateLocation) -> bool {
    match (a, b) {
        (StateLocation::Dir(x), StateLocation::Dir(y)) => {
            x == y
                || std::fs::canonicalize(x)
                    .ok()
                    .is_some_and(|x| std::fs::canonicalize(y).ok() == Some(x))
        }
        (StateLocation::Postgres(x), StateLocation::Postgres(y)) => x.to_string() == y.to_string(),
        _ => false,
    }
}

fn migrate(
    on: &WriteOpts,
    to: &str,
    to_schema: Option<&str>,
    force: bool,
) -> Result<Status, CliError> {
    let from = on.at.location()?;
    let dest =
        StateLocation::parse(to, to_schema).map_err(|e| CliError::Other(format!("--to: {e}")))?;
    if same_place(&from, &dest) {
        return Err(CliError::Other(format!(
            "--to {dest} is where the state is already (--state); nothing was copied"
        )));
    }
    // Both under their locks: nobody writes either side during the copy.
    let source = open_state(&on.at, &on.lock, "state migrate")?;
    let target = crate::state::open::writer(&dest, "state migrate", on.lock.lock_timeout)?;
    let copied =
        crate::state::open::copy(source.as_ref(), target.as_ref(), force).map_err(|e| match e {
            ImportError::State(e) => CliError::State(e),
            other => CliError::Other(format!("cannot migrate the state to {dest}: {other}")),
        })?;
    println!(
        "Copied {} owned record(s), {} protection(s), {} journal entr(y/ies) and {} saved credential(s) from {from} to {dest}; both hold the same records. Use --state {dest_arg} (or MSPFORM_STATE) from now on; {from} is left as it was.",
        copied.owned,
        copied.protected,
        copied.journal,
        copied.credentials,
        dest_arg = match &dest {
            StateLocation::Dir(d) => d.display().to_string(),
            StateLocation::Postgres(_) => "with the destination URL".into(),
        }
    );
    Ok(Status::Ok)
}

pub fn run(cmd: &StateCommand) -> Result<Status, CliError> {
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
    let store = match cmd {
        StateCommand::Migrate {
            to,
            to_schema,
            force,
            on,
        } => return migrate(on, to, to_schema.as_deref(), *force),
        StateCommand::ForceUnlock { id, on } => {
            println!(
                "{}",
                crate::state::open::force_unlock(&on.at.location()?, id)?
            );
            return Ok(Status::Ok);
        }
        StateCommand::Rm { on, .. }
        | StateCommand::Unprotect { on, .. }
        | StateCommand::Import { on, .. } => open_state(&on.at, &on.lock, operation(cmd))?,
        // Listings read a snapshot without the lock: they run beside an apply.
        StateCommand::List { on }
        | StateCommand::Show { on, .. }
        | StateCommand::Journal { on }
        | StateCommand::Export { on, .. } => read_state(&on.at, operation(cmd))?,
    };
    match cmd {
        StateCommand::List { .. } => {
            for (address, record) in store.owned()? {
                println!(
                    "{address}\t{}\t{}",
                    record.provider,
                    record.vendor_id.unwrap_or_default()
                );
            }
        }
        StateCommand::Show { address, .. } => match store.get_owned(address)? {
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
        StateCommand::Rm { address, .. } => {
            if !store.remove_owned(address)? {
                return Err(CliError::Other(format!("{address} is not in the state")));
            }
            println!("Forgot {address}; the live object is untouched.");
        }
        StateCommand::Unprotect { address, .. } => {
            if !store.remove_protection(address)? {
                let protected: Vec<String> = store.protections()?.into_keys().collect();
                return Err(CliError::Other(format!(
                    "{address} is not protected in the state; nothing was changed. Protected: {}",
                    if protected.is_empty() {
                        "none".to_string()
                    } else {
                        protected.join(", ")
                    }
                )));
            }
            println!(
                "Lifted the protection of {address}. The next plan shows its delete or replacement, if the files ask for one; remove `protect = true` from its file too, or the next apply records it again."
            );
        }
        StateCommand::Journal { .. } => {
            for (id, e) in store.journal()? {
                println!(
                    "{id}\t{:?}\t{}\t{}\t{}\t{}",
                    e.status, e.provider, e.address, e.action, e.call
                );
            }
        }
        StateCommand::Export { file, .. } => {
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
        StateCommand::Import { file, force, .. } => {
            let Some(import) = import else {
                return Err(CliError::Other("nothing to import".into()));
            };
            let summary = export::import(store.as_ref(), &import, *force).map_err(|e| match e {
                ImportError::State(e) => CliError::State(e),
                other => CliError::Other(format!("cannot import {}: {other}", file.display())),
            })?;
            println!(
                "Imported {} owned record(s), {} protection(s) and {} journal entr(y/ies) from {} (written {}). Credentials are not part of it; run `mspform plan` to check the result.",
                summary.owned,
                summary.protected,
                summary.journal,
                file.display(),
                crate::clock::fmt_utc(import.written_at)
            );
        }
        StateCommand::Migrate { .. } | StateCommand::ForceUnlock { .. } => {}
    }
    Ok(Status::Ok)
}
