//! Watching a run: progress lines on stderr as actions start, wait and
//! finish (at default verbosity, on a terminal and off it: a CI log shows
//! them too), and `--events FILE` (NDJSON, one `crate::events::Envelope` per
//! line, `-` for stdout; see `docs/events.md`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use clap::Args;

use super::CliError;
use crate::events::{self, Envelope, Event};

/// `--events FILE`.
#[derive(Debug, Clone, Default, Args)]
pub struct WatchArgs {
    /// Write every event of the run (refresh, actions starting, waiting and
    /// finishing, rate-limit waits) to FILE as JSON lines (docs/events.md);
    /// `-` writes them to stdout (use it with --format json, or alone).
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
}

impl WatchArgs {
    /// Subscribes the events file, if asked for.
    pub fn start(&self) -> Result<(), CliError> {
        let Some(path) = &self.events else {
            return Ok(());
        };
        let out: Box<dyn Write + Send> = if path.as_os_str() == "-" {
            Box::new(std::io::stdout())
        } else {
            Box::new(std::fs::File::create(path).map_err(|e| {
                CliError::Other(format!(
                    "cannot write the events to {}: {e}",
                    path.display()
                ))
            })?)
        };
        let out = Mutex::new(out);
        events::subscribe(move |e: &Envelope| {
            if let (Ok(line), Ok(mut out)) = (serde_json::to_string(e), out.lock()) {
                // Each line is flushed, so a tail -f or a pipeline sees it at once.
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
        });
        Ok(())
    }
}

/// Prints progress lines on stderr for an apply: every action as it starts
/// and ends, what is still running every few seconds, and rate-limit waits.
/// With `refresh`, each provider's refresh as it ends too (on a terminal
/// only: a plan's stdout is the plan, and its logs stay quiet in CI).
///
/// On a terminal (not TERM=dumb, no NO_COLOR, text logs) the same lines are
/// printed above indicatif bars (`super::bars`): per provider, its refresh
/// and its apply, and the waits in progress as lines under them.
pub fn print_progress(refresh: bool) {
    let refresh = refresh && std::io::stderr().is_terminal();
    let bars = super::bars::Bars::start();
    events::subscribe(move |e: &Envelope| {
        let line = line(&e.event, refresh);
        match &bars {
            Some(bars) => bars.show(&e.event, line.as_deref()),
            None => {
                if let Some(line) = line {
                    anstream::eprintln!("{line}");
                }
            }
        }
    });
}

/// The progress line of an event, if it has one.
fn line(event: &Event, refresh: bool) -> Option<String> {
    Some(match event {
        Event::RefreshProgress {
            provider,
            calls,
            ok,
            done: true,
        } if refresh => format!(
            "{provider}: {} ({calls} API call{})",
            if *ok { "read" } else { "could not be read" },
            if *calls == 1 { "" } else { "s" }
        ),
        Event::ActionStarted { address, op, .. } => format!("{address}: {}…", verb(op).0),
        Event::Waiting {
            address,
            what: Some(what),
            limit_seconds,
            waited_seconds,
            ..
        } => {
            let waited = waited_seconds.unwrap_or(0.0);
            let elapsed = if waited < 1.0 {
                String::new()
            } else {
                format!(", {} elapsed", duration(waited))
            };
            let bound = limit_seconds
                .map(|l| format!(" (up to {})", bound(l)))
                .unwrap_or_default();
            format!("{address}: waiting for {what}{elapsed}{bound}")
        }
        Event::Waiting {
            address,
            op,
            seconds,
            ..
        } => format!(
            "{address}: still {}, {} elapsed",
            verb(op).0,
            duration(*seconds)
        ),
        Event::StillRunning {
            provider,
            running,
            listed,
        } => format!(
            "{provider}: {} more action{} still running ({running} in all)",
            running - listed,
            if running - listed == 1 { "" } else { "s" }
        ),
        Event::ActionFinished {
            address,
            op,
            outcome,
            detail,
            seconds,
            ..
        } => {
            let why = detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            match outcome.as_str() {
                "done" => format!("{address}: {} after {}", verb(op).1, duration(*seconds)),
                "failed" => format!("{address}: FAILED after {}{why}", duration(*seconds)),
                "partial" => format!("{address}: partly done after {}{why}", duration(*seconds)),
                _ => format!("{address}: skipped{why}"),
            }
        }
        Event::RateLimited {
            provider,
            call,
            wait_ms,
        } => format!(
            "{provider}: rate limited on {call}; waiting {}",
            duration(*wait_ms as f64 / 1000.0)
        ),
        _ => return None,
    })
}

/// An operation's "-ing" and past forms.
fn verb(op: &str) -> (&'static str, &'static str) {
    match op {
        "create" => ("creating", "created"),
        "update" => ("updating", "updated"),
        "delete" => ("deleting", "deleted"),
        "adopt" => ("adopting", "adopted"),
        "forget" => ("forgetting", "forgotten"),
        "replace" => ("replacing", "replaced"),
        _ => ("working", "done"),
    }
}

/// A wait's upper bound: "10m", "90s" → "1m30s", "2h".
fn bound(seconds: u64) -> String {
    match seconds {
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s if s >= 60 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// "0.4s", "42s", "2m10s".
fn duration(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.1}s")
    } else if seconds < 60.0 {
        format!("{}s", seconds.round() as u64)
    } else {
        let s = seconds.round() as u64;
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;

    #[test]
    fn lines_say_what_an_action_is_doing_in_words() {
        let a = Address::customer("coffee-shop");
        let started = Event::ActionStarted {
            provider: "aruba".into(),
            address: a.clone(),
            op: "create".into(),
        };
        assert_eq!(
            line(&started, false).unwrap(),
            "customer.coffee-shop: creating…"
        );
        let waiting = Event::Waiting {
            provider: "aruba".into(),
            address: a.clone(),
            op: "create".into(),
            seconds: 130.2,
            what: None,
            limit_seconds: None,
            waited_seconds: None,
        };
        assert_eq!(
            line(&waiting, false).unwrap(),
            "customer.coffee-shop: still creating, 2m10s elapsed"
        );
        let provisioning = |waited| Event::Waiting {
            provider: "aruba".into(),
            address: a.clone(),
            op: "create".into(),
            seconds: 131.0,
            what: Some("\"Coffee Shop\" to finish provisioning".into()),
            limit_seconds: Some(600),
            waited_seconds: Some(waited),
        };
        assert_eq!(
            line(&provisioning(0.0), false).unwrap(),
            "customer.coffee-shop: waiting for \"Coffee Shop\" to finish provisioning (up to 10m)"
        );
        assert_eq!(
            line(&provisioning(130.0), false).unwrap(),
            "customer.coffee-shop: waiting for \"Coffee Shop\" to finish provisioning, 2m10s elapsed (up to 10m)"
        );
        assert_eq!(bound(90), "1m30s");
        assert_eq!(bound(7200), "2h");
        assert_eq!(bound(45), "45s");
        let done = Event::ActionFinished {
            provider: "aruba".into(),
            address: a,
            op: "create".into(),
            outcome: "done".into(),
            detail: None,
            seconds: 42.0,
        };
        assert_eq!(
            line(&done, false).unwrap(),
            "customer.coffee-shop: created after 42s"
        );
        let read = Event::RefreshProgress {
            provider: "aruba".into(),
            calls: 3,
            ok: true,
            done: true,
        };
        assert_eq!(line(&read, false), None);
        assert_eq!(line(&read, true).unwrap(), "aruba: read (3 API calls)");
        let reading = Event::RefreshProgress {
            provider: "aruba".into(),
            calls: 2,
            ok: true,
            done: false,
        };
        assert_eq!(
            line(&reading, true),
            None,
            "only the end of a read is a line"
        );
    }
}
