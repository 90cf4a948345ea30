//! ExtremeCloud test support: the ExtremeCloud part of the mixed example
//! portfolio (`examples/msp`), pointed at a simulator.

use std::path::{Path, PathBuf};

use mspform::sim::Simulator;

use crate::support::repo;

/// The `[…]` sections of a TOML text, each from its header to the next one
/// (the text before the first header is left out).
pub fn sections(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with('[') {
            out.push(String::new());
        }
        if let Some(section) = out.last_mut() {
            section.push_str(line);
            section.push('\n');
        }
    }
    out
}

/// Copies the ExtremeCloud part of `examples/msp` — its provider (named
/// `extreme`), its customers and the partners of that provider — into
/// `dir/conf`, pointed at `sim`, the password in a file. Returns the directory.
pub fn write_extreme_part(sim: &Simulator, dir: &Path) -> PathBuf {
    let conf = dir.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    let password = dir.join("extreme-password");
    std::fs::write(&password, "sim-password").unwrap();
    let examples = repo().join("examples/msp");
    let mut files = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let kept: Vec<String> = sections(&text)
            .into_iter()
            .filter(|s| s.contains("[providers.extreme]") || s.contains("provider = \"extreme\""))
            .collect();
        if kept.is_empty() {
            continue;
        }
        let text = kept
            .join("\n")
            .replace("http://127.0.0.1:8080", &sim.url())
            .replace(
                "{ env = \"EXTREME_PASSWORD\" }",
                &format!("{{ file = \"{}\" }}", password.display()),
            );
        assert!(!text.contains("env ="), "every secret has a file: {text}");
        std::fs::write(conf.join(path.file_name().unwrap()), text).unwrap();
        files += 1;
    }
    assert!(files >= 4, "providers, partners and two customers");
    conf
}
