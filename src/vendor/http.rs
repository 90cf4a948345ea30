//! Shared HTTP plumbing for vendor clients: the client-side rate limiter, bounded
//! backoff, secret resolution, the provider error type, and the write journal hook.
//! Vendor specifics (auth flows, quota headers) stay in each vendor's module.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::Mutex;

pub use crate::clock::fmt_utc;
use crate::clock::now_unix;
use crate::model::SecretRef;
use crate::state::{JournalEntry, JournalStatus, StateStore};

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("{provider}: {call} answered HTTP {status}: {body}")]
    Http {
        provider: String,
        call: String,
        status: u16,
        body: String,
    },
    #[error(
        "{provider}: {call} failed before an answer arrived ({message}){}",
        if call.starts_with("GET ") { "" } else { "; the write may or may not have reached the vendor" }
    )]
    Transport {
        provider: String,
        call: String,
        message: String,
    },
    #[error(
        "{provider}: the daily API quota is used up ({call} answered 429 with X-RateLimit-Remaining-day: 0); it resets at {resets_at}. Re-run after that."
    )]
    DailyQuota {
        provider: String,
        call: String,
        resets_at: String,
    },
    /// A call not sent: an earlier call of this run found the daily quota used up.
    #[error(
        "{provider}: {call} not sent: the daily API quota ran out earlier in this run; it resets at {resets_at}. Re-run after that: the run resumes from what is done."
    )]
    QuotaSpent {
        provider: String,
        call: String,
        resets_at: String,
    },
    /// A call not sent: this run's call budget (`--max-calls`) is spent.
    #[error(
        "{provider}: {call} not sent: this run's call budget is spent (--max-calls {limit} {scope}); re-run to go on from what is done"
    )]
    Budget {
        provider: String,
        call: String,
        limit: u64,
        scope: String,
    },
    #[error("{provider}: {call} kept answering 429 after {attempts} attempts; try again later")]
    RateLimited {
        provider: String,
        call: String,
        attempts: u32,
    },
    #[error("{provider}: authentication failed: {message}")]
    Auth { provider: String, message: String },
    #[error("{provider}: {call} answered something mspform cannot read: {message}")]
    Decode {
        provider: String,
        call: String,
        message: String,
    },
    #[error("{provider}: {message}")]
    Other { provider: String, message: String },
    #[error("{0}")]
    State(#[from] crate::state::StateError),
}

impl ProviderError {
    /// Whether the vendor may have applied a write although we saw an error.
    pub fn maybe_committed(&self) -> bool {
        matches!(self, ProviderError::Transport { .. })
            || matches!(self, ProviderError::Http { status, .. } if *status >= 500)
    }

