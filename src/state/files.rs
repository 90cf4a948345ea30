//! Plain files of the local state directory: the directory is private (0700) and
//! every file in it 0600, whatever the umask; plain files are replaced atomically
//! (temp file, fsync, rename, fsync of the directory), so a reader or a crash sees
//! the old contents or the new, never a mix. Knows nothing of sled or records.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Directory and file modes of the state directory.
pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// The state directory tree is shallow (sled's `db/` and its `blobs/`): these
/// bound the walk that sets modes, whatever else someone put there.
const WALK_DEPTH: usize = 4;
const WALK_ENTRIES: usize = 10_000;

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// The permission bits of `path` (without following a symlink), if it exists.
#[cfg(unix)]
pub fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
pub fn mode_of(_path: &Path) -> Option<u32> {
    None
}

/// Creates `dir` (and missing parents) when it does not exist; the directory
/// itself gets [`DIR_MODE`]. Returns whether it was created.
pub fn ensure_dir(dir: &Path) -> io::Result<bool> {
    if dir.is_dir() {
        return Ok(false);
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        // Another process created it first: fine, it is a directory now.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(false),
        Err(e) => return Err(e),
    }
    set_mode(dir, DIR_MODE)?;
    Ok(true)
}

/// Opens (creating when missing) a file for reading and writing with mode
/// [`FILE_MODE`]; never truncates.
pub fn open_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    let file = options.open(path)?;
    set_file_mode(&file)?;
    Ok(file)
}

#[cfg(unix)]
fn set_file_mode(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))
}

#[cfg(not(unix))]
fn set_file_mode(_file: &File) -> io::Result<()> {
    Ok(())
}

/// Replaces `path` with `contents` atomically, mode [`FILE_MODE`]. The
/// previous contents are in no file afterwards.
pub fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    crate::atomic::write(path, contents, FILE_MODE)
}

/// fsyncs a directory so a rename in it survives a crash.
pub fn sync_dir(dir: &Path) {
    crate::atomic::sync_dir(dir)
}

/// Makes `dir` 0700 and everything below it 0700 (directories) or 0600 (files),
/// without following symlinks. Returns how many modes were changed.
pub fn make_private(dir: &Path) -> io::Result<usize> {
    let mut changed = 0;
    let mut seen = 0;
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((path, depth)) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue; // gone since it was listed (a temp file renamed away)
        };
        if meta.file_type().is_symlink() {
            continue;
        }
        let want = if meta.is_dir() { DIR_MODE } else { FILE_MODE };
        if mode_of(&path).is_some_and(|m| m != want) {
            set_mode(&path, want)?;
            changed += 1;
        }
        if meta.is_dir() && depth < WALK_DEPTH {
            for entry in std::fs::read_dir(&path)? {
                seen += 1;
                if seen > WALK_ENTRIES {
                    return Ok(changed);
                }
                stack.push((entry?.path(), depth + 1));
            }
        }
    }
    Ok(changed)
}

/// Whether a mode lets group or other read, write or enter.
pub fn is_exposed(mode: u32) -> bool {
    mode & 0o077 != 0
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_new_directory_and_its_files_are_private_whatever_the_umask_made_them() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/state");
        assert!(ensure_dir(&dir).unwrap());
        assert!(!ensure_dir(&dir).unwrap(), "second call finds it");
        assert_eq!(mode_of(&dir), Some(0o700));
        write_private(&dir.join("x.json"), b"one").unwrap();
        assert_eq!(mode_of(&dir.join("x.json")), Some(0o600));
        assert_eq!(open_private(&dir.join("lock")).map(|_| ()).ok(), Some(()));
        assert_eq!(mode_of(&dir.join("lock")), Some(0o600));

        std::fs::create_dir(dir.join("db")).unwrap();
        std::fs::write(dir.join("db/conf"), b"c").unwrap();
        set_mode(&dir.join("db"), 0o755).unwrap();
        set_mode(&dir.join("db/conf"), 0o644).unwrap();
        assert_eq!(make_private(&dir).unwrap(), 2);
        assert_eq!(mode_of(&dir.join("db")), Some(0o700));
        assert_eq!(mode_of(&dir.join("db/conf")), Some(0o600));
        assert_eq!(make_private(&dir).unwrap(), 0, "nothing left to change");
    }

    #[test]
    fn an_atomic_write_leaves_no_temp_file_and_replaces_the_old_contents() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("credentials.json");
        write_private(&path, b"first-secret").unwrap();
        write_private(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("credentials.json")]);
    }
}
