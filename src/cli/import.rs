//! `mspform import`: live customers of the configured providers as
//! configuration files — one per customer, plus a partners file per provider
//! that has partners — into `--out DIR` (never overwriting without `--force`),
//! or on stdout. A plan of the providers file plus the imported files, with an
//! empty state, only adopts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::Args;

use super::globals::{ConfigArg, LogArgs, StateArgs};
use super::{CliError, Status, read_state};
use crate::import::File;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The providers to read (default: every configured one). Repeatable.
    #[arg(long = "provider", value_name = "KEY")]
    pub providers: Vec<String>,
    /// Only these customers, by exact name. Repeatable; default: all.
    #[arg(long = "customer", value_name = "NAME")]
    pub customers: Vec<String>,
    /// Write one file per customer (and per provider's partners) into this
    /// directory instead of printing them.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Overwrite files that already exist in `--out`.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

fn write_files(dir: &Path, files: &[File], force: bool) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::Other(format!("cannot create {}: {e}", dir.display())))?;
    let existing: Vec<String> = files
        .iter()
        .map(|f| dir.join(&f.name))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() && !force {
        return Err(CliError::Other(format!(
            "these files exist already: {}; nothing was written. Choose another --out directory, or pass --force to overwrite them",
            existing.join(", ")
        )));
    }
    for f in files {
        let path = dir.join(&f.name);
        super::plan::write_atomic(&path, f.text.as_bytes())
            .map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

pub async fn run(args: &ImportArgs) -> Result<Status, CliError> {
    let desired = super::load_config(&args.config.config)?;
    for key in &args.providers {
        if !desired.providers.contains_key(key) {
            return Err(CliError::Other(format!(
                "no provider `{key}` in the configuration (configured: {})",
                desired
                    .providers
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let store = read_state(&args.state, "import")?;
    let mut taken_customers: BTreeSet<String> = desired.customers.keys().cloned().collect();
    let mut taken_partners: BTreeSet<String> = desired.partners.keys().cloned().collect();
    let mut files = Vec::new();
    let mut found = BTreeSet::new();
    let (mut customers, mut calls) = (0usize, 0u64);
    for p in desired.providers.values() {
        if !args.providers.is_empty() && !args.providers.contains(&p.key) {
            continue;
        }
        let client = p
            .spec
            .clone()
            .connect(&p.key, &p.base_url, store.clone())
            .map_err(|e| CliError::Other(e.to_string()))?;
        let mut imported = client
            .import(&desired, &args.customers)
            .await
            .map_err(|e| CliError::Other(e.to_string()))?;
        calls += client.calls();
        // Customers the files already declare (by name, on this provider) are not imported again.
        let declared: BTreeSet<&str> = desired
            .customers
            .values()
            .filter(|c| c.provider == p.key)
            .map(|c| c.name.as_str())
            .collect();
        imported.customers.retain(|c| {
            found.insert(c.name.clone());
            let new = !declared.contains(c.name.as_str());
            if !new {
                eprintln!(
                    "Skipped {:?} on provider {}: the configuration declares it already.",
                    c.name, p.key
                );
            }
            new
        });
        // Partners the files declare already keep their declaration.
        let declared_partners: BTreeSet<&str> = desired
            .partners
            .values()
            .filter(|q| q.provider == p.key)
            .map(|q| q.name.as_str())
            .collect();
        imported.partners.retain(|q| {
            let new = !declared_partners.contains(q.name.as_str());
            if !new {
                eprintln!(
                    "Skipped partner {:?} on provider {}: the configuration declares it already.",
                    q.name, p.key
                );
            }
            new
        });
        customers += imported.customers.len();
        files.extend(crate::import::files(
            &p.key,
            &imported,
            &mut taken_customers,
            &mut taken_partners,
        ));
    }
    if let Some(name) = args.customers.iter().find(|n| !found.contains(*n)) {
        return Err(CliError::Other(format!(
            "no live customer is named {name:?} on the providers read"
        )));
    }
    match &args.out {
        Some(dir) => write_files(dir, &files, args.force)?,
        None => {
            for f in &files {
                println!("# ---- {} ----\n{}", f.name, f.text);
            }
        }
    }
    eprintln!(
        "Imported {customers} customer(s) into {} file(s) with {calls} API call(s).",
        files.len()
    );
    Ok(Status::Ok)
}
