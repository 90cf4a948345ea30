//! Aruba Central's part of the desired state: provider settings and the
//! vendor part of a customer (its sites are the common `model::Customer::sites`).
//! Pure data.

use serde::{Deserialize, Serialize};

use crate::model::SecretRef;

/// How a provider authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArubaAuth {
    /// A static bearer access token.
    Token(SecretRef),
    /// OAuth refresh flow: an optional current access token plus the refresh credentials.
    OAuth {
        client_id: SecretRef,
        client_secret: SecretRef,
        refresh_token: SecretRef,
        access_token: Option<SecretRef>,
    },
}

/// Aruba Central provider settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ArubaSettings {
    pub auth: ArubaAuth,
    /// Licence service names the account offers; when set, config validation checks against it.
    pub license_services: Option<Vec<String>>,
    /// Client-side call budget per second (vendor limit is 7).
    pub calls_per_second: u32,
    /// How often to poll while a new customer provisions, in milliseconds.
    pub poll_interval_ms: u64,
    /// How long to wait for a new customer to appear, in seconds.
    pub provision_timeout_secs: u64,
    /// How long to wait for a device move to show, in seconds.
    pub move_timeout_secs: u64,
    /// Per-request timeout in seconds.
    pub request_timeout_secs: u64,
}

impl ArubaSettings {
    pub fn new(auth: ArubaAuth) -> Self {
        ArubaSettings {
            auth,
            license_services: None,
            calls_per_second: 7,
            poll_interval_ms: 10_000,
            provision_timeout_secs: 600,
            move_timeout_secs: 300,
            request_timeout_secs: 30,
        }
    }
}

/// A postal address of a customer (Aruba: street_address, city, state, zip_postal_code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerAddress {
    pub street: String,
    pub city: String,
    pub state: String,
    pub zip: String,
}

/// An Aruba Central customer, beyond `provider`, `name` and `sites`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArubaCustomer {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub address: CustomerAddress,
    pub group: Option<String>,
    pub description: String,
    pub lock_msp_ssids: bool,
    /// Services licensed automatically on devices moved into this customer. Sorted, unique.
    pub auto_license: Vec<String>,
    /// The files declare `auto_license` (even as `[]`): mspform manages the
    /// setting. Undeclared, it is neither read nor changed.
    pub auto_license_declared: bool,
    /// Managed fields the files leave out (`description`, `lock_msp_ssids`):
    /// their value above is the default a create sends.
    pub defaulted: Vec<&'static str>,
}
