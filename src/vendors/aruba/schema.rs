//! The JSON Schema mirror of Aruba Central's configuration keys (`mspform
//! schema`): the provider table's keys beyond `type`/`base_url`/`ownership`,
//! and the vendor's part of a customer. Schema only; `config.rs` parses. A
//! test holds the property names equal to the keys `config.rs` accepts.

use schemars::JsonSchema;

use crate::config::{NonEmpty, SecretRef};

/// Aruba Central (MSP mode): a static token or the OAuth refresh flow.
#[derive(JsonSchema)]
#[schemars(
    rename = "ArubaProvider",
    deny_unknown_fields,
    extend("oneOf" = [{ "required": ["token"] }, { "required": ["oauth"] }])
)]
#[allow(dead_code)]
pub struct ProviderKeys {
    /// A static bearer token (or `oauth`, not both).
    token: Option<SecretRef>,
    /// The OAuth refresh flow (refresh tokens rotate; mspform keeps the newest in state).
    oauth: Option<ArubaOAuth>,
    /// The licence names devices and `auto_license` may name (optional).
    #[schemars(extend("uniqueItems" = true))]
    license_services: Option<Vec<NonEmpty>>,
    /// Client-side call limit (Aruba allows 7/s; default 7).
    #[schemars(range(min = 1, max = 7))]
    calls_per_second: Option<u64>,
    /// Polling interval while a new customer provisions or a device move lands (default 10000).
    #[schemars(range(min = 0, max = 600_000))]
    poll_interval_ms: Option<u64>,
    /// How long a new customer may take to provision (default 600).
    #[schemars(range(min = 1, max = 86_400))]
    provision_timeout_secs: Option<u64>,
    /// How long an accepted device move may take to show (default 300).
    #[schemars(range(min = 1, max = 86_400))]
    move_timeout_secs: Option<u64>,
    /// Timeout of one request (default 30).
    #[schemars(range(min = 1, max = 600))]
    request_timeout_secs: Option<u64>,
}

/// Aruba's OAuth refresh flow: every value by reference.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ArubaOAuth {
    client_id: SecretRef,
    client_secret: SecretRef,
    refresh_token: SecretRef,
    /// A current access token (optional).
    access_token: Option<SecretRef>,
}

/// The Aruba part of a customer.
#[derive(JsonSchema)]
#[schemars(rename = "ArubaCustomer", deny_unknown_fields)]
#[allow(dead_code)]
pub struct CustomerKeys {
    /// ISO 3166-1 alpha-2 country code, e.g. "US" (required).
    #[schemars(regex(pattern = "^[A-Za-z]{2}$"))]
    country: String,
    /// The customer's postal address (required).
    address: ArubaAddress,
    /// An existing MSP group (optional).
    #[schemars(length(min = 1))]
    group: Option<String>,
    description: Option<String>,
    /// Lock the MSP's SSIDs in the customer (default false).
    lock_msp_ssids: Option<bool>,
    /// Auto-licence for devices moved in; licences it adds are kept, not required.
    #[schemars(extend("uniqueItems" = true))]
    auto_license: Option<Vec<NonEmpty>>,
}

/// An Aruba customer's postal address.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ArubaAddress {
    #[schemars(length(min = 1))]
    street: String,
    #[schemars(length(min = 1))]
    city: String,
    #[schemars(length(min = 1))]
    state: String,
    #[schemars(length(min = 1))]
    zip: String,
}

#[cfg(test)]
mod tests {
    use super::super::Aruba;
    use super::super::config::{ADDRESS_KEYS, OAUTH_KEYS};
    use super::*;
    use crate::config::{assert_mirror, assert_vendor_mirrors};

    #[test]
    fn the_mirrors_have_exactly_the_keys_config_accepts() {
        assert_vendor_mirrors::<Aruba>();
        assert_mirror::<ArubaOAuth>(OAUTH_KEYS);
        assert_mirror::<ArubaAddress>(ADDRESS_KEYS);
    }
}
