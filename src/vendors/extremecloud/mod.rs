//! ExtremeCloud (legacy, MSP REST API), vendor-apis.md §2: MSP tenants and the
//! tenant lists of partners. Everything about the vendor is in this folder:
//! `config` and `model` (its schema), the client here (transport and login,
//! `auth`) with `api` (the documented calls) and `wire` (its lenient serde
//! types), `refresh`/`resolve` the read, `steps`/`run` the writes, `import`,
//! and `vendor` (the [`Vendor`](crate::vendor::Vendor) impl). The user's page
//! is `README.md`.
//!
//! Calls used: `POST {token_path}` (login), `GET {prefix}/msptenants`,
//! `GET {prefix}/msptenants/nametoidmap`, `POST {prefix}/msptenants`,
//! `GET {prefix}/msppartners` and `PUT {prefix}/msppartners/{custId}`. Nothing
//! else: the vendor documents no tenant update or delete.

mod api;
mod auth;
pub mod config;
#[cfg(test)]
mod fixtures;
mod import;
pub mod model;
mod refresh;
pub mod resolve;
mod run;
mod schema;
pub mod steps;
mod vendor;
pub mod wire;

use std::sync::atomic::AtomicBool;

use crate::vendor::VendorClient;
use crate::vendor::http::{ProviderError, Secrets, shared_limiter};
use crate::vendor::transport::{Auth, StaticToken, Transport};
use model::{ExtremeAuth, ExtremeSettings};

pub use auth::PasswordAuth;
pub use refresh::Snapshot;
pub use vendor::ExtremeCloud;

/// The client of one ExtremeCloud MSP account.
pub struct Client {
    pub(crate) settings: ExtremeSettings,
    transport: Transport,
    auth: Box<dyn Auth>,
    /// Learned during a run: this account wants the MSP's own id in the partner PUT path.
    put_via_msp: AtomicBool,
}

impl Client {
    /// Builds the client; reads the credentials it was told to (env or file). Makes no call.
    pub fn new(
        key: &str,
        base_url: &str,
        settings: &ExtremeSettings,
    ) -> Result<Client, ProviderError> {
        let mut secrets = Secrets::new(key);
        let auth: Box<dyn Auth> = match &settings.auth {
            ExtremeAuth::Token(r) => Box::new(StaticToken::new(secrets.read(r)?)),
            ExtremeAuth::Password {
                user_id,
                password,
                scope,
            } => Box::new(PasswordAuth::new(
                user_id.clone(),
                secrets.read(password)?,
                scope.clone(),
                settings.token_path.clone(),
            )),
        };
        let transport = Transport::new(
            key,
            base_url,
            shared_limiter(base_url, settings.calls_per_second),
            settings.request_timeout_secs,
        )?
        .redacting(secrets.into_vec());
        Ok(Client {
            settings: settings.clone(),
            transport,
            auth,
            put_via_msp: AtomicBool::new(false),
        })
    }
}

impl VendorClient for Client {
    fn transport(&self) -> &Transport {
        &self.transport
    }
}
