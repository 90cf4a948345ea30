//! What the benchmark prints: per vendor and phase the calls by endpoint, the
//! minimum with its formula, wall time against the rate bound, CPU and memory;
//! then one summary table and the targets beside the figures.

use std::fmt::Write as _;

use crate::options::{Options, Phase, Vendor};
use crate::run::{ARUBA_DAY_QUOTA, PhaseResult, Status, VendorRun};

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "—".into(), |r| format!("{r:.2}×"))
}

/// Wall ÷ bound, or none when the bound is nil (every call fits in the first burst
/// and nothing is waited for: no rate to be bound by).
fn wall_ratio(p: &PhaseResult) -> Option<f64> {
    let (b, _) = p.bound.as_ref()?;
    (*b >= 0.05).then(|| p.wall().as_secs_f64() / b)
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn status_word(s: &Status) -> String {
    match s {
        Status::Ok => "ok".into(),
        Status::NotSupported(_) => "n/a".into(),
        Status::Failed(_) => "FAILED".into(),
        Status::Skipped(_) => "skipped".into(),
    }
}

pub fn header(o: &Options) -> String {
    format!(
        "mspform scale benchmark: N = {} customers per vendor; vendors {}; latency {} ms; \
         Aruba provisioning {} ms; Aruba poll interval {} ms\n\
         (each vendor in its own simulator and configuration, one after another; \
         every phase runs the real CLI binary as a child process)\n",
        o.n,
        o.vendors
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(","),
        o.latency_ms,
        o.provision_ms,
        o.poll_ms
    )
}

/// The detailed section of one vendor.
pub fn vendor(v: &VendorRun) -> String {
    let mut out = String::new();
    let s = &v.portfolio.shape;
    let _ = writeln!(
        out,
        "\n==================== {} ====================",
        v.vendor.name()
    );
    let _ = write!(out, "portfolio: {} customers", s.n);
    if s.sites > 0 {
        let _ = write!(
            out,
            ", {} sites, {} devices ({} per site, 1 licence each), {} declaring auto_license",
            s.sites, s.devices, s.devices_per_site, s.auto_license
        );
    }
    if s.partners > 0 {
        let _ = write!(out, ", {} partners", s.partners);
    }
    let _ = writeln!(out);
    for line in &v.settings {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "rate: {}", crate::minimum::rate(v.vendor).text);
    for p in &v.phases {
        out.push_str(&phase(v.vendor, p));
    }
    out
}

fn phase(vendor: Vendor, p: &PhaseResult) -> String {
    let mut out = String::new();
    let commands: Vec<String> = p
        .steps
        .iter()
        .map(|s| {
            s.child
                .args
                .iter()
                .skip(4)
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let mut commands = commands;
    commands.dedup();
    let _ = writeln!(
        out,
        "\n-- {} · {}: {}  [{}]",
        vendor.name(),
        p.phase.name(),
        commands.join(" ; "),
        status_word(&p.status)
    );
    match &p.status {
        Status::NotSupported(line) => {
            let _ = writeln!(out, "   n/a ({line})");
        }
        Status::Failed(why) => {
            let _ = writeln!(out, "   FAILED: {why}");
        }
        Status::Skipped(why) => {
            let _ = writeln!(out, "   skipped: {why}");
        }
        Status::Ok => {}
    }
    for n in &p.notes {
        let _ = writeln!(out, "   note: {n}");
    }
    if !p.measured() {
        return out;
    }
    if p.steps.len() > 1 {
        for s in &p.steps {
            let _ = writeln!(
                out,
                "   step {:<14} {:>6} calls {:>5} writes {:>8.1} s  exit {}",
                s.label,
                s.total(),
                s.writes,
                s.child.wall.as_secs_f64(),
                s.child.code.map_or("signal".into(), |c| c.to_string())
            );
        }
    }
    let _ = writeln!(out, "   calls by endpoint:");
    for (route, n) in p.calls() {
        let _ = writeln!(out, "   {n:>8}  {route}");
    }
    let total = p.total();
    let min = p.minimum.total();
    let _ = writeln!(out, "   calls     {total} ({} writes)", p.writes());
    let _ = writeln!(
        out,
        "   minimum   {}   ratio {}",
        p.minimum.formula(),
        fmt_ratio(ratio(total as f64, min as f64))
    );
    let wall = p.wall().as_secs_f64();
    match &p.bound {
        Some((b, how)) => {
            let _ = writeln!(
                out,
                "   wall      {wall:.2} s   rate bound {b:.2} s = {how}   ratio {}",
                fmt_ratio(wall_ratio(p))
            );
        }
        None => {
            let _ = writeln!(out, "   wall      {wall:.2} s");
        }
    }
    let cpu = p.cpu().as_secs_f64() * 1000.0;
    let _ = writeln!(
        out,
        "   cpu       {cpu:.0} ms ({} per call)   peak RSS {:.1} MB",
        if total > 0 {
            format!("{:.2} ms", cpu / total as f64)
        } else {
            "—".into()
        },
        mb(p.max_rss_kb())
    );
    if p.phase == Phase::DriftDay {
        out.push_str(&drift_day(p));
    }
    out
}

fn site_reads(p: &PhaseResult) -> u64 {
    p.calls().get("GET /central/v2/sites").copied().unwrap_or(0)
}

fn drift_day(p: &PhaseResult) -> String {
    let mut out = String::new();
    let runs = p.steps.len().max(1) as u64;
    let _ = writeln!(
        out,
        "   per day   {} calls in {} runs ({} per run on average); minimum per day {}",
        p.total(),
        p.steps.len(),
        p.total() / runs,
        p.minimum.total()
    );
    let _ = writeln!(
        out,
        "   site reads over the day: {} (every customer fully read needs ≥ 1 each)",
        site_reads(p)
    );
    out
}

/// One row per vendor and phase.
pub fn summary(o: &Options, runs: &[VendorRun]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n==================== summary: N = {}, latency {} ms, Aruba provisioning {} ms ====================",
        o.n, o.latency_ms, o.provision_ms
    );
    let _ = writeln!(
        out,
        "{:<13} {:<13} {:<7} {:>7} {:>7} {:>7} {:>9} {:>9} {:>7} {:>8} {:>7}",
        "vendor",
        "phase",
        "status",
        "calls",
        "minimum",
        "ratio",
        "wall s",
        "bound s",
        "ratio",
        "cpu/call",
        "RSS MB"
    );
    for v in runs {
        for p in &v.phases {
            let total = p.total();
            let min = p.minimum.total();
            let wall = p.wall().as_secs_f64();
            let (bound, bratio) = match &p.bound {
                Some((b, _)) => (format!("{b:.1}"), fmt_ratio(wall_ratio(p))),
                None => ("—".into(), "—".into()),
            };
            let measured = p.measured();
            let min_cell = if matches!(p.status, Status::Skipped(_)) {
                "—".to_string()
            } else {
                min.to_string()
            };
            let cell = |s: String| if measured { s } else { "—".into() };
            let _ = writeln!(
                out,
                "{:<13} {:<13} {:<7} {:>7} {:>7} {:>7} {:>9} {:>9} {:>7} {:>8} {:>7}",
                v.vendor.name(),
                p.phase.name(),
                status_word(&p.status),
                cell(total.to_string()),
                min_cell,
                cell(fmt_ratio(ratio(total as f64, min as f64))),
                cell(format!("{wall:.1}")),
                bound,
                cell(bratio),
                cell(if total > 0 {
                    format!("{:.2}ms", p.cpu().as_secs_f64() * 1000.0 / total as f64)
                } else {
                    "—".into()
                }),
                cell(format!("{:.1}", mb(p.max_rss_kb())))
            );
        }
    }
    out
}

fn verdict(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "n/a",
    }
}

/// The "Figures to reach", measured where this run measured them.
pub fn targets(o: &Options, runs: &[VendorRun]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n==================== targets (issue 10) ===================="
    );
    let wall_target = if o.latency_ms > 0 { 1.15 } else { 1.10 };
    for v in runs {
        let find = |ph: Phase| v.phases.iter().find(|p| p.phase == ph && p.measured());
        let mut lines: Vec<String> = Vec::new();
        let call_ratio =
            |p: &PhaseResult| ratio(p.total() as f64, p.minimum.total() as f64).unwrap_or(0.0);
        if let Some(p) = find(Phase::SecondPlan) {
            let r = call_ratio(p);
            lines.push(format!(
                "refresh ≤ 1.05× minimum (second plan): {r:.2}× {}",
                verdict(Some(r <= 1.05))
            ));
            lines.push(format!(
                "second plan shows no changes: {}",
                verdict(Some(p.status == Status::Ok))
            ));
        }
        if let Some(p) = find(Phase::Apply) {
            let r = call_ratio(p);
            lines.push(format!(
                "onboarding apply ≤ 1.10× minimum: {r:.2}× {}",
                verdict(Some(r <= 1.10))
            ));
        }
        for ph in [Phase::Apply, Phase::SecondPlan] {
            if let Some(p) = find(ph) {
                let line = match wall_ratio(p) {
                    Some(r) => format!("{r:.2}× {}", verdict(Some(r <= wall_target))),
                    None => "n/a (every call fits in the first burst)".into(),
                };
                lines.push(format!(
                    "{} wall ≤ {wall_target:.2}× rate bound: {line}",
                    ph.name()
                ));
            }
        }
        if let Some(p) = find(Phase::Target) {
            lines.push(format!(
                "plan --target customer.X ≤ 10 calls: {} {}",
                p.total(),
                verdict(Some(p.total() <= 10))
            ));
        }
        if let Some(p) = find(Phase::Cycle) {
            let r = call_ratio(p);
            lines.push(format!(
                "plan --out + apply PLANFILE ≤ 1.1× (one refresh + writes): {r:.2}× {}",
                verdict(Some(r <= 1.10 && p.status == Status::Ok))
            ));
        }
        if let Some(p) = find(Phase::SecondApply) {
            lines.push(format!(
                "second apply: 0 writes: {} {}",
                p.writes(),
                verdict(Some(p.writes() == 0))
            ));
        }
        if let Some(p) = find(Phase::Apply) {
            let total = p.total().max(1) as f64;
            lines.push(format!(
                "apply CPU per call: {:.2} ms (target: at N=1000 within 1.2× of N=100; compare runs)",
                p.cpu().as_secs_f64() * 1000.0 / total
            ));
        }
        if v.vendor == Vendor::Aruba && v.phases.iter().any(|p| p.phase == Phase::DriftDay) {
            lines.extend(drift_targets(v));
        }
        let _ = writeln!(out, "{}:", v.vendor.name());
        for l in lines {
            let _ = writeln!(out, "  {l}");
        }
    }
    out
}

