//! HPE Aruba Networking Central (MSP mode) client: transport, auth and the
//! documented endpoints (vendor-apis.md §1). The only place that speaks Aruba's
//! wire format; `resolve` and `steps` turn it into plan and apply terms.
//!
//! The OAuth refresh goes through the same transport loop as every other call,
//! so it is retried like a read (5xx, 429, dropped connection). Repeating a
//! refresh whose answer was lost is safe: if the vendor had rotated the refresh
//! token, the retry is refused (4xx) and the next candidate is tried, then an
//! authentication error says to issue a new refresh token; nothing is spent
//! that the lost answer had not spent already.

mod api;
pub mod provider;
mod refresh;
pub mod resolve;
pub mod run;
mod settle;
pub mod steps;
pub mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::sync::Mutex;

use super::http::{
    ProviderError, RateLimiter, WriteCtx, backoff, fmt_utc, resolve_secret, shared_limiter, snippet,
};
use crate::model::{ArubaAuth, ArubaSettings, Provider, ProviderKind};
use crate::state::{StateStore, now_unix};

/// Retries of a 5xx or a dropped connection, for reads and idempotent writes.
const TRANSIENT_RETRIES: u32 = 4;
/// Per-second 429s are waited out this many times (pycentral uses 10).
const RATE_LIMIT_RETRIES: u32 = 10;
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(2);

struct OAuthCreds {
    client_id: String,
    client_secret: String,
    refresh_token: String,
}

struct AuthState {
    access: Option<String>,
}

/// A refused refresh: this refresh token (or the client) is not accepted, so the
/// next candidate may be; anything else was retried already and is reported as is.
fn refused(e: &ProviderError) -> bool {
    matches!(e, ProviderError::Auth { .. })
        || matches!(e, ProviderError::Http { status, .. } if (400..500).contains(status) && *status != 429)
}

/// `e` with every secret in `secrets` replaced (an error body may echo them).
fn scrubbed(e: ProviderError, secrets: &[&str]) -> ProviderError {
    let scrub = |text: String| {
        secrets
            .iter()
            .filter(|s| s.len() >= 4)
            .fold(text, |acc, s| acc.replace(*s, "[redacted]"))
    };
    match e {
        ProviderError::Http {
            provider,
            call,
            status,
            body,
        } => ProviderError::Http {
            provider,
            call,
            status,
            body: scrub(body),
        },
        ProviderError::Auth { provider, message } => ProviderError::Auth {
            provider,
            message: scrub(message),
        },
        ProviderError::Transport {
            provider,
            call,
            message,
        } => ProviderError::Transport {
            provider,
            call,
            message: scrub(message),
        },
        other => other,
    }
}

pub struct Aruba {
    key: String,
    base: String,
    http: reqwest::Client,
    pub(crate) settings: ArubaSettings,
    limiter: Arc<RateLimiter>,
    auth: Mutex<AuthState>,
    /// Held while refreshing, so concurrent 401s refresh once (the refresh token is single-use).
    refreshing: Mutex<()>,
    oauth: Option<OAuthCreds>,
    store: Arc<dyn StateStore>,
    calls: AtomicU64,
    rate_limited: AtomicU64,
}

/// One request, before auth and retries are added.
pub(crate) struct Req {
    pub method: Method,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    /// `TenantID` header: act inside this customer.
    pub tenant: Option<String>,
    /// Safe to send again after a 5xx or a dropped connection.
    pub idempotent: bool,
    /// Sent without a bearer token (the OAuth token request).
    pub anonymous: bool,
}

impl Req {
    pub fn get(path: impl Into<String>) -> Req {
        Req {
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: None,
            tenant: None,
            idempotent: true,
            anonymous: false,
        }
    }

    pub fn write(method: Method, path: impl Into<String>, body: Option<Value>) -> Req {
        Req {
            method,
            path: path.into(),
            query: Vec::new(),
            body,
            tenant: None,
            idempotent: true,
            anonymous: false,
        }
    }

    pub fn query(mut self, key: &'static str, value: impl ToString) -> Req {
        self.query.push((key, value.to_string()));
        self
    }

    pub fn tenant(mut self, id: &str) -> Req {
        self.tenant = Some(id.to_string());
        self
    }

    pub fn not_idempotent(mut self) -> Req {
        self.idempotent = false;
        self
    }

