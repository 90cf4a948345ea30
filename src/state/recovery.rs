//! The recovery steps printed when a state directory cannot be used: exact
//! commands for restoring the backup taken before the last apply, or for
//! starting over and letting the next plan adopt live objects by name. Looks at
//! which files exist (backup, credentials) so every command it prints works.

use std::path::{Path, PathBuf};

use super::credentials::{CredentialFile, FILE_NAME as CREDENTIALS};
use super::export;

pub const BACKUP: &str = "backup.json";

/// Quotes a path for a POSIX shell when it needs it.
fn sh(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,".contains(c));
    if plain {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Where the broken directory is moved: `DIR.broken`, or with a time suffix
/// when that exists already.
fn aside(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let first = dir.with_file_name(format!("{name}.broken"));
    if first.exists() {
        dir.with_file_name(format!("{name}.broken-{}", super::now_unix()))
    } else {
        first
    }
}

/// The steps, as lines to print after the problem.
pub fn steps(dir: &Path) -> String {
    let moved = aside(dir);
    let (d, m) = (sh(dir), sh(&moved));
    let backup = dir.join(BACKUP);
    let backup_state = std::fs::read_to_string(&backup)
        .ok()
        .map(|text| export::parse(&text).map(|e| e.written_at));
    let credentials = CredentialFile::load(dir).is_ok_and(|c| !c.is_empty());
    let copy_credentials = format!(
        "cp -p {} {d}/    # the saved refresh tokens",
        sh(&moved.join(CREDENTIALS))
    );
    let mut out = String::from("To recover, either:\n");
    match backup_state {
        Some(Ok(written_at)) => {
            out.push_str(&format!(
                "  1. restore the backup written before the last apply ({}):\n       mv {d} {m}\n       mspform state import --state {d} {}\n",
                crate::clock::fmt_utc(written_at),
                sh(&moved.join(BACKUP))
            ));
            if credentials {
                out.push_str(&format!("       {copy_credentials}\n"));
            }
        }
        Some(Err(e)) => out.push_str(&format!(
            "  1. (no usable backup: {} exists but {e})\n",
            backup.display()
        )),
        None => out.push_str(&format!(
            "  1. (no backup: {} is written before every apply, and there is none yet)\n",
            backup.display()
        )),
    }
    out.push_str(&format!(
        "  2. or move the directory aside; the next plan adopts live objects by their exact names, so nothing is created twice or deleted:\n       mv {d} {m}\n"
    ));
    if credentials {
        out.push_str(&format!("       mkdir -m 700 {d} && {copy_credentials}\n"));
    }
    out.push_str(&format!(
        "       mspform plan    # with your usual -c/--config\nKeep {m} until a plan shows what you expect."
    ));
    out
}

/// The whole message of [`super::StateError::Unreadable`].
pub fn message(dir: &Path, problem: &str, steps: &str) -> String {
    format!(
        "the state in {} cannot be used: {problem}. Nothing was changed at any vendor.\n{steps}",
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_name_the_backup_only_when_there_is_one() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("my state");
        std::fs::create_dir(&dir).unwrap();
        let none = steps(&dir);
        assert!(none.contains("no backup"), "{none}");
        assert!(!none.contains("state import"), "{none}");
        assert!(none.contains("'"), "a path with a space is quoted: {none}");

        let store = super::super::MemStore::new();
        let text = serde_json::to_string(&export::export(&store).unwrap()).unwrap();
        std::fs::write(dir.join(BACKUP), text).unwrap();
        std::fs::write(
            dir.join(CREDENTIALS),
            r#"{"version":1,"credentials":{"aruba":{"refresh_token":"t"}}}"#,
        )
        .unwrap();
        let with = steps(&dir);
        assert!(
            with.contains("mspform state import --state") && with.contains("backup.json"),
            "{with}"
        );
        assert!(with.contains("credentials.json"), "{with}");
        assert!(!with.contains("\"t\""), "no secret in the message");
    }
}
