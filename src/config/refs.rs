//! What customers and devices may refer to: the defined providers, customers and
//! sites, read from the merged tables before validation so that an invalid
//! definition does not also make every reference to it "missing".

use std::collections::{BTreeMap, BTreeSet};

use toml::de::DeValue;

use super::merge::Merged;
use super::source::{Node, Sink};
use super::text::{did_you_mean, list};
use crate::vendor::VendorInfo;

pub(super) struct CustomerFacts {
    pub provider: Option<String>,
    /// Site keys; `None` when `sites` is not a table.
    pub sites: Option<BTreeSet<String>>,
}

/// What is known of a defined provider.
pub(super) struct ProviderFacts {
    /// Its vendor, when its type is known (otherwise nothing of it is checked).
    pub info: Option<&'static VendorInfo>,
    /// Licence names devices may use, when the provider lists them.
    pub licenses: Option<Vec<String>>,
}

pub(super) struct Refs {
    /// False when a file could not be read or parsed: then a missing reference
    /// may live in that file, and is not reported.
    pub complete: bool,
    pub providers: BTreeMap<String, ProviderFacts>,
    pub customers: BTreeMap<String, CustomerFacts>,
}

impl Refs {
    pub fn new(
        merged: &Merged<'_>,
        providers: BTreeMap<String, ProviderFacts>,
        complete: bool,
    ) -> Self {
        let customers = merged
            .customers
            .iter()
            .map(|(key, node)| {
                let table = match node.value.get_ref() {
                    DeValue::Table(t) => Some(t),
                    _ => None,
                };
                let provider = table
                    .and_then(|t| t.get("provider"))
                    .and_then(|v| v.get_ref().as_str())
                    .map(str::to_string);
                let sites = match table.map(|t| t.get("sites")) {
                    // No sites table: no sites.
                    Some(None) => Some(BTreeSet::new()),
                    Some(Some(v)) => v
                        .get_ref()
                        .as_table()
                        .map(|t| t.keys().map(|k| k.get_ref().to_string()).collect()),
                    None => None,
                };
                (key.clone(), CustomerFacts { provider, sites })
            })
            .collect();
        Refs {
            complete,
            providers,
            customers,
        }
    }

    /// The vendor of a provider, when it is defined with a known type.
    pub fn provider_info(&self, provider: &str) -> Option<&'static VendorInfo> {
        self.providers.get(provider)?.info
    }

    /// The vendor of a customer's provider, when known.
    pub fn customer_info(&self, customer: &str) -> Option<&'static VendorInfo> {
        let provider = self.customers.get(customer)?.provider.as_deref()?;
        self.provider_info(provider)
    }

    /// Reports a reference to an undefined provider; true when it is defined.
    pub fn check_provider(&self, node: &Node<'_>, name: &str, sink: &mut Sink) -> bool {
        if self.providers.contains_key(name) {
            return true;
        }
        if self.complete {
            let defined = self.providers.keys().map(String::as_str);
            node.error(
                sink,
                format!("provider `{name}` is not defined"),
                Some(format!(
                    "{}defined providers: {}; or add a [providers.{name}] table",
                    did_you_mean(name, defined.clone()),
                    list(defined)
                )),
            );
        }
        false
    }

    /// Reports a reference to an undefined customer; true when it is defined.
    pub fn check_customer(&self, node: &Node<'_>, name: &str, sink: &mut Sink) -> bool {
        if self.customers.contains_key(name) {
            return true;
        }
        if self.complete {
            let defined = self.customers.keys().map(String::as_str);
            node.error(
                sink,
                format!("customer `{name}` is not defined"),
                Some(format!(
                    "{}defined customers: {}; or add a [customers.{name}] table",
                    did_you_mean(name, defined.clone()),
                    list(defined)
                )),
            );
        }
        false
    }

    /// Reports a site the customer does not define.
    pub fn check_site(&self, customer: &str, node: &Node<'_>, site: &str, sink: &mut Sink) {
        let Some(sites) = self.customers.get(customer).and_then(|c| c.sites.as_ref()) else {
            return;
        };
        if sites.contains(site) {
            return;
        }
        let defined = sites.iter().map(String::as_str);
        let help = if sites.is_empty() {
            format!(
                "customer `{customer}` defines no sites: add a [customers.{customer}.sites.{site}] table"
            )
        } else {
            format!(
                "{}sites of `{customer}`: {}; or add a [customers.{customer}.sites.{site}] table",
                did_you_mean(site, defined.clone()),
                list(defined)
            )
        };
        node.error(
            sink,
            format!("customer `{customer}` has no site `{site}`"),
            Some(help),
        );
    }

    /// Reports licence names the provider does not offer, when it lists them.
    pub fn check_licenses(&self, provider: &str, items: &[(String, Node<'_>)], sink: &mut Sink) {
        let Some(offered) = self
            .providers
            .get(provider)
            .and_then(|p| p.licenses.as_ref())
        else {
            return;
        };
        check_licenses(provider, offered, items, sink);
    }
}

/// Reports licence names a provider does not offer (`offered`, from its settings).
pub(crate) fn check_licenses(
    provider: &str,
    offered: &[String],
    items: &[(String, Node<'_>)],
    sink: &mut Sink,
) {
    for (name, node) in items {
        if offered.contains(name) {
            continue;
        }
        let names = offered.iter().map(String::as_str);
        node.error(
            sink,
            format!("unknown licence service `{name}`"),
            Some(format!(
                "{}provider `{provider}` lists these license_services: {}",
                did_you_mean(name, names.clone()),
                list(names)
            )),
        );
    }
}
