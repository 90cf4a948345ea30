//! RUCKUS One (MSP Services), vendor-apis.md §3: managed tenants (MSP-ECs) with
//! asynchronous writes, their first administrator's invitation, and tech
//! partners (integrators, installers). Everything about the vendor is in this
//! folder: `config` and `model` (its schema), the client here (auth and
//! transport) with `api` (one function per endpoint) and `wire` (its lenient
//! serde types), `refresh`/`resolve` the read, `steps`/`run`/`create` the
//! writes, `import`, and `vendor` (the [`Vendor`](crate::vendor::Vendor) impl).
//! The user's page is `README.md`.
//!
//! Auth: client credentials posted as a form to `{token_url}/oauth2/token/{tenant_id}`,
//! the token cached until shortly before `expires_in` (3600 s when absent) and
//! requested again on a 401 (once per call); or a static token. The token request
//! is retried like a read (5xx, 429, dropped connection: a client-credentials
//! grant creates nothing), refused credentials (4xx) are an authentication
//! error at once. Every write is
//! asynchronous: 202 + `requestId`, then `GET /activities/{requestId}` until
//! `SUCCESS` or `FAIL`.

mod api;
pub mod config;
mod create;
mod import;
pub mod model;
pub mod refresh;
pub mod resolve;
pub mod run;
mod schema;
pub mod steps;
mod vendor;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::Method;
use tokio::time::Instant;

use crate::state::StateStore;
use crate::vendor::VendorClient;
use crate::vendor::http::{ProviderError, Secrets, shared_bucket};
use crate::vendor::transport::{Auth, Call, StaticToken, TokenCache, Transport};
use model::{RuckusAuth, RuckusSettings};

pub use vendor::Ruckus;

/// Lifetime assumed when the token answer has no `expires_in` (r1-sdk's default).
const DEFAULT_TOKEN_SECS: u64 = 3600;
/// Renew this long before the token expires (r1-sdk: 5 min), at most a fifth of its life.
const RENEW_EARLY_SECS: u64 = 300;

/// Client credentials of an application token, exchanged for a JWT.
struct ClientCredentials {
    /// `{token_url or base_url}/oauth2/token/{tenant_id}`.
    url: String,
    client_id: String,
    client_secret: String,
    cached: TokenCache,
}

impl ClientCredentials {
    async fn request(&self, transport: &Transport) -> Result<(String, Instant), ProviderError> {
        // A token request: retried like a read on 5xx, 429 and dropped connections.
        let call = Call::new(Method::POST, self.url.clone())
            .form(vec![
                ("grant_type".into(), "client_credentials".into()),
                ("client_id".into(), self.client_id.clone()),
                ("client_secret".into(), self.client_secret.clone()),
            ])
            .anonymous();
        let name = call.name();
        let answer = transport
            .send(&call, self, None)
            .await
            .map_err(|e| match e {
                ProviderError::Http { status, body, .. } if (400..500).contains(&status) => {
                    ProviderError::Auth {
                        provider: transport.provider.clone(),
                        message: format!(
                            "{name} answered HTTP {status} ({body}); check client_id, client_secret and tenant_id (the MSP's own tenant)"
                        ),
                    }
                }
                other => other,
            })?;
        let token: wire::Token = answer.decode(&transport.provider, &name)?;
        let lifetime = token
            .expires_in
            .as_deref()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .map(|s| s as u64)
            .unwrap_or(DEFAULT_TOKEN_SECS);
        let early = RENEW_EARLY_SECS.min(lifetime / 5);
        let until = Instant::now() + Duration::from_secs(lifetime - early);
        tracing::info!(provider = %transport.provider, lifetime, "RUCKUS One token issued");
        Ok((token.access_token, until))
    }
}

impl Auth for ClientCredentials {
    fn token<'a>(
        &'a self,
        transport: &'a Transport,
        fresh: bool,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(self.cached.get(fresh, self.request(transport)))
    }
    fn renewable(&self) -> bool {
        true
    }
}

/// The client of one RUCKUS One provider account.
pub struct Client {
    pub(crate) settings: RuckusSettings,
    transport: Transport,
    auth: Box<dyn Auth>,
    /// For the journal: creates and invitations an earlier run left open.
    store: Arc<dyn StateStore>,
    /// How long this run's activities take, as learned from the first one.
    pace: api::ActivityPace,
}

impl Client {
    /// Builds the client; reads the credentials it names (environment or file). Makes no call.
    pub fn new(
        key: &str,
        base_url: &str,
        settings: &RuckusSettings,
        store: Arc<dyn StateStore>,
    ) -> Result<Client, ProviderError> {
        let mut secrets = Secrets::new(key);
        let auth: Box<dyn Auth> = match &settings.auth {
            RuckusAuth::Token(r) => Box::new(StaticToken::new(secrets.read(r)?)),
            RuckusAuth::ClientCredentials {
                client_id,
                client_secret,
            } => {
                let client_id = secrets.read(client_id)?;
                let client_secret = secrets.read(client_secret)?;
                let host = settings
                    .token_url
                    .as_deref()
                    .unwrap_or(base_url)
                    .trim_end_matches('/');
                Box::new(ClientCredentials {
                    url: format!("{host}/oauth2/token/{}", settings.tenant_id),
                    client_id,
                    client_secret,
                    cached: TokenCache::default(),
                })
            }
        };
        // The vendor's own shape: a bucket `burst` deep, refilled at `rate` per
        // second, per tenant; shared by every client of the tenant in this process.
        let limiter = shared_bucket(
            &format!(
                "ruckus:{}#{}",
                base_url.trim_end_matches('/'),
                settings.tenant_id
            ),
            settings.burst,
            settings.calls_per_second,
        );
        let transport = Transport::new(key, base_url, limiter, settings.request_timeout_secs)?
            .redacting(secrets.into_vec());
        Ok(Client {
            settings: settings.clone(),
            transport,
            auth,
            store,
            pace: api::ActivityPace::default(),
        })
    }
}

impl VendorClient for Client {
    fn transport(&self) -> &Transport {
        &self.transport
    }
}
