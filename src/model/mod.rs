//! The validated desired state: what the TOML files declare, after every check.
//! Pure data: no I/O, no TOML, no HTTP. `config` builds it; `diff` reads it.
//! Names no vendor: a provider's own settings and its customers' vendor parts
//! live behind [`ProviderConfig::spec`], typed in the vendor's folder.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::vendor::VendorInfo;
use crate::vendor::config::ProviderSpec;

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
    /// Dotted key path of the reference, e.g. `providers.<key>.token`.
    pub key: String,
    /// The vendor's rule for the value, checked once the secret is read (e.g. a
    /// password parameter's length limit).
    pub rule: Option<SecretRule>,
    /// The value the embedded simulator accepts here (what `demo` supplies).
    pub demo: Option<&'static str>,
}

/// A vendor's rule for a secret's value: `Err` says what is wrong, never the value.
#[derive(Clone, Copy)]
pub struct SecretRule {
    /// What the value fills, for messages (e.g. `CarrierUserPassword`).
    pub name: &'static str,
    pub check: fn(&str) -> Result<(), String>,
}

impl fmt::Debug for SecretRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretRule({})", self.name)
    }
}

impl PartialEq for SecretRule {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for SecretRule {}

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

/// `[providers.<key>]`: one vendor account.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The key in `[providers.<key>]`.
    pub key: String,
    pub base_url: String,
    pub ownership: Ownership,
    /// The vendor's typed settings and customers, and how to connect.
    pub spec: Arc<dyn ProviderSpec>,
}

impl ProviderConfig {
    pub fn info(&self) -> &'static VendorInfo {
        self.spec.info()
    }

    /// `type = "…"`.
    pub fn type_name(&self) -> &'static str {
        self.info().type_name
    }
}

/// `[customers.<key>]`: what every vendor's customer has. The vendor's own
/// keys are in its provider's spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    /// The key in `[customers.<key>]`: the stable address `customer.<key>`.
    pub key: String,
    pub provider: String,
    /// The name the vendor shows.
    pub name: String,
    /// Sites by key (`site.<customer>/<site>`), for vendors that have sites.
    pub sites: BTreeMap<String, Site>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteAddress {
    pub street: String,
    pub city: String,
    pub state: String,
    /// The full country name, e.g. "United States".
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
/// manages. Customers the files do not declare are left where they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    /// The key in `[partners.<key>]`: the stable address `partner.<key>`.
    pub key: String,
    pub provider: String,
    /// The partner's account name at the vendor (how it is found).
    pub name: String,
    /// The partner's role, for vendors whose partners have roles.
    pub role: Option<String>,
    /// Customer keys, sorted and unique.
    pub customers: Vec<String>,
}

/// `[safety]`: when apply refuses a plan as a bulk change (see `plan::bulk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkThreshold {
    /// Deletes and replacements above this share (in percent) of the objects of
    /// one kind a provider owns are a bulk change.
    pub percent: u32,
    /// ... when the provider owns at least this many of them.
    pub minimum: usize,
}

impl Default for BulkThreshold {
    fn default() -> Self {
        BulkThreshold {
            percent: 30,
            minimum: 10,
        }
    }
}

/// `[[ignore]]`: drift `drift` counts but does not report.
#[derive(Debug, Clone)]
pub struct IgnoreRule {
    /// The address glob (`customer.acme-*`).
    pub address: crate::address::AddressGlob,
    /// The fields it covers; empty: every field (and the object's own drift:
    /// a delete, create or forget).
    pub fields: Vec<String>,
    pub reason: String,
    /// The last day it applies (UTC), as days since 1970-01-01.
    pub until: Option<i64>,
    /// Where the files declare it (`file:line:column`).
    pub place: String,
}

impl IgnoreRule {
    /// Whether it applies on `day` (days since 1970-01-01, UTC).
    pub fn active_on(&self, day: i64) -> bool {
        self.until.is_none_or(|until| day <= until)
    }
}

/// The whole validated desired state.
#[derive(Debug, Clone, Default)]
pub struct Desired {
    pub providers: BTreeMap<String, ProviderConfig>,
    pub customers: BTreeMap<String, Customer>,
    pub devices: BTreeMap<String, Device>,
    pub partners: BTreeMap<String, Partner>,
    /// Customers and partners declared `protect = true`, with where (`file:line:column`).
    pub protected: BTreeMap<crate::address::Address, String>,
    /// `[[ignore]]` rules, in file order.
    pub ignore: Vec<IgnoreRule>,
    /// `[safety]`.
    pub bulk: BulkThreshold,
    /// Every secret reference of the files, with its place, in load order. The
    /// loader fills it; a `Desired` built in code may leave it empty.
    pub secrets: Vec<SecretUse>,
}

impl Desired {
    pub fn customer(&self, key: &str) -> Option<&Customer> {
        self.customers.get(key)
    }

    /// The typed configuration of provider `key` when it is of vendor `V`; for
    /// tests and tools that look inside one vendor (the engine never does).
    pub fn spec<V: crate::vendor::Vendor>(&self, key: &str) -> Option<&crate::vendor::Spec<V>> {
        self.providers.get(key)?.spec.as_any().downcast_ref()
    }

    /// Changes the typed configuration of every provider of vendor `V` (tests
    /// and tools; e.g. a faster poll interval against the simulator).
    pub fn edit_specs<V: crate::vendor::Vendor>(
        &mut self,
        mut f: impl FnMut(&mut crate::vendor::Spec<V>),
    ) {
        for p in self.providers.values_mut() {
            if let Some(spec) = p.spec.as_any().downcast_ref::<crate::vendor::Spec<V>>() {
                let mut spec = spec.clone();
                f(&mut spec);
                p.spec = Arc::new(spec);
            }
        }
    }
}
