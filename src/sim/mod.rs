//! The vendor simulator: a real HTTP server (axum) that serves each vendor cloud under
//! its own path prefix (`/aruba`, later `/extreme`, `/ruckus`, `/audiocodes`), plus the
//! unauthenticated `/_sim/` control endpoints. This file owns the [`Simulator`] handle,
//! the shared state behind one mutex, the injectable clock, router assembly and the
//! `--data` persistence. It never imports `crate::providers` or `crate::model`: the
//! simulator has its own wire types so a client serde mistake fails a test.
//!
//! Adding a vendor: a `src/sim/<vendor>/` module with its state (a field of `SimState`,
//! serialized into the `--data` file, implementing `control::SimVendor` for its portal
//! edits and switches), a `router(shared)` whose routes carry `control::vendor_layers`
//! (injected faults innermost, `strict::layer` with the documented bodies of the
//! vendor's `bodies.rs`, the vendor's own auth/limits gate, the call count outermost)
//! and its own fallback, then one `.nest("/<vendor>", ...)` line in
//! [`Simulator::start`], one `vendor_routes` line in `control::router`, and an optional
//! root listener.

pub mod aruba;
pub mod audiocodes;
mod common;
pub mod control;
pub mod extreme;
pub mod inventory;
pub mod ruckus;
pub mod scale;
mod strict;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use aruba::{ArubaEdit, ArubaSwitches};
pub use audiocodes::{AudiocodesEdit, AudiocodesSwitches};
use control::SimVendor;
pub use control::{FaultKind, FaultSpec};
pub use extreme::{ExtremeEdit, ExtremeSwitches};
pub use inventory::Inventory;
pub use ruckus::{RuckusEdit, RuckusSwitches};
pub use strict::RecordedBody;

/// How to start a simulator.
pub struct SimOptions {
    /// The main listener (all vendors under their prefixes, plus `/_sim/`); port 0 is fine.
    pub listen: SocketAddr,
    /// Optionally also serve Aruba at the root of this address, as the real cloud does.
    pub aruba_listen: Option<SocketAddr>,
    /// Optionally also serve RUCKUS One at the root of this address.
    pub ruckus_listen: Option<SocketAddr>,
    /// Optionally also serve ExtremeCloud at the root of this address.
    pub extreme_listen: Option<SocketAddr>,
    pub inventory: Inventory,
    /// Persist the simulated clouds here after every mutating request; load at start.
    pub data_dir: Option<PathBuf>,
    /// Optionally also serve AudioCodes at the root of this address.
    pub audiocodes_listen: Option<SocketAddr>,
}

impl SimOptions {
    /// All vendors under their prefixes at `listen`, no own-address listeners, no persistence.
    pub fn new(listen: SocketAddr, inventory: Inventory) -> SimOptions {
        SimOptions {
            listen,
            aruba_listen: None,
            extreme_listen: None,
            ruckus_listen: None,
            audiocodes_listen: None,
            inventory,
            data_dir: None,
        }
    }
}

const STATE_FILE: &str = "sim-state.json";

/// Everything the vendors and the control plane share.
pub(crate) struct SimState {
    pub aruba: aruba::ArubaState,
    pub ruckus: ruckus::RuckusState,
    pub audiocodes: audiocodes::AudiocodesState,
    pub extreme: extreme::ExtremeState,
    pub calls: control::CallLog,
    pub faults: control::Faults,
    /// Seconds added to the wall clock (`/_sim/clock`).
    pub clock_offset_secs: u64,
    /// The JSON bodies clients sent, while recording ([`Simulator::record_bodies`]).
    pub recorded: Option<Vec<RecordedBody>>,
    /// While frozen, the wall-clock reading the simulated clock stands still at.
    pub clock_frozen_ms: Option<u64>,
}

