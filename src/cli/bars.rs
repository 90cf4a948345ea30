//! The progress display on a terminal (indicatif): a bar per provider — its
//! refresh (a spinner with the API calls so far: no estimate of a refresh
//! exists) and its apply (actions finished of its total) — and, under the
//! bars, the waits in progress (provisioning, device moves, RUCKUS
//! activities, rate-limit pauses). The plain start and end lines of
//! `super::progress` are printed above the bars, and log lines go through
//! [`LogWriter`], so neither tears them. Used only where [`Bars::start`]
//! says so: stderr is a terminal, TERM is not dumb, NO_COLOR is unset and
//! the logs are text; everywhere else the plain lines alone are printed.
//! Driven by `crate::events` only; names no vendor.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::address::Address;
use crate::events::Event;

/// The display in use, if any: log lines are written through it.
static ACTIVE: OnceLock<MultiProgress> = OnceLock::new();

/// Set by `--log-format json`: log shippers read stderr, so no bars.
static JSON_LOGS: AtomicBool = AtomicBool::new(false);

/// How often the spinners turn and expired rate-limit lines are cleared.
const TICK: Duration = Duration::from_millis(120);
/// At most this many wait lines under the bars (the newest).
const WAIT_LINES: usize = 5;

/// Notes that the logs are JSON (no bars then).
pub fn json_logs(on: bool) {
    JSON_LOGS.store(on, Ordering::Relaxed);
}

/// Whether bars may be drawn: stderr a terminal (and TERM not dumb, which
/// indicatif checks itself), colour allowed, logs for people.
fn allowed() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb")
        && !JSON_LOGS.load(Ordering::Relaxed)
}

/// The bars of one run.
pub struct Bars {
    multi: MultiProgress,
    state: Mutex<State>,
    /// Set when the run finished: the expiry thread ends.
    finished: AtomicBool,
}

#[derive(Default)]
struct State {
    /// Provider → its refresh spinner.
    refresh: BTreeMap<String, ProgressBar>,
    /// Provider → its apply bar.
    apply: BTreeMap<String, ProgressBar>,
    /// Action → the line of what it waits on, in the order they appeared
    /// (at most [`WAIT_LINES`]: the newest replace the oldest).
    waits: BTreeMap<Address, (ProgressBar, u64)>,
    /// The order number of the next wait line.
    next_wait: u64,
    /// Rate-limit pauses: the line and when the pause ends.
    paused: Vec<(ProgressBar, Instant)>,
}

