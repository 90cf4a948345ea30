//! The HTTP transport every vendor shares: bearer auth through a vendor
//! [`Auth`], one re-authentication on a 401, the client-side rate limit,
//! bounded waits on 429 (honouring `Retry-After` when a vendor sends it, or
//! what a vendor's [`Quota`] reads from its rate-limit headers), bounded
//! retries of 5xx and dropped connections for idempotent calls and token
//! requests, and the write journal.
//!
//! Every loop here is bounded in count and time.

use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::Value;

use super::http::{ProviderError, RateLimiter, WriteCtx, retry_schedule, snippet};

/// Retries of a 5xx or a dropped connection, for reads and idempotent writes.
const TRANSIENT_RETRIES: usize = 4;
/// 429s waited out before giving up.
const RATE_LIMIT_RETRIES: usize = 8;
/// Longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What a 401 tells the user to do unless the vendor's [`Auth`] knows better.
const CHECK_CREDENTIALS: &str = "check the credentials";

/// How a vendor gets a bearer token. `fresh` asks for a new one (the last was rejected).
pub trait Auth: Send + Sync {
    fn token<'a>(
        &'a self,
        transport: &'a Transport,
        fresh: bool,
    ) -> BoxFuture<'a, Result<String, ProviderError>>;
    /// Whether asking again can help after a 401 (false for a static token).
    fn renewable(&self) -> bool;
    /// A call sent with the token `rejected` was answered 401 with `body`: get a
    /// new token. `Ok(false)`: this 401 is not one a new token helps with (it is
    /// reported as it is). Knowing which token was rejected lets concurrent
    /// calls renew once (a call whose token was already replaced just retries).
    /// Default: ask for a fresh token.
    fn renew<'a>(
        &'a self,
        transport: &'a Transport,
        rejected: &'a str,
        body: &'a str,
    ) -> BoxFuture<'a, Result<bool, ProviderError>> {
        let _ = (rejected, body);
        Box::pin(async move { self.token(transport, true).await.map(|_| true) })
    }
    /// What a 401 error tells the user to do.
    fn advice(&self) -> &'static str {
        CHECK_CREDENTIALS
    }
}

/// What a vendor's rate-limit headers say about one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// Nothing beyond the status: the transport's own handling.
    Default,
    /// (On a success) the vendor's current window is spent: the client-side
    /// limiter counts its window full, so the next call waits for the next one.
    WindowSpent,
    /// (On a 429) wait exactly this long before sending again.
    Wait(Duration),
    /// (On a 429) the quota is used up until `resets_at`: stop, no retry.
    Exhausted { resets_at: String },
}

/// What a vendor's headers last said about its daily quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DayQuota {
    /// Calls left today.
    pub remaining: u64,
    /// The day's limit, when the vendor says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// A vendor's rate-limit signals (e.g. per-second and per-day remaining
/// headers), consulted on every answer before the transport acts on its status.
pub trait Quota: Send + Sync {
    fn read(&self, provider: &str, status: u16, headers: &reqwest::header::HeaderMap) -> Signal;
    /// Calls left in the vendor's current per-second window, when its
    /// headers say (the limiter sizes the first burst of a process with it).
    fn second(&self, _headers: &reqwest::header::HeaderMap) -> Option<u32> {
        None
    }
    /// Whether [`Quota::second`] reads anything for this vendor.
    fn counts_seconds(&self) -> bool {
        false
    }
    /// What the headers say about the day's quota (`None`: they do not say).
    fn day(&self, _headers: &reqwest::header::HeaderMap) -> Option<DayQuota> {
        None
    }
    /// 429s waited out before giving up.
    fn retries(&self) -> usize {
        RATE_LIMIT_RETRIES
    }
}

/// Calls every transport of this process sent (for the run's final event).
static PROCESS_CALLS: AtomicU64 = AtomicU64::new(0);

/// Calls every transport of this process sent so far.
pub fn calls_in_process() -> u64 {
    PROCESS_CALLS.load(Ordering::Relaxed)
}

/// A number of calls a run may send (`--max-calls`), shared by the
/// transports that count against it.
#[derive(Debug)]
pub struct CallBudget {
    pub limit: u64,
    /// Whose budget it is, for the error ("for aruba", "for the run").
    pub scope: String,
    used: AtomicU64,
}

