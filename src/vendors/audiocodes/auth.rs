//! Microsoft Entra ID client credentials for the Live Platform API: a form
//! POST to the provider directory's token endpoint, the bearer cached until
//! shortly before `expires_in` runs out, and fetched again when the API
//! rejects it (the transport asks with `fresh`). No refresh token exists. The
//! token request is retried like a read (5xx, 429, dropped connection); refused
//! credentials (4xx) are an authentication error at once.

use std::time::Duration;

use tokio::time::Instant;

use futures::future::BoxFuture;
use reqwest::Method;

use super::wire::Token;
use crate::vendor::http::ProviderError;
use crate::vendor::transport::{Auth, Call, TokenCache, Transport};

/// Lifetime assumed when the endpoint does not say (standard Entra tokens).
const DEFAULT_LIFETIME_SECS: u64 = 3600;

/// How long before its end a token is no longer used: 60 s, at most half its life.
pub fn usable_for(expires_in: Option<i64>) -> Duration {
    let life = expires_in
        .and_then(|s| u64::try_from(s).ok())
        .unwrap_or(DEFAULT_LIFETIME_SECS);
    let margin = 60.min(life / 2);
    Duration::from_secs(life - margin)
}

pub struct EntraAuth {
    url: String,
    form: Vec<(String, String)>,
    cached: TokenCache,
}

impl EntraAuth {
    pub fn new(url: &str, client_id: &str, client_secret: &str, scope: &str) -> EntraAuth {
        EntraAuth {
            url: url.to_string(),
            form: vec![
                ("grant_type".into(), "client_credentials".into()),
                ("client_id".into(), client_id.to_string()),
                ("client_secret".into(), client_secret.to_string()),
                ("scope".into(), scope.to_string()),
            ],
            cached: TokenCache::default(),
        }
    }

    async fn fetch(&self, transport: &Transport) -> Result<(String, Instant), ProviderError> {
        // A token request: retried like a read on 5xx, 429 and dropped connections.
        let call = Call::new(Method::POST, &self.url)
            .form(self.form.clone())
            .anonymous();
        let name = call.name();
        let provider = transport.provider.clone();
        let answer = transport
            .send(&call, self, None)
            .await
            .map_err(|e| match e {
                // Refused credentials. A 5xx (after the transport's retries) stays an
                // HTTP error naming the call and status: nothing to fix in the config.
                // The transport already scrubbed the credentials from the body.
                ProviderError::Http { status, body, .. } if (400..500).contains(&status) => ProviderError::Auth {
                    provider: provider.clone(),
                    message: format!(
                        "the token request ({name}) answered HTTP {status}: {body}; check tenant_id, client_id, client_secret and scope"
                    ),
                },
                other => other,
            })?;
        let body = answer
            .json(&provider, &name)
            .map_err(|_| ProviderError::Auth {
                provider: provider.clone(),
                message: format!("the token request ({name}) did not answer JSON"),
            })?;
        let token = Token::from_value(body).ok_or_else(|| ProviderError::Auth {
            provider: provider.clone(),
            message: format!("the token request ({name}) answered without an access_token"),
        })?;
        Ok((
            token.access_token,
            Instant::now() + usable_for(token.expires_in),
        ))
    }
}

impl Auth for EntraAuth {
    fn token<'a>(
        &'a self,
        transport: &'a Transport,
        fresh: bool,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(self.cached.get(fresh, self.fetch(transport)))
    }

    fn renewable(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_dropped_a_margin_before_they_expire() {
        assert_eq!(usable_for(Some(3599)), Duration::from_secs(3539));
        assert_eq!(usable_for(None), Duration::from_secs(3540));
        assert_eq!(usable_for(Some(60)), Duration::from_secs(30));
        assert_eq!(usable_for(Some(-5)), Duration::from_secs(3540));
        assert_eq!(usable_for(Some(0)), Duration::ZERO);
    }
}
