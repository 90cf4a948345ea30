//! HPE Aruba Networking Central, MSP mode (vendor-apis.md §1): customers,
//! device assignment (MSP inventory → customer and back), licences (per device,
//! auto-licence per customer), sites and device ↔ site associations.
//! Everything about the vendor is in this folder: `config` and `model` (its
//! schema), the client here (the shared transport with Aruba's `auth` and quota
//! headers) with `api` (one function per endpoint) and `wire` (its serde
//! types), `refresh`/`live` the read, `resolve` the addresses, `steps`/`run`/
//! `settle` the writes, `import`, and `vendor` (the [`Vendor`] impl). The
//! user's page is `README.md`.
//!
//! [`Vendor`]: crate::vendor::Vendor

mod api;
mod auth;
pub mod config;
mod import;
pub mod live;
pub mod model;
mod refresh;
pub mod resolve;
pub mod run;
mod schema;
mod settle;
pub mod steps;
mod vendor;
pub mod wire;

use std::sync::Arc;

use crate::state::StateStore;
use crate::vendor::VendorClient;
use crate::vendor::http::{ProviderError, Secrets, WriteCtx, shared_limiter};
use crate::vendor::transport::{Answer, Auth, Call, StaticToken, Transport};
use model::{ArubaAuth, ArubaSettings};

pub use vendor::Aruba;

/// The client of one Aruba Central provider account.
pub struct Client {
    pub(crate) settings: ArubaSettings,
    transport: Transport,
    auth: Box<dyn Auth>,
}

impl Client {
    /// Builds the client; reads the credentials it was told to (env or file).
    /// Makes no call.
    pub fn new(
        key: &str,
        base_url: &str,
        settings: &ArubaSettings,
        store: Arc<dyn StateStore>,
    ) -> Result<Client, ProviderError> {
        let mut secrets = Secrets::new(key);
        let auth: Box<dyn Auth> = match &settings.auth {
            ArubaAuth::Token(r) => Box::new(
                StaticToken::new(secrets.read(r)?)
                    .advising("check the token, or configure `oauth` so mspform can refresh it"),
            ),
            ArubaAuth::OAuth {
                client_id,
                client_secret,
                refresh_token,
                access_token,
            } => {
                let access = access_token.as_ref().map(|r| secrets.read(r)).transpose()?;
                let id = secrets.read(client_id)?;
                let secret = secrets.read(client_secret)?;
                let refresh = secrets.read(refresh_token)?;
                Box::new(auth::OAuth::new(id, secret, refresh, access, store))
            }
        };
        let transport = Transport::new(
            key,
            base_url,
            shared_limiter(base_url, settings.calls_per_second),
            settings.request_timeout_secs,
        )?
        .redacting(secrets.into_vec())
        .with_quota(auth::RateHeaders);
        Ok(Client {
            settings: settings.clone(),
            transport,
            auth,
        })
    }

    /// Sends one call through the shared transport (journaled when `write` is given).
    async fn send(&self, call: &Call, write: Option<&WriteCtx>) -> Result<Answer, ProviderError> {
        self.transport.send(call, self.auth.as_ref(), write).await
    }
}

impl VendorClient for Client {
    fn transport(&self) -> &Transport {
        &self.transport
    }
}
