//! RUCKUS One (MSP Services) settings and managed-tenant (MSP-EC) fields.

use super::SecretRef;

/// How mspform gets a RUCKUS One token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuckusAuth {
    /// A static bearer token.
    Token(SecretRef),
    /// Client credentials: `POST /oauth2/token/{tenant_id}`, repeated on a 401.
    ClientCredentials {
        client_id: SecretRef,
        client_secret: SecretRef,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuckusSettings {
    /// The MSP's own tenant id (32 hex).
    pub tenant_id: String,
    pub auth: RuckusAuth,
    /// Where the token is requested, when it is not `base_url` (the official docs
    /// post to `ruckus.cloud`, the SDKs to `api.ruckus.cloud`).
    pub token_url: Option<String>,
    /// Token bucket: this many calls at once …
    pub burst: u32,
    /// … refilled at this many calls per second (vendor: 200 and 100).
    pub calls_per_second: u32,
    /// Activity polling: first interval, doubling up to 8 s.
    pub poll_interval_ms: u64,
    /// How long to wait for one activity to reach SUCCESS or FAIL.
    pub activity_timeout_secs: u64,
    pub request_timeout_secs: u64,
}

impl RuckusSettings {
    pub fn new(tenant_id: String, auth: RuckusAuth) -> Self {
        RuckusSettings {
            tenant_id,
            auth,
            token_url: None,
            burst: 200,
            calls_per_second: 100,
            poll_interval_ms: 500,
            activity_timeout_secs: 300,
            request_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuckusAddress {
    pub street: String,
    pub city: String,
    pub state: String,
    pub country: String,
    pub zip: String,
}

/// The tenant's first administrator: invited once, when the tenant is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuckusAdmin {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// e.g. `PRIME_ADMIN`.
    pub role: Option<String>,
}

/// A RUCKUS One managed tenant (MSP-EC). `Customer::name` is `name` (≤255).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuckusCustomer {
    pub address: Option<RuckusAddress>,
    pub phone: Option<String>,
    /// `YYYY-MM-DD`; required by the vendor on update, defaulted on create.
    pub service_start: Option<String>,
    pub service_end: Option<String>,
    /// e.g. `GOLD`, `PLATINUM`.
    pub tier: Option<String>,
    pub admin: Option<RuckusAdmin>,
}
