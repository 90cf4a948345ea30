//! TOML → validated [`crate::model::Desired`]. The only module that knows TOML.
//!
//! Raw input first, domain type second: every file is parsed into a spanned
//! `toml::de::DeTable`, the files' tables are merged (keys defined twice are
//! reported), then each definition is walked by hand so that unknown keys, wrong
//! types, missing keys and bad references are all reported in one pass, each at
//! its file, line and column. A `Desired` is returned only when nothing is wrong.
//! Secret references are recorded with their places; [`check_secrets`] checks
//! them all in one pass before any vendor call.

mod country;
mod customer;
mod device;
mod error;
mod files;
mod merge;
mod partner;
mod provider;
mod refs;
mod rules;
mod schema;
mod secrets;
mod source;
pub(crate) mod text;

use std::fs;
use std::path::{Path, PathBuf};

use toml::de::DeTable;

use std::collections::BTreeMap;

use crate::model::{Desired, ProviderConfig};

pub use error::{ConfigError, ConfigErrors, Place};
pub use files::MAX_FILE_BYTES;
pub(crate) use schema::{NonEmpty, SecretRef};
#[cfg(test)]
pub(crate) use schema::{assert_mirror, assert_vendor_mirrors};
pub use schema::{json_schema, json_schema_text};
pub use secrets::check_secrets;

// What vendor schemas use: the spanned walker, its error sink, and shared checks.
pub(crate) use country::normalize_country;
pub(crate) use provider::{env_name, secret, secret_with};
pub(crate) use refs::check_licenses;
pub use source::{Node, Repeats, Sink, SourceFile, Table, string_list};
#[cfg(test)]
pub(crate) use text::is_valid_key;
pub(crate) use text::{closest, forbidden_char, list};

/// Loads a file, or a directory of `*.toml` files (recursively, sorted by path;
/// symbolic links followed; hidden entries and files not ending in `.toml` are
/// skipped and logged, every entry that cannot be read is an error). Checks the
/// files, not the secrets they reference: see [`check_secrets`].
pub fn load(path: &Path) -> Result<Desired, ConfigErrors> {
    let mut sink = source::Sink::default();
    let mut complete = true;
    let mut files = Vec::new();
    match fs::metadata(path) {
        Err(e) => sink.file(
            path,
            format!("cannot read the configuration: {e}"),
            Some("pass the path of a .toml file or of a directory of .toml files".to_string()),
        ),
        Ok(meta) if meta.is_dir() => {
            let errors = sink.errors.len();
            files = files::collect(path, &mut sink);
            complete = sink.errors.len() == errors;
            if files.is_empty() && complete {
                sink.file(
                    path,
                    "the directory holds no .toml files",
                    Some(
                        "put the configuration in *.toml files, or pass the path of one file"
                            .to_string(),
                    ),
                );
                // That is the one error: not also "no provider".
                complete = false;
            }
        }
        Ok(_) => files.push(path.to_path_buf()),
    }
    let mut sources = Vec::new();
    for file in files {
        match files::read(&file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => sources.push((file, text)),
                Err(e) => {
                    let offset = e.utf8_error().valid_up_to();
                    let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                    let src = SourceFile::new(0, file, text);
                    sink.at(
                        &src,
                        offset,
                        "",
                        "the file is not valid UTF-8",
                        Some("save the file as UTF-8".to_string()),
                    );
                    complete = false;
                }
            },
            Err((message, help)) => {
                sink.file(&file, message, help);
                complete = false;
            }
        }
    }
    build(path, sources, sink, complete)
}

/// Loads in-memory files: `(file name, contents)`. Files are taken in path order;
/// "no provider" is reported at the first file.
pub fn load_sources(sources: &[(PathBuf, String)]) -> Result<Desired, ConfigErrors> {
    let root = sources
        .iter()
        .map(|(p, _)| p.clone())
        .min()
        .unwrap_or_default();
    build(&root, sources.to_vec(), source::Sink::default(), true)
}

