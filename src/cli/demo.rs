//! `mspform demo`: the quickstart. Starts the simulator in-process, points every
//! provider of the configuration at it, and runs plan → apply → plan with a
//! fresh state directory, so a newcomer sees the whole loop with one command.

use std::path::PathBuf;

use clap::Args;

use super::apply::{ApplyOptions, plan_and_apply};
use super::globals::{ConfigArg, LogArgs};
use super::{CliError, Status, runtime};
use crate::engine;
use crate::model::{Desired, SecretRef};
use crate::plan::render;
use crate::sim::{Inventory, SimOptions, Simulator};
use crate::state::{SledStore, StateStore};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Simulator inventory (default: the embedded examples/sim-inventory.toml).
    #[arg(long)]
    pub inventory: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub log: LogArgs,
}

/// Supplies, for every secret the files reference by an environment variable
/// that is not set, the value the embedded simulator accepts there (each
/// vendor's schema records it); secrets in files are left alone.
fn supply_sim_credentials(desired: &Desired) {
    for used in &desired.secrets {
        if let (SecretRef::Env(name), Some(value)) = (&used.reference, used.demo)
            && std::env::var_os(name).is_none()
        {
            // SAFETY: called before the runtime or any other thread exists.
            unsafe { std::env::set_var(name, value) };
        }
    }
}

/// Points every provider at the embedded simulator: base URLs, and the other
/// URLs of its settings (token URLs) written for a simulator at another address.
fn point_at(desired: &mut Desired, sim: &Simulator) {
    let local = |url: &str| -> String {
        match url.strip_prefix("http://") {
            Some(rest) if rest.starts_with("127.0.0.1") || rest.starts_with("localhost") => {
                let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
                format!("{}{path}", sim.url())
            }
            _ => url.to_string(),
        }
    };
    for p in desired.providers.values_mut() {
        p.base_url = sim.base_url(p.info().sim_prefix);
        p.spec = p.spec.repointed(&local);
    }
}

/// The four-vendor example (`examples/msp`), for `mspform demo` without `-c`.
const BUNDLED: &[(&str, &str)] = &[
    (
        "providers.toml",
        include_str!("../../examples/msp/providers.toml"),
    ),
    (
        "partners.toml",
        include_str!("../../examples/msp/partners.toml"),
    ),
    (
        "acme-retail.toml",
        include_str!("../../examples/msp/acme-retail.toml"),
    ),
    (
        "bayview-resort.toml",
        include_str!("../../examples/msp/bayview-resort.toml"),
    ),
    (
        "coffee-shop.toml",
        include_str!("../../examples/msp/coffee-shop.toml"),
    ),
    (
        "coffee-voice.toml",
        include_str!("../../examples/msp/coffee-voice.toml"),
    ),
    (
        "harbor-clinic.toml",
        include_str!("../../examples/msp/harbor-clinic.toml"),
    ),
    (
        "harbor-logistics.toml",
        include_str!("../../examples/msp/harbor-logistics.toml"),
    ),
    (
        "lakeside-dental.toml",
        include_str!("../../examples/msp/lakeside-dental.toml"),
    ),
    (
        "metro-library.toml",
        include_str!("../../examples/msp/metro-library.toml"),
    ),
    (
        "retail-voice.toml",
        include_str!("../../examples/msp/retail-voice.toml"),
    ),
];

/// The configuration the demo runs: `-c` when given (or `./mspform.toml`
/// exists), else the bundled example written to `scratch`.
fn demo_config(given: &ConfigArg, scratch: &std::path::Path) -> Result<PathBuf, CliError> {
    let config = &given.config;
    if config != std::path::Path::new(super::DEFAULT_CONFIG) || config.exists() {
        return Ok(config.clone());
    }
    let dir = scratch.join("examples-msp");
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::Other(format!("cannot write the bundled example: {e}")))?;
    for (name, text) in BUNDLED {
        std::fs::write(dir.join(name), text)
            .map_err(|e| CliError::Other(format!("cannot write the bundled example: {e}")))?;
    }
    println!("== no -c given: using the bundled four-vendor example (examples/msp)\n");
    Ok(dir)
}

pub fn run(args: &DemoArgs) -> Result<Status, CliError> {
    let scratch = std::env::temp_dir().join(format!("mspform-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let config = demo_config(&args.config, &scratch)?;
    super::progress::print_progress(false);
    // The secrets are checked once the simulator's are supplied.
    let mut desired = crate::config::load(&config)?;
    let inventory = match &args.inventory {
        Some(path) => Inventory::from_file(path).map_err(|e| CliError::Other(format!("{e:#}")))?,
        None => Inventory::embedded(),
    };
    // Before any thread exists, which is what makes set_var sound here.
    supply_sim_credentials(&desired);
    crate::config::check_secrets(&desired)?;
    runtime()?.block_on(async move {
        let listen = "127.0.0.1:0"
            .parse()
            .map_err(|e| CliError::Other(format!("{e}")))?;
        let sim = Simulator::start(SimOptions::new(listen, inventory))
            .await
            .map_err(|e| CliError::Other(format!("simulator: {e:#}")))?;
        point_at(&mut desired, &sim);
        let dir = scratch.join("state");
        let result = async {
            let store: std::sync::Arc<dyn StateStore> =
                std::sync::Arc::new(SledStore::open_for(&dir, "demo")?);
            println!(
                "== mspform demo: simulator at {} (state in {})\n",
                sim.url(),
                dir.display()
            );
            println!(
                "== 1. plan + apply: everything in {} is new to the simulated cloud\n",
                config.display()
            );
            let opts = ApplyOptions {
                selection: engine::Selection::default(),
                auto_approve: true,
                saved: None,
                force_bulk: false,
                max_deletes: 0,
                allow_replace: &[],
                resend_invitations: &[],
                skip_unavailable: false,
                allow_provider_removal: &[],
                allow_partial: false,
                max_calls: Default::default(),
                show_unmanaged: false,
            };
            let status = plan_and_apply(&desired, store.clone(), opts).await?;
            if matches!(status, Status::Failed | Status::Interrupted) {
                return Ok(status);
            }
            println!("\n== 2. plan again: nothing should be left to change\n");
            let again = engine::plan(&desired, store, &engine::Selection::default()).await?;
            anstream::print!(
                "{}",
                render::text_with(&again.plan, &super::text_options(false))
            );
            let mut vendors: Vec<&str> = desired
                .providers
                .values()
                .map(|p| p.info().sim_prefix)
                .collect();
            vendors.sort();
            vendors.dedup();
            let writes: Vec<String> = vendors
                .iter()
                .map(|v| format!("{v} {}", sim.write_calls(v)))
                .collect();
            println!(
                "\nVendor write calls the simulator saw: {}",
                writes.join(", ")
            );
            Ok::<Status, CliError>(if again.plan.has_changes() {
                Status::Failed
            } else {
                Status::Ok
            })
        }
        .await;
        sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&scratch);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_example_is_every_file_of_examples_msp() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/msp");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut bundled: Vec<String> = BUNDLED.iter().map(|(n, _)| n.to_string()).collect();
        bundled.sort();
        assert_eq!(bundled, on_disk);
    }
}
