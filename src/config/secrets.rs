//! Checks every secret reference of a loaded configuration in one pass, before
//! any vendor call: an environment variable must be set and not empty, a file
//! must be a readable, non-empty regular file, and a value with a vendor rule
//! (e.g. a password's length limit) must meet it. Each problem is
//! reported at the reference's file, line and column; no value is ever printed.
//! Reads the environment and secret files; nothing else.

use std::io::Read;
use std::path::Path;

use crate::model::{Desired, SecretRef, SecretUse};

use super::error::{ConfigError, ConfigErrors};

/// A secret file holds one value: anything larger is the wrong file.
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// Checks every secret the configuration references (`desired.secrets`, filled
/// by the loader) and reports all that are missing, empty or unreadable.
pub fn check_secrets(desired: &Desired) -> Result<(), ConfigErrors> {
    let errors: Vec<ConfigError> = desired
        .secrets
        .iter()
        .filter_map(|used| {
            check(used).err().map(|(message, help)| ConfigError {
                file: used.file.clone(),
                line: used.line,
                column: used.column,
                key: used.key.clone(),
                message,
                help: Some(help),
                also: Vec::new(),
            })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ConfigErrors::new(errors))
    }
}

const OFFLINE: &str = "(`mspform validate --offline` checks the files without their secrets)";

/// The message and help for a secret that cannot be used; never its value.
fn check(used: &SecretUse) -> Result<(), (String, String)> {
    let value = match &used.reference {
        SecretRef::Env(name) => env(name)?,
        SecretRef::File(path) => file(path)?,
    };
    if let Some(rule) = &used.rule
        && let Err(message) = (rule.check)(value.trim())
    {
        return Err((
            format!("the secret from {}: {message}", used.reference),
            format!(
                "put a value the vendor accepts for {} in {}",
                rule.name, used.reference
            ),
        ));
    }
    Ok(())
}

fn env(name: &str) -> Result<String, (String, String)> {
    let help = || format!("export {name}=… before running mspform {OFFLINE}");
    let Some(value) = std::env::var_os(name) else {
        return Err((format!("environment variable {name} is not set"), help()));
    };
    let Some(value) = value.to_str() else {
        return Err((
            format!("environment variable {name} is not valid UTF-8"),
            help(),
        ));
    };
    if value.trim().is_empty() {
        return Err((format!("environment variable {name} is empty"), help()));
    }
    Ok(value.to_string())
}

fn file(path: &Path) -> Result<String, (String, String)> {
    let shown = path.display();
    let help = || format!("write the secret to {shown}, or fix the path {OFFLINE}");
    let meta = std::fs::metadata(path)
        .map_err(|e| (format!("cannot read the secret file {shown}: {e}"), help()))?;
    // Never open a FIFO or a device: the first would block, the second never end.
    if !meta.is_file() {
        return Err((
            format!("the secret file {shown} is not a regular file"),
            help(),
        ));
    }
    if meta.len() > MAX_SECRET_BYTES {
        return Err((
            format!(
                "the secret file {shown} is {} bytes; a secret file holds one value (at most 64 KiB)",
                meta.len()
            ),
            help(),
        ));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SECRET_BYTES).read_to_string(&mut text))
        .map_err(|e| (format!("cannot read the secret file {shown}: {e}"), help()))?;
    if text.trim().is_empty() {
        return Err((format!("the secret file {shown} is empty"), help()));
    }
    Ok(text)
}
