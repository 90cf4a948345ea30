//! `mspform demo`: the quickstart. Starts the simulator in-process, points every
//! provider of the configuration at it, and runs plan → apply → plan with a
//! fresh state directory, so a newcomer sees the whole loop with one command.

use std::path::PathBuf;

use clap::Args;

use super::apply::{ApplyOptions, plan_and_apply};
use super::{Cli, CliError, Status, load_config, runtime};
use crate::engine;
use crate::model::{ArubaAuth, AudiocodesAuth, ExtremeAuth, ProviderKind, RuckusAuth, SecretRef};
use crate::plan::render;
use crate::sim::{Inventory, SimOptions, Simulator};
use crate::state::{SledStore, StateLock, StateStore};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Simulator inventory (default: the embedded examples/sim-inventory.toml).
    #[arg(long)]
    pub inventory: Option<PathBuf>,
}

pub fn run(cli: &Cli, args: &DemoArgs) -> Result<Status, CliError> {
    let mut desired = load_config(&cli.config)?;
    // The simulator accepts the bearer token "sim-token"; supply it for every
    // token the files reference that the environment does not set. This runs
    // before any thread exists, which is what makes set_var sound here.
    for p in desired.providers.values() {
        let token = match &p.kind {
            ProviderKind::ArubaCentral(s) => match &s.auth {
                ArubaAuth::Token(r) => Some(r),
                _ => None,
            },
            ProviderKind::ExtremeCloud(s) => match &s.auth {
                ExtremeAuth::Token(r) => Some(r),
                _ => None,
            },
            ProviderKind::RuckusOne(s) => match &s.auth {
                RuckusAuth::Token(r) => Some(r),
                _ => None,
            },
            ProviderKind::AudiocodesLive(s) => match &s.auth {
                AudiocodesAuth::Token(r) => Some(r),
                _ => None,
            },
        };
        if let Some(SecretRef::Env(name)) = token
            && std::env::var_os(name).is_none()
        {
            // SAFETY: single-threaded at this point (no runtime, no threads started).
            unsafe { std::env::set_var(name, "sim-token") };
        }
    }
    let inventory = match &args.inventory {
        Some(path) => Inventory::from_file(path).map_err(|e| CliError::Other(format!("{e:#}")))?,
        None => Inventory::embedded(),
    };
    runtime()?.block_on(async move {
        let sim = Simulator::start(SimOptions {
            listen: "127.0.0.1:0"
                .parse()
                .map_err(|e| CliError::Other(format!("{e}")))?,
            aruba_listen: None,
            ruckus_listen: None,
            inventory,
            data_dir: None,
        })
        .await
        .map_err(|e| CliError::Other(format!("simulator: {e:#}")))?;
        for p in desired.providers.values_mut() {
            p.base_url = sim.base_url("aruba");
        }
        let dir = std::env::temp_dir().join(format!("mspform-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let result = async {
            let _lock = StateLock::acquire(&dir, "demo")?;
            let store: std::sync::Arc<dyn StateStore> = std::sync::Arc::new(SledStore::open(&dir)?);
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
                targets: &[],
                auto_approve: true,
                saved: None,
                max_deletes: 0,
            };
            let status = plan_and_apply(&desired, store.clone(), opts).await?;
            if matches!(status, Status::Failed) {
                return Ok(status);
            }
            println!("\n== 2. plan again: nothing should be left to change\n");
            let again = engine::plan(&desired, store, &[]).await?;
            anstream::print!("{}", render::text(&again.plan));
            println!(
                "\nVendor write calls the simulator saw: {}",
                sim.write_calls("aruba")
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
