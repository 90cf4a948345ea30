//! Aruba Central credentials and quota headers, plugged into the shared
//! transport: a static bearer token, or the OAuth refresh flow (vendor-apis.md
//! §1.2), and [`RateHeaders`] reading `X-RateLimit-Remaining-*` (§1.3).
//!
//! The refresh sends every parameter in the query string and no body, through
//! the transport (so it is retried like a read on 5xx, 429 and dropped
//! connections). The vendor rotates the refresh token, so the new one is saved
//! (flushed) in the state store's credentials before the new access token is
//! used. The saved refresh token is tried first, then the configured one; a
//! refused one (4xx) moves on to the next. Repeating a refresh whose answer was
//! lost is safe: if the vendor had rotated the token, the retry is refused and
//! an authentication error says to issue a new refresh token. One refresh runs
//! at a time, and a call whose token another call already replaced retries with
//! the new one instead of spending the refresh token again. Secrets are
//! scrubbed from every error.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::Method;
use reqwest::header::HeaderMap;
use tokio::sync::Mutex;

use super::wire;
use crate::clock::now_unix;
use crate::state::StateStore;
use crate::vendor::http::{ProviderError, fmt_utc};
use crate::vendor::transport::{Auth, Call, DayQuota, Quota, Signal, Transport};

/// Per-second 429s are waited out this many times (pycentral uses 10).
const RATE_LIMIT_RETRIES: usize = 10;
/// The wait after a per-second 429 (pycentral's).
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(2);
pub const TOKEN_PATH: &str = "/oauth2/token";

/// The OAuth refresh flow.
pub struct OAuth {
    client_id: String,
    client_secret: String,
    /// The configured refresh token (state's saved one is tried first).
    refresh_token: String,
    access: Mutex<Option<String>>,
    /// Held while refreshing, so concurrent 401s refresh once (the refresh token is single-use).
    refreshing: Mutex<()>,
    store: Arc<dyn StateStore>,
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

impl OAuth {
    pub fn new(
        client_id: String,
        client_secret: String,
        refresh_token: String,
        access: Option<String>,
        store: Arc<dyn StateStore>,
    ) -> OAuth {
        OAuth {
            client_id,
            client_secret,
            refresh_token,
            access: Mutex::new(access),
            refreshing: Mutex::new(()),
            store,
        }
    }

    /// The refresh tokens to try, in order: state's saved one, then the configured one.
    fn candidates(&self, provider: &str) -> Result<Vec<String>, ProviderError> {
        let mut candidates = Vec::new();
        if let Some(saved) = self.store.credential(provider, "refresh_token")? {
            candidates.push(saved);
        }
        if !candidates.contains(&self.refresh_token) {
            candidates.push(self.refresh_token.clone());
        }
        Ok(candidates)
    }

    /// One refresh with `refresh_token`: `Ok(None)` when it was refused.
    async fn exchange(
        &self,
        transport: &Transport,
        refresh_token: &str,
        last: &mut String,
    ) -> Result<Option<wire::Token>, ProviderError> {
        let call = Call::new(Method::POST, TOKEN_PATH)
            .query("client_id", &self.client_id)
            .query("client_secret", &self.client_secret)
            .query("grant_type", "refresh_token")
            .query("refresh_token", refresh_token)
            .anonymous();
        let secrets = [
            self.client_secret.as_str(),
            self.client_id.as_str(),
            refresh_token,
        ];
        let answer = match transport.send(&call, self, None).await {
            Ok(answer) => answer,
            Err(e) if refused(&e) => {
                *last = scrubbed(e, &secrets).to_string();
                return Ok(None);
            }
            Err(e) => return Err(scrubbed(e, &secrets)),
        };
        // The body holds the new tokens: never quote it in an error.
        serde_json::from_str::<wire::Token>(&answer.text)
            .map(Some)
            .map_err(|_| ProviderError::Decode {
                provider: transport.provider.clone(),
                call: call.name(),
                message: "the answer is not a token (JSON with an access_token)".into(),
            })
    }

    /// Refreshes the access token, unless another call already replaced
    /// `rejected` (the token that was refused; `None`: there was none).
    async fn refresh(
        &self,
        transport: &Transport,
        rejected: Option<&str>,
    ) -> Result<(), ProviderError> {
        let provider = transport.provider.as_str();
        let _one_at_a_time = self.refreshing.lock().await;
        if let Some(current) = self.access.lock().await.as_deref()
            && Some(current) != rejected
        {
            return Ok(());
        }
        let mut last = String::new();
        for refresh_token in self.candidates(provider)? {
            let Some(token) = self.exchange(transport, &refresh_token, &mut last).await? else {
                continue;
            };
            if let Some(new_refresh) = &token.refresh_token {
                self.store
                    .set_credential(provider, "refresh_token", new_refresh)?;
            }
            *self.access.lock().await = Some(token.access_token);
            tracing::info!(provider = %provider, "access token refreshed; rotated refresh token saved in state");
            return Ok(());
        }
        Err(ProviderError::Auth {
            provider: provider.to_string(),
            message: format!(
                "refreshing the access token failed: {last}. The refresh token is single-use: if it was spent (e.g. by a refresh whose answer was lost), issue a new one in Central and set it in `oauth.refresh_token`"
            ),
        })
    }
}

impl Auth for OAuth {
    fn token<'a>(
        &'a self,
        transport: &'a Transport,
        fresh: bool,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move {
            let current = self.access.lock().await.clone();
            match current {
                Some(token) if !fresh => return Ok(token),
                Some(token) => self.refresh(transport, Some(&token)).await?,
                None => self.refresh(transport, None).await?,
            }
            self.access
                .lock()
                .await
                .clone()
                .ok_or_else(|| ProviderError::Auth {
                    provider: transport.provider.clone(),
                    message: "no access token after refreshing".into(),
                })
        })
    }

    fn renewable(&self) -> bool {
        true
    }

    /// Only a 401 that says the token is invalid (fact sheet §1.2: its body holds
    /// `invalid_token`) is refreshed, once.
    fn renew<'a>(
        &'a self,
        transport: &'a Transport,
        rejected: &'a str,
        body: &'a str,
    ) -> BoxFuture<'a, Result<bool, ProviderError>> {
        Box::pin(async move {
            if !body.contains("invalid_token") {
                return Ok(false);
            }
            self.refresh(transport, Some(rejected)).await.map(|()| true)
        })
    }

    fn advice(&self) -> &'static str {
        "check the token"
    }
}

