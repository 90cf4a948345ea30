//! Finding and reading configuration files: symbolic links are followed, loops
//! and every entry that cannot be read are errors naming the path and the OS
//! error, empty files, oversized files and special files are handled; nothing
//! in a configuration directory is dropped without a word.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use mspform::config::{ConfigError, ConfigErrors, MAX_FILE_BYTES, load};
use mspform::model::Desired;

const PROVIDERS: &str = r#"[providers.aruba]
type = "aruba-central"
base_url = "https://example.com"
token = { env = "ARUBA_TOKEN" }
"#;

fn customer(key: &str, name: &str) -> String {
    format!(
        "[customers.{key}]\nprovider = \"aruba\"\nname = \"{name}\"\ncountry = \"US\"\naddress = {{ street = \"1 Main St\", city = \"Springfield\", state = \"IL\", zip = \"62701\" }}\n"
    )
}

fn write(path: &Path, text: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// A configuration directory with the provider and customer `acme`.
fn base() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("providers.toml"), PROVIDERS.as_bytes());
    write(
        &dir.path().join("customers/acme.toml"),
        customer("acme", "Acme").as_bytes(),
    );
    dir
}

fn loaded(path: &Path) -> Desired {
    load(path).unwrap_or_else(|e| panic!("expected a valid configuration:\n{e}"))
}

fn refused(path: &Path) -> Vec<ConfigError> {
    match load(path) {
        Ok(d) => panic!("expected errors, loaded {} customer(s)", d.customers.len()),
        Err(ConfigErrors(errors)) => errors,
    }
}

fn keys(d: &Desired) -> Vec<&str> {
    d.customers.keys().map(String::as_str).collect()
}

#[test]
fn symlinked_files_and_directories_are_followed() {
    let dir = base();
    let outside = tempfile::tempdir().unwrap();
    write(
        &outside.path().join("shared/bistro.toml"),
        customer("bistro", "Bistro").as_bytes(),
    );
    write(
        &outside.path().join("cafe.toml"),
        customer("cafe", "Cafe").as_bytes(),
    );
    symlink(
        outside.path().join("shared"),
        dir.path().join("customers/shared"),
    )
    .unwrap();
    symlink(
        outside.path().join("cafe.toml"),
        dir.path().join("customers/cafe.toml"),
    )
    .unwrap();
    let d = loaded(dir.path());
    // Before: both links were dropped and the two customers planned for deletion.
    assert_eq!(keys(&d), ["acme", "bistro", "cafe"]);
}

#[test]
fn a_dangling_symlink_is_an_error_naming_the_path_and_the_os_error() {
    let dir = base();
    let link = dir.path().join("customers/gone.toml");
    symlink(dir.path().join("nowhere/gone.toml"), &link).unwrap();
    let errors = refused(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].file, link);
    assert!(
        errors[0]
            .message
            .starts_with("cannot follow the symbolic link (to ")
            && errors[0].message.contains("nowhere/gone.toml")
            && errors[0].message.contains("(os error 2)"),
        "{}",
        errors[0].message
    );
    // A dangling link whose name does not end in .toml is an error too: it may
    // have pointed at a directory of customers.
    std::fs::remove_file(&link).unwrap();
    let link = dir.path().join("customers-archive");
    symlink(dir.path().join("nowhere"), &link).unwrap();
    let errors = refused(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].file, link);
}

#[test]
fn symlink_loops_are_errors_and_the_walk_ends() {
    let dir = base();
    // A directory link back to an ancestor.
    let up = dir.path().join("customers/up");
    symlink("..", &up).unwrap();
    let errors = refused(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].file, up);
    assert!(
        errors[0]
            .message
            .starts_with("symbolic link loop: this leads back to ")
            && errors[0]
                .message
                .contains(&dir.path().display().to_string()),
        "{}",
        errors[0].message
    );
    std::fs::remove_file(&up).unwrap();
    // Two links to each other: the OS refuses to follow them.
    let a = dir.path().join("a.toml");
    let b = dir.path().join("b.toml");
    symlink(&b, &a).unwrap();
    symlink(&a, &b).unwrap();
    let errors = refused(dir.path());
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!((&errors[0].file, &errors[1].file), (&a, &b));
    assert!(
        errors[0].message.contains("(os error 40)"),
        "{}",
        errors[0].message
    );
}

#[test]
fn a_file_or_directory_reached_twice_is_an_error_not_loaded_twice() {
    let dir = base();
    let again = dir.path().join("z-again.toml");
    symlink(dir.path().join("customers/acme.toml"), &again).unwrap();
    let errors = refused(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].file, again);
    assert!(
        errors[0].message.starts_with("this is the same file as ")
            && errors[0].message.contains("customers/acme.toml"),
        "{}",
        errors[0].message
    );
    std::fs::remove_file(&again).unwrap();
    let twin = dir.path().join("twin");
    symlink(dir.path().join("customers"), &twin).unwrap();
    let errors = refused(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].file, twin);
    assert!(
        errors[0]
            .message
            .starts_with("this is the same directory as "),
        "{}",
        errors[0].message
    );
}