    /// Whether no further call of this run should go to the provider (its
    /// daily quota or this run's call budget is spent): the runner starts no
    /// new step of it and reports the rest as not started.
    pub fn halts_provider(&self) -> bool {
        matches!(
            self,
            ProviderError::DailyQuota { .. }
                | ProviderError::QuotaSpent { .. }
                | ProviderError::Budget { .. }
        )
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ProviderError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Reads a secret. The error names where it looked, never a value.
pub fn resolve_secret(reference: &SecretRef) -> Result<String, String> {
    let value = match reference {
        SecretRef::Env(name) => std::env::var(name)
            .map_err(|_| format!("{reference} is not set; export it before running mspform"))?,
        SecretRef::File(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read secret from {reference}: {e}"))?,
    };
    let value = value.trim().to_string();
    if value.is_empty() {
        return Err(format!("{reference} is empty"));
    }
    Ok(value)
}

/// The secrets a client reads while it is built, kept so that the transport
/// can scrub every one of them from the messages it shows.
pub struct Secrets {
    provider: String,
    read: Vec<String>,
}

impl Secrets {
    pub fn new(provider: &str) -> Secrets {
        Secrets {
            provider: provider.to_string(),
            read: Vec::new(),
        }
    }

    /// Reads one secret; one that cannot be read is an authentication error
    /// naming the provider and where it looked.
    pub fn read(&mut self, reference: &SecretRef) -> Result<String, ProviderError> {
        let value = resolve_secret(reference).map_err(|message| ProviderError::Auth {
            provider: self.provider.clone(),
            message,
        })?;
        self.read.push(value.clone());
        Ok(value)
    }

    /// Every secret read so far, longest first (so that a secret holding
    /// another one is scrubbed whole).
    pub fn into_vec(mut self) -> Vec<String> {
        self.read.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self.read
    }
}

/// The client side of a vendor's rate limit, in one of two shapes:
/// - a sliding window: at most `limit` calls in any `window`, so a vendor that
///   counts per fixed second never sees more than `limit` in one of its windows;
/// - a token bucket: `capacity` calls at once, refilled at `refill` per second
///   (e.g. 200 and 100), so a burst is spent and then paced.
pub struct RateLimiter {
    limit: usize,
    window: Duration,
    sent: Mutex<VecDeque<Instant>>,
    bucket: Option<Bucket>,
    /// Until the vendor's first answer says how much of its current window is
    /// left, one call goes out alone (see [`RateLimiter::calibrate_first`]).
    calibrating: std::sync::atomic::AtomicBool,
    /// When the lone first call went out (while calibrating).
    probe_sent: std::sync::Mutex<Option<Instant>>,
    /// Added to each wait for a window (ms): the vendor counts arrivals, we
    /// count sends. Starts at [`MARGIN_MS`]; each 429 the window did not
    /// foresee doubles it, up to [`MAX_MARGIN_MS`].
    margin_ms: std::sync::atomic::AtomicU64,
}

/// The first margin of a window's wait: enough for the jitter of a near
/// network; every 50 ms would cost 5 % of a rate-bound run.
const MARGIN_MS: u64 = 20;
/// The most a margin grows to after 429s.
const MAX_MARGIN_MS: u64 = 320;

/// How long the other calls wait for the lone first call's answer at most.
const PROBE_WAIT: Duration = Duration::from_secs(2);

struct Bucket {
    capacity: f64,
    refill_per_sec: f64,
    /// Tokens left and when they were counted.
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimiter {
            limit: limit.max(1) as usize,
            window,
            sent: Mutex::new(VecDeque::new()),
            bucket: None,
            calibrating: std::sync::atomic::AtomicBool::new(false),
            probe_sent: std::sync::Mutex::new(None),
            margin_ms: std::sync::atomic::AtomicU64::new(MARGIN_MS),
        }
    }

    /// A token bucket `capacity` deep, refilled at `refill_per_sec`. It starts
    /// one token short of full: the margin absorbs calls the vendor counted
    /// from an earlier process.
    pub fn token_bucket(capacity: u32, refill_per_sec: u32) -> Self {
        let capacity = f64::from(capacity.max(1));
        RateLimiter {
            limit: usize::MAX,
            window: Duration::from_secs(1),
            sent: Mutex::new(VecDeque::new()),
            bucket: Some(Bucket {
                capacity,
                refill_per_sec: f64::from(refill_per_sec.max(1)),
                state: Mutex::new(((capacity - 1.0).max(1.0), Instant::now())),
            }),
            calibrating: std::sync::atomic::AtomicBool::new(false),
            probe_sent: std::sync::Mutex::new(None),
            margin_ms: std::sync::atomic::AtomicU64::new(MARGIN_MS),
        }
    }

    /// The vendor answered 429 although the window had room: calls reach it
    /// less evenly than they leave, so each wait gets twice the margin (up to
    /// [`MAX_MARGIN_MS`]).
    pub fn widen(&self) {
        use std::sync::atomic::Ordering;
        let _ = self
            .margin_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |m| {
                Some((m * 2).min(MAX_MARGIN_MS))
            });
    }

    /// The margin added to each wait for a window now.
    pub fn margin(&self) -> Duration {
        Duration::from_millis(self.margin_ms.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// For a vendor that counts calls per fixed window and says in every
    /// answer how many are left in it (Aruba's `X-RateLimit-Remaining-second`):
    /// the first call of the process goes out alone, and its answer
    /// ([`RateLimiter::calibrated`]) tells how much of the window an earlier
    /// process left — a run started in the second the last one ended would
    /// otherwise burst into per-second 429s.
    pub fn calibrate_first(&self) {
        self.calibrating
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The first answer arrived: `remaining` calls are left in the vendor's
    /// current window (`None`: it did not say). Lets the other calls go.
    pub async fn calibrated(&self, remaining: Option<u32>) {
        if !self
            .calibrating
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        if let (Some(left), None) = (remaining, &self.bucket) {
            let mut sent = self.sent.lock().await;
            let now = Instant::now();
            while sent.len() < self.limit.saturating_sub(left as usize) {
                sent.push_back(now);
            }
        }
    }

    /// While calibrating: `true` for the one call that goes first; the others
    /// wait for its answer (at most [`PROBE_WAIT`]).
    async fn wait_for_probe(&self) {
        use std::sync::atomic::Ordering;
        let started = Instant::now();
        while self.calibrating.load(Ordering::SeqCst) {
            {
                let mut probe = self.probe_sent.lock().unwrap_or_else(|e| e.into_inner());
                match *probe {
                    None => {
                        *probe = Some(Instant::now());
                        return;
                    }
                    Some(at) if at.elapsed() >= PROBE_WAIT => {
                        // No answer in time: go on without it.
                        self.calibrating.store(false, Ordering::SeqCst);
                        return;
                    }
                    Some(_) => {}
                }
            }
            if started.elapsed() >= PROBE_WAIT {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// How long `calls` calls take at this limit, from a standing start: a
    /// sliding window sends `limit` at once and then `limit` per window; a
    /// bucket spends its depth and then refills. For the plan's estimate.
    pub fn time_for(&self, calls: u64) -> Duration {
        match &self.bucket {
            Some(b) => {
                let beyond = (calls as f64 - b.capacity).max(0.0);
                Duration::from_secs_f64(beyond / b.refill_per_sec)
            }
            None => {
                let windows = calls.saturating_sub(1) / self.limit as u64;
                self.window * u32::try_from(windows).unwrap_or(u32::MAX)
            }
        }
    }

    /// The sustained rate in calls per second.
    pub fn per_second(&self) -> f64 {
        match &self.bucket {
            Some(b) => b.refill_per_sec,
            None => self.limit as f64 / self.window.as_secs_f64().max(1e-3),
        }
    }

    /// The vendor said its window is spent (`Remaining: 0` on a success): count
    /// the window as full so the next call waits for it to roll over.
    pub async fn exhausted(&self) {
        if let Some(bucket) = &self.bucket {
            *bucket.state.lock().await = (0.0, Instant::now());
            return;
        }
        let mut sent = self.sent.lock().await;
        let now = Instant::now();
        while sent.len() < self.limit {
            sent.push_back(now);
        }
    }

    /// Waits until one more call fits, then counts it.
    pub async fn acquire(&self) {
        self.wait_for_probe().await;
        if let Some(bucket) = &self.bucket {
            return bucket.take().await;
        }
        loop {
            let wait = {
                let mut sent = self.sent.lock().await;
                let now = Instant::now();
                while sent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    sent.pop_front();
                }
                if sent.len() < self.limit {
                    sent.push_back(now);
                    return;
                }
                match sent.front() {
                    Some(oldest) => self.window.saturating_sub(now.duration_since(*oldest)),
                    None => Duration::ZERO,
                }
            };
            // The margin absorbs network jitter: the vendor counts arrivals, we count sends.
            tokio::time::sleep(wait + self.margin()).await;
        }
    }
}

impl Bucket {
    async fn take(&self) {
        loop {
            let wait = {
                let mut state = self.state.lock().await;
                let now = Instant::now();
                let (tokens, at) = *state;
                let tokens = (tokens + now.duration_since(at).as_secs_f64() * self.refill_per_sec)
                    .min(self.capacity);
                if tokens >= 1.0 {
                    *state = (tokens - 1.0, now);
                    return;
                }
                *state = (tokens, now);
                Duration::from_secs_f64((1.0 - tokens) / self.refill_per_sec)
            };
            tokio::time::sleep(wait + Duration::from_millis(5)).await;
        }
    }
}

/// One token bucket per vendor account in the whole process (see [`shared_limiter`]).
pub fn shared_bucket(account: &str, capacity: u32, refill_per_sec: u32) -> Arc<RateLimiter> {
    static BUCKETS: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, Arc<RateLimiter>>>,
    > = std::sync::OnceLock::new();
    let map = BUCKETS.get_or_init(Default::default);
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(format!("{account}#{capacity}/{refill_per_sec}"))
        .or_insert_with(|| Arc::new(RateLimiter::token_bucket(capacity, refill_per_sec)))
        .clone()
}

/// One limiter per vendor account in the whole process, so consecutive clients of
/// the same account (plan, then apply) share one budget.
pub fn shared_limiter(account: &str, limit: u32) -> Arc<RateLimiter> {
    static LIMITERS: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, Arc<RateLimiter>>>,
    > = std::sync::OnceLock::new();
    let map = LIMITERS.get_or_init(Default::default);
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(format!("{account}#{limit}"))
        .or_insert_with(|| Arc::new(RateLimiter::new(limit, Duration::from_secs(1))))
        .clone()
}

/// The one retry schedule of every vendor (backon's exponential backoff):
/// 250 ms, doubling, each wait capped at 8 s, at most `times` waits.
pub fn retry_schedule(times: usize) -> backon::ExponentialBackoff {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(8))
        .with_factor(2.0)
        .with_max_times(times)
        .build()
}

/// The wait before attempt `n + 1` (0-based) of [`retry_schedule`], for polls
/// that count their own attempts.
pub fn backoff(attempt: u32) -> Duration {
    retry_schedule(attempt.min(16) as usize + 1)
        .last()
        .unwrap_or(Duration::from_millis(250))
}

/// Journal entries whose outcome is not settled yet (pending, or succeeded
/// but not recorded), by address: an index kept beside the journal so that
/// recording an object does not read the whole journal again.
#[derive(Debug, Default)]
pub struct OpenEntries(std::sync::Mutex<std::collections::BTreeMap<String, Vec<(u64, String)>>>);

impl OpenEntries {
    fn map(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, Vec<(u64, String)>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Indexes an entry (id, action) of `address`.
    pub fn add(&self, address: &str, id: u64, action: &str) {
        self.map()
            .entry(address.to_string())
            .or_default()
            .push((id, action.to_string()));
    }

    /// The open entries of `address` (of one action, or all), oldest first.
    pub fn of(&self, address: &str, action: Option<&str>) -> Vec<u64> {
        self.map()
            .get(address)
            .map(|v| {
                v.iter()
                    .filter(|(_, a)| action.is_none_or(|x| x == a))
                    .map(|(id, _)| *id)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Drops an entry that is no longer open.
    pub fn remove(&self, address: &str, id: u64) {
        let mut map = self.map();
        if let Some(v) = map.get_mut(address) {
            v.retain(|(i, _)| *i != id);
            if v.is_empty() {
                map.remove(address);
            }
        }
    }
}

/// What a write is about, so the transport can journal it before sending.
#[derive(Clone)]
pub struct WriteCtx {
    pub store: Arc<dyn StateStore>,
    pub address: String,
    pub action: String,
    pub natural_key: Option<String>,
    /// The ledger's index of open entries, kept in step with the journal.
    pub open: Option<Arc<OpenEntries>>,
}

impl WriteCtx {
    /// Journals (and flushes) the write before it is sent.
    pub fn begin(&self, provider: &str, call: &str) -> Result<u64, ProviderError> {
        let id = self.store.journal_begin(&JournalEntry {
            provider: provider.to_string(),
            address: self.address.clone(),
            action: self.action.clone(),
            call: call.to_string(),
            natural_key: self.natural_key.clone(),
            status: JournalStatus::Pending,
            started_at: now_unix(),
            finished_at: None,
            detail: None,
        })?;
        if let Some(open) = &self.open {
            open.add(&self.address, id, &self.action);
        }
        Ok(id)
    }

    pub fn finish(
        &self,
        id: u64,
        result: Result<u16, &ProviderError>,
    ) -> Result<(), ProviderError> {
        let (status, detail) = match result {
            Ok(code) => (JournalStatus::Succeeded, Some(format!("HTTP {code}"))),
            Err(e) if e.maybe_committed() => (JournalStatus::Pending, Some(e.to_string())),
            Err(e) => (JournalStatus::Failed, Some(e.to_string())),
        };
        if status == JournalStatus::Pending {
            // Outcome unknown: leave it pending for the next run to settle.
            return Ok(());
        }
        if status == JournalStatus::Failed
            && let Some(open) = &self.open
        {
            open.remove(&self.address, id);
        }
        Ok(self.store.journal_finish(id, status, detail)?)
    }
}

/// Cuts a response body down to something fit for an error message.
pub fn snippet(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 300 {
        format!("{}…", one_line.chars().take(300).collect::<String>())
    } else if one_line.is_empty() {
        "(empty body)".to_string()
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_remembered_longest_first_and_a_missing_one_names_the_provider() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, value: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, value).unwrap();
            SecretRef::File(path)
        };
        let mut secrets = Secrets::new("acme");
        assert_eq!(
            secrets.read(&file("id", "acme-client\n")).unwrap(),
            "acme-client"
        );
        secrets.read(&file("secret", "acme-client-s3cr3t")).unwrap();
        let err = secrets
            .read(&SecretRef::File(dir.path().join("absent")))
            .unwrap_err();
        assert!(
            matches!(&err, ProviderError::Auth { provider, .. } if provider == "acme"),
            "{err}"
        );
        assert_eq!(secrets.into_vec(), ["acme-client-s3cr3t", "acme-client"]);
    }

    #[test]
    fn backoff_is_bounded() {
        assert_eq!(backoff(0), Duration::from_millis(250));
        assert_eq!(backoff(3), Duration::from_millis(2000));
        assert_eq!(backoff(30), Duration::from_millis(8000));
        let waits: Vec<Duration> = retry_schedule(4).collect();
        assert_eq!(
            waits,
            [250, 500, 1000, 2000].map(Duration::from_millis),
            "four waits, doubling"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn limiter_spaces_calls_to_the_window() {
        let limiter = RateLimiter::new(7, Duration::from_secs(1));
        let start = tokio::time::Instant::now();
        for _ in 0..15 {
            limiter.acquire().await;
        }
        // 15 calls at 7/s: 7 at once, 7 when the first window has passed (plus
        // the 20 ms margin), the last when the second has (virtual time: exact).
        assert_eq!(start.elapsed(), Duration::from_millis(2 * 1020));
    }

    #[tokio::test(start_paused = true)]
    async fn each_unforeseen_429_doubles_the_margin_up_to_a_bound() {
        let limiter = RateLimiter::new(1, Duration::from_secs(1));
        assert_eq!(limiter.margin(), Duration::from_millis(20));
        limiter.widen();
        limiter.acquire().await;
        let start = tokio::time::Instant::now();
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(1040));
        for _ in 0..10 {
            limiter.widen();
        }
        assert_eq!(limiter.margin(), Duration::from_millis(320));
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_answer_sizes_the_first_burst() {
        let limiter = std::sync::Arc::new(RateLimiter::new(3, Duration::from_secs(1)));
        limiter.calibrate_first();
        let start = Instant::now();
        limiter.acquire().await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "the first call goes at once"
        );
        let l = limiter.clone();
        let others = tokio::spawn(async move {
            l.acquire().await;
            let second = Instant::now();
            l.acquire().await;
            (second, Instant::now())
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !others.is_finished(),
            "the others wait for the first answer"
        );
        // An earlier process left one call in this window.
        limiter.calibrated(Some(1)).await;
        let (second, third) = others.await.unwrap();
        assert!(
            second - start < Duration::from_millis(120),
            "{:?}",
            second - start
        );
        assert_eq!(third - start, Duration::from_millis(1020), "a full window");
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_first_answer_the_others_go_after_a_bounded_wait() {
        let limiter = std::sync::Arc::new(RateLimiter::new(7, Duration::from_secs(1)));
        limiter.calibrate_first();
        let start = Instant::now();
        limiter.acquire().await;
        limiter.acquire().await;
        let waited = start.elapsed();
        assert!(
            waited >= PROBE_WAIT && waited < PROBE_WAIT + Duration::from_millis(50),
            "{waited:?}"
        );
        // Not calibrating any more: the rest of the window is free.
        let before = Instant::now();
        limiter.acquire().await;
        assert_eq!(before.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn an_exhausted_window_makes_the_next_call_wait() {
        let limiter = RateLimiter::new(7, Duration::from_secs(1));
        limiter.acquire().await;
        limiter.exhausted().await;
        let start = tokio::time::Instant::now();
        limiter.acquire().await;
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(1020),
            "a full window"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_token_bucket_allows_its_burst_then_paces_to_the_refill_rate() {
        let bucket = RateLimiter::token_bucket(200, 100);
        let start = tokio::time::Instant::now();
        for _ in 0..199 {
            bucket.acquire().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(50),
            "the burst goes at once"
        );
        for _ in 0..100 {
            bucket.acquire().await;
        }
        // 100 more at 100 per second: about one more second, never faster.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(990), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(1800), "{elapsed:?}");
    }

    #[test]
    fn secrets_are_never_in_errors() {
        const SECRET: &str = "hunter2-Never-Shown-0x5eC";
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            SecretRef::File(path)
        };
        // The value itself is read as it is, so the files below really hold it.
        let good = file("good", format!("{SECRET}\n").as_bytes());
        assert_eq!(resolve_secret(&good).unwrap(), SECRET);
        let cases = [
            // The secret, then bytes that are not UTF-8: read, but not usable.
            (
                file("garbled", &[SECRET.as_bytes(), b"\xff\xfe"].concat()),
                "garbled",
            ),
            (
                file("truncated", &[SECRET.as_bytes(), b"\xc3"].concat()),
                "truncated",
            ),
            (file("blank", b" \n\t"), "blank"),
            (SecretRef::File(dir.path().join("missing")), "missing"),
            (SecretRef::File(dir.path().to_path_buf()), "the directory"),
            (
                SecretRef::Env("MSPFORM_TEST_UNSET_VAR_X".into()),
                "MSPFORM_TEST_UNSET_VAR_X",
            ),
        ];
        for (reference, name) in cases {
            let err = resolve_secret(&reference).unwrap_err();
            assert!(!err.contains(SECRET), "{name}: {err}");
            assert!(!err.contains("hunter2"), "{name}: not even a part: {err}");
            let names = if name == "the directory" {
                err.contains(&dir.path().display().to_string())
            } else {
                err.contains(name)
            };
            assert!(names, "{name}: the error says where it looked: {err}");
        }
    }
}
