//! The JSON Schema mirror of ExtremeCloud's configuration keys (`mspform
//! schema`): the provider table's keys beyond `type`/`base_url`/`ownership`,
//! and the vendor's part of a customer (a tenant). Schema only; `config.rs`
//! parses and checks the field rules. A test holds the property names equal
//! to the keys `config.rs` accepts.

use schemars::JsonSchema;

use crate::config::SecretRef;

/// ExtremeCloud MSP: the password grant of an MSP Power Admin, or a static token.
#[derive(JsonSchema)]
#[schemars(
    rename = "ExtremeCloudProvider",
    deny_unknown_fields,
    extend("oneOf" = [{ "required": ["token"] }, { "required": ["login"] }])
)]
#[allow(dead_code)]
pub struct ProviderKeys {
    /// A static token (or `login`, not both).
    token: Option<SecretRef>,
    /// The password grant; mspform logs in again when the token expires.
    login: Option<ExtremeLogin>,
    /// Path prefix of the MSP resources (default "/v1"; "" for the root).
    msp_prefix: Option<String>,
    /// The token path, or a full https:// URL (default "/management/v1/oauth2/token").
    #[schemars(length(min = 1))]
    token_path: Option<String>,
    /// The MSP's own id (optional).
    #[schemars(length(min = 1))]
    msp_id: Option<String>,
    /// Client-side call limit (default 10).
    #[schemars(range(min = 1, max = 1000))]
    calls_per_second: Option<u64>,
    /// Timeout of one request (default 30).
    #[schemars(range(min = 1, max = 600))]
    request_timeout_secs: Option<u64>,
}

/// ExtremeCloud's password grant.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ExtremeLogin {
    /// The MSP Power Admin's user id.
    #[schemars(length(min = 1))]
    user: String,
    password: SecretRef,
    /// The OAuth scope to ask for (optional).
    scope: Option<String>,
}

/// The ExtremeCloud part of a customer (a tenant).
#[derive(JsonSchema)]
#[schemars(rename = "ExtremeCloudCustomer", deny_unknown_fields)]
#[allow(dead_code)]
pub struct CustomerKeys {
    /// ISO 3166-1 alpha-2 country code, e.g. "NL" (required).
    #[schemars(regex(pattern = "^[A-Za-z]{2}$"))]
    country: String,
    /// An IANA time zone name, e.g. "Europe/Amsterdam" (required).
    #[schemars(length(min = 1))]
    time_zone: String,
    /// The tenant's contact (optional).
    contact: Option<ExtremeContact>,
    /// The tenant's first power admin; sent on create only (required).
    admin_user: String,
}

/// An ExtremeCloud tenant's contact.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ExtremeContact {
    email: String,
    name: String,
    phone: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::ExtremeCloud;
    use super::super::config::{CONTACT_KEYS, LOGIN_KEYS};
    use super::*;
    use crate::config::{assert_mirror, assert_vendor_mirrors};

    #[test]
    fn the_mirrors_have_exactly_the_keys_config_accepts() {
        assert_vendor_mirrors::<ExtremeCloud>();
        assert_mirror::<ExtremeLogin>(LOGIN_KEYS);
        assert_mirror::<ExtremeContact>(CONTACT_KEYS);
    }
}
