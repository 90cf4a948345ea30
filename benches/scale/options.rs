//! The benchmark's command line: `cargo bench --bench scale -- [N] [options]`.
//! Parsing only.

use std::time::Duration;

use anyhow::{Context, bail};

pub const USAGE: &str = "\
usage: cargo bench --bench scale -- [N] [options]
  N                     customers per vendor (default 100)
  --vendors LIST        aruba,extremecloud,ruckus,audiocodes (default: all four)
  --phases LIST         first-plan,apply,second-plan,target,cycle,drift,drift-day,second-apply
                        (default: all, always in this order)
  --latency-ms MS       delay every simulated response by MS (default 0)
  --provision-ms MS     Aruba provisioning time of a new customer (default 50, the simulator's)
  --poll-ms MS          Aruba poll_interval_ms in the generated configuration (default 1000)
  --timeout-secs S      kill a CLI run that takes longer (default 10800)
  --keep                keep the generated configurations, states and outputs";

/// The four vendors, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Vendor {
    Aruba,
    Extreme,
    Ruckus,
    Audiocodes,
}

impl Vendor {
    pub const ALL: [Vendor; 4] = [
        Vendor::Aruba,
        Vendor::Extreme,
        Vendor::Ruckus,
        Vendor::Audiocodes,
    ];

    /// The name on the command line and in the output.
    pub fn name(self) -> &'static str {
        match self {
            Vendor::Aruba => "aruba",
            Vendor::Extreme => "extremecloud",
            Vendor::Ruckus => "ruckus",
            Vendor::Audiocodes => "audiocodes",
        }
    }

    /// The simulator's path prefix and call-log name.
    pub fn sim(self) -> &'static str {
        match self {
            Vendor::Aruba => "aruba",
            Vendor::Extreme => "extreme",
            Vendor::Ruckus => "ruckus",
            Vendor::Audiocodes => "audiocodes",
        }
    }

    fn parse(s: &str) -> anyhow::Result<Vendor> {
        Ok(match s {
            "aruba" | "aruba-central" => Vendor::Aruba,
            "extremecloud" | "extreme" => Vendor::Extreme,
            "ruckus" | "ruckus-one" => Vendor::Ruckus,
            "audiocodes" | "audiocodes-live" => Vendor::Audiocodes,
            other => bail!("unknown vendor {other:?}"),
        })
    }
}

/// The phases, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    FirstPlan,
    Apply,
    SecondPlan,
    Target,
    Cycle,
    Drift,
    DriftDay,
    SecondApply,
}

impl Phase {
    pub const ALL: [Phase; 8] = [
        Phase::FirstPlan,
        Phase::Apply,
        Phase::SecondPlan,
        Phase::Target,
        Phase::Cycle,
        Phase::Drift,
        Phase::DriftDay,
        Phase::SecondApply,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::FirstPlan => "first-plan",
            Phase::Apply => "apply",
            Phase::SecondPlan => "second-plan",
            Phase::Target => "target",
            Phase::Cycle => "cycle",
            Phase::Drift => "drift",
            Phase::DriftDay => "drift-day",
            Phase::SecondApply => "second-apply",
        }
    }

    fn parse(s: &str) -> anyhow::Result<Phase> {
        Phase::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .with_context(|| format!("unknown phase {s:?}"))
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    pub n: usize,
    pub vendors: Vec<Vendor>,
    pub phases: Vec<Phase>,
    pub latency_ms: u64,
    pub provision_ms: u64,
    pub poll_ms: u64,
    pub timeout: Duration,
    pub keep: bool,
}

impl Options {
    /// From the arguments after the program name; cargo's own `--bench` is ignored.
    pub fn parse(args: impl IntoIterator<Item = String>) -> anyhow::Result<Options> {
        let mut o = Options {
            n: 100,
            vendors: Vendor::ALL.to_vec(),
            phases: Phase::ALL.to_vec(),
            latency_ms: 0,
            provision_ms: 50,
            poll_ms: 1000,
            timeout: Duration::from_secs(10_800),
            keep: false,
        };
        let mut args = args.into_iter();
        let mut n_seen = false;
        while let Some(a) = args.next() {
            let mut value =
                |name: &str| args.next().with_context(|| format!("{name} needs a value"));
            let number = |name: &str, v: String| {
                v.parse::<u64>()
                    .with_context(|| format!("{name} takes a whole number, not {v:?}"))
            };
            match a.as_str() {
                "--bench" => {}
                "--keep" => o.keep = true,
                "--vendors" => {
                    let v = value("--vendors")?;
                    o.vendors = v.split(',').map(Vendor::parse).collect::<Result<_, _>>()?;
                    o.vendors.sort();
                    o.vendors.dedup();
                }
                "--phases" => {
                    let v = value("--phases")?;
                    o.phases = v.split(',').map(Phase::parse).collect::<Result<_, _>>()?;
                    o.phases.sort();
                    o.phases.dedup();
                }
                "--latency-ms" => o.latency_ms = number(&a, value(&a)?)?,
                "--provision-ms" => o.provision_ms = number(&a, value(&a)?)?,
                "--poll-ms" => o.poll_ms = number(&a, value(&a)?)?,
                "--timeout-secs" => o.timeout = Duration::from_secs(number(&a, value(&a)?)?),
                "-h" | "--help" => bail!("help"),
                s if !s.starts_with('-') && !n_seen => {
                    o.n = s
                        .parse()
                        .with_context(|| format!("N must be a whole number, not {s:?}"))?;
                    n_seen = true;
                }
                other => bail!("unknown argument {other:?}"),
            }
        }
        if o.n == 0 || o.n > 100_000 {
            bail!("N must be between 1 and 100000");
        }
        if o.vendors.is_empty() || o.phases.is_empty() {
            bail!("--vendors and --phases need at least one name");
        }
        Ok(o)
    }
}