impl CallBudget {
    pub fn new(limit: u64, scope: impl Into<String>) -> Arc<CallBudget> {
        Arc::new(CallBudget {
            limit,
            scope: scope.into(),
            used: AtomicU64::new(0),
        })
    }

    /// Takes one call of the budget; false (and nothing taken) when it is spent.
    fn take(&self) -> bool {
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
                (u < self.limit).then_some(u + 1)
            })
            .is_ok()
    }

    fn give_back(&self) {
        self.used.fetch_sub(1, Ordering::SeqCst);
    }

    pub fn used(&self) -> u64 {
        self.used.load(Ordering::SeqCst)
    }
}

/// `--max-calls`: a limit for the run's total, and limits per provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallLimits {
    pub total: Option<u64>,
    pub per_provider: std::collections::BTreeMap<String, u64>,
}

impl CallLimits {
    /// No limit.
    pub const fn none() -> CallLimits {
        CallLimits {
            total: None,
            per_provider: std::collections::BTreeMap::new(),
        }
    }

    /// Parses `N` (the run's total) and `PROVIDER=N` values.
    pub fn parse(values: &[String]) -> Result<CallLimits, String> {
        let mut limits = CallLimits::default();
        for value in values {
            let (provider, number) = match value.split_once('=') {
                Some((p, n)) => (Some(p.trim()), n.trim()),
                None => (None, value.trim()),
            };
            let n: u64 = number.parse().map_err(|_| {
                format!("--max-calls {value}: expected a number of calls (N) or PROVIDER=N")
            })?;
            match provider {
                Some("") => return Err(format!("--max-calls {value}: the provider key is empty")),
                Some(p) => {
                    limits.per_provider.insert(p.to_string(), n);
                }
                None => limits.total = Some(n),
            }
        }
        Ok(limits)
    }

    pub fn is_empty(&self) -> bool {
        self.total.is_none() && self.per_provider.is_empty()
    }

    /// The budgets one run's transports count against: the run's total (one,
    /// shared) and each provider's own.
    pub fn budgets(&self) -> Budgets {
        Budgets {
            total: self.total.map(|n| CallBudget::new(n, "for the run")),
            per_provider: self
                .per_provider
                .iter()
                .map(|(p, n)| (p.clone(), CallBudget::new(*n, format!("for {p}"))))
                .collect(),
        }
    }
}

/// One run's call budgets (see [`CallLimits::budgets`]).
#[derive(Debug, Default)]
pub struct Budgets {
    pub total: Option<Arc<CallBudget>>,
    pub per_provider: std::collections::BTreeMap<String, Arc<CallBudget>>,
}

impl Budgets {
    /// Makes `transport`'s calls count against its provider's budget and the total.
    pub fn attach(&self, transport: &Transport) {
        if let Some(b) = self.per_provider.get(&transport.provider) {
            transport.add_budget(b.clone());
        }
        if let Some(b) = &self.total {
            transport.add_budget(b.clone());
        }
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    Json(Value),
    /// `application/x-www-form-urlencoded`.
    Form(Vec<(String, String)>),
}

/// One call, before auth, limits and retries are added.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    /// Appended to the base URL, or a full `http(s)://` URL.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Body>,
    /// Safe to send again after a 5xx or a dropped connection.
    pub idempotent: bool,
    /// Send without a bearer token (token endpoints); retried like a read.
    pub anonymous: bool,
}

impl Call {
    pub fn new(method: Method, path: impl Into<String>) -> Call {
        let idempotent = method != Method::POST && method != Method::PATCH;
        Call {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            idempotent,
            anonymous: false,
        }
    }

    pub fn get(path: impl Into<String>) -> Call {
        Call::new(Method::GET, path)
    }

    pub fn json(mut self, body: Value) -> Call {
        self.body = Some(Body::Json(body));
        self
    }

    pub fn form(mut self, fields: Vec<(String, String)>) -> Call {
        self.body = Some(Body::Form(fields));
        self
    }

