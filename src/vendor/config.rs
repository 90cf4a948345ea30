//! How a vendor's configuration schema reaches the loader without the loader
//! naming it: the registry hands `config` one [`Schema`] per vendor; a schema
//! parses a `[providers.<key>]` table into a [`Builder`] that keeps the typed
//! settings and parses that provider's customers, and the finished builder is a
//! [`ProviderSpec`] — the typed [`Spec`] behind a trait object that can connect
//! itself. Errors go to the loader's sink with file, line, column and key.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::RangeInclusive;
use std::sync::Arc;

use super::{Adapter, Provider, ProviderError, Vendor, VendorInfo};
use crate::config::{Node, Sink, Table, normalize_country};
use crate::state::StateStore;

/// One provider's typed configuration: its settings and its customers' vendor parts.
pub struct Spec<V: Vendor> {
    pub settings: V::Settings,
    /// Customer key → the vendor's part of that customer.
    pub customers: BTreeMap<String, V::Customer>,
}

impl<V: Vendor> Clone for Spec<V> {
    fn clone(&self) -> Self {
        Spec {
            settings: self.settings.clone(),
            customers: self.customers.clone(),
        }
    }
}

impl<V: Vendor> fmt::Debug for Spec<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(V::INFO.type_name)
            .field("settings", &self.settings)
            .field("customers", &self.customers)
            .finish()
    }
}

/// A `[providers.<key>]` table handed to a vendor's settings parser.
pub struct ProviderInput<'a> {
    pub key: &'a str,
    /// The `[providers.<key>]` entry (for errors at its key).
    pub node: &'a Node<'a>,
    pub table: &'a Table<'a>,
}

/// A `[customers.<key>]` table handed to a vendor's customer parser.
#[derive(Clone)]
pub struct CustomerInput<'a> {
    pub key: &'a str,
    /// The provider key it names.
    pub provider: &'a str,
    pub node: Node<'a>,
    pub table: Table<'a>,
    /// The `name` entry and its value, when it is a valid name (otherwise the
    /// loader reported it, and the vendor's own keys are still checked).
    pub name: Option<Node<'a>>,
    pub name_value: Option<&'a str>,
}

impl ProviderInput<'_> {
    /// An optional whole-number setting: `None` when absent, or when it is not
    /// a whole number in `range` (reported at its place).
    pub fn number(&self, sink: &mut Sink, key: &str, range: RangeInclusive<i64>) -> Option<u64> {
        let value = self.table.get(key)?.integer_in(sink, range)?;
        u64::try_from(value).ok()
    }
}

impl CustomerInput<'_> {
    /// Reports a name longer than `max` characters at the name; `limit` says
    /// whose limit it is (e.g. "the limit is 128").
    pub fn check_name_length(&self, max: usize, limit: &str, sink: &mut Sink) {
        if let (Some(node), Some(name)) = (&self.name, self.name_value) {
            let chars = name.chars().count();
            if chars > max {
                node.error(
                    sink,
                    format!("the name is {chars} characters long; {limit}"),
                    Some("shorten the name".to_string()),
                );
            }
        }
    }
}

/// Two keys of which a table must give exactly one (credentials: `token` or
/// `oauth`). Both is an error at the later of the two, neither an error at the
/// table's own key with the `missing` message; each help says what to write.
pub struct OneOf<'k> {
    pub keys: [&'k str; 2],
    pub missing: &'k str,
    pub help_both: String,
    pub help_missing: String,
}

impl<'k> OneOf<'k> {
    /// The key given, and its entry.
    pub fn pick<'a>(
        self,
        parent: &Node<'a>,
        table: &Table<'a>,
        sink: &mut Sink,
    ) -> Option<(&'k str, Node<'a>)> {
        let [first, second] = self.keys;
        match (table.get(first), table.get(second)) {
            (Some(a), Some(b)) => {
                let later = if b.position() > a.position() { b } else { a };
                later.error_at_key(
                    sink,
                    format!("give either `{first}` or `{second}`, not both"),
                    Some(self.help_both),
                );
                None
            }
            (None, None) => {
                parent.error_at_key(sink, self.missing, Some(self.help_missing));
                None
            }
            (Some(a), None) => Some((first, a)),
            (None, Some(b)) => Some((second, b)),
        }
    }
}

/// An ISO 3166-1 alpha-2 country code (a country name is refused with the code to write).
pub fn country_code(node: &Node<'_>, sink: &mut Sink) -> Option<String> {
    let value = node.string(sink)?;
    match normalize_country(value) {
        Ok(code) => Some(code.to_string()),
        Err(help) => {
            node.error(
                sink,
                format!("`{value}` is not an ISO 3166-1 alpha-2 country code"),
                Some(help),
            );
            None
        }
    }
}

