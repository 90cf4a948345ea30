//! AudioCodes Live Platform (UMP-365 / Live Cloud), vendor-apis.md §4:
//! Essentials customers (one SBC site location each) through the customer API.
//! Everything about the vendor is in this folder: `config` and `model` (its
//! schema), the client here (transport and auth) with `api` (the three calls
//! used) and `wire` (its serde types), `refresh`/`resolve` the read,
//! `steps`/`run` the writes, `import`, and `vendor` (the [`Vendor`] impl). The
//! user's page is `README.md`.

mod api;
mod auth;
pub mod config;
mod import;
pub mod model;
mod refresh;
pub mod resolve;
mod run;
mod schema;
pub mod steps;
mod vendor;
pub mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::vendor::VendorClient;
use crate::vendor::http::{ProviderError, RateLimiter, Secrets, shared_limiter};
use crate::vendor::transport::{Auth, StaticToken, Transport};
use model::{AudiocodesAuth, AudiocodesSettings};

pub use auth::EntraAuth;
pub use vendor::Audiocodes;

/// The client of one AudioCodes Live Platform provider account.
pub struct Client {
    base_url: String,
    pub(crate) settings: AudiocodesSettings,
    /// Reads and deletes, with the ordinary request timeout.
    transport: Transport,
    auth: Box<dyn Auth>,
    limiter: Arc<RateLimiter>,
    /// Credentials never to show in an error.
    secrets: Vec<String>,
    /// Calls and 429s of the per-create transports (see [`Client::create_transport`]).
    create_calls: AtomicU64,
    create_rate_limited: AtomicU64,
}

impl Client {
    /// Builds the client; reads the credentials it names (environment or file).
    /// Makes no call.
    pub fn new(
        key: &str,
        base_url: &str,
        settings: &AudiocodesSettings,
    ) -> Result<Client, ProviderError> {
        let mut secrets = Secrets::new(key);
        let auth: Box<dyn Auth> = match &settings.auth {
            AudiocodesAuth::Token(r) => Box::new(StaticToken::new(secrets.read(r)?)),
            AudiocodesAuth::ClientCredentials {
                tenant_id,
                client_id,
                client_secret,
                scope,
                token_url,
            } => {
                let id = secrets.read(client_id)?;
                let secret = secrets.read(client_secret)?;
                let url = token_url.replace("{tenant_id}", tenant_id);
                Box::new(EntraAuth::new(&url, &id, &secret, scope))
            }
        };
        let secrets = secrets.into_vec();
        let limiter = shared_limiter(base_url, settings.calls_per_second);
        let transport = Transport::new(
            key,
            base_url,
            limiter.clone(),
            settings.request_timeout_secs,
        )?
        .redacting(secrets.clone());
        Ok(Client {
            base_url: base_url.to_string(),
            settings: settings.clone(),
            transport,
            auth,
            limiter,
            secrets,
            create_calls: AtomicU64::new(0),
            create_rate_limited: AtomicU64::new(0),
        })
    }

    /// A transport for one customer create: the long `create_timeout_secs` (the
    /// vendor answers only after onboarding the SBC), and the resolved script
    /// secrets added to what is scrubbed from errors. Same rate limit.
    fn create_transport(&self, script_secrets: &[String]) -> Result<Transport, ProviderError> {
        Ok(Transport::new(
            self.key(),
            &self.base_url,
            self.limiter.clone(),
            self.settings.create_timeout_secs,
        )?
        .redacting(self.secrets.iter().chain(script_secrets).cloned()))
    }

    fn count_create(&self, transport: &Transport) {
        self.create_calls
            .fetch_add(transport.calls(), Ordering::Relaxed);
        self.create_rate_limited
            .fetch_add(transport.rate_limited(), Ordering::Relaxed);
    }

    /// Removes every secret (credentials and `extra`) from a message.
    fn scrub(&self, text: &str, extra: &[String]) -> String {
        self.secrets
            .iter()
            .chain(extra)
            .filter(|s| s.len() >= 4)
            .fold(text.to_string(), |acc, s| {
                acc.replace(s.as_str(), "[redacted]")
            })
    }
}

/// The per-create transports count too.
impl VendorClient for Client {
    fn transport(&self) -> &Transport {
        &self.transport
    }
    fn calls(&self) -> u64 {
        self.transport.calls() + self.create_calls.load(Ordering::Relaxed)
    }
    fn rate_limited(&self) -> u64 {
        self.transport.rate_limited() + self.create_rate_limited.load(Ordering::Relaxed)
    }
}
