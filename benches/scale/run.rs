//! Runs the phases of one vendor: a fresh simulator with the generated account,
//! the generated configuration in a temporary directory, and the real CLI binary
//! once per step, with the simulator's call log read and reset around each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use mspform::sim::{FaultKind, FaultSpec, Inventory, SimOptions, Simulator};

use crate::child::{self, ChildRun};
use crate::generate::{Edit, Portfolio};
use crate::minimum::{self, Minimum};
use crate::options::{Options, Phase, Vendor};

/// The simulator's credentials (`examples/sim-inventory.toml`), as the child's environment.
const CREDENTIALS: &[(&str, &str)] = &[
    ("ARUBA_TOKEN", "sim-token"),
    ("EXTREME_PASSWORD", "sim-password"),
    ("RUCKUS_CLIENT_ID", "sim-r1-client"),
    ("RUCKUS_CLIENT_SECRET", "sim-r1-secret"),
    (
        "AUDIOCODES_CLIENT_ID",
        "5a9e2c7f-1b4d-4f6a-8e3c-9d0b7a6f5e12",
    ),
    ("AUDIOCODES_CLIENT_SECRET", "sim-ac-secret"),
];

/// Aruba's daily quota in the drift-day phase (the documented base, §1.3).
pub const ARUBA_DAY_QUOTA: u32 = 5000;
/// RUCKUS One activities settle after this long on the simulator clock.
pub const RUCKUS_SETTLE_MS: u64 = 2000;
/// Aruba device moves land this long after the PUT (the simulator's default).
pub const ARUBA_MOVE_MS: u64 = 100;

/// One CLI run and the calls it made.
#[derive(Debug)]
pub struct Step {
    pub label: String,
    pub child: ChildRun,
    pub calls: BTreeMap<String, u64>,
    pub writes: u64,
}

impl Step {
    pub fn total(&self) -> u64 {
        self.calls.values().sum()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Ok,
    /// The CLI does not have the flags yet (a clap usage error).
    NotSupported(String),
    /// It ran, but not as expected.
    Failed(String),
    /// Not run, and why.
    Skipped(String),
}

#[derive(Debug)]
pub struct PhaseResult {
    pub phase: Phase,
    pub steps: Vec<Step>,
    pub status: Status,
    pub minimum: Minimum,
    /// (seconds, how); none where wall time is not the point (the drift day).
    pub bound: Option<(f64, String)>,
    pub notes: Vec<String>,
}

impl PhaseResult {
    pub fn calls(&self) -> BTreeMap<String, u64> {
        let mut all = BTreeMap::new();
        for s in &self.steps {
            for (k, v) in &s.calls {
                *all.entry(k.clone()).or_insert(0) += v;
            }
        }
        all
    }

    pub fn total(&self) -> u64 {
        self.steps.iter().map(Step::total).sum()
    }

    pub fn writes(&self) -> u64 {
        self.steps.iter().map(|s| s.writes).sum()
    }

    pub fn wall(&self) -> Duration {
        self.steps.iter().map(|s| s.child.wall).sum()
    }

    pub fn cpu(&self) -> Duration {
        self.steps.iter().map(|s| s.child.cpu).sum()
    }

    pub fn max_rss_kb(&self) -> u64 {
        self.steps
            .iter()
            .map(|s| s.child.max_rss_kb)
            .max()
            .unwrap_or(0)
    }

    pub fn measured(&self) -> bool {
        !self.steps.is_empty() && !matches!(self.status, Status::NotSupported(_))
    }
}

pub struct VendorRun {
    pub vendor: Vendor,
    pub portfolio: Portfolio,
    pub settings: Vec<String>,
    pub phases: Vec<PhaseResult>,
}

struct Ctx<'a> {
    opts: &'a Options,
    bin: PathBuf,
    sim: Simulator,
    portfolio: Portfolio,
    dir: PathBuf,
    conf: PathBuf,
    state: PathBuf,
    /// Seconds this run moved the simulator clock forward.
    clock_offset: u64,
}

