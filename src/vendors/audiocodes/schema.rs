//! The JSON Schema mirror of AudioCodes Live Platform's configuration keys
//! (`mspform schema`): the provider table's keys beyond
//! `type`/`base_url`/`ownership`, and the vendor's part of a customer (an
//! Essentials customer). Schema only; `config.rs` parses and checks the field
//! rules. A test holds the property names equal to the keys `config.rs` accepts.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::config::{CUSTOMER_TYPES, SCRIPT_PARAMETERS};
use super::model::PASSWORD_PARAMETER;
use crate::config::SecretRef;

/// AudioCodes Live Platform: Microsoft Entra client credentials (`oauth`), or
/// a static bearer `token`.
#[derive(JsonSchema)]
#[schemars(
    rename = "AudiocodesLiveProvider",
    deny_unknown_fields,
    extend("oneOf" = [{ "required": ["token"] }, { "required": ["oauth"] }])
)]
#[allow(dead_code)]
pub struct ProviderKeys {
    /// A static bearer token (or `oauth`, not both).
    token: Option<SecretRef>,
    /// The client credentials of the "LiveCloud-APIToken" app registration.
    oauth: Option<AudiocodesOAuth>,
    /// Client-side call limit (default 10).
    #[schemars(range(min = 1, max = 1000))]
    calls_per_second: Option<u64>,
    /// How long a customer create may take (default 300).
    #[schemars(range(min = 1, max = 3600))]
    create_timeout_secs: Option<u64>,
    /// Timeout of one request (default 30).
    #[schemars(range(min = 1, max = 600))]
    request_timeout_secs: Option<u64>,
}

/// Microsoft Entra ID client credentials.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AudiocodesOAuth {
    /// The directory (tenant) id of the app registration, or its domain.
    #[schemars(regex(pattern = r"^[^/\s?#]+$"))]
    tenant_id: String,
    client_id: SecretRef,
    client_secret: SecretRef,
    /// The API's id followed by `/.default`, e.g. "api://<LiveCloud app id>/.default".
    #[schemars(regex(pattern = r"^\S*/\.default$"))]
    scope: String,
    /// The token endpoint (default Microsoft's; `{tenant_id}` in it is replaced).
    #[schemars(regex(pattern = r"^https?://\S*$"))]
    token_url: Option<String>,
}

/// The AudioCodes part of a customer (an Essentials customer). AudioCodes has
/// no update call: a changed field replaces the customer.
#[derive(JsonSchema)]
#[schemars(rename = "AudiocodesLiveCustomer", deny_unknown_fields)]
#[allow(dead_code)]
pub struct CustomerKeys {
    /// 3-15 characters, no spaces, dots or \ / : * ? " < > | (required; unique per provider, ignoring case).
    #[schemars(regex(pattern = r#"^[^\\/:*?"<>|.\s]{3,15}$"#))]
    short_name: String,
    /// `IPGROUP_TYPE` or `TENANT_TYPE` (required).
    #[schemars(schema_with = "customer_type")]
    customer_type: String,
    /// The customer's Microsoft Entra tenant id, a GUID (required for TENANT_TYPE).
    #[schemars(regex(
        pattern = "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
    ))]
    ms_tenant_id: Option<String>,
    #[schemars(length(min = 1))]
    channel_id: Option<String>,
    #[schemars(length(min = 1))]
    lc_customer_id: Option<String>,
    /// The SBC site and its scripts (required).
    site: AudiocodesSite,
    /// Parameters of the onboarding script: a string, or `{ env = … }` /
    /// `{ file = … }` for a secret (CarrierUserPassword only by reference).
    #[schemars(schema_with = "script_parameters")]
    script_parameters: Option<()>,
}

/// An AudioCodes customer's SBC site.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AudiocodesSite {
    #[schemars(range(min = 0, max = 2_147_483_647))]
    sbc_id: u64,
    #[schemars(range(min = 0, max = 2_147_483_647))]
    onboarding_script: u64,
    #[schemars(range(min = 0, max = 2_147_483_647))]
    cleanup_script: u64,
}

fn customer_type(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "enum": CUSTOMER_TYPES })
}

/// The documented parameter names (the password by reference only), and the
/// numbered `CustomVar.Variable<N>` (quoted, or as a dotted key) and
/// `additionalProp<N>`.
fn script_parameters(generator: &mut SchemaGenerator) -> Schema {
    let secret = generator.subschema_for::<SecretRef>();
    let value = json_schema!({ "anyOf": [{ "type": "string", "minLength": 1 }, secret] });
    let names: Vec<&str> = SCRIPT_PARAMETERS
        .iter()
        .copied()
        .filter(|n| *n != PASSWORD_PARAMETER)
        .collect();
    json_schema!({
        "type": "object",
        "properties": {
            PASSWORD_PARAMETER: secret,
            "CustomVar": {
                "description": "`CustomVar.Variable<N>` written as a dotted key.",
                "type": "object",
                "propertyNames": { "pattern": "^Variable[0-9]+$" },
                "additionalProperties": value,
            },
        },
        "patternProperties": {
            format!("^({})$", names.join("|")): value,
            r"^CustomVar\.Variable[0-9]+$": value,
            "^additionalProp[0-9]+$": value,
        },
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Audiocodes;
    use super::super::config::{OAUTH_KEYS, SITE_KEYS};
    use super::*;
    use crate::config::{assert_mirror, assert_vendor_mirrors};

    #[test]
    fn the_mirrors_have_exactly_the_keys_config_accepts() {
        assert_vendor_mirrors::<Audiocodes>();
        assert_mirror::<AudiocodesOAuth>(OAUTH_KEYS);
        assert_mirror::<AudiocodesSite>(SITE_KEYS);
    }
}
