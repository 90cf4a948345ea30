//! `mspform schema [--out FILE]`: the JSON Schema of the configuration, for
//! editors (taplo, VS Code's Even Better TOML through a `#:schema` line).
//! Needs no configuration and no state.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, Status};

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write the schema to FILE (replaced atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run(args: &SchemaArgs) -> Result<Status, CliError> {
    let text = crate::config::json_schema_text();
    match &args.out {
        Some(path) => {
            crate::atomic::write(path, text.as_bytes(), crate::atomic::SHARED)
                .map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("wrote {}", path.display());
        }
        None => super::print_stdout(text.as_bytes(), "the schema")?,
    }
    Ok(Status::Ok)
}