/// All phases of one vendor; `dir` is its own empty directory.
pub async fn vendor(opts: &Options, vendor: Vendor, dir: &Path) -> anyhow::Result<VendorRun> {
    let probe = Portfolio::new(vendor, opts.n, "", opts.poll_ms);
    let inventory = Inventory::generated(&probe.account());
    let sim = Simulator::start(SimOptions::new("127.0.0.1:0".parse()?, inventory)).await?;
    let portfolio = Portfolio::new(vendor, opts.n, &sim.url(), opts.poll_ms);
    let settings = configure(&sim, vendor, opts);
    let mut ctx = Ctx {
        opts,
        bin: PathBuf::from(env!("CARGO_BIN_EXE_mspform")),
        sim,
        portfolio,
        dir: dir.to_path_buf(),
        conf: dir.join("conf"),
        state: dir.join("state"),
        clock_offset: 0,
    };
    ctx.write_config(false)?;
    let mut phases = Vec::new();
    for &phase in &opts.phases {
        eprintln!("[{}] {} ...", vendor.name(), phase.name());
        let result = ctx.phase(phase).await?;
        eprintln!(
            "[{}] {}: {} calls in {:.1} s",
            vendor.name(),
            phase.name(),
            result.total(),
            result.wall().as_secs_f64()
        );
        phases.push(result);
    }
    let Ctx { sim, portfolio, .. } = ctx;
    sim.shutdown().await;
    Ok(VendorRun {
        vendor,
        portfolio,
        settings,
        phases,
    })
}

/// The simulator switches of the benchmark; returns them as lines for the report.
fn configure(sim: &Simulator, vendor: Vendor, opts: &Options) -> Vec<String> {
    let mut lines = Vec::new();
    match vendor {
        Vendor::Aruba => {
            sim.aruba_switches(|s| {
                s.limit_per_second = 7;
                s.limit_per_day = 0;
                s.provision_invisible_polls = 0;
                s.provision_delay_ms = opts.provision_ms;
                s.device_move_delay_ms = ARUBA_MOVE_MS;
            });
            lines.push(format!(
                "simulator: 7 calls/s; daily quota OFF except in drift-day ({ARUBA_DAY_QUOTA}/day); \
                 a new customer provisions in {} ms (by time only); moves land in {ARUBA_MOVE_MS} ms",
                opts.provision_ms
            ));
            lines.push(format!(
                "client: calls_per_second = 7, poll_interval_ms = {}",
                opts.poll_ms
            ));
        }
        Vendor::Extreme => {
            sim.extreme_switches(|s| s.limit_per_hour = 7500);
            lines.push("simulator: 7,500 calls/h (limit_per_hour)".into());
            lines.push("client: calls_per_second = 2 (7,200/h)".into());
        }
        Vendor::Ruckus => {
            sim.ruckus_switches(|s| {
                s.rate_bucket_max = 200;
                s.rate_refill_per_sec = 100;
                // Activities settle by time only, not by being polled often.
                s.activity_pending_polls = u32::MAX;
                s.activity_settle_ms = RUCKUS_SETTLE_MS;
            });
            lines.push(format!(
                "simulator: bucket 200, +100/s; activities settle after {RUCKUS_SETTLE_MS} ms (by time only)"
            ));
            lines.push("client: burst = 200, calls_per_second = 100".into());
        }
        Vendor::Audiocodes => {
            lines.push("simulator: no limit (none documented); creates answer at once".into());
            lines.push("client: calls_per_second = 10".into());
        }
    }
    if opts.latency_ms > 0 {
        sim.inject_fault(FaultSpec {
            vendor: "*".into(),
            route: "*".into(),
            kind: FaultKind::Latency {
                ms: opts.latency_ms,
            },
            count: None,
            rate: None,
        });
        lines.push(format!(
            "latency: every response delayed {} ms",
            opts.latency_ms
        ));
    }
    lines
}