    pub fn query(mut self, key: &str, value: impl ToString) -> Call {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Call {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn idempotent(mut self, yes: bool) -> Call {
        self.idempotent = yes;
        self
    }

    /// A token request: sent without a bearer token, and retried like a read. A
    /// token request creates nothing a second one could duplicate; when the answer
    /// to one that rotated a single-use refresh token is lost, the retry is refused
    /// with a 4xx, which is reported as an authentication error, not retried.
    pub fn anonymous(mut self) -> Call {
        self.anonymous = true;
        self.idempotent = true;
        self
    }

    /// `METHOD /path` as errors and the journal name it (no query: it may hold secrets).
    pub fn name(&self) -> String {
        let path = match self.path.find("://") {
            Some(i) => match self.path[i + 3..].find('/') {
                Some(j) => &self.path[i + 3 + j..],
                None => "/",
            },
            None => &self.path,
        };
        format!("{} {path}", self.method)
    }
}

/// A successful (2xx) answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// The raw body.
    pub text: String,
    /// What an error may quote of the body: secrets redacted, cut short; nothing
    /// of a token answer (it holds credentials the transport does not know yet).
    pub shown: String,
}

impl Answer {
    /// The body as JSON; an empty body is `null`, a body that is not JSON is an error.
    pub fn json(&self, provider: &str, call: &str) -> Result<Value, ProviderError> {
        if self.text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&self.text).map_err(|e| ProviderError::Decode {
            provider: provider.to_string(),
            call: call.to_string(),
            message: format!("{e}; body: {}", self.shown),
        })
    }

    /// The body decoded into a wire type.
    pub fn decode<T: serde::de::DeserializeOwned>(
        &self,
        provider: &str,
        call: &str,
    ) -> Result<T, ProviderError> {
        let value = self.json(provider, call)?;
        serde_json::from_value(value).map_err(|e| ProviderError::Decode {
            provider: provider.to_string(),
            call: call.to_string(),
            message: format!("{e}; body: {}", self.shown),
        })
    }
}

pub struct Transport {
    pub provider: String,
    base: String,
    http: reqwest::Client,
    limiter: Arc<RateLimiter>,
    calls: AtomicU64,
    rate_limited: AtomicU64,
    /// Strings never to show in an error (secrets that might be echoed back).
    redact: Vec<String>,
    quota: Option<Box<dyn Quota>>,
    /// The call budgets this transport's calls count against (`--max-calls`:
    /// the provider's own, and the run's total shared with other providers).
    budgets: Mutex<Vec<Arc<CallBudget>>>,
    /// When the vendor answered that its daily quota is used up: its reset
    /// time. From then on nothing more is sent to it in this run.
    spent: Mutex<Option<String>>,
    /// What the vendor's headers last said about the day's quota.
    day: Mutex<Option<DayQuota>>,
}

