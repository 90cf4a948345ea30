//! AudioCodes Live Platform settings and Essentials customer fields.

use std::collections::BTreeMap;

use crate::model::SecretRef;

/// How mspform gets an AudioCodes Live Platform bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudiocodesAuth {
    /// A static bearer token.
    Token(SecretRef),
    /// Microsoft Entra ID client credentials against the provider's directory.
    ClientCredentials {
        /// The provider's Entra tenant id (a path part of the token URL).
        tenant_id: String,
        client_id: SecretRef,
        client_secret: SecretRef,
        /// `api://<LiveCloud app id>/.default`.
        scope: String,
        /// Token URL; `{tenant_id}` is replaced. Default: Microsoft's.
        token_url: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct AudiocodesSettings {
    pub auth: AudiocodesAuth,
    /// Client-side call budget per second (the vendor documents none).
    pub calls_per_second: u32,
    /// Customer create is synchronous and slow (SBC onboarding): allow this long.
    pub create_timeout_secs: u64,
    pub request_timeout_secs: u64,
}

impl AudiocodesSettings {
    pub fn new(auth: AudiocodesAuth) -> Self {
        AudiocodesSettings {
            auth,
            calls_per_second: 10,
            create_timeout_secs: 300,
            request_timeout_secs: 30,
        }
    }
}

/// A script parameter: a plain value, or a secret read from the environment or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptParam {
    Value(String),
    Secret(SecretRef),
}

/// The customer's one SBC site location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudiocodesSite {
    pub sbc_id: u64,
    pub onboarding_script: u64,
    pub cleanup_script: u64,
}

/// An AudioCodes Essentials customer (service). `Customer::name` is `fullName`.
/// There is no documented update call: a change to any of these is a replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudiocodesCustomer {
    /// 3–15 characters, none of `\ / : * ? " < > |`, no `.`, no spaces.
    pub short_name: String,
    /// `IPGROUP_TYPE` or `TENANT_TYPE` (`ovocCustomerType`).
    pub customer_type: String,
    pub ms_tenant_id: Option<String>,
    pub channel_id: Option<String>,
    pub lc_customer_id: Option<String>,
    pub site: AudiocodesSite,
    /// By the vendor's spelling (`CacProfile`, `ProxySet`, `CarrierUserPassword`, …).
    pub script_parameters: BTreeMap<String, ScriptParam>,
}

/// The script parameter that is only ever given by reference.
pub const PASSWORD_PARAMETER: &str = "CarrierUserPassword";
pub const MAX_PASSWORD_CHARS: usize = 50;
pub const MAX_USER_NAME_CHARS: usize = 60;

/// The script parameter secrets are checked once resolved (at apply time):
/// the vendor's limits on the digest password. The message never holds the value.
pub fn check_resolved_parameter(name: &str, value: &str) -> Result<(), String> {
    if name == PASSWORD_PARAMETER {
        let chars = value.chars().count();
        if chars > MAX_PASSWORD_CHARS {
            return Err(format!(
                "{name} is {chars} characters long; AudioCodes takes at most {MAX_PASSWORD_CHARS}"
            ));
        }
        if !value.is_ascii() {
            return Err(format!(
                "{name} holds wide (non-ASCII) characters, which AudioCodes does not accept"
            ));
        }
    }
    if name == "CarrierUserName" && value.chars().count() > MAX_USER_NAME_CHARS {
        return Err(format!(
            "{name} is {} characters long; the limit is {MAX_USER_NAME_CHARS}",
            value.chars().count()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_password_limits_never_echo_the_value() {
        let long = "x".repeat(51);
        let err = check_resolved_parameter(PASSWORD_PARAMETER, &long).unwrap_err();
        assert!(err.contains("51") && !err.contains(&long));
        let err = check_resolved_parameter(PASSWORD_PARAMETER, "pässwörd").unwrap_err();
        assert!(err.contains("wide") && !err.contains("pässwörd"));
        assert!(check_resolved_parameter(PASSWORD_PARAMETER, &"x".repeat(50)).is_ok());
        assert!(check_resolved_parameter("CacProfile", "über").is_ok());
    }
}
