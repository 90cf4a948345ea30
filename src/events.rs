//! What a run is doing, as events: the run starting and finishing, each
//! provider's refresh, each action and step starting and finishing, waits
//! for the vendor's rate limit. The CLI subscribes to print progress lines
//! and to write `--events FILE` (NDJSON, see `docs/events.md`); with no
//! subscriber (a library user, a test) emitting costs one read of a lock.
//! Names no vendor.

use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::address::Address;

/// The version of the event format (`docs/events.md`); fields are only added within it.
pub const VERSION: u32 = 1;

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A command started: which, and the providers it covers.
    RunStarted {
        command: String,
        providers: Vec<String>,
    },
    /// A provider's live state is being read (`done: false`, about every
    /// half second while its call count grows), or was read or could not be
    /// (`done: true`, once per provider).
    RefreshProgress {
        provider: String,
        calls: u64,
        ok: bool,
        done: bool,
    },
    /// A provider's apply starts: how many plan actions its steps serve.
    ApplyStarted { provider: String, actions: usize },
    /// The first step serving an action started.
    ActionStarted {
        provider: String,
        address: Address,
        op: String,
    },
    /// The last step serving an action settled.
    ActionFinished {
        provider: String,
        address: Address,
        op: String,
        /// `done`, `failed`, `skipped` or `partial`.
        outcome: String,
        /// Why, when it did not succeed.
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        seconds: f64,
    },
    /// An action is still running (every few seconds while it waits on the
    /// vendor), or a step serving it declared what it waits on (at once).
    Waiting {
        provider: String,
        address: Address,
        op: String,
        /// Since the action started.
        seconds: f64,
        /// What the step waits on, when it said ("customer \"Acme\" to finish
        /// provisioning"): the words after "waiting for".
        #[serde(skip_serializing_if = "Option::is_none")]
        what: Option<String>,
        /// The longest the step waits for it (the vendor's bound, as configured).
        #[serde(skip_serializing_if = "Option::is_none")]
        limit_seconds: Option<u64>,
        /// How long it has waited for it so far.
        #[serde(skip_serializing_if = "Option::is_none")]
        waited_seconds: Option<f64>,
    },
    /// Every 10 s while more actions of a provider run than get a `Waiting`
    /// event each (the longest-running few): how many run in all.
    StillRunning {
        provider: String,
        /// Actions started and not finished.
        running: usize,
        /// How many of them got a `Waiting` event this time.
        listed: usize,
    },
    /// A vendor answered 429: the call waits before it is sent again.
    RateLimited {
        provider: String,
        call: String,
        wait_ms: u64,
    },
    /// The command finished.
    RunFinished { ok: bool, calls: u64, seconds: f64 },
}

impl Event {
    /// The provider the event is about, when it is about one.
    pub fn provider(&self) -> Option<&str> {
        match self {
            Event::RefreshProgress { provider, .. }
            | Event::ApplyStarted { provider, .. }
            | Event::ActionStarted { provider, .. }
            | Event::ActionFinished { provider, .. }
            | Event::Waiting { provider, .. }
            | Event::StillRunning { provider, .. }
            | Event::RateLimited { provider, .. } => Some(provider),
            Event::RunStarted { .. } | Event::RunFinished { .. } => None,
        }
    }
}

/// An event as written: the format version and a timestamp with it.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope {
    pub version: u32,
    /// Unix seconds, with milliseconds.
    pub ts: f64,
    #[serde(flatten)]
    pub event: Event,
}

type Sink = Arc<dyn Fn(&Envelope) + Send + Sync>;

static SINKS: RwLock<Vec<Sink>> = RwLock::new(Vec::new());

/// Delivers every later event to `sink` (for the rest of the process).
pub fn subscribe(sink: impl Fn(&Envelope) + Send + Sync + 'static) {
    if let Ok(mut sinks) = SINKS.write() {
        sinks.push(Arc::new(sink));
    }
}

/// Whether anyone listens (so that costly event details can be skipped).
pub fn wanted() -> bool {
    SINKS.read().map(|s| !s.is_empty()).unwrap_or(false)
}

/// Delivers `event` to every subscriber.
pub fn emit(event: Event) {
    let sinks: Vec<Sink> = match SINKS.read() {
        Ok(s) if !s.is_empty() => s.clone(),
        _ => return,
    };
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| (d.as_millis() as f64) / 1000.0)
        .unwrap_or(0.0);
    let envelope = Envelope {
        version: VERSION,
        ts,
        event,
    };
    for sink in sinks {
        sink(&envelope);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_serialises_flat_with_its_name_version_and_time() {
        let e = Envelope {
            version: VERSION,
            ts: 1.5,
            event: Event::ActionStarted {
                provider: "aruba".into(),
                address: Address::customer("acme"),
                op: "create".into(),
            },
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["event"], "action_started");
        assert_eq!(v["version"], 1);
        assert_eq!(v["address"], "customer.acme");
        assert_eq!(v["provider"], "aruba");
        assert_eq!(v["ts"], 1.5);
    }
}
