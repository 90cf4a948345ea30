//! Test support: an in-process simulator on 127.0.0.1:0, state stores, and
//! the example portfolios pointed at it. What only one vendor needs is in
//! `support_<vendor>.rs`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mspform::engine::{self, ApplyReport, Prepared};
use mspform::model::Desired;
use mspform::sim::{Inventory, SimOptions, Simulator};
use mspform::state::{SledStore, StateStore};

pub use crate::support_aruba::*;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A simulator with the embedded inventory; the per-second limit is off unless `limited`.
pub async fn sim(limited: bool) -> Simulator {
    let sim = Simulator::start(SimOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        Inventory::embedded(),
    ))
    .await
    .expect("simulator starts");
    if !limited {
        sim.aruba_switches(|s| s.limit_per_second = 0);
    }
    sim
}

/// Lets the vendors take a second object with a name they already hold, where the
/// fact sheet only assumes they refuse one: a "no duplicate" check then sees any
/// duplicate mspform makes instead of the vendor's refusal hiding it.
pub fn allow_duplicates(sim: &Simulator) {
    sim.aruba_switches(|s| {
        s.allow_duplicate_names = true;
        s.allow_duplicate_site_names = true;
    });
    sim.extreme_switches(|s| s.duplicate_names = mspform::sim::extreme::DuplicateNames::Allow);
    sim.ruckus_switches(|s| s.duplicate_names = mspform::sim::ruckus::DuplicateNames::Allow);
}

pub fn store(dir: &Path) -> Arc<dyn StateStore> {
    Arc::new(SledStore::open(&dir.join("state")).expect("state opens"))
}

pub async fn plan(desired: &Desired, store: &Arc<dyn StateStore>) -> Prepared {
    engine::plan(desired, store.clone(), &Default::default())
        .await
        .expect("plan")
}

pub async fn apply(desired: &Desired, store: &Arc<dyn StateStore>) -> ApplyReport {
    let prepared = plan(desired, store).await;
    engine::apply(
        &prepared,
        desired,
        store.clone(),
        &mspform::engine::Stop::new(),
    )
    .await
}

/// What the simulator accepts for each secret the mixed example portfolio names.
const MIXED_SECRETS: &[(&str, &str)] = &[
    ("ARUBA_TOKEN", "sim-token"),
    ("EXTREME_PASSWORD", "sim-password"),
    ("RUCKUS_CLIENT_ID", "sim-r1-client"),
    ("RUCKUS_CLIENT_SECRET", "sim-r1-secret"),
    (
        "AUDIOCODES_CLIENT_ID",
        "5a9e2c7f-1b4d-4f6a-8e3c-9d0b7a6f5e12",
    ),
    ("AUDIOCODES_CLIENT_SECRET", "sim-ac-secret"),
    ("RETAILCO_CARRIER_PASSWORD", "Carrier-Secret-42"),
];

/// Copies the mixed four-vendor example (`examples/msp`) into `dir/conf`, pointed
/// at `sim`, with every secret in a file (no environment variables needed) and
/// fast Aruba polling. Returns the configuration directory.
pub fn write_mixed(sim: &Simulator, dir: &Path) -> PathBuf {
    let conf = dir.join("conf");
    let secrets = dir.join("secrets");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::create_dir_all(&secrets).unwrap();
    for entry in std::fs::read_dir(repo().join("examples/msp")).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("http://127.0.0.1:8080", &sim.url())
            .replace("poll_interval_ms = 200", "poll_interval_ms = 20");
        for (name, value) in MIXED_SECRETS {
            let file = secrets.join(name);
            std::fs::write(&file, value).unwrap();
            text = text.replace(
                &format!("{{ env = \"{name}\" }}"),
                &format!("{{ file = \"{}\" }}", file.display()),
            );
        }
        assert!(!text.contains("env ="), "every secret has a file: {text}");
        std::fs::write(conf.join(path.file_name().unwrap()), text).unwrap();
    }
    conf
}

/// Live objects in the simulator's dump of a vendor list, by a name field.
pub fn live_names(sim: &Simulator, vendor: &str, list: &str, key: &str) -> Vec<String> {
    let mut names: Vec<String> = sim.dump()[vendor][list]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|c| c[key].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A child's stdout and stderr, labelled, for assertion messages.
pub fn text(out: &std::process::Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