fn drift_targets(v: &VendorRun) -> Vec<String> {
    let mut lines = Vec::new();
    let n = v.portfolio.shape.n as u64;
    let day = v
        .phases
        .iter()
        .find(|p| p.phase == Phase::DriftDay && p.measured());
    match day {
        Some(p) => {
            let total = p.total();
            lines.push(format!(
                "hourly drift within {ARUBA_DAY_QUOTA} calls/day: {total} {}",
                verdict(Some(total <= u64::from(ARUBA_DAY_QUOTA)))
            ));
            lines.push(format!(
                "every customer fully read once a day (site reads ≥ {n}): {} {}",
                site_reads(p),
                verdict(Some(site_reads(p) >= n))
            ));
            let beyond = total.saturating_sub(u64::from(ARUBA_DAY_QUOTA));
            lines.push(format!(
                "0 calls after the first per-day 429: {} beyond the quota {}",
                beyond,
                verdict(Some(beyond <= 1))
            ));
        }
        None => {
            lines.push(format!(
                "hourly drift within {ARUBA_DAY_QUOTA} calls/day: {}",
                verdict(None)
            ));
        }
    }
    // Today's plain `drift`, hourly, as a reference (computed, not run 24 times).
    if let Some(d) = v
        .phases
        .iter()
        .find(|p| p.phase == Phase::Drift && p.measured())
    {
        let per_day = d.total() * 24;
        lines.push(format!(
            "for reference: a plain hourly `drift` at {} calls a run needs 24 × {} = {per_day} calls/day ({} full checks fit in {ARUBA_DAY_QUOTA})",
            d.total(),
            d.total(),
            u64::from(ARUBA_DAY_QUOTA) / d.total().max(1)
        ));
    }
    lines
}
