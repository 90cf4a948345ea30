//! TOML → validated [`crate::model::Desired`]. The only module that knows TOML.
//!
//! Raw input first, domain type second: every file is parsed into a spanned
//! `toml::de::DeTable`, the files' tables are merged (keys defined twice are
//! reported), then each definition is walked by hand so that unknown keys, wrong
//! types, missing keys and bad references are all reported in one pass, each at
//! its file, line and column. A `Desired` is returned only when nothing is wrong.

mod audiocodes;
mod country;
mod customer;
mod device;
mod error;
mod extreme;
mod merge;
mod partner;
mod provider;
mod refs;
mod ruckus;
mod source;
mod text;

use std::fs;
use std::path::{Path, PathBuf};

use toml::de::DeTable;

use crate::model::Desired;

pub use error::{ConfigError, ConfigErrors};
use source::{Sink, SourceFile};

/// Loads a file, or a directory of `*.toml` files (recursively, sorted by path,
/// hidden files and directories skipped).
pub fn load(path: &Path) -> Result<Desired, ConfigErrors> {
    let mut sink = Sink::default();
    let mut complete = true;
    let mut files = Vec::new();
    match fs::metadata(path) {
        Err(e) => sink.file(
            path,
            format!("cannot read the configuration: {e}"),
            Some("pass the path of a .toml file or of a directory of .toml files".to_string()),
        ),
        Ok(meta) if meta.is_dir() => {
            let mut paths = Vec::new();
            collect_toml(path, &mut paths, &mut sink);
            paths.sort();
            if paths.is_empty() {
                sink.file(
                    path,
                    "the directory holds no .toml files",
                    Some(
                        "put the configuration in *.toml files, or pass the path of one file"
                            .to_string(),
                    ),
                );
            }
            files = paths;
        }
        Ok(_) => files.push(path.to_path_buf()),
    }
    let mut sources = Vec::new();
    for file in files {
        match fs::read(&file) {
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
            Err(e) => {
                sink.file(&file, format!("cannot read the file: {e}"), None);
                complete = false;
            }
        }
    }
    build(sources, sink, complete)
}

/// Loads in-memory files: `(file name, contents)`. Files are taken in path order.
pub fn load_sources(sources: &[(PathBuf, String)]) -> Result<Desired, ConfigErrors> {
    build(sources.to_vec(), Sink::default(), true)
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>, sink: &mut Sink) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            sink.file(dir, format!("cannot read the directory: {e}"), None);
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            collect_toml(&path, out, sink);
        } else if path.extension().is_some_and(|ext| ext == "toml")
            && (file_type.is_file() || fs::metadata(&path).is_ok_and(|m| m.is_file()))
        {
            out.push(path);
        }
    }
}

fn build(
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
    let refs = refs::Refs::new(&merged, complete);

    let mut desired = Desired::default();
    for (key, node) in &merged.providers {
        if let Some(p) = provider::provider(node, &mut sink) {
            desired.providers.insert(key.clone(), p);
        }
    }
    let mut names = Vec::new();
    for (key, node) in &merged.customers {
        if let Some(c) = customer::customer(node, &refs, &mut names, &mut sink) {
            desired.customers.insert(key.clone(), c);
        }
    }
    customer::check_unique_names(names, &mut sink);
    audiocodes::check_unique_short_names(&merged.customers, &refs, &mut sink);
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

    if sink.errors.is_empty() {
        Ok(desired)
    } else {
        Err(ConfigErrors(sink.into_sorted()))
    }
}

fn syntax_help(message: &str) -> String {
    if message.contains("duplicate key") {
        "a key may be defined once per table: remove or rename one of the two".to_string()
    } else {
        "fix the TOML syntax here (quotes, brackets, `key = value`); the other files were still checked".to_string()
    }
}