/// `root` is the path the configuration was loaded from, named by file-level
/// errors about the whole configuration.
fn build(
    root: &Path,
    mut sources: Vec<(PathBuf, String)>,
    mut sink: Sink,
    mut complete: bool,
) -> Result<Desired, ConfigErrors> {
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    let files: Vec<SourceFile> = sources
        .into_iter()
        .enumerate()
        .map(|(i, (path, text))| SourceFile::new(i, path, text))
        .collect();
    let mut parsed = Vec::new();
    for file in &files {
        match DeTable::parse(&file.text) {
            Ok(table) => parsed.push((file, table)),
            Err(e) => {
                complete = false;
                let offset = e.span().map_or(0, |s| s.start);
                sink.at(
                    file,
                    offset,
                    "",
                    format!("TOML syntax error: {}", e.message().trim()),
                    Some(syntax_help(e.message())),
                );
            }
        }
    }
    let tables: Vec<(&SourceFile, &DeTable<'_>)> =
        parsed.iter().map(|(f, t)| (*f, t.get_ref())).collect();
    let merged = merge::merge(&tables, &mut sink);
    // A configuration that declares anything else without a provider already
    // fails on its references; one that declares nothing gets this one error.
    if complete && sink.errors.is_empty() && merged.is_empty() {
        no_provider(root, &mut sink);
    }
    let mut providers = BTreeMap::new();
    for (key, node) in &merged.providers {
        if let Some(parsed) = provider::provider(node, &mut sink) {
            providers.insert(key.clone(), parsed);
        }
    }
    let facts = merged
        .providers
        .keys()
        .map(|key| {
            let parsed = providers.get(key);
            let facts = refs::ProviderFacts {
                info: parsed.map(|p| p.schema.info()),
                licenses: parsed.and_then(|p| p.builder.license_names()),
            };
            (key.clone(), facts)
        })
        .collect();
    let refs = refs::Refs::new(&merged, facts, complete);

    let mut desired = Desired::default();
    let mut names = Vec::new();
    for (key, node) in &merged.customers {
        if let Some(c) = customer::customer(node, &refs, &mut providers, &mut names, &mut sink) {
            desired.customers.insert(key.clone(), c);
        }
    }
    customer::check_unique_names(names, &mut sink);
    let mut macs = Vec::new();
    for (key, node) in &merged.devices {
        if let Some(d) = device::device(node, &refs, &mut macs, &mut sink) {
            desired.devices.insert(key.clone(), d);
        }
    }
    device::check_unique_macs(macs, &mut sink);
    let mut claimed = Vec::new();
    for (key, node) in &merged.partners {
        if let Some(p) = partner::partner(node, &refs, &mut claimed, &mut sink) {
            desired.partners.insert(key.clone(), p);
        }
    }
    partner::check_claims(claimed, &refs, &mut sink);
    for (key, node) in &merged.customers {
        rules::protect(
            node,
            crate::address::Address::customer(key),
            &mut desired.protected,
            &mut sink,
        );
    }
    for (key, node) in &merged.partners {
        rules::protect(
            node,
            crate::address::Address::partner(key),
            &mut desired.protected,
            &mut sink,
        );
    }
    desired.ignore = rules::ignore_rules(&merged.ignore, crate::clock::today(), &mut sink);
    desired.bulk = rules::safety(merged.safety.as_ref(), &mut sink);
    for (key, parsed) in providers {
        let spec = parsed.builder.finish(&mut sink);
        if let (Some(base_url), Some(ownership), Some(spec)) =
            (parsed.base_url, parsed.ownership, spec)
        {
            desired.providers.insert(
                key.clone(),
                ProviderConfig {
                    key,
                    base_url,
                    ownership,
                    spec,
                },
            );
        }
    }

    if sink.errors.is_empty() {
        desired.secrets = std::mem::take(&mut sink.secrets);
        Ok(desired)
    } else {
        Err(ConfigErrors(sink.into_sorted()))
    }
}

/// A configuration without a provider would plan nothing, and `drift` would
/// report nothing for ever, however much the portals change: an error.
fn no_provider(root: &Path, sink: &mut Sink) {
    sink.file(
        root,
        "the configuration declares no provider",
        Some(
            "declare at least one [providers.<key>] table (type, base_url, credentials) — see the configuration reference in the README; a file that is empty or has only comments is not a configuration".to_string(),
        ),
    );
}

fn syntax_help(message: &str) -> String {
    if message.contains("recurse") || message.contains("recursion") {
        "the file nests arrays or tables (or dotted keys) deeper than TOML readers allow: an mspform configuration needs only a few levels".to_string()
    } else if message.contains("duplicate key") {
        "a key may be defined once per table: remove or rename one of the two".to_string()
    } else {
        "fix the TOML syntax here (quotes, brackets, `key = value`); the other files were still checked".to_string()
    }
}