impl SimState {
    fn from_inventory(inv: &Inventory) -> SimState {
        SimState {
            aruba: aruba::ArubaState::from_inventory(&inv.aruba),
            ruckus: ruckus::RuckusState::from_inventory(&inv.ruckus),
            audiocodes: audiocodes::AudiocodesState::from_inventory(&inv.audiocodes),
            extreme: extreme::ExtremeState::from_inventory(&inv.extreme),
            calls: control::CallLog::default(),
            faults: control::Faults::default(),
            clock_offset_secs: 0,
            recorded: None,
            clock_frozen_ms: None,
        }
    }

    /// The simulated clock in milliseconds since the epoch.
    pub fn now_ms(&self) -> u64 {
        let real = self.clock_frozen_ms.unwrap_or_else(wall_ms);
        real.saturating_add(self.clock_offset_secs.saturating_mul(1000))
    }

    /// Stops the simulated clock where it stands, so only advancing it moves it (rate
    /// windows, delays and expiries become exact in tests), or lets it run with the
    /// wall clock again (it jumps forward by the time it stood still).
    pub fn freeze_clock(&mut self, freeze: bool) {
        if !freeze {
            self.clock_frozen_ms = None;
        } else if self.clock_frozen_ms.is_none() {
            self.clock_frozen_ms = Some(wall_ms());
        }
    }
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The part of the state written to `--data DIR`.
#[derive(Serialize, Deserialize)]
struct Persisted {
    aruba: aruba::ArubaState,
    #[serde(default)]
    ruckus: Option<ruckus::RuckusState>,
    #[serde(default)]
    audiocodes: Option<audiocodes::AudiocodesState>,
    extreme: Option<extreme::ExtremeState>,
    #[serde(default)]
    clock_offset_secs: u64,
}

pub(crate) struct Inner {
    state: Mutex<SimState>,
    inventory: Inventory,
    data_dir: Option<PathBuf>,
    persist_lock: Mutex<()>,
}

pub(crate) type Shared = Arc<Inner>;

impl Inner {
    /// The state; a poisoned lock is recovered (handlers never panic while holding it).
    pub(crate) fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Back to the inventory: data, calls and faults.
    pub(crate) fn reset(&self) {
        *self.lock() = SimState::from_inventory(&self.inventory);
    }

    /// Write the data to `DIR/sim-state.json` (temp file, then rename); no-op without
    /// `--data`. Synchronous: the file is small and the simulator is not a hot path.
    pub(crate) fn persist(&self) {
        let Some(dir) = &self.data_dir else { return };
        let _guard = self.persist_lock.lock().unwrap_or_else(|e| e.into_inner());
        let snapshot = {
            let st = self.lock();
            serde_json::to_vec_pretty(&PersistedRef {
                aruba: &st.aruba,
                ruckus: &st.ruckus,
                audiocodes: &st.audiocodes,
                extreme: &st.extreme,
                clock_offset_secs: st.clock_offset_secs,
            })
        };
        let tmp = dir.join(format!("{STATE_FILE}.tmp"));
        let result = snapshot
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, dir.join(STATE_FILE)));
        if let Err(e) = result {
            tracing::warn!(dir = %dir.display(), error = %e, "simulator could not persist its data");
        }
    }
}

#[derive(Serialize)]
struct PersistedRef<'a> {
    aruba: &'a aruba::ArubaState,
    ruckus: &'a ruckus::RuckusState,
    audiocodes: &'a audiocodes::AudiocodesState,
    extreme: &'a extreme::ExtremeState,
    clock_offset_secs: u64,
}

/// Persist after every mutating request (any method but GET/HEAD).
async fn persist_layer(State(sh): State<Shared>, req: Request, next: Next) -> Response {
    let mutating = !matches!(*req.method(), Method::GET | Method::HEAD);
    let resp = next.run(req).await;
    if mutating {
        sh.persist();
    }
    resp
}

