//! The validated desired state: what the TOML files declare, after every check.
//! Pure data: no I/O, no TOML, no HTTP. `config` builds it; `diff` reads it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

mod audiocodes;
mod extreme;
mod ruckus;

pub use audiocodes::{
    AudiocodesAuth, AudiocodesCustomer, AudiocodesSettings, AudiocodesSite, MAX_PASSWORD_CHARS,
    MAX_USER_NAME_CHARS, PASSWORD_PARAMETER, ScriptParam, check_resolved_parameter,
};
pub use extreme::{ExtremeAuth, ExtremeContact, ExtremeCustomer, ExtremeSettings};
pub use ruckus::{
    RuckusAddress, RuckusAdmin, RuckusAuth, RuckusCustomer, RuckusSettings, parse_day,
};

/// Where a secret comes from. Secrets are never written inline in TOML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretRef {
    /// The value of an environment variable.
    Env(String),
    /// The trimmed contents of a file.
    File(PathBuf),
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env(name) => write!(f, "environment variable {name}"),
            SecretRef::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

/// A secret reference and the place the configuration makes it, so that a
/// secret that is missing is reported there before any vendor call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretUse {
    pub reference: SecretRef,
    pub file: PathBuf,
    /// 1-based line and column (in characters) of the reference.
    pub line: usize,
    pub column: usize,
    /// Dotted key path of the reference, e.g. `providers.aruba.token`.
    pub key: String,
    /// The AudioCodes script parameter the secret fills: its value rules apply
    /// once the secret is read (e.g. `CarrierUserPassword`, at most 50 characters).
    pub parameter: Option<String>,
}

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

/// Who owns the live objects of a provider account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ownership {
    /// Only objects mspform created or adopted may be deleted (default).
    #[default]
    Owned,
    /// mspform owns the whole account: undeclared objects are deleted.
    Exclusive,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProviderKind {
    ArubaCentral(ArubaSettings),
    ExtremeCloud(ExtremeSettings),
    RuckusOne(RuckusSettings),
    AudiocodesLive(AudiocodesSettings),
}

impl ProviderKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            ProviderKind::ArubaCentral(_) => "aruba-central",
            ProviderKind::ExtremeCloud(_) => "extremecloud",
            ProviderKind::RuckusOne(_) => "ruckus-one",
            ProviderKind::AudiocodesLive(_) => "audiocodes-live",
        }
    }
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
    /// How long to wait for an accepted device move to show in the device lists, in seconds.
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

#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    /// The key in `[providers.<key>]`.
    pub key: String,
    pub base_url: String,
    pub ownership: Ownership,
    pub kind: ProviderKind,
}

/// A postal address of a customer (Aruba: street_address, city, state, zip_postal_code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerAddress {
    pub street: String,
    pub city: String,
    pub state: String,
    pub zip: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    /// The key in `[customers.<key>]`: the stable address `customer.<key>`.
    pub key: String,
    pub provider: String,
    /// The name the vendor shows (Aruba customer_name, ExtremeCloud accountName,
    /// RUCKUS One name, AudioCodes full name).
    pub name: String,
    /// What only one vendor knows about a customer.
    pub spec: CustomerSpec,
}

/// The vendor-specific part of a customer: one variant per provider type.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomerSpec {
    Aruba(ArubaCustomer),
    Extreme(ExtremeCustomer),
    Ruckus(RuckusCustomer),
    Audiocodes(AudiocodesCustomer),
}

impl Customer {
    pub fn aruba(&self) -> Option<&ArubaCustomer> {
        match &self.spec {
            CustomerSpec::Aruba(a) => Some(a),
            _ => None,
        }
    }

    /// Sites by key (only Aruba customers have sites).
    pub fn sites(&self) -> Option<&BTreeMap<String, Site>> {
        self.aruba().map(|a| &a.sites)
    }
}

/// An Aruba Central customer.
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
    /// Sites by key (`site.<customer>/<site>`).
    pub sites: BTreeMap<String, Site>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteAddress {
    pub street: String,
    pub city: String,
    pub state: String,
    /// Full country name as Aruba stores it, e.g. "United States".
    pub country: String,
    pub zip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteLocation {
    Address(SiteAddress),
    Geolocation { latitude: f64, longitude: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub key: String,
    pub customer: String,
    pub name: String,
    pub location: SiteLocation,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// Serial number, as the vendor writes it: the stable address `device.<serial>`.
    pub serial: String,
    /// MAC address normalised to upper case `AA:BB:CC:DD:EE:FF`.
    pub mac: String,
    /// Customer key.
    pub customer: String,
    /// Site key within the customer.
    pub site: Option<String>,
    /// Licence services. Sorted, unique.
    pub licenses: Vec<String>,
}

/// `[partners.<key>]`: the exact set of declared customers a partner account
/// (ExtremeCloud partner, RUCKUS One tech partner) manages. Customers the files
/// do not declare are left where they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    /// The key in `[partners.<key>]`: the stable address `partner.<key>`.
    pub key: String,
    pub provider: String,
    /// The partner's account name at the vendor (how it is found).
    pub name: String,
    /// RUCKUS One only: `integrator` or `installer`.
    pub role: Option<PartnerRole>,
    /// Customer keys, sorted and unique.
    pub customers: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerRole {
    Integrator,
    Installer,
}

impl PartnerRole {
    /// RUCKUS One's tenant type / delegation type name.
    pub fn vendor_name(self) -> &'static str {
        match self {
            PartnerRole::Integrator => "MSP_INTEGRATOR",
            PartnerRole::Installer => "MSP_INSTALLER",
        }
    }
}

/// The whole validated desired state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Desired {
    pub providers: BTreeMap<String, Provider>,
    pub customers: BTreeMap<String, Customer>,
    pub devices: BTreeMap<String, Device>,
    pub partners: BTreeMap<String, Partner>,
    /// Every secret reference of the files, with its place, in load order. The
    /// loader fills it; a `Desired` built in code may leave it empty.
    pub secrets: Vec<SecretUse>,
}

impl Desired {
    pub fn customer(&self, key: &str) -> Option<&Customer> {
        self.customers.get(key)
    }
}
