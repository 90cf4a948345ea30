//! ExtremeCloud login: the password grant (`POST {token_path}`, JSON), kept alive
//! across both of the vendor's limits: the token's lifetime (`expires_in`) and its
//! idle timeout (`idle_timeout`: a token unused that long is dead although it has
//! not expired). mspform tracks the last use and logs in again before sending a
//! token that is too old or has been idle too long, and once on any 401 (the
//! transport asks with `fresh`). The refresh grant is [assumed]: it is tried
//! first when a refresh token is at hand, and any failure falls back to the
//! password grant. Both are retried like reads (5xx, 429, dropped connection);
//! refused credentials (4xx) are an authentication error at once.

use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::wire;
use crate::vendor::http::ProviderError;
use crate::vendor::transport::{Auth, Call, Transport};

/// Longest safety margin kept before the lifetime or the idle timeout runs out.
const MAX_MARGIN: Duration = Duration::from_secs(60);

/// A token and what limits its use.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub access: String,
    pub refresh: Option<String>,
    /// Past this instant the token is not sent any more (lifetime minus a margin).
    pub use_until: Option<Instant>,
    /// A token unused for this long (idle timeout minus a margin) is not sent any more.
    pub idle_limit: Option<Duration>,
    pub last_used: Instant,
}

/// A tenth of `d`, at most [`MAX_MARGIN`].
fn margin(d: Duration) -> Duration {
    (d / 10).min(MAX_MARGIN)
}

impl Session {
    pub fn new(token: wire::Token, now: Instant) -> Session {
        let lifetime = token.expires_in.map(Duration::from_secs);
        let idle = token.idle_timeout.map(Duration::from_secs);
        Session {
            access: token.access_token,
            refresh: token.refresh_token,
            use_until: lifetime.map(|l| now + l - margin(l)),
            idle_limit: idle.map(|i| i - margin(i)),
            last_used: now,
        }
    }

    /// Whether the token may still be sent at `now`.
    pub fn usable(&self, now: Instant) -> bool {
        let alive = self.use_until.is_none_or(|until| now < until);
        let awake = self
            .idle_limit
            .is_none_or(|limit| now.saturating_duration_since(self.last_used) < limit);
        alive && awake
    }
}

/// The password grant, with the token kept between calls.
pub struct PasswordAuth {
    user_id: String,
    password: String,
    scope: Option<String>,
    /// Where to log in: a path on the base URL, or a full URL.
    token_path: String,
    session: Mutex<Option<Session>>,
}

impl PasswordAuth {
    pub fn new(
        user_id: String,
        password: String,
        scope: Option<String>,
        token_path: String,
    ) -> PasswordAuth {
        PasswordAuth {
            user_id,
            password,
            scope,
            token_path,
            session: Mutex::new(None),
        }
    }

    fn call(&self, body: Value) -> Call {
        Call::new(Method::POST, &self.token_path)
            .header("content-type", "application/json;charset=UTF-8")
            .header("accept", "application/json, text/plain, */*")
            .json(body)
            // A token request: retried like a read on 5xx, 429 and dropped connections.
            .anonymous()
    }

    async fn grant(&self, transport: &Transport, body: Value) -> Result<Session, ProviderError> {
        let call = self.call(body);
        let name = call.name();
        let answer = transport.send(&call, self, None).await?;
        let value = answer.json(&transport.provider, &name)?;
        let token = wire::token(&value).ok_or_else(|| ProviderError::Decode {
            provider: transport.provider.clone(),
            call: name,
            message: "the answer holds no access_token".into(),
        })?;
        Ok(Session::new(token, Instant::now()))
    }