/// One vendor's configuration schema, as the loader sees it.
pub trait Schema: Send + Sync {
    fn info(&self) -> &'static VendorInfo;
    fn provider_keys(&self) -> &'static [&'static str];
    fn customer_keys(&self) -> &'static [&'static str];
    /// The JSON Schema of the provider table's vendor keys (`mspform schema`).
    fn provider_json_schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema;
    /// The JSON Schema of the vendor's part of a customer table.
    fn customer_json_schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema;
    /// Parses the provider's own keys (the loader checked unknown keys). The
    /// builder is returned even when they have errors, so that this provider's
    /// customers are still checked against the right schema.
    fn provider<'a>(&self, input: &ProviderInput<'_>, sink: &mut Sink)
    -> Box<dyn Builder<'a> + 'a>;
}

/// A parsed provider collecting its customers.
pub trait Builder<'a> {
    fn info(&self) -> &'static VendorInfo;
    /// Licence names devices of this provider may use (`None`: not checked).
    fn license_names(&self) -> Option<Vec<String>>;
    /// Parses the vendor's part of one customer; false when it has errors.
    fn customer(&mut self, input: CustomerInput<'a>, sink: &mut Sink) -> bool;
    /// Runs the checks across customers and returns the finished provider
    /// (`None` when its own settings had errors).
    fn finish(self: Box<Self>, sink: &mut Sink) -> Option<Arc<dyn ProviderSpec>>;
}

/// A finished provider configuration, vendor type hidden.
pub trait ProviderSpec: fmt::Debug + Send + Sync {
    fn info(&self) -> &'static VendorInfo;
    /// Builds the client (reads its credentials; makes no call).
    fn connect(
        self: Arc<Self>,
        key: &str,
        base_url: &str,
        store: Arc<dyn StateStore>,
    ) -> Result<Arc<dyn Provider>, ProviderError>;
    /// The same configuration with the URLs in its settings rewritten by `map`.
    fn repointed(&self, map: &dyn Fn(&str) -> String) -> Arc<dyn ProviderSpec>;
    /// For [`crate::model::Desired::spec`] (tests and tools): the engine never
    /// recovers a vendor type this way.
    fn as_any(&self) -> &dyn Any;
}

/// The [`Schema`] of vendor `V`; the registry lists one per vendor.
pub struct SchemaOf<V>(PhantomData<fn() -> V>);

impl<V> SchemaOf<V> {
    pub const fn new() -> Self {
        SchemaOf(PhantomData)
    }
}

impl<V> Default for SchemaOf<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Vendor> Schema for SchemaOf<V> {
    fn info(&self) -> &'static VendorInfo {
        &V::INFO
    }
    fn provider_keys(&self) -> &'static [&'static str] {
        V::PROVIDER_KEYS
    }
    fn customer_keys(&self) -> &'static [&'static str] {
        V::CUSTOMER_KEYS
    }
    fn provider_json_schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <V::ProviderSchema as schemars::JsonSchema>::json_schema(generator)
    }
    fn customer_json_schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <V::CustomerSchema as schemars::JsonSchema>::json_schema(generator)
    }
    fn provider<'a>(
        &self,
        input: &ProviderInput<'_>,
        sink: &mut Sink,
    ) -> Box<dyn Builder<'a> + 'a> {
        let settings = V::settings(input, sink);
        Box::new(TypedBuilder::<V> {
            settings,
            customers: Vec::new(),
        })
    }
}

struct TypedBuilder<'a, V: Vendor> {
    settings: Option<V::Settings>,
    customers: Vec<(CustomerInput<'a>, V::Customer)>,
}

impl<'a, V: Vendor> Builder<'a> for TypedBuilder<'a, V> {
    fn info(&self) -> &'static VendorInfo {
        &V::INFO
    }
    fn license_names(&self) -> Option<Vec<String>> {
        V::license_names(self.settings.as_ref()?)
    }
    fn customer(&mut self, input: CustomerInput<'a>, sink: &mut Sink) -> bool {
        match V::customer(self.settings.as_ref(), &input, sink) {
            Some(c) => {
                self.customers.push((input, c));
                true
            }
            None => false,
        }
    }
    fn finish(self: Box<Self>, sink: &mut Sink) -> Option<Arc<dyn ProviderSpec>> {
        let all: Vec<(&CustomerInput<'a>, &V::Customer)> =
            self.customers.iter().map(|(i, c)| (i, c)).collect();
        V::check_customers(&all, sink);
        let customers = self
            .customers
            .into_iter()
            .map(|(input, c)| (input.key.to_string(), c))
            .collect();
        Some(Arc::new(Spec::<V> {
            settings: self.settings?,
            customers,
        }))
    }
}

impl<V: Vendor> ProviderSpec for Spec<V> {
    fn info(&self) -> &'static VendorInfo {
        &V::INFO
    }
    fn connect(
        self: Arc<Self>,
        key: &str,
        base_url: &str,
        store: Arc<dyn StateStore>,
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        let client = V::connect(key, base_url, &self, store)?;
        Ok(Arc::new(Adapter::<V>::new(key, self, client)))
    }
    fn repointed(&self, map: &dyn Fn(&str) -> String) -> Arc<dyn ProviderSpec> {
        let mut spec = self.clone();
        V::repoint(&mut spec.settings, map);
        Arc::new(spec)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