    fn call(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Seconds until the next 00:00 GMT, when Aruba's daily counter resets.
fn next_midnight_utc() -> u64 {
    let now = now_unix();
    now - now % 86_400 + 86_400
}

impl Aruba {
    /// Builds the client; reads the credentials it was told to (env or file).
    pub fn new(provider: &Provider, store: Arc<dyn StateStore>) -> Result<Aruba, ProviderError> {
        let ProviderKind::ArubaCentral(settings) = &provider.kind else {
            return Err(ProviderError::Other {
                provider: provider.key.clone(),
                message: "not an Aruba Central provider".into(),
            });
        };
        let auth_err = |message: String| ProviderError::Auth {
            provider: provider.key.clone(),
            message,
        };
        let (access, oauth) = match &settings.auth {
            ArubaAuth::Token(r) => (Some(resolve_secret(r).map_err(auth_err)?), None),
            ArubaAuth::OAuth {
                client_id,
                client_secret,
                refresh_token,
                access_token,
            } => {
                let access = match access_token {
                    Some(r) => Some(resolve_secret(r).map_err(auth_err)?),
                    None => None,
                };
                let creds = OAuthCreds {
                    client_id: resolve_secret(client_id).map_err(auth_err)?,
                    client_secret: resolve_secret(client_secret).map_err(auth_err)?,
                    refresh_token: resolve_secret(refresh_token).map_err(auth_err)?,
                };
                (access, Some(creds))
            }
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.request_timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("mspform/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Other {
                provider: provider.key.clone(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Aruba {
            key: provider.key.clone(),
            base: provider.base_url.trim_end_matches('/').to_string(),
            http,
            limiter: shared_limiter(&provider.base_url, settings.calls_per_second),
            settings: settings.clone(),
            auth: Mutex::new(AuthState { access }),
            refreshing: Mutex::new(()),
            oauth,
            store,
            calls: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
        })
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// API calls sent so far (every attempt counts, as the vendor counts them).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// 429 answers received so far (each one waited out or reported).
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }

    /// Sends one request: journals writes, applies the rate limit, refreshes an
    /// expired token once, waits out per-second 429s, retries transient failures of
    /// idempotent calls, and stops on an exhausted daily quota.
    pub(crate) async fn send(
        &self,
        req: Req,
        write: Option<&WriteCtx>,
    ) -> Result<Value, ProviderError> {
        let journal = match (write, req.method != Method::GET) {
            (Some(ctx), true) => Some((ctx, ctx.begin(&self.key, &req.call())?)),
            _ => None,
        };
        let result = self.send_inner(&req).await;
        if let Some((ctx, id)) = journal {
            ctx.finish(id, result.as_ref().map(|(status, _)| *status))?;
        }
        result.map(|(_, body)| body)
    }

    async fn send_inner(&self, req: &Req) -> Result<(u16, Value), ProviderError> {
        let call = req.call();
        let mut transient = 0u32;
        let mut limited = 0u32;
        let mut refreshed = false;
        loop {
            let token = if req.anonymous {
                None
            } else {
                Some(self.access_token().await?)
            };
            self.limiter.acquire().await;
            let mut builder = self
                .http
                .request(req.method.clone(), format!("{}{}", self.base, req.path))
                .header("Accept", "application/json");
            if let Some(token) = &token {
                builder = builder.bearer_auth(token);
            }
            if !req.query.is_empty() {
                builder = builder.query(&req.query);
            }
            if let Some(tenant) = &req.tenant {
                builder = builder.header("TenantID", tenant);
            }
            if let Some(body) = &req.body {
                builder = builder.json(body);
            }
            self.calls.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(provider = %self.key, call = %call, "sending");
            let outcome = match builder.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let header = |name: &str| {
                        resp.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string)
                    };
                    let day_left = header("X-RateLimit-Remaining-day");
                    let second_left = header("X-RateLimit-Remaining-second");
                    match resp.text().await {
                        Ok(text) => Ok((status, text, day_left, second_left)),
                        Err(e) => Err(e.without_url().to_string()),
                    }
                }
                Err(e) => Err(e.without_url().to_string()),
            };
            let (status, text, day_left, second_left) = match outcome {
                Ok(parts) => parts,
                Err(message) => {
                    if req.idempotent && transient < TRANSIENT_RETRIES {
                        tracing::warn!(provider = %self.key, call = %call, error = %message, "retrying after a transport error");
                        tokio::time::sleep(backoff(transient)).await;
                        transient += 1;
                        continue;
                    }
                    return Err(ProviderError::Transport {
                        provider: self.key.clone(),
                        call,
                        message,
                    });
                }
            };
            match status {
                200..=299 => {
                    if day_left.as_deref() == Some("0") {
                        tracing::warn!(provider = %self.key, "daily API quota is now used up");
                    }
                    if second_left.as_deref() == Some("0") {
                        self.limiter.exhausted().await;
                    }
                    let body = if text.trim().is_empty() {
                        Value::Null
                    } else {
                        serde_json::from_str(&text).unwrap_or(Value::String(text))
                    };
                    return Ok((status, body));
                }
                401 if text.contains("invalid_token")
                    && !refreshed
                    && !req.anonymous
                    && self.oauth.is_some() =>
                {
                    tracing::info!(provider = %self.key, "access token rejected; refreshing it once");
                    self.refresh(token.as_deref()).await?;
                    refreshed = true;
                }
                401 | 403 => {
                    return Err(ProviderError::Auth {
                        provider: self.key.clone(),
                        message: format!(
                            "{call} answered HTTP {status} ({}){}",
                            snippet(&text),
                            if req.anonymous {
                                ""
                            } else if self.oauth.is_none() {
                                "; check the token, or configure `oauth` so mspform can refresh it"
                            } else {
                                "; check the token"
                            }
                        ),
                    });
                }
                429 if day_left.as_deref() == Some("0") => {
                    self.rate_limited.fetch_add(1, Ordering::Relaxed);
                    return Err(ProviderError::DailyQuota {
                        provider: self.key.clone(),
                        call,
                        resets_at: fmt_utc(next_midnight_utc()),
                    });
                }
                429 => {
                    self.rate_limited.fetch_add(1, Ordering::Relaxed);
                    if limited >= RATE_LIMIT_RETRIES {
                        return Err(ProviderError::RateLimited {
                            provider: self.key.clone(),
                            call,
                            attempts: limited + 1,
                        });
                    }
                    tracing::warn!(provider = %self.key, call = %call, remaining_second = ?second_left, "429: waiting before retrying");
                    limited += 1;
                    tokio::time::sleep(RATE_LIMIT_WAIT).await;
                }
                500..=599 if req.idempotent && transient < TRANSIENT_RETRIES => {
                    tracing::warn!(provider = %self.key, call = %call, status, "retrying after a server error");
                    tokio::time::sleep(backoff(transient)).await;
                    transient += 1;
                }
                _ => {
                    return Err(ProviderError::Http {
                        provider: self.key.clone(),
                        call,
                        status,
                        body: snippet(&text),
                    });
                }
            }
        }
    }

    async fn access_token(&self) -> Result<String, ProviderError> {
        if let Some(token) = self.auth.lock().await.access.clone() {
            return Ok(token);
        }
        self.refresh(None).await?;
        self.auth
            .lock()
            .await
            .access
            .clone()
            .ok_or_else(|| ProviderError::Auth {
                provider: self.key.clone(),
                message: "no access token after refreshing".into(),
            })
    }

    /// OAuth refresh: all parameters in the query string, no body, sent through
    /// the same loop as every call (retried on 5xx, 429 and dropped connections).
    /// The vendor rotates the refresh token, so the new one is persisted (flushed)
    /// before use. The refresh token saved in state is tried first, then the
    /// configured one; a refused one (4xx) moves on to the next, anything else
    /// ends the refresh with the error naming the call and status. `rejected` is
    /// the access token that was refused: when another call has replaced it
    /// meanwhile, there is nothing left to do.
    async fn refresh(&self, rejected: Option<&str>) -> Result<(), ProviderError> {
        let Some(creds) = &self.oauth else {
            return Err(ProviderError::Auth {
                provider: self.key.clone(),
                message: "the access token was rejected and no `oauth` refresh credentials are configured".into(),
            });
        };
        let _one_at_a_time = self.refreshing.lock().await;
        if let Some(current) = self.auth.lock().await.access.as_deref()
            && Some(current) != rejected
        {
            return Ok(());
        }
        let mut candidates = Vec::new();
        if let Some(saved) = self.store.credential(&self.key, "refresh_token")? {
            candidates.push(saved);
        }
        if !candidates.contains(&creds.refresh_token) {
            candidates.push(creds.refresh_token.clone());
        }
        let mut last = String::new();
        for refresh_token in candidates {
            let req = Req {
                method: Method::POST,
                path: "/oauth2/token".into(),
                query: vec![
                    ("client_id", creds.client_id.clone()),
                    ("client_secret", creds.client_secret.clone()),
                    ("grant_type", "refresh_token".into()),
                    ("refresh_token", refresh_token.clone()),
                ],
                body: None,
                tenant: None,
                idempotent: true,
                anonymous: true,
            };
            let secrets = [
                creds.client_secret.as_str(),
                creds.client_id.as_str(),
                refresh_token.as_str(),
            ];
            // Boxed: `send_inner` itself comes here when it needs a token.
            let body = match Box::pin(self.send_inner(&req)).await {
                Ok((_, body)) => body,
                Err(e) if refused(&e) => {
                    last = scrubbed(e, &secrets).to_string();
                    continue;
                }
                Err(e) => return Err(scrubbed(e, &secrets)),
            };
            let token: wire::Token =
                serde_json::from_value(body).map_err(|e| ProviderError::Decode {
                    provider: self.key.clone(),
                    call: "POST /oauth2/token".into(),
                    message: e.to_string(),
                })?;
            if let Some(new_refresh) = &token.refresh_token {
                self.store
                    .set_credential(&self.key, "refresh_token", new_refresh)?;
            }
            self.auth.lock().await.access = Some(token.access_token);
            tracing::info!(provider = %self.key, "access token refreshed; rotated refresh token saved in state");
            return Ok(());
        }
        Err(ProviderError::Auth {
            provider: self.key.clone(),
            message: format!(
                "refreshing the access token failed: {last}. The refresh token is single-use: if it was spent (e.g. by a refresh whose answer was lost), issue a new one in Central and set it in `oauth.refresh_token`"
            ),
        })
    }
}