impl Transport {
    pub fn new(
        provider: &str,
        base_url: &str,
        limiter: Arc<RateLimiter>,
        request_timeout_secs: u64,
    ) -> Result<Transport, ProviderError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(request_timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("mspform/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Other {
                provider: provider.to_string(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Transport {
            provider: provider.to_string(),
            base: base_url.trim_end_matches('/').to_string(),
            http,
            limiter,
            calls: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            redact: Vec::new(),
            quota: None,
            budgets: Mutex::new(Vec::new()),
            spent: Mutex::new(None),
            day: Mutex::new(None),
        })
    }

    /// Reads the vendor's rate-limit headers on every answer with `quota`.
    pub fn with_quota(mut self, quota: impl Quota + 'static) -> Transport {
        if quota.counts_seconds() {
            self.limiter.calibrate_first();
        }
        self.quota = Some(Box::new(quota));
        self
    }

    /// Never show these strings in an error message (the longest is scrubbed
    /// first, so that a secret holding another one goes whole).
    pub fn redacting(mut self, secrets: impl IntoIterator<Item = String>) -> Transport {
        self.redact
            .extend(secrets.into_iter().filter(|s| s.len() >= 4));
        self.redact.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }

    /// The client-side rate limit this transport keeps.
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// Counts every later call against `budget` too; once it is spent, every
    /// further call fails without being sent.
    pub fn add_budget(&self, budget: Arc<CallBudget>) {
        if let Ok(mut budgets) = self.budgets.lock() {
            budgets.push(budget);
        }
    }

    /// The reset time, once the vendor said its daily quota is used up.
    pub fn quota_spent(&self) -> Option<String> {
        self.spent.lock().ok().and_then(|s| s.clone())
    }

    /// What the vendor's headers last said about the day's quota.
    pub fn day_quota(&self) -> Option<DayQuota> {
        self.day.lock().ok().and_then(|d| *d)
    }

    /// Whether `call` may be sent: not after the daily quota ran out, nor past
    /// the run's budget. Takes the budget's place for the call when it may.
    fn admit(&self, call: &Call) -> Result<(), ProviderError> {
        if let Some(resets_at) = self.quota_spent() {
            return Err(ProviderError::QuotaSpent {
                provider: self.provider.clone(),
                call: call.name(),
                resets_at,
            });
        }
        let budgets = self.budgets.lock().map(|b| b.clone()).unwrap_or_default();
        for (i, budget) in budgets.iter().enumerate() {
            if !budget.take() {
                budgets[..i].iter().for_each(|b| b.give_back());
                return Err(ProviderError::Budget {
                    provider: self.provider.clone(),
                    call: call.name(),
                    limit: budget.limit,
                    scope: budget.scope.clone(),
                });
            }
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
        PROCESS_CALLS.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The body for an error: secrets redacted first, then cut short (cut first, a
    /// secret straddling the cut would no longer match and its head would show).
    fn scrub(&self, text: &str) -> String {
        snippet(&self.redact.iter().fold(text.to_string(), |acc, s| {
            acc.replace(s.as_str(), "[redacted]")
        }))
    }

    /// Sends one call: journals writes (when `write` is given) before sending,
    /// then returns the 2xx answer or the error naming the call and status.
    pub async fn send(
        &self,
        call: &Call,
        auth: &dyn Auth,
        write: Option<&WriteCtx>,
    ) -> Result<Answer, ProviderError> {
        let journal = match (write, call.method != Method::GET) {
            (Some(ctx), true) => Some((ctx, ctx.begin(&self.provider, &call.name())?)),
            _ => None,
        };
        let result = self.send_inner(call, auth).await;
        if let Some((ctx, id)) = journal {
            ctx.finish(id, result.as_ref().map(|a| a.status))?;
        }
        result
    }

    /// One attempt's request: the call with the bearer token and a JSON `Accept`.
    fn request(&self, call: &Call, url: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let mut builder = self.http.request(call.method.clone(), url);
        // A vendor that documents its own `Accept` gets only that one.
        if !call
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("accept"))
        {
            builder = builder.header("Accept", "application/json");
        }
        if let Some(token) = token {
            builder = builder.bearer_auth(token);
        }
        if !call.query.is_empty() {
            builder = builder.query(&call.query);
        }
        for (k, v) in &call.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        match &call.body {
            Some(Body::Json(v)) => builder.json(v),
            Some(Body::Form(fields)) => builder.form(fields),
            None => builder,
        }
    }

    /// Sends one attempt: its status, body, `Retry-After` and what the vendor's
    /// quota headers say; or why no answer arrived (never naming the URL, whose
    /// query may hold secrets).
    async fn receive(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<(u16, String, Option<Duration>, Signal), String> {
        let resp = builder
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let signal = self.quota.as_ref().map_or(Signal::Default, |q| {
            q.read(&self.provider, status, resp.headers())
        });
        let second = self.quota.as_ref().and_then(|q| q.second(resp.headers()));
        self.limiter.calibrated(second).await;
        if let Some(day) = self.quota.as_ref().and_then(|q| q.day(resp.headers()))
            && let Ok(mut seen) = self.day.lock()
        {
            // Answers to calls in flight together arrive in any order: within
            // a run the lowest count the vendor reported is the current one.
            let lower = match *seen {
                Some(old) if old.limit == day.limit => day.remaining <= old.remaining,
                _ => true,
            };
            if lower {
                *seen = Some(day);
            }
        }
        let text = resp.text().await.map_err(|e| e.without_url().to_string())?;
        Ok((status, text, retry_after, signal))
    }

    async fn send_inner(&self, call: &Call, auth: &dyn Auth) -> Result<Answer, ProviderError> {
        let name = call.name();
        let url = if call.path.starts_with("http://") || call.path.starts_with("https://") {
            call.path.clone()
        } else {
            format!("{}{}", self.base, call.path)
        };
        let mut transient = retry_schedule(TRANSIENT_RETRIES);
        let mut limited = retry_schedule(
            self.quota
                .as_ref()
                .map_or(RATE_LIMIT_RETRIES, |q| q.retries()),
        );
        let mut attempts_429 = 0u32;
        let mut attempt = 0u32;
        let mut renewed = false;
        loop {
            let token = if call.anonymous {
                None
            } else {
                Some(auth.token(self, false).await?)
            };
            self.admit(call)?;
            self.limiter.acquire().await;
            attempt += 1;
            let sent_at = std::time::Instant::now();
            let builder = self.request(call, &url, token.as_deref());
            tracing::debug!(provider = %self.provider, call = %name, "sending");
            let received = self.receive(builder).await;
            if received.is_err() {
                // No answer to size the window with: let the other calls go.
                self.limiter.calibrated(None).await;
            }
            // -v: every call, as the vendor saw it (the name has no host or query).
            tracing::info!(
                provider = %self.provider,
                call = %name,
                status = received.as_ref().map_or(0, |r| r.0),
                ms = sent_at.elapsed().as_millis() as u64,
                attempt,
                "vendor call"
            );
            let (status, text, retry_after, signal) = match received {
                Ok(parts) => parts,
                Err(message) => {
                    if call.idempotent
                        && let Some(wait) = transient.next()
                    {
                        tracing::warn!(provider = %self.provider, call = %name, error = %message, "retrying after a transport error");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(ProviderError::Transport {
                        provider: self.provider.clone(),
                        call: name,
                        message,
                    });
                }
            };
            if status == 401 && !call.anonymous && !renewed && auth.renewable() {
                renewed = true;
                tracing::info!(provider = %self.provider, call = %name, "token rejected; authenticating again once");
                let rejected = token.as_deref().unwrap_or_default();
                if auth.renew(self, rejected, &text).await? {
                    continue;
                }
            }
            let wait = match status {
                200..=299 => return Ok(self.answer(call, status, text, signal).await),
                401 => return Err(self.unauthorized(call, auth, &text)),
                429 => {
                    self.rate_limited.fetch_add(1, Ordering::Relaxed);
                    attempts_429 += 1;
                    if !matches!(signal, Signal::Exhausted { .. }) {
                        // Not the day's quota: our window let a call through
                        // the vendor's did not; leave more room between windows.
                        self.limiter.widen();
                    }
                    match self.rate_limit_wait(call, signal, retry_after, &mut limited)? {
                        Some(wait) => wait,
                        None => {
                            return Err(ProviderError::RateLimited {
                                provider: self.provider.clone(),
                                call: name,
                                attempts: attempts_429,
                            });
                        }
                    }
                }
                500..=599 if call.idempotent => match transient.next() {
                    Some(wait) => {
                        tracing::warn!(provider = %self.provider, call = %name, status, "retrying after a server error");
                        wait
                    }
                    None => return Err(self.http_error(&name, status, &text)),
                },
                _ => return Err(self.http_error(&name, status, &text)),
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// A 2xx answer (a spent rate-limit window makes the next call wait).
    async fn answer(&self, call: &Call, status: u16, text: String, signal: Signal) -> Answer {
        if signal == Signal::WindowSpent {
            self.limiter.exhausted().await;
        }
        let shown = if call.anonymous {
            "(a token answer: not shown)".to_string()
        } else {
            self.scrub(&text)
        };
        Answer {
            status,
            text,
            shown,
        }
    }

    /// A 401 that a new token cannot help with, saying what to check.
    fn unauthorized(&self, call: &Call, auth: &dyn Auth, text: &str) -> ProviderError {
        ProviderError::Auth {
            provider: self.provider.clone(),
            message: format!(
                "{} answered HTTP 401 ({}); {}",
                call.name(),
                self.scrub(text),
                if call.anonymous {
                    CHECK_CREDENTIALS
                } else {
                    auth.advice()
                }
            ),
        }
    }

    /// How long to wait after a 429: what the vendor's quota headers say, else
    /// its `Retry-After` (capped), else the schedule's next wait; `None` when the
    /// schedule is spent. A used-up quota is an error at once.
    fn rate_limit_wait(
        &self,
        call: &Call,
        signal: Signal,
        retry_after: Option<Duration>,
        schedule: &mut backon::ExponentialBackoff,
    ) -> Result<Option<Duration>, ProviderError> {
        if let Signal::Exhausted { resets_at } = signal {
            if let Ok(mut spent) = self.spent.lock() {
                spent.get_or_insert_with(|| resets_at.clone());
            }
            tracing::warn!(provider = %self.provider, resets_at = %resets_at, "the daily API quota is used up: nothing more is sent to this provider in this run");
            return Err(ProviderError::DailyQuota {
                provider: self.provider.clone(),
                call: call.name(),
                resets_at,
            });
        }
        let Some(next) = schedule.next() else {
            return Ok(None);
        };
        let wait = match signal {
            Signal::Wait(d) => d,
            _ => retry_after.map(|d| d.min(MAX_RETRY_AFTER)).unwrap_or(next),
        };
        tracing::warn!(provider = %self.provider, call = %call.name(), wait_ms = wait.as_millis() as u64, "429: waiting before retrying");
        crate::events::emit(crate::events::Event::RateLimited {
            provider: self.provider.clone(),
            call: call.name(),
            wait_ms: wait.as_millis() as u64,
        });
        Ok(Some(wait))
    }

    fn http_error(&self, call: &str, status: u16, text: &str) -> ProviderError {
        ProviderError::Http {
            provider: self.provider.clone(),
            call: call.to_string(),
            status,
            body: self.scrub(text),
        }
    }
}

/// A bearer token kept until it stops being usable (`until`), for an [`Auth`]
/// that fetches tokens. The lock is held while fetching, so concurrent callers
/// wait for one request instead of each sending their own.
#[derive(Default)]
pub struct TokenCache(tokio::sync::Mutex<Option<(String, tokio::time::Instant)>>);

impl TokenCache {
    /// The cached token while it is usable and `fresh` is not asked for;
    /// otherwise `fetch`'s token, cached until the instant it names.
    pub async fn get<F>(&self, fresh: bool, fetch: F) -> Result<String, ProviderError>
    where
        F: Future<Output = Result<(String, tokio::time::Instant), ProviderError>>,
    {
        let mut cached = self.0.lock().await;
        if !fresh
            && let Some((token, until)) = cached.as_ref()
            && tokio::time::Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let (token, until) = fetch.await?;
        *cached = Some((token.clone(), until));
        Ok(token)
    }
}

/// An [`Auth`] that always presents the same token (no renewal possible).
pub struct StaticToken {
    token: String,
    advice: &'static str,
}

impl StaticToken {
    pub fn new(token: String) -> StaticToken {
        StaticToken {
            token,
            advice: CHECK_CREDENTIALS,
        }
    }

    /// What a 401 tells the user to do instead of the default.
    pub fn advising(mut self, advice: &'static str) -> StaticToken {
        self.advice = advice;
        self
    }
}

impl Auth for StaticToken {
    fn token<'a>(
        &'a self,
        _transport: &'a Transport,
        _fresh: bool,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move { Ok(self.token.clone()) })
    }
    fn renewable(&self) -> bool {
        false
    }
    fn advice(&self) -> &'static str {
        self.advice
    }
}

/// What every vendor client has through its [`Transport`]: the provider key,
/// the calls it sent (counted as the vendor counts them), and errors that name
/// the provider. A client only names its transport.
pub trait VendorClient {
    /// The transport the client sends through.
    fn transport(&self) -> &Transport;
    /// The key in `[providers.<key>]`.
    fn key(&self) -> &str {
        &self.transport().provider
    }
    /// API calls sent so far (every attempt counts, token requests included).
    fn calls(&self) -> u64 {
        self.transport().calls()
    }
    /// 429 answers received so far (each one waited out or reported).
    fn rate_limited(&self) -> u64 {
        self.transport().rate_limited()
    }
    /// An error of this provider that is not an HTTP answer.
    fn other(&self, message: impl Into<String>) -> ProviderError {
        ProviderError::Other {
            provider: self.key().to_string(),
            message: message.into(),
        }
    }
    /// An answer of `call` that does not read as documented.
    fn undecodable(&self, call: impl Into<String>, message: impl Into<String>) -> ProviderError {
        ProviderError::Decode {
            provider: self.key().to_string(),
            call: call.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_names_never_carry_the_host_or_query() {
        let c = Call::get("https://login.example.com/t/oauth2/v2.0/token").query("secret", "x");
        assert_eq!(c.name(), "GET /t/oauth2/v2.0/token");
        assert_eq!(Call::get("/v1/msptenants").name(), "GET /v1/msptenants");
    }

    #[test]
    fn token_requests_are_retried_like_reads() {
        let token = Call::new(Method::POST, "/oauth2/token/t").anonymous();
        assert!(token.anonymous && token.idempotent);
    }

    /// A server on 127.0.0.1:0 that answers every request with `200` and `body`.
    async fn answering(body: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn an_unreadable_answer_quotes_no_secret_and_nothing_of_a_token_answer() {
        #[derive(Debug, serde::Deserialize)]
        struct Token {
            #[allow(dead_code)]
            access_token: String,
        }
        let base = answering(r#"{"access_token": 7, "refresh_token": "rt-NEW-SECRET-42"}"#).await;
        let transport = Transport::new(
            "p",
            &base,
            Arc::new(RateLimiter::new(100, Duration::from_secs(1))),
            5,
        )
        .unwrap()
        .redacting(["rt-NEW-SECRET-42".to_string()]);
        let token_call = Call::new(Method::POST, "/token").anonymous();
        let answer = transport
            .send(&token_call, &StaticToken::new("t".into()), None)
            .await
            .unwrap();
        let err = answer
            .decode::<Token>("p", "POST /token")
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("rt-") && !err.contains("access_token"),
            "{err}"
        );
        // An ordinary answer is quoted, with the secrets it holds redacted.
        let answer = transport
            .send(&Call::get("/x"), &StaticToken::new("t".into()), None)
            .await
            .unwrap();
        let err = answer
            .decode::<Token>("p", "GET /x")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[redacted]") && !err.contains("rt-NEW"),
            "{err}"
        );
    }

    #[test]
    fn a_secret_is_redacted_before_the_body_is_cut_short() {
        let secret = "Carrier-Pa55-word!";
        let transport = Transport::new(
            "p",
            "http://127.0.0.1:1",
            Arc::new(RateLimiter::new(1, Duration::from_secs(1))),
            1,
        )
        .unwrap()
        .redacting([secret.to_string()]);
        // Wherever the secret sits, the snippet shows no part of it.
        for at in [0, 150, 290, 295, 299, 400] {
            let body = format!("{}{secret}{}", "x".repeat(at), "y".repeat(50));
            let shown = transport.scrub(&body);
            assert!(!shown.contains(&secret[..4]), "at {at}: {shown}");
            assert!(shown.chars().count() <= 301, "at {at}: still cut short");
        }
    }

    #[test]
    fn a_secret_holding_another_is_redacted_whole() {
        // A client id that is the start of the client secret, given shortest first.
        let (id, secret) = ("acme-client", "acme-client-s3cr3t-tail");
        let transport = Transport::new(
            "p",
            "http://127.0.0.1:1",
            Arc::new(RateLimiter::new(1, Duration::from_secs(1))),
            1,
        )
        .unwrap()
        .redacting([id.to_string(), secret.to_string()]);
        let shown = transport.scrub(&format!("invalid_client: {secret}"));
        assert_eq!(shown, "invalid_client: [redacted]");
    }

    /// A server on 127.0.0.1:0 that answers every request with `status` and
    /// `headers`, counting the requests it receives.
    async fn counting(status: &'static str, headers: &'static str) -> (String, Arc<AtomicU64>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(AtomicU64::new(0));
        let count = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                count.fetch_add(1, Ordering::SeqCst);
                let answer = format!(
                    "HTTP/1.1 {status}\r\n{headers}content-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        (format!("http://{addr}"), seen)
    }

    struct DayHeader;
    impl Quota for DayHeader {
        fn read(&self, _: &str, status: u16, headers: &reqwest::header::HeaderMap) -> Signal {
            match (status, self.day(headers)) {
                (429, Some(DayQuota { remaining: 0, .. })) => Signal::Exhausted {
                    resets_at: "midnight".into(),
                },
                _ => Signal::Default,
            }
        }
        fn day(&self, headers: &reqwest::header::HeaderMap) -> Option<DayQuota> {
            let remaining = headers.get("X-Day-Left")?.to_str().ok()?.parse().ok()?;
            Some(DayQuota {
                remaining,
                limit: Some(500),
            })
        }
    }

    #[tokio::test]
    async fn after_the_daily_quota_runs_out_nothing_more_is_sent() {
        let (base, seen) = counting("429 Too Many Requests", "X-Day-Left: 0\r\n").await;
        let transport = Transport::new(
            "p",
            &base,
            Arc::new(RateLimiter::new(100, Duration::from_secs(1))),
            5,
        )
        .unwrap()
        .with_quota(DayHeader);
        let auth = StaticToken::new("t".into());
        let first = transport.send(&Call::get("/a"), &auth, None).await;
        assert!(
            matches!(first, Err(ProviderError::DailyQuota { .. })),
            "{first:?}"
        );
        assert_eq!(transport.day_quota().map(|d| d.remaining), Some(0));
        for _ in 0..5 {
            let err = transport
                .send(&Call::new(Method::POST, "/b"), &auth, None)
                .await
                .unwrap_err();
            assert!(err.halts_provider());
            assert!(
                err.to_string().contains("not sent") && err.to_string().contains("midnight"),
                "{err}"
            );
        }
        assert_eq!(
            seen.load(Ordering::SeqCst),
            1,
            "one request reached the vendor"
        );
        assert_eq!(transport.calls(), 1);
        assert_eq!(
            transport.limiter().margin(),
            Duration::from_millis(20),
            "the day's quota says nothing about the window's margin"
        );
    }

    /// A per-second 429 the client's window let through: the window's margin
    /// doubles for the rest of the run.
    #[tokio::test]
    async fn a_429_inside_the_window_widens_its_margin() {
        let (base, seen) = counting("429 Too Many Requests", "Retry-After: 0\r\n").await;
        let transport = Transport::new(
            "p",
            &base,
            Arc::new(RateLimiter::new(100, Duration::from_secs(1))),
            5,
        )
        .unwrap();
        let auth = StaticToken::new("t".into());
        assert_eq!(transport.limiter().margin(), Duration::from_millis(20));
        let answer = transport.send(&Call::get("/a"), &auth, None).await;
        assert!(answer.is_err(), "{answer:?}");
        let tries = seen.load(Ordering::SeqCst);
        assert!(tries >= 2, "{tries}");
        assert!(
            transport.limiter().margin() >= Duration::from_millis(40),
            "{:?}",
            transport.limiter().margin()
        );
    }

    /// Answers to calls in flight together arrive in any order: an answer
    /// counted earlier by the vendor (more left) arriving last does not raise
    /// what the transport reports.
    #[tokio::test]
    async fn the_day_quota_kept_is_the_lowest_reported() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]);
                // "/late" stands for an answer the vendor counted earlier.
                let left = if request.starts_with("GET /late") {
                    20
                } else {
                    10
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nX-Day-Left: {left}\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        let transport = Transport::new(
            "p",
            &format!("http://{addr}"),
            Arc::new(RateLimiter::new(100, Duration::from_secs(1))),
            5,
        )
        .unwrap()
        .with_quota(DayHeader);
        let auth = StaticToken::new("t".into());
        transport
            .send(&Call::get("/early"), &auth, None)
            .await
            .unwrap();
        transport
            .send(&Call::get("/late"), &auth, None)
            .await
            .unwrap();
        assert_eq!(transport.day_quota().map(|d| d.remaining), Some(10));
    }

    #[tokio::test]
    async fn a_budget_stops_the_run_at_its_limit() {
        let (base, seen) = counting("200 OK", "").await;
        let transport = Transport::new(
            "p",
            &base,
            Arc::new(RateLimiter::new(100, Duration::from_secs(1))),
            5,
        )
        .unwrap();
        transport.add_budget(CallBudget::new(3, "for p"));
        let auth = StaticToken::new("t".into());
        let mut sent = 0;
        for _ in 0..6 {
            match transport.send(&Call::get("/a"), &auth, None).await {
                Ok(_) => sent += 1,
                Err(e) => assert!(
                    matches!(e, ProviderError::Budget { limit: 3, .. })
                        && e.to_string().contains("--max-calls 3 for p"),
                    "{e}"
                ),
            }
        }
        assert_eq!(
            (sent, seen.load(Ordering::SeqCst), transport.calls()),
            (3, 3, 3)
        );
    }

    #[test]
    fn the_time_estimate_follows_the_limit_shape() {
        let window = RateLimiter::new(7, Duration::from_secs(1));
        assert_eq!(window.time_for(7), Duration::ZERO);
        assert_eq!(window.time_for(15), Duration::from_secs(2));
        assert_eq!(window.per_second(), 7.0);
        let bucket = RateLimiter::token_bucket(200, 100);
        assert_eq!(bucket.time_for(150), Duration::ZERO);
        assert_eq!(bucket.time_for(400), Duration::from_secs(2));
    }

    #[test]
    fn posts_are_not_retried_by_default() {
        assert!(!Call::new(Method::POST, "/x").idempotent);
        assert!(Call::new(Method::PUT, "/x").idempotent);
        assert!(Call::new(Method::DELETE, "/x").idempotent);
    }
}
