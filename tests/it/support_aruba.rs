//! Test support for Aruba Central: the Aruba example portfolio pointed at the
//! simulator, and Aruba's settings.

use std::path::{Path, PathBuf};

use mspform::model::{Desired, SecretRef};
use mspform::sim::Simulator;
use mspform::vendors::aruba::Aruba;
use mspform::vendors::aruba::model::{ArubaAuth, ArubaSettings};

use crate::support::repo;

/// Writes the simulator's token to a file so tests need no environment variables.
pub fn token_file(dir: &Path) -> PathBuf {
    let path = dir.join("aruba-token");
    std::fs::write(&path, "sim-token\n").unwrap();
    path
}

/// The example portfolio, pointed at `sim`, fast polling, no client-side limit.
pub fn portfolio(sim: &Simulator, dir: &Path) -> Desired {
    let mut desired =
        mspform::config::load(&repo().join("examples/portfolio")).expect("examples load");
    point_at(&mut desired, sim, dir);
    desired
}

pub fn point_at(desired: &mut Desired, sim: &Simulator, dir: &Path) {
    let token = token_file(dir);
    for p in desired.providers.values_mut() {
        p.base_url = sim.base_url("aruba");
    }
    aruba_settings(desired, |s| {
        s.auth = ArubaAuth::Token(SecretRef::File(token.clone()));
        s.calls_per_second = 1000;
        s.poll_interval_ms = 20;
        s.provision_timeout_secs = 3;
        s.move_timeout_secs = 5;
    });
}

/// Changes the settings of every Aruba provider.
pub fn aruba_settings(desired: &mut Desired, mut f: impl FnMut(&mut ArubaSettings)) {
    desired.edit_specs::<Aruba>(|spec| f(&mut spec.settings));
}

/// Customers in the simulator's dump, by name.
pub fn customer_names(sim: &Simulator) -> Vec<String> {
    let dump = sim.dump();
    let mut names: Vec<String> = dump["aruba"]["customers"]
        .as_array()
        .expect("dump lists customers")
        .iter()
        .map(|c| c["customer_name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

/// Creates a customer behind mspform's back, as someone in the portal would, and
/// lets its provisioning time (`provision_delay_ms`) pass on the simulator clock;
/// returns the HTTP status.
pub async fn create_by_hand(sim: &Simulator, name: &str, country: &str) -> u16 {
    let status = reqwest::Client::new()
        .post(format!("{}/msp_api/v2/customers", sim.base_url("aruba")))
        .bearer_auth("sim-token")
        .json(&serde_json::json!({"customer_name": name, "country_name": country,
            "address": {"street_address": "1 Main St", "city": "Somewhere", "state": "Somestate"}, "zip_postal_code": "00000"}))
        .send()
        .await
        .expect("the simulator answers")
        .status()
        .as_u16();
    sim.advance_clock(1);
    status
}