#[test]
fn unreadable_entries_are_errors_with_the_os_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = base();
    let locked = dir.path().join("customers/locked.toml");
    write(&locked, customer("locked", "Locked").as_bytes());
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_ok() {
        // Running as root (or with CAP_DAC_OVERRIDE): permissions do not bite,
        // the file is readable and loads like any other.
        assert_eq!(keys(&loaded(dir.path())), ["acme", "locked"]);
    } else {
        let errors = refused(dir.path());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].file, locked);
        assert!(
            errors[0].message.contains("(os error 13)"),
            "{}",
            errors[0].message
        );
    }
    std::fs::remove_file(&locked).unwrap();
    // A file no one can read, root included: the kernel answers EIO for the
    // unmapped first page of a process's memory.
    if Path::new("/proc/self/mem").exists() {
        let mem = dir.path().join("customers/mem.toml");
        symlink("/proc/self/mem", &mem).unwrap();
        let errors = refused(dir.path());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].file, mem);
        assert!(
            errors[0].message.starts_with("cannot read the file: ")
                && errors[0].message.contains("(os error 5)"),
            "{}",
            errors[0].message
        );
    }
}

#[test]
fn special_and_oversized_files_are_refused_without_reading_them() {
    let dir = base();
    // A FIFO would block for ever, /dev/zero would never end.
    let fifo = dir.path().join("customers/fifo.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let zero = dir.path().join("customers/zero.toml");
    symlink("/dev/zero", &zero).unwrap();
    let big = dir.path().join("customers/big.toml");
    let mut text = customer("big", "Big").into_bytes();
    text.resize(MAX_FILE_BYTES as usize + 1, b'#');
    write(&big, &text);
    let errors = refused(dir.path());
    let files: Vec<&PathBuf> = errors.iter().map(|e| &e.file).collect();
    assert_eq!(files, [&big, &fifo], "{errors:?}");
    assert_eq!(
        errors[0].message,
        format!(
            "the file is {} bytes; a configuration file may hold at most 8 MiB",
            MAX_FILE_BYTES + 1
        )
    );
    // The same error for the FIFO and the device: one error, both places.
    assert!(errors[1].message.starts_with("not a regular file"));
    let also: Vec<&PathBuf> = errors[1].also.iter().map(|p| &p.file).collect();
    assert_eq!(also, [&zero]);
    // The same for a single file given on the command line.
    let errors = refused(&fifo);
    assert!(errors[0].message.starts_with("not a regular file"));
    let errors = refused(&big);
    assert!(errors[0].message.starts_with("the file is "));
    // At the limit, a file is read.
    text.truncate(MAX_FILE_BYTES as usize);
    write(&big, &text);
    std::fs::remove_file(&fifo).unwrap();
    std::fs::remove_file(&zero).unwrap();
    assert_eq!(keys(&loaded(dir.path())), ["acme", "big"]);
}

#[test]
fn hidden_entries_and_other_files_are_skipped_empty_toml_files_are_fine() {
    let dir = base();
    write(&dir.path().join(".git/config.toml"), b"not [[ toml");
    write(&dir.path().join("customers/.draft.toml"), b"not [[ toml");
    write(&dir.path().join("customers/notes.txt"), b"not [[ toml");
    write(&dir.path().join("customers/empty.toml"), b"");
    write(&dir.path().join("customers/comments.toml"), b"# later\n");
    assert_eq!(keys(&loaded(dir.path())), ["acme"]);
}

#[test]
fn an_empty_top_level_file_or_a_directory_of_empty_files_declares_no_provider() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.toml");
    write(&empty, b"");
    let errors = refused(&empty);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((&errors[0].file, errors[0].line), (&empty, 0));
    assert_eq!(errors[0].message, "the configuration declares no provider");
    write(&dir.path().join("more/comments.toml"), b"# nothing\n");
    let errors = refused(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].file, dir.path());
    assert_eq!(errors[0].message, "the configuration declares no provider");
}

#[test]
fn skipped_entries_are_listed_at_verbose_and_hidden_toml_files_always_warned() {
    let dir = base();
    write(&dir.path().join("customers/notes.txt"), b"todo");
    write(&dir.path().join(".git/HEAD"), b"ref: refs/heads/main\n");
    write(
        &dir.path().join("customers/.bistro.toml"),
        customer("bistro", "Bistro").as_bytes(),
    );
    let validate = |verbose: bool| {
        let mut cmd = crate::cli::bin();
        cmd.args(["validate", "--offline", "-c"]).arg(dir.path());
        if verbose {
            cmd.arg("-v");
        }
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let notes = format!(
        "skipping {}: not a .toml file",
        dir.path().join("customers/notes.txt").display()
    );
    let git = format!(
        "skipping hidden entry {}",
        dir.path().join(".git").display()
    );
    let hidden = format!(
        "skipping hidden file {}",
        dir.path().join("customers/.bistro.toml").display()
    );
    let quiet = validate(false);
    assert!(
        quiet.contains(&hidden),
        "a hidden .toml file is always named: {quiet}"
    );
    assert!(!quiet.contains(&notes) && !quiet.contains(&git), "{quiet}");
    let verbose = validate(true);
    for line in [&notes, &git, &hidden] {
        assert!(verbose.contains(line.as_str()), "{line}: {verbose}");
    }
}