impl Ctx<'_> {
    fn write_config(&self, edited: bool) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.conf)?;
        for (name, text) in self.portfolio.files(edited) {
            std::fs::write(self.conf.join(&name), text)
                .with_context(|| format!("cannot write {name}"))?;
        }
        Ok(())
    }

    fn vendor(&self) -> Vendor {
        self.portfolio.shape.vendor
    }

    /// The simulator clock now, in Unix seconds.
    fn sim_now(&self) -> u64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        wall + self.clock_offset
    }

    fn advance(&mut self, secs: u64) {
        self.sim.advance_clock(secs);
        self.clock_offset += secs;
    }

    /// One CLI run: `mspform --config CONF --state STATE <args>`.
    async fn step(
        &self,
        label: &str,
        args: &[&str],
        env: &[(String, String)],
    ) -> anyhow::Result<Step> {
        let mut full: Vec<String> = vec![
            "--config".into(),
            self.conf.display().to_string(),
            "--state".into(),
            self.state.display().to_string(),
        ];
        full.extend(args.iter().map(|a| a.to_string()));
        let mut vars: Vec<(String, String)> = CREDENTIALS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        vars.extend(env.iter().cloned());
        self.sim.reset_calls();
        let (bin, dir, label_owned, timeout) = (
            self.bin.clone(),
            self.dir.clone(),
            label.to_string(),
            self.opts.timeout,
        );
        let run = tokio::task::spawn_blocking(move || {
            child::run(&bin, &full, &vars, &dir, &label_owned, timeout)
        })
        .await??;
        let vendor = self.vendor().sim();
        Ok(Step {
            label: label.to_string(),
            calls: self.sim.calls_by_route(vendor),
            writes: self.sim.write_calls(vendor),
            child: run,
        })
    }

    fn edit(&self, edit: Edit) -> anyhow::Result<()> {
        match edit {
            Edit::Aruba(e) => self.sim.aruba_edit(e),
            Edit::Extreme(e) => self.sim.extreme_edit(e),
            Edit::Ruckus(e) => self.sim.ruckus_edit(e),
            Edit::Audiocodes(e) => self.sim.audiocodes_edit(e),
        }
    }

    fn waits(&self, phase: Phase) -> Vec<(f64, String)> {
        let mut w = Vec::new();
        match (self.vendor(), phase) {
            (Vendor::Aruba, Phase::Apply) => {
                w.push((
                    self.opts.provision_ms as f64 / 1000.0,
                    "provisioning".into(),
                ));
                w.push((ARUBA_MOVE_MS as f64 / 1000.0, "move landing".into()));
            }
            (Vendor::Ruckus, Phase::Apply) => {
                w.push((
                    2.0 * RUCKUS_SETTLE_MS as f64 / 1000.0,
                    "activities (creates, then partner assignments)".into(),
                ));
            }
            (Vendor::Ruckus, Phase::Cycle) => {
                w.push((RUCKUS_SETTLE_MS as f64 / 1000.0, "activity".into()));
            }
            _ => {}
        }
        if self.opts.latency_ms > 0 {
            w.push((
                self.opts.latency_ms as f64 / 1000.0,
                "latency (one round trip)".into(),
            ));
        }
        w
    }

    async fn phase(&mut self, phase: Phase) -> anyhow::Result<PhaseResult> {
        let minimum = minimum::minimum(&self.portfolio.shape, phase);
        let rate = minimum::rate(self.vendor());
        let bound = (phase != Phase::DriftDay)
            .then(|| minimum::bound(rate, minimum.total(), &self.waits(phase)));
        let mut r = PhaseResult {
            phase,
            steps: Vec::new(),
            status: Status::Ok,
            minimum,
            bound,
            notes: Vec::new(),
        };
        match phase {
            Phase::FirstPlan => {
                self.expect(&mut r, "first-plan", &["plan"], &[0]).await?;
            }
            Phase::Apply | Phase::SecondApply => {
                let label = phase.name();
                self.expect(&mut r, label, &["apply", "--auto-approve"], &[0])
                    .await?;
                if phase == Phase::SecondApply && r.writes() > 0 {
                    r.status = Status::Failed(format!("{} writes, expected 0", r.writes()));
                }
            }
            Phase::SecondPlan => {
                self.expect(
                    &mut r,
                    "second-plan",
                    &["plan", "--detailed-exitcode"],
                    &[0],
                )
                .await?;
            }
            Phase::Target => {
                let key = self.portfolio.key(self.portfolio.shape.n / 2);
                let target = format!("customer.{key}");
                r.notes.push(format!("target {target}"));
                self.expect(&mut r, "target", &["plan", "--target", &target], &[0])
                    .await?;
            }
            Phase::Cycle => self.cycle(&mut r).await?,
            Phase::Drift => {
                let (edit, restore) = self.portfolio.drift_edits();
                r.notes.push(format!("portal edit: {edit:?}"));
                self.edit(edit)?;
                self.expect(&mut r, "drift", &["drift"], &[2]).await?;
                self.edit(restore)?;
                r.notes
                    .push("the portal edit was put back after this phase".into());
            }
            Phase::DriftDay => self.drift_day(&mut r).await?,
        }
        Ok(r)
    }

    /// Runs one step, appends it, and sets the status from its exit code.
    async fn expect(
        &self,
        r: &mut PhaseResult,
        label: &str,
        args: &[&str],
        codes: &[i32],
    ) -> anyhow::Result<bool> {
        let step = self.step(label, args, &[]).await?;
        let ok = judge(&step, codes, &mut r.status);
        r.steps.push(step);
        Ok(ok)
    }

    async fn cycle(&mut self, r: &mut PhaseResult) -> anyhow::Result<()> {
        self.write_config(true)?;
        r.notes.push(format!(
            "edited {} customers (index % 10 == 0) in the configuration",
            self.portfolio.shape.edited
        ));
        // Relative to the child's working directory, the vendor's directory.
        let plan_file = "p.json".to_string();
        if !self
            .expect(r, "cycle-plan", &["plan", "--out", &plan_file], &[0])
            .await?
        {
            return Ok(());
        }
        let mut args: Vec<String> = vec!["apply".into(), plan_file];
        if self.vendor() == Vendor::Audiocodes {
            // No update call: each edit is a replacement, which must be named.
            for a in self.portfolio.replaced() {
                args.push("--allow-replace".into());
                args.push(a);
            }
            args.push("--max-deletes".into());
            args.push(self.portfolio.shape.n.to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.expect(r, "cycle-apply", &args, &[0]).await?;
        Ok(())
    }

    /// Aruba: a simulated day of hourly `drift --full-every 24h` under the daily
    /// quota, the simulator clock and `MSPFORM_NOW` moved one hour per run.
    async fn drift_day(&mut self, r: &mut PhaseResult) -> anyhow::Result<()> {
        if self.vendor() != Vendor::Aruba {
            r.status = Status::Skipped("Aruba only (the vendor with a daily quota)".into());
            return Ok(());
        }
        self.sim
            .aruba_switches(|s| s.limit_per_day = ARUBA_DAY_QUOTA);
        // Start at 00:00 GMT, when the quota's day starts.
        let now = self.sim_now();
        self.advance(86_400 - now % 86_400);
        r.notes.push(format!(
            "daily quota ON ({ARUBA_DAY_QUOTA}/day) for this phase; 24 runs, the simulator clock and MSPFORM_NOW 3600 s apart from 00:00 GMT"
        ));
        let mut day_total = 0;
        for hour in 0..24 {
            let env = [("MSPFORM_NOW".to_string(), self.sim_now().to_string())];
            let label = format!("drift-day-{hour:02}");
            let step = self
                .step(&label, &["drift", "--full-every", "24h"], &env)
                .await?;
            day_total += step.total();
            let mut status = Status::Ok;
            let quota = step.child.code == Some(1) && step.child.stderr_text().contains("quota");
            // A run the daily quota stopped did what it should; anything else is a failure.
            let accepted: &[i32] = if quota { &[0, 1, 2] } else { &[0, 2] };
            judge(&step, accepted, &mut status);
            let stop = matches!(status, Status::NotSupported(_));
            if status != Status::Ok && r.status == Status::Ok {
                r.status = status;
            }
            if step.child.code != Some(0) && step.child.code != Some(2) && !stop {
                let why = if quota {
                    "stopped by the daily quota".to_string()
                } else {
                    step.child.first_line()
                };
                r.notes
                    .push(format!("hour {hour:02}: exit {:?}: {why}", step.child.code));
            }
            r.steps.push(step);
            if stop {
                break;
            }
            self.advance(3600);
        }
        self.sim.aruba_switches(|s| s.limit_per_day = 0);
        if day_total > u64::from(ARUBA_DAY_QUOTA) {
            r.notes.push(format!(
                "{} calls beyond the day's {ARUBA_DAY_QUOTA} (refused by the quota; any per-second 429 counted too)",
                day_total - u64::from(ARUBA_DAY_QUOTA)
            ));
        }
        Ok(())
    }
}

/// Sets `status` from a step's exit: a usage error is "not supported yet".
fn judge(step: &Step, codes: &[i32], status: &mut Status) -> bool {
    let c = &step.child;
    if c.timed_out {
        *status = Status::Failed(format!("killed after {:.0} s", c.wall.as_secs_f64()));
        return false;
    }
    if c.is_usage_error() {
        *status = Status::NotSupported(c.first_line());
        return false;
    }
    match c.code {
        Some(code) if codes.contains(&code) => true,
        Some(code) => {
            let what = if code == 2 && codes.contains(&0) && c.args.contains(&"plan".into()) {
                "the plan shows changes".to_string()
            } else {
                c.first_line()
            };
            *status = Status::Failed(format!("{}: exit {code}: {what}", step.label));
            false
        }
        None => {
            *status = Status::Failed(format!("{}: ended by a signal", step.label));
            false
        }
    }
}
