//! The JSON Schema mirror of RUCKUS One's configuration keys (`mspform
//! schema`): the provider table's keys beyond `type`/`base_url`/`ownership`,
//! and the vendor's part of a customer (a managed tenant). Schema only;
//! `config.rs` parses and checks the field rules. A test holds the property
//! names equal to the keys `config.rs` accepts.

use schemars::JsonSchema;

use crate::config::SecretRef;

/// RUCKUS One MSP Services: client credentials (`client_id` and
/// `client_secret`), or a static `token`.
#[derive(JsonSchema)]
#[schemars(
    rename = "RuckusOneProvider",
    deny_unknown_fields,
    extend("oneOf" = [
        { "required": ["token"], "not": { "anyOf": [{ "required": ["client_id"] }, { "required": ["client_secret"] }] } },
        { "required": ["client_id", "client_secret"], "not": { "required": ["token"] } }
    ])
)]
#[allow(dead_code)]
pub struct ProviderKeys {
    /// The MSP's own tenant id: 32 hexadecimal characters (required).
    #[schemars(regex(pattern = r"^\s*[0-9A-Fa-f]{32}\s*$"))]
    tenant_id: String,
    /// The client id of an application token of the MSP account (with `client_secret`).
    client_id: Option<SecretRef>,
    /// Its secret (with `client_id`).
    client_secret: Option<SecretRef>,
    /// A static token (instead of the client credentials).
    token: Option<SecretRef>,
    /// The host tokens are requested from (mspform appends /oauth2/token/<tenant_id>).
    #[schemars(regex(pattern = r"^https?://\S*[^\s/]\S*$"))]
    token_url: Option<String>,
    /// The token bucket's size.
    #[schemars(range(min = 1, max = 10_000))]
    burst: Option<u64>,
    /// The bucket's refill rate.
    #[schemars(range(min = 1, max = 100))]
    calls_per_second: Option<u64>,
    /// Polling interval of asynchronous activities.
    #[schemars(range(min = 10, max = 60_000))]
    poll_interval_ms: Option<u64>,
    /// How long an activity may take.
    #[schemars(range(min = 1, max = 86_400))]
    activity_timeout_secs: Option<u64>,
    /// Timeout of one request.
    #[schemars(range(min = 1, max = 600))]
    request_timeout_secs: Option<u64>,
}

/// The RUCKUS One part of a customer (a managed tenant, MSP-EC).
#[derive(JsonSchema)]
#[schemars(rename = "RuckusOneCustomer", deny_unknown_fields)]
#[allow(dead_code)]
pub struct CustomerKeys {
    /// The tenant's address (at least one part).
    address: Option<RuckusAddress>,
    #[schemars(length(min = 1, max = 255))]
    phone: Option<String>,
    /// The service start, a date: "2026-01-01" (or a TOML date).
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    service_start: Option<String>,
    /// The service end, a date on or after the start.
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    service_end: Option<String>,
    #[schemars(length(min = 1, max = 255))]
    tier: Option<String>,
    /// The administrator invited once, when the tenant is created.
    admin: Option<RuckusAdmin>,
}

/// A RUCKUS One tenant's address: at least one part.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, extend("minProperties" = 1))]
#[allow(dead_code)]
pub struct RuckusAddress {
    #[schemars(length(min = 1, max = 255))]
    street: Option<String>,
    #[schemars(length(min = 1, max = 255))]
    city: Option<String>,
    #[schemars(length(min = 1, max = 255))]
    state: Option<String>,
    #[schemars(length(min = 1, max = 255))]
    country: Option<String>,
    #[schemars(length(min = 1, max = 255))]
    zip: Option<String>,
}

/// The administrator invitation of a new RUCKUS One tenant.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RuckusAdmin {
    /// Where the invitation goes (required).
    #[schemars(length(min = 1, max = 255))]
    email: String,
    #[schemars(length(min = 1, max = 255))]
    first_name: Option<String>,
    #[schemars(length(min = 1, max = 255))]
    last_name: Option<String>,
    #[schemars(length(min = 1, max = 255))]
    role: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::Ruckus;
    use super::super::config::{ADDRESS_KEYS, ADMIN_KEYS};
    use super::*;
    use crate::config::{assert_mirror, assert_vendor_mirrors};

    #[test]
    fn the_mirrors_have_exactly_the_keys_config_accepts() {
        assert_vendor_mirrors::<Ruckus>();
        assert_mirror::<RuckusAddress>(ADDRESS_KEYS);
        assert_mirror::<RuckusAdmin>(ADMIN_KEYS);
    }
}