/// Seconds since the epoch of the next 00:00 GMT, when Aruba's daily counter resets.
fn next_midnight_utc() -> u64 {
    let now = now_unix();
    now - now % 86_400 + 86_400
}

/// Aruba's rate-limit headers, on every answer: `X-RateLimit-Remaining-second: 0`
/// on a success → the client-side window is counted full; a 429 with
/// `X-RateLimit-Remaining-day: 0` → stop with the reset time; any other 429 is
/// per-second → wait 2 s and retry, at most 10 times (pycentral's rule).
pub struct RateHeaders;

impl Quota for RateHeaders {
    fn read(&self, provider: &str, status: u16, headers: &HeaderMap) -> Signal {
        let spent = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                == Some("0")
        };
        let day = spent("X-RateLimit-Remaining-day");
        let second = spent("X-RateLimit-Remaining-second");
        match status {
            200..=299 => {
                if day {
                    tracing::warn!(provider = %provider, "daily API quota is now used up");
                }
                if second {
                    Signal::WindowSpent
                } else {
                    Signal::Default
                }
            }
            429 if day => Signal::Exhausted {
                resets_at: fmt_utc(next_midnight_utc()),
            },
            429 => {
                tracing::warn!(provider = %provider, remaining_second_zero = second, "429: waiting before retrying");
                Signal::Wait(RATE_LIMIT_WAIT)
            }
            _ => Signal::Default,
        }
    }

    fn retries(&self) -> usize {
        RATE_LIMIT_RETRIES
    }

    /// `X-RateLimit-Remaining-second`, on every answer.
    fn second(&self, headers: &HeaderMap) -> Option<u32> {
        headers
            .get("X-RateLimit-Remaining-second")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
    }

    fn counts_seconds(&self) -> bool {
        true
    }

    /// `X-RateLimit-Remaining-day` and `X-RateLimit-Limit-day`, on every answer.
    fn day(&self, headers: &HeaderMap) -> Option<DayQuota> {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        Some(DayQuota {
            remaining: number("X-RateLimit-Remaining-day")?,
            limit: number("X-RateLimit-Limit-day"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(day: &str, second: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("X-RateLimit-Remaining-day", day.parse().unwrap());
        h.insert("X-RateLimit-Remaining-second", second.parse().unwrap());
        h
    }

    #[test]
    fn quota_headers_decide_what_the_transport_does() {
        let q = RateHeaders;
        assert_eq!(q.read("a", 200, &headers("10", "3")), Signal::Default);
        assert_eq!(q.read("a", 200, &headers("10", "0")), Signal::WindowSpent);
        assert_eq!(
            q.read("a", 429, &headers("5", "0")),
            Signal::Wait(Duration::from_secs(2))
        );
        assert_eq!(
            q.read("a", 429, &HeaderMap::new()),
            Signal::Wait(Duration::from_secs(2)),
            "a 429 without headers is taken as per-second"
        );
        let Signal::Exhausted { resets_at } = q.read("a", 429, &headers("0", "0")) else {
            panic!("the daily quota stops");
        };
        assert!(resets_at.ends_with(" 00:00:00 UTC"), "{resets_at}");
        assert_eq!(q.read("a", 500, &headers("0", "0")), Signal::Default);
        assert_eq!(q.retries(), 10);
    }

    #[test]
    fn the_daily_reset_is_the_next_midnight_gmt() {
        let next = next_midnight_utc();
        assert_eq!(next % 86_400, 0);
        assert!(next > now_unix() && next - now_unix() <= 86_400);
    }

    #[test]
    fn refusals_move_on_to_the_next_refresh_token_and_secrets_are_scrubbed() {
        let http = |status| ProviderError::Http {
            provider: "a".into(),
            call: "POST /oauth2/token".into(),
            status,
            body: "bad sim-refresh for sim-client".into(),
        };
        assert!(refused(&http(400)));
        assert!(!refused(&http(429)), "a 429 was waited out already");
        assert!(!refused(&http(500)));
        let text = scrubbed(http(400), &["sim-refresh", "sim-client"]).to_string();
        assert!(
            !text.contains("sim-refresh") && !text.contains("sim-client"),
            "{text}"
        );
    }
}
