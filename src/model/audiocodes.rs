//! AudioCodes Live Platform settings and Essentials customer fields.

use std::collections::BTreeMap;

use super::SecretRef;

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
