//! `mspform demo`: the quickstart. Starts the simulator in-process, points every
//! provider of the configuration at it, and runs plan → apply → plan with a
//! fresh state directory, so a newcomer sees the whole loop with one command.

use std::path::PathBuf;

use clap::Args;

use super::apply::{ApplyOptions, plan_and_apply};
use super::{Cli, CliError, Status, runtime};
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

pub fn run(cli: &Cli, args: &DemoArgs) -> Result<Status, CliError> {
    // The secrets are checked once the simulator's are supplied.
    let mut desired = crate::config::load(&cli.config)?;
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
        let dir = std::env::temp_dir().join(format!("mspform-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
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
                cli.config.display()
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
            };
            let status = plan_and_apply(&desired, store.clone(), opts).await?;
            if matches!(status, Status::Failed | Status::Interrupted) {
                return Ok(status);
            }
            println!("\n== 2. plan again: nothing should be left to change\n");
            let again = engine::plan(&desired, store, &engine::Selection::default()).await?;
            anstream::print!("{}", render::text(&again.plan));
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
        let _ = std::fs::remove_dir_all(&dir);
        result
    })
}