impl Bars {
    /// The display, when this process may draw one; `None` means plain lines.
    pub fn start() -> Option<Arc<Bars>> {
        if !allowed() {
            return None;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        if multi.is_hidden() {
            return None;
        }
        let _ = ACTIVE.set(multi.clone());
        let bars = Arc::new(Bars {
            multi,
            state: Mutex::new(State::default()),
            finished: AtomicBool::new(false),
        });
        // Clears rate-limit lines once their pause is over; ends with the run
        // (its last reference is the events subscription, held for the process).
        let weak = Arc::downgrade(&bars);
        std::thread::spawn(move || {
            while let Some(bars) = weak.upgrade() {
                if bars.finished.load(Ordering::Relaxed) {
                    break;
                }
                bars.expire(Instant::now());
                drop(bars);
                std::thread::sleep(TICK * 4);
            }
        });
        Some(bars)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Prints a plain line above the bars.
    pub fn println(&self, line: &str) {
        self.multi.suspend(|| {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
        });
    }

    /// Updates the bars for `event`; `line` is its plain line, if it has one.
    pub fn show(&self, event: &Event, line: Option<&str>) {
        let mut state = self.state();
        match event {
            Event::RefreshProgress {
                provider,
                calls,
                done,
                ..
            } => {
                if *done {
                    if let Some(bar) = state.refresh.remove(provider) {
                        bar.finish_and_clear();
                        self.multi.remove(&bar);
                    }
                } else {
                    let bar = state
                        .refresh
                        .entry(provider.clone())
                        .or_insert_with(|| self.spinner(provider));
                    bar.set_message(format!("reading live state: {calls} API calls"));
                }
            }
            Event::ApplyStarted { provider, actions } => {
                let bar = self.multi.add(
                    ProgressBar::new(*actions as u64)
                        .with_style(bar_style())
                        .with_prefix(provider.clone()),
                );
                bar.enable_steady_tick(TICK);
                if let Some(old) = state.apply.insert(provider.clone(), bar) {
                    old.finish_and_clear();
                }
            }
            Event::ActionFinished {
                provider, address, ..
            } => {
                if let Some((wait, _)) = state.waits.remove(address) {
                    wait.finish_and_clear();
                    self.multi.remove(&wait);
                }
                if let Some(bar) = state.apply.get(provider) {
                    bar.inc(1);
                    if bar.position() >= bar.length().unwrap_or(0) {
                        bar.finish_and_clear();
                        self.multi.remove(bar);
                        state.apply.remove(provider);
                    }
                }
            }
            Event::Waiting {
                address,
                waited_seconds,
                seconds,
                ..
            } => {
                let text = line.unwrap_or_default().to_string();
                let since = Duration::from_secs_f64(waited_seconds.unwrap_or(*seconds).max(0.0));
                match state.waits.get(address) {
                    Some((bar, _)) => bar.set_message(text),
                    None => {
                        // A thousand customers provisioning at once: the
                        // newest few waits, not a screenful of spinners.
                        if state.waits.len() >= WAIT_LINES {
                            let oldest = state
                                .waits
                                .iter()
                                .min_by_key(|(_, (_, n))| *n)
                                .map(|(a, _)| a.clone());
                            if let Some((bar, _)) = oldest.and_then(|a| state.waits.remove(&a)) {
                                bar.finish_and_clear();
                                self.multi.remove(&bar);
                            }
                        }
                        let bar = self.multi.add(
                            ProgressBar::new_spinner()
                                .with_style(wait_style())
                                .with_elapsed(since)
                                .with_message(text),
                        );
                        bar.enable_steady_tick(TICK);
                        let n = state.next_wait;
                        state.next_wait += 1;
                        state.waits.insert(address.clone(), (bar, n));
                    }
                }
            }
            Event::RateLimited { wait_ms, .. } => {
                let bar = self.multi.add(
                    ProgressBar::new_spinner()
                        .with_style(wait_style())
                        .with_message(line.unwrap_or_default().to_string()),
                );
                bar.enable_steady_tick(TICK);
                let until = Instant::now() + Duration::from_millis(*wait_ms);
                state.paused.push((bar, until));
            }
            Event::RunFinished { .. } => {
                self.finished.store(true, Ordering::Relaxed);
                let State {
                    refresh,
                    apply,
                    waits,
                    paused,
                    ..
                } = std::mem::take(&mut *state);
                for bar in refresh
                    .into_values()
                    .chain(apply.into_values())
                    .chain(waits.into_values().map(|(b, _)| b))
                    .chain(paused.into_iter().map(|(b, _)| b))
                {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                let _ = self.multi.clear();
            }
            Event::StillRunning {
                provider, running, ..
            } => {
                if let Some(bar) = state.apply.get(provider) {
                    bar.set_message(format!(", {running} running"));
                }
            }
            Event::RunStarted { .. } | Event::ActionStarted { .. } => {}
        }
        drop(state);
        if let Some(line) = line.filter(|_| prints_above(event)) {
            self.println(line);
        }
    }

    /// Removes the rate-limit lines whose pause is over.
    fn expire(&self, now: Instant) {
        let mut state = self.state();
        state.paused.retain(|(bar, until)| {
            let keep = *until > now;
            if !keep {
                bar.finish_and_clear();
                self.multi.remove(bar);
            }
            keep
        });
    }

    fn spinner(&self, provider: &str) -> ProgressBar {
        let bar = self.multi.add(
            ProgressBar::new_spinner()
                .with_style(refresh_style())
                .with_prefix(provider.to_string()),
        );
        bar.enable_steady_tick(TICK);
        bar
    }
}

/// Whether an event's plain line is printed above the bars (a start, an end,
/// a refresh read) rather than shown as a line under them (waits, pauses).
fn prints_above(event: &Event) -> bool {
    !matches!(
        event,
        Event::Waiting { .. } | Event::RateLimited { .. } | Event::StillRunning { .. }
    )
}

fn refresh_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix:.bold}: {msg} [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {prefix:.bold}: [{bar:30.cyan/blue}] {pos}/{len} actions applied{msg} [{elapsed}]",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

fn wait_style() -> ProgressStyle {
    ProgressStyle::with_template("    {spinner} {msg} [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// The writer of the log lines: stderr, through the bars when they are
/// drawn, so that a log line is printed above them instead of tearing them.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match ACTIVE.get() {
            Some(multi) => multi.suspend(|| std::io::stderr().lock().write_all(buf))?,
            None => std::io::stderr().lock().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter
    }
}