/// A running simulator. Dropping it leaves the server running until the runtime ends;
/// call [`Simulator::shutdown`] to stop it.
pub struct Simulator {
    shared: Shared,
    addr: SocketAddr,
    aruba_addr: Option<SocketAddr>,
    ruckus_addr: Option<SocketAddr>,
    audiocodes_addr: Option<SocketAddr>,
    extreme_addr: Option<SocketAddr>,
    stops: Vec<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Simulator {
    /// Bind the listeners and start serving.
    pub async fn start(opts: SimOptions) -> anyhow::Result<Simulator> {
        let mut state = SimState::from_inventory(&opts.inventory);
        if let Some(dir) = &opts.data_dir {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create simulator data dir {}", dir.display()))?;
            let file = dir.join(STATE_FILE);
            if file.exists() {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let p: Persisted = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not simulator data", file.display()))?;
                state.aruba = p.aruba;
                if let Some(r) = p.ruckus {
                    state.ruckus = r;
                }
                if let Some(ac) = p.audiocodes {
                    state.audiocodes = ac;
                }
                if let Some(x) = p.extreme {
                    state.extreme = x;
                }
                state.clock_offset_secs = p.clock_offset_secs;
            }
        }
        let shared: Shared = Arc::new(Inner {
            state: Mutex::new(state),
            inventory: opts.inventory,
            data_dir: opts.data_dir,
            persist_lock: Mutex::new(()),
        });

        let main_app = Router::new()
            .nest("/aruba", aruba::router(shared.clone()))
            .nest("/ruckus", ruckus::router(shared.clone()))
            .nest("/audiocodes", audiocodes::router(shared.clone()))
            .nest("/extreme", extreme::router(shared.clone()))
            .nest("/_sim", control::router())
            .fallback(control::not_found)
            .layer(middleware::from_fn_with_state(
                shared.clone(),
                persist_layer,
            ))
            .with_state(shared.clone());
        let mut sim = Simulator {
            shared: shared.clone(),
            addr: opts.listen,
            aruba_addr: None,
            ruckus_addr: None,
            audiocodes_addr: None,
            extreme_addr: None,
            stops: Vec::new(),
            tasks: Vec::new(),
        };
        sim.addr = sim.spawn(opts.listen, main_app).await?;
        // Each vendor router brings its own fallback.
        if let Some(listen) = opts.aruba_listen {
            sim.aruba_addr = Some(
                sim.spawn_root(listen, aruba::router(shared.clone()))
                    .await?,
            );
        }
        if let Some(listen) = opts.ruckus_listen {
            sim.ruckus_addr = Some(
                sim.spawn_root(listen, ruckus::router(shared.clone()))
                    .await?,
            );
        }
        if let Some(listen) = opts.audiocodes_listen {
            let router = audiocodes::router(shared.clone());
            sim.audiocodes_addr = Some(sim.spawn_root(listen, router).await?);
        }
        if let Some(listen) = opts.extreme_listen {
            let router = extreme::router(shared.clone());
            sim.extreme_addr = Some(sim.spawn_root(listen, router).await?);
        }
        Ok(sim)
    }

    /// Serves one vendor at the root of its own address, as the real cloud does.
    async fn spawn_root(
        &mut self,
        listen: SocketAddr,
        router: Router<Shared>,
    ) -> anyhow::Result<SocketAddr> {
        let app = router
            .layer(middleware::from_fn_with_state(
                self.shared.clone(),
                persist_layer,
            ))
            .with_state(self.shared.clone());
        self.spawn(listen, app).await
    }

    async fn spawn(&mut self, listen: SocketAddr, app: Router) -> anyhow::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("simulator cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = rx.await;
            });
            if let Err(e) = server.await {
                tracing::warn!(error = %e, "simulator listener stopped");
            }
        });
        self.stops.push(tx);
        self.tasks.push(task);
        Ok(addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn aruba_addr(&self) -> Option<SocketAddr> {
        self.aruba_addr
    }

    /// The `--ruckus-listen` address (RUCKUS One at its root), when asked for.
    pub fn ruckus_addr(&self) -> Option<SocketAddr> {
        self.ruckus_addr
    }

    /// The `--audiocodes-listen` address (AudioCodes at its root), if any.
    pub fn audiocodes_addr(&self) -> Option<SocketAddr> {
        self.audiocodes_addr
    }

    /// The `--extreme-listen` address (ExtremeCloud at its root), if any.
    pub fn extreme_addr(&self) -> Option<SocketAddr> {
        self.extreme_addr
    }

    /// `http://ADDR/<vendor>`, e.g. the Aruba base URL.
    pub fn base_url(&self, vendor: &str) -> String {
        format!("{}/{vendor}", self.url())
    }

    /// `http://ADDR` of the main listener.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn inject_fault(&self, fault: FaultSpec) {
        self.shared.lock().faults.add(fault);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Calls to one route pattern, e.g. `calls("aruba", "PUT /msp_api/v1/customers/*/devices")`.
    pub fn calls(&self, vendor: &str, route: &str) -> u64 {
        self.shared.lock().calls.get(vendor, route)
    }

    /// Calls to a vendor by route (`METHOD /pattern`, as [`Simulator::calls`] takes it),
    /// OAuth included: the whole call log of one vendor, e.g. for a benchmark's
    /// calls-by-endpoint table.
    pub fn calls_by_route(&self, vendor: &str) -> std::collections::BTreeMap<String, u64> {
        self.shared.lock().calls.routes(vendor)
    }

    /// Non-GET calls to a vendor, excluding OAuth.
    pub fn write_calls(&self, vendor: &str) -> u64 {
        self.shared.lock().calls.writes(vendor)
    }

    /// All calls to a vendor, OAuth included.
    pub fn total_calls(&self, vendor: &str) -> u64 {
        self.shared.lock().calls.total(vendor)
    }

    pub fn reset_calls(&self) {
        self.shared.lock().calls = control::CallLog::default();
    }

    /// An out-of-band "portal" edit (for drift tests).
    pub fn aruba_edit(&self, edit: ArubaEdit) -> anyhow::Result<()> {
        self.edit::<aruba::ArubaState>(edit)
    }

    /// Change Aruba's behaviour switches.
    pub fn aruba_switches(&self, f: impl FnOnce(&mut ArubaSwitches)) {
        self.switch::<aruba::ArubaState>(f);
    }

    /// An out-of-band RUCKUS One "portal" edit (for drift tests).
    pub fn ruckus_edit(&self, edit: RuckusEdit) -> anyhow::Result<()> {
        self.edit::<ruckus::RuckusState>(edit)
    }

    /// Change RUCKUS One's behaviour switches.
    pub fn ruckus_switches(&self, f: impl FnOnce(&mut RuckusSwitches)) {
        self.switch::<ruckus::RuckusState>(f);
    }

    /// RUCKUS One activities by request id → how many times each was polled
    /// (`GET /activities/{id}`), e.g. to see several waited on at once.
    pub fn ruckus_activity_polls(&self) -> std::collections::BTreeMap<String, u32> {
        self.shared
            .lock()
            .ruckus
            .activities
            .iter()
            .map(|a| (a.request_id.clone(), a.polls))
            .collect()
    }

    /// An out-of-band AudioCodes "portal" edit (for drift tests).
    pub fn audiocodes_edit(&self, edit: AudiocodesEdit) -> anyhow::Result<()> {
        self.edit::<audiocodes::AudiocodesState>(edit)
    }

    /// Change AudioCodes' behaviour switches.
    pub fn audiocodes_switches(&self, f: impl FnOnce(&mut AudiocodesSwitches)) {
        self.switch::<audiocodes::AudiocodesState>(f);
    }

    /// An out-of-band ExtremeCloud "portal" edit (for drift tests).
    pub fn extreme_edit(&self, edit: ExtremeEdit) -> anyhow::Result<()> {
        self.edit::<extreme::ExtremeState>(edit)
    }

    /// Change ExtremeCloud's behaviour switches.
    pub fn extreme_switches(&self, f: impl FnOnce(&mut ExtremeSwitches)) {
        self.switch::<extreme::ExtremeState>(f);
    }

    /// A vendor's portal edit at the simulated clock's now, persisted when it took.
    fn edit<V: SimVendor>(&self, edit: V::Edit) -> anyhow::Result<()> {
        {
            let mut st = self.shared.lock();
            let now = st.now_ms();
            V::of(&mut st).edit(edit, now)?;
        }
        self.persist();
        Ok(())
    }

    fn switch<V: SimVendor>(&self, f: impl FnOnce(&mut V::Switches)) {
        f(V::of(&mut self.shared.lock()).switches());
        self.persist();
    }

    /// Start (or stop and forget) recording the JSON request bodies every vendor route
    /// receives; kept in memory only (never in `/_sim/state` or the `--data` file).
    pub fn record_bodies(&self, on: bool) {
        self.shared.lock().recorded = on.then(Vec::new);
    }

    /// The bodies recorded so far, oldest first.
    pub fn recorded_bodies(&self) -> Vec<RecordedBody> {
        self.shared.lock().recorded.clone().unwrap_or_default()
    }

    /// Stop the simulated clock: from now on only [`Simulator::advance_clock`] moves it.
    pub fn freeze_clock(&self) {
        self.shared.lock().freeze_clock(true);
    }

    /// How many times an injected fault fired on `vendor` for calls matching `route`
    /// (a fault pattern, e.g. `POST /msp_api/v2/customers` or `* *`).
    pub fn faults_fired(&self, vendor: &str, route: &str) -> u64 {
        self.shared.lock().faults.fired(vendor, route)
    }

    /// Move the simulated clock forward (token expiry, delays, rate-limit windows).
    pub fn advance_clock(&self, secs: u64) {
        let mut st = self.shared.lock();
        st.clock_offset_secs = st.clock_offset_secs.saturating_add(secs);
    }

    /// Back to the inventory, calls zeroed, faults cleared.
    pub fn reset(&self) {
        self.shared.reset();
        self.persist();
    }

    /// The whole state as JSON (what `GET /_sim/state` returns).
    pub fn dump(&self) -> serde_json::Value {
        let mut st = self.shared.lock();
        let now = st.now_ms();
        st.ruckus.settle(now);
        st.aruba.settle(now);
        control::dump(&st)
    }

    fn persist(&self) {
        self.shared.persist();
    }

    /// Persist, stop accepting, and wait (at most 2 s) for the listeners to finish.
    pub async fn shutdown(self) {
        self.shared.persist();
        for stop in self.stops {
            let _ = stop.send(());
        }
        for mut task in self.tasks {
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

/// `mspform sim serve`: start, print the address, run until Ctrl-C, persist on the way out.
pub async fn serve(opts: SimOptions) -> anyhow::Result<()> {
    let sim = Simulator::start(opts).await?;
    println!(
        "mspform simulator listening on {} (aruba: {})",
        sim.url(),
        sim.base_url("aruba")
    );
    if let Some(addr) = sim.aruba_addr() {
        println!("aruba also served at the root of http://{addr}");
    }
    println!("ruckus: {}", sim.base_url("ruckus"));
    if let Some(addr) = sim.ruckus_addr() {
        println!("ruckus also served at the root of http://{addr}");
    }
    println!("audiocodes: {}", sim.base_url("audiocodes"));
    if let Some(addr) = sim.audiocodes_addr() {
        println!("audiocodes also served at the root of http://{addr}");
    }
    println!("extreme: {}", sim.base_url("extreme"));
    if let Some(addr) = sim.extreme_addr() {
        println!("extreme also served at the root of http://{addr}");
    }
    stop_signal().await?;
    sim.shutdown().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix (so `kill` also persists the data).
async fn stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot wait for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("cannot wait for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    Ok(())
}