    /// A new session: the refresh grant when a refresh token is at hand, else (or
    /// when it fails) the password grant.
    async fn login(
        &self,
        transport: &Transport,
        refresh: Option<String>,
    ) -> Result<Session, ProviderError> {
        if let Some(refresh) = refresh {
            let body = json!({"grantType": "refresh_token", "refreshToken": refresh});
            match self.grant(transport, body).await {
                Ok(session) => {
                    tracing::debug!(provider = %transport.provider, "token renewed with the refresh grant");
                    return Ok(session);
                }
                Err(e) => {
                    tracing::debug!(provider = %transport.provider, error = %e, "refresh grant refused; logging in with the password");
                }
            }
        }
        let mut body = json!({
            "grantType": "password",
            "userId": self.user_id,
            "password": self.password,
        });
        if let Some(scope) = &self.scope {
            body["scope"] = json!(scope);
        }
        self.grant(transport, body).await.map_err(|e| {
            let detail = match &e {
                ProviderError::Auth { message, .. } => message.clone(),
                ProviderError::Http { status, .. } if (400..500).contains(status) => e.to_string(),
                // A 5xx, 429 or dropped connection the transport's retries did not
                // get past: the vendor's fault, not the credentials'.
                _ => return e,
            };
            ProviderError::Auth {
                provider: transport.provider.clone(),
                message: format!(
                    "logging in as {} failed: {detail}; check the user and the password reference in `login` (the account needs the MSP Power Admin role to write)",
                    self.user_id
                ),
            }
        })
    }
}

impl Auth for PasswordAuth {
    fn token<'a>(
        &'a self,
        transport: &'a Transport,
        fresh: bool,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move {
            // Held across the login so concurrent calls log in once.
            let mut session = self.session.lock().await;
            let now = Instant::now();
            if let Some(s) = session.as_mut()
                && !fresh
                && s.usable(now)
            {
                s.last_used = now;
                return Ok(s.access.clone());
            }
            if session.is_some() {
                tracing::info!(provider = %transport.provider, rejected = fresh, "the access token is expired, idle too long or rejected; logging in again");
            }
            let refresh = session.as_ref().and_then(|s| s.refresh.clone());
            let mut new = self.login(transport, refresh).await?;
            new.last_used = Instant::now();
            let access = new.access.clone();
            *session = Some(new);
            Ok(access)
        })
    }

    fn renewable(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_in: Option<u64>, idle: Option<u64>) -> wire::Token {
        wire::Token {
            access_token: "A".into(),
            expires_in,
            idle_timeout: idle,
            refresh_token: Some("R".into()),
        }
    }

    #[test]
    fn a_token_is_used_until_shortly_before_it_expires() {
        let t0 = Instant::now();
        let s = Session::new(token(Some(7200), None), t0);
        assert!(s.usable(t0 + Duration::from_secs(7000)));
        assert!(!s.usable(t0 + Duration::from_secs(7141)));
        assert!(!s.usable(t0 + Duration::from_secs(7300)));
    }

    #[test]
    fn an_idle_token_is_not_sent_although_it_has_not_expired() {
        let t0 = Instant::now();
        let mut s = Session::new(token(Some(86_400), Some(3600)), t0);
        // Used regularly: stays usable well past one idle timeout.
        for minutes in [30u64, 60, 90] {
            let now = t0 + Duration::from_secs(minutes * 60);
            assert!(s.usable(now), "{minutes} min");
            s.last_used = now;
        }
        // Then left alone for (nearly) an hour: too idle to send.
        let later = s.last_used + Duration::from_secs(3541);
        assert!(!s.usable(later));
        assert!(s.usable(s.last_used + Duration::from_secs(3500)));
    }

    #[test]
    fn no_limits_given_means_no_proactive_login() {
        let t0 = Instant::now();
        let s = Session::new(token(None, None), t0);
        assert!(s.usable(t0 + Duration::from_secs(1_000_000)));
    }

    #[test]
    fn short_lifetimes_keep_a_proportionate_margin() {
        let t0 = Instant::now();
        let s = Session::new(token(Some(10), Some(10)), t0);
        assert!(s.usable(t0 + Duration::from_secs(8)));
        assert!(!s.usable(t0 + Duration::from_secs(9)));
    }
}
