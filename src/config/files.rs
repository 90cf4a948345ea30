//! Finds and reads the configuration files: one file, or a directory walked
//! recursively in path order. Symbolic links to files and directories are
//! followed; a loop, a dangling link, an entry that cannot be read, a file that
//! is not a regular file or is too large is an error naming the path and the OS
//! error. Nothing is dropped without a word: files not ending in `.toml` and
//! hidden entries are skipped and logged (hidden `.toml` files as a warning).
//! Knows files, not TOML.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::source::Sink;

/// The largest configuration file read (8 MiB): a portfolio is split into
/// files (one per customer is the natural layout), and a larger file is a
/// mistake or an attack, never read into memory whole.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The `.toml` files under `dir`, sorted by path. Every entry that cannot be
/// read is reported in `sink`.
pub(super) fn collect(dir: &Path, sink: &mut Sink) -> Vec<PathBuf> {
    let mut walk = Walk {
        ancestors: Vec::new(),
        dirs: BTreeMap::new(),
        files: BTreeMap::new(),
        out: Vec::new(),
    };
    match fs::canonicalize(dir) {
        Ok(canonical) => {
            walk.dirs.insert(canonical.clone(), dir.to_path_buf());
            walk.ancestors.push(canonical);
            walk.dir(dir, sink);
        }
        Err(e) => sink.file(dir, format!("cannot read the directory: {e}"), None),
    }
    let mut out = walk.out;
    out.sort();
    out
}

struct Walk {
    /// Canonical paths of the directories being walked, outermost first.
    ancestors: Vec<PathBuf>,
    /// Canonical path → the path it was first reached by.
    dirs: BTreeMap<PathBuf, PathBuf>,
    files: BTreeMap<PathBuf, PathBuf>,
    out: Vec<PathBuf>,
}

impl Walk {
    fn dir(&mut self, dir: &Path, sink: &mut Sink) {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                sink.file(dir, format!("cannot read the directory: {e}"), None);
                return;
            }
        };
        let mut paths = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => paths.push(entry.path()),
                Err(e) => sink.file(
                    dir,
                    format!("cannot read an entry of the directory: {e}"),
                    None,
                ),
            }
        }
        // Sorted, so "reached first" is the same on every run.
        paths.sort();
        for path in paths {
            self.entry(&path, sink);
        }
    }

    fn entry(&mut self, path: &Path, sink: &mut Sink) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let is_toml = path.extension().is_some_and(|ext| ext == "toml");
        if name.starts_with('.') {
            if is_toml {
                tracing::warn!(
                    "skipping hidden file {}: hidden files and directories are not part of the configuration (rename it without the leading dot to load it)",
                    path.display()
                );
            } else {
                tracing::info!(
                    "skipping hidden entry {}: hidden files and directories are not part of the configuration",
                    path.display()
                );
            }
            return;
        }
        let link = fs::symlink_metadata(path).map(|m| m.file_type().is_symlink());
        let meta = match (fs::metadata(path), link) {
            (Ok(meta), _) => meta,
            (Err(e), Ok(true)) => {
                let target = fs::read_link(path)
                    .map(|t| format!(" (to {})", t.display()))
                    .unwrap_or_default();
                sink.file(
                    path,
                    format!("cannot follow the symbolic link{target}: {e}"),
                    Some(
                        "point the link at a file or directory that exists, or remove it; no entry of a configuration directory is skipped".to_string(),
                    ),
                );
                return;
            }
            (Err(e), _) => {
                sink.file(path, format!("cannot read: {e}"), None);
                return;
            }
        };
        if meta.is_dir() {
            self.subdir(path, sink);
        } else if !is_toml {
            tracing::info!("skipping {}: not a .toml file", path.display());
        } else if !meta.is_file() {
            sink.file(path, not_regular(), None);
        } else {
            self.file(path, sink);
        }
    }

    fn subdir(&mut self, path: &Path, sink: &mut Sink) {
        let canonical = match fs::canonicalize(path) {
            Ok(c) => c,
            Err(e) => {
                sink.file(path, format!("cannot read the directory: {e}"), None);
                return;
            }
        };
        if self.ancestors.contains(&canonical) {
            sink.file(
                path,
                format!(
                    "symbolic link loop: this leads back to {}, which contains it",
                    self.dirs.get(&canonical).unwrap_or(&canonical).display()
                ),
                Some("remove the link, or point it at a directory outside this one".to_string()),
            );
            return;
        }
        if let Some(first) = self.dirs.get(&canonical) {
            sink.file(
                path,
                format!(
                    "this is the same directory as {} (reached through a symbolic link)",
                    first.display()
                ),
                Some("each file is loaded once: keep one path to the directory and remove the other link".to_string()),
            );
            return;
        }
        self.dirs.insert(canonical.clone(), path.to_path_buf());
        self.ancestors.push(canonical);
        self.dir(path, sink);
        self.ancestors.pop();
    }

    fn file(&mut self, path: &Path, sink: &mut Sink) {
        let canonical = match fs::canonicalize(path) {
            Ok(c) => c,
            Err(e) => {
                sink.file(path, format!("cannot read the file: {e}"), None);
                return;
            }
        };
        if let Some(first) = self.files.get(&canonical) {
            sink.file(
                path,
                format!(
                    "this is the same file as {} (reached through a symbolic link)",
                    first.display()
                ),
                Some("each file is loaded once: remove one of the two paths to it".to_string()),
            );
            return;
        }
        self.files.insert(canonical, path.to_path_buf());
        self.out.push(path.to_path_buf());
    }
}

fn not_regular() -> String {
    "not a regular file (a device, FIFO or socket): configuration files are regular .toml files"
        .to_string()
}

/// Reads one configuration file: a regular file of at most [`MAX_FILE_BYTES`].
/// Never opens anything else (a FIFO would block, a device never end).
pub(super) fn read(path: &Path) -> Result<Vec<u8>, (String, Option<String>)> {
    let meta = fs::metadata(path).map_err(|e| (format!("cannot read the file: {e}"), None))?;
    if !meta.is_file() {
        return Err((not_regular(), None));
    }
    let too_large = |size: u64| {
        (
            format!(
                "the file is {size} bytes; a configuration file may hold at most {} MiB",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
            Some(
                "split the configuration into several files (one per customer is the natural layout)"
                    .to_string(),
            ),
        )
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(meta.len()));
    }
    let file = fs::File::open(path).map_err(|e| (format!("cannot read the file: {e}"), None))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| (format!("cannot read the file: {e}"), None))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}
