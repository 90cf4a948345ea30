//! `mspform init`: a starter configuration — `providers.toml` with one
//! provider table per vendor asked for (all four by default) and one example
//! customer file per vendor, with comments, and `mspform.schema.json` beside
//! them, which each file names in its `#:schema` first line for editors (the
//! loader reads only `.toml` files). Never overwrites a file.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, Status};
use crate::vendors::{Starter, starters};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// A vendor to start with, by its `type` (aruba-central, extremecloud,
    /// ruckus-one, audiocodes-live). Repeatable; default: all four.
    #[arg(long = "provider", value_name = "TYPE")]
    pub providers: Vec<String>,
    /// The directory to write into (created if missing).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

pub fn run(args: &InitArgs) -> Result<Status, CliError> {
    let chosen = choose(&args.providers)?;
    let mut files: Vec<(PathBuf, String)> = vec![(
        args.dir.join("providers.toml"),
        with_schema(&providers_file(&chosen)),
    )];
    for s in &chosen {
        files.push((args.dir.join(s.customer_file), with_schema(s.customer)));
    }
    files.push((
        args.dir.join(SCHEMA_FILE),
        crate::config::json_schema_text(),
    ));
    // Nothing is written when any file exists: a half-written starter helps nobody.
    let existing: Vec<String> = files
        .iter()
        .filter(|(p, _)| p.exists())
        .map(|(p, _)| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(CliError::Other(format!(
            "not overwriting {}; nothing was written (choose another --dir, or move them away)",
            existing.join(", ")
        )));
    }
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| CliError::Other(format!("cannot create {}: {e}", args.dir.display())))?;
    for (path, text) in &files {
        crate::atomic::write(path, text.as_bytes(), crate::atomic::SHARED)
            .map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))?;
        println!("wrote {}", path.display());
    }
    println!(
        "\nNext: export the secrets the files name, then\n  mspform validate -c {dir}\n  mspform plan -c {dir}\n(or `mspform import -c {dir}/providers.toml` to take over the customers you already have)",
        dir = args.dir.display()
    );
    Ok(Status::Ok)
}

/// The starters asked for (all of them by default); an unknown type is an
/// error naming the known ones.
fn choose(types: &[String]) -> Result<Vec<&'static Starter>, CliError> {
    if types.is_empty() {
        return Ok(starters().iter().collect());
    }
    let mut out = Vec::new();
    for t in types {
        let Some(s) = starters().iter().find(|s| s.type_name == t) else {
            let known: Vec<&str> = starters().iter().map(|s| s.type_name).collect();
            let hint = match known.iter().find(|k| k.starts_with(t.as_str())) {
                Some(k) => format!("did you mean `{k}`? "),
                None => crate::config::text::did_you_mean(t, known.iter().copied()),
            };
            return Err(CliError::Other(format!(
                "--provider {t}: no such vendor type; {hint}the types are {}",
                known.join(", ")
            )));
        };
        if !out.iter().any(|o: &&Starter| o.type_name == s.type_name) {
            out.push(s);
        }
    }
    Ok(out)
}

/// The JSON Schema written beside the starter files.
const SCHEMA_FILE: &str = "mspform.schema.json";

/// A starter file with the `#:schema` line editors (taplo, VS Code's Even
/// Better TOML) read: to the loader it is a comment.
fn with_schema(text: &str) -> String {
    format!("#:schema ./{SCHEMA_FILE}\n{text}")
}

fn providers_file(chosen: &[&Starter]) -> String {
    let mut out = String::from(
        "# The vendor accounts mspform manages. Secrets only by reference: an\n# environment variable (`{ env = \"NAME\" }`) or a file (`{ file = \"PATH\" }`),\n# never a value. One customer per file beside this one; see the README.\n",
    );
    for s in chosen {
        out.push('\n');
        out.push_str(s.provider);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_registered_vendor_has_a_starter() {
        let registered: Vec<&str> = crate::vendors::schemas()
            .iter()
            .map(|s| s.info().type_name)
            .collect();
        let starters: Vec<&str> = crate::vendors::starters()
            .iter()
            .map(|s| s.type_name)
            .collect();
        assert_eq!(registered, starters);
    }
}
