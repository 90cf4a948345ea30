//! `[customers.<key>]`: what every customer has (`provider`, `name`, and
//! `sites` for vendors with sites) here; the vendor's own keys through its
//! provider's builder.

use std::collections::BTreeMap;

use crate::model::{Customer, Site, SiteAddress, SiteLocation};
use crate::vendor::config::CustomerInput;

use super::provider::{Parsed, check_key};
use super::refs::Refs;
use super::source::{Node, Sink, Table};

pub(super) const COMMON_KEYS: &[&str] = &["provider", "name", "protect"];
pub(super) const SITE_KEYS: &[&str] = &["name", "address", "geolocation"];
pub(super) const SITE_ADDRESS_KEYS: &[&str] = &["street", "city", "state", "country", "zip"];
pub(super) const GEO_KEYS: &[&str] = &["latitude", "longitude"];

/// A customer name, remembered to check that names are unique per provider.
pub(super) struct NameUse<'a> {
    pub provider: String,
    pub name: String,
    pub node: Node<'a>,
}

pub(super) fn customer<'a>(
    node: &Node<'a>,
    refs: &Refs,
    providers: &mut BTreeMap<String, Parsed<'a>>,
    names: &mut Vec<NameUse<'a>>,
    sink: &mut Sink,
) -> Option<Customer> {
    let before = sink.errors.len();
    check_key(node, "customer", sink);
    let provider_key = node
        .value
        .get_ref()
        .as_table()
        .and_then(|t| t.get("provider"))
        .and_then(|v| v.get_ref().as_str());
    let (Some(provider_key), Some(info)) = (
        provider_key,
        provider_key.and_then(|p| refs.provider_info(p)),
    ) else {
        return without_provider(node, refs, sink);
    };
    let parsed = providers.get_mut(provider_key)?;
    let table = node.table_any(sink)?;
    let mut allowed: Vec<&str> = COMMON_KEYS.to_vec();
    if info.capabilities.sites {
        allowed.push("sites");
    }
    allowed.extend(parsed.schema.customer_keys());
    table.check_unknown(sink, &allowed);
    if let Some(n) = table.get("provider") {
        refs.check_provider(&n, provider_key, sink);
    }
    let name_node = table.required(sink, "name", "name = \"Coffee Shop\"");
    let name = name_node.as_ref().and_then(|n| n.nonempty_string(sink));
    if let (Some(name), Some(n)) = (name, &name_node) {
        names.push(NameUse {
            provider: provider_key.to_string(),
            name: name.to_string(),
            node: n.clone(),
        });
    }
    let sites = match table.get("sites") {
        Some(n) if info.capabilities.sites => sites(node.name, &n, sink),
        _ => BTreeMap::new(),
    };
    // The vendor's keys are checked even when `name` is wrong (all errors in one pass).
    let input = CustomerInput {
        key: node.name,
        provider: provider_key,
        node: node.clone(),
        table: table.clone(),
        name: name.and(name_node),
        name_value: name,
    };
    parsed.builder.customer(input, sink);
    if sink.errors.len() > before {
        return None;
    }
    Some(Customer {
        key: node.name.to_string(),
        provider: provider_key.to_string(),
        name: name?.to_string(),
        sites,
    })
}

/// A customer whose provider is missing, undefined or of an unknown type: its
/// schema is not known, so only what every customer has is checked (`provider`
/// and `name`), and no other key is reported. The cause is reported once, at
/// the provider (or at this customer's `provider`).
fn without_provider(node: &Node<'_>, refs: &Refs, sink: &mut Sink) -> Option<Customer> {
    let table = node.table_any(sink)?;
    table.check_misspelt(sink, COMMON_KEYS);
    if let Some(n) = table.required(sink, "provider", "provider = \"<provider key>\"")
        && let Some(name) = n.string(sink)
    {
        refs.check_provider(&n, name, sink);
    }
    if let Some(n) = table.required(sink, "name", "name = \"Coffee Shop\"") {
        n.nonempty_string(sink);
    }
    None
}

/// Reports customer names used twice on one provider, at the later use.
pub(super) fn check_unique_names(mut names: Vec<NameUse<'_>>, sink: &mut Sink) {
    names.sort_by_key(|u| u.node.position());
    let mut seen: BTreeMap<(&str, &str), &NameUse<'_>> = BTreeMap::new();
    for u in &names {
        match seen.get(&(u.provider.as_str(), u.name.as_str())) {
            Some(first) => u.node.error(
                sink,
                format!(
                    "customer name `{}` is already used on provider `{}` by `{}` ({})",
                    u.name,
                    u.provider,
                    first.node.path.trim_end_matches(".name"),
                    first.node.src.place(first.node.value_start())
                ),
                Some("customer names must be unique per provider: rename one of them".to_string()),
            ),
            None => {
                seen.insert((&u.provider, &u.name), u);
            }
        }
    }
}

fn sites(customer: &str, node: &Node<'_>, sink: &mut Sink) -> BTreeMap<String, Site> {
    let mut out = BTreeMap::new();
    let Some(table) = node.table_any(sink) else {
        return out;
    };
    let mut entries = table.entries();
    entries.sort_by_key(|n| n.position());
    let mut names: BTreeMap<&str, Node<'_>> = BTreeMap::new();
    for entry in &entries {
        if let Some(name_node) = site_name_node(entry)
            && let Some(name) = name_node.value.get_ref().as_str()
        {
            match names.get(name) {
                Some(first) => name_node.error(
                    sink,
                    format!(
                        "site name `{name}` is already used by `{}` ({})",
                        first.path.trim_end_matches(".name"),
                        first.src.place(first.value_start())
                    ),
                    Some(
                        "site names must be unique within a customer: rename one of them"
                            .to_string(),
                    ),
                ),
                None => {
                    names.insert(name, name_node);
                }
            }
        }
        if let Some(site) = site(customer, entry, sink) {
            out.insert(site.key.clone(), site);
        }
    }
    out
}

/// The `name` entry of a site table, read without reporting anything.
fn site_name_node<'a>(site: &Node<'a>) -> Option<Node<'a>> {
    let (key, value) = site.value.get_ref().as_table()?.get_key_value("name")?;
    Some(Node::new(site.src, &site.path, key, value))
}

fn site(customer: &str, node: &Node<'_>, sink: &mut Sink) -> Option<Site> {
    let before = sink.errors.len();
    check_key(node, "site", sink);
    let table = node.table(sink, SITE_KEYS)?;
    let name = table.nonempty_string(sink, "name", "name = \"Santa Clara Site\"");
    let location = location(&table, sink);
    if sink.errors.len() > before {
        return None;
    }
    Some(Site {
        key: node.name.to_string(),
        customer: customer.to_string(),
        name: name?.to_string(),
        location: location?,
    })
}

fn location(table: &Table<'_>, sink: &mut Sink) -> Option<SiteLocation> {
    match (table.get("address"), table.get("geolocation")) {
        (Some(a), Some(g)) => {
            let second = if g.position() > a.position() { g } else { a };
            second.error_at_key(
                sink,
                "give either `address` or `geolocation`, not both",
                Some(
                    "a site is placed by its postal address or by its coordinates: remove one"
                        .to_string(),
                ),
            );
            None
        }
        (None, None) => {
            sink.at(
                table.src,
                table.key_span.start,
                &table.path,
                "a site needs an `address` or a `geolocation`",
                Some("add address = { street = \"…\", city = \"…\", state = \"…\", country = \"United States\" } or geolocation = { latitude = 37.39, longitude = -121.97 }".to_string()),
            );
            None
        }
        (Some(a), None) => {
            let t = a.table(sink, SITE_ADDRESS_KEYS)?;
            let street = t.nonempty_string(sink, "street", "street = \"…\"");
            let city = t.nonempty_string(sink, "city", "city = \"…\"");
            let state = t.nonempty_string(sink, "state", "state = \"…\"");
            let country = t.nonempty_string(sink, "country", "country = \"United States\"");
            // Optional, but not empty when given: `Some(None)` means absent.
            let zip = match t.get("zip") {
                None => Some(None),
                Some(n) => n.nonempty_string(sink).map(Some),
            };
            Some(SiteLocation::Address(SiteAddress {
                street: street?.to_string(),
                city: city?.to_string(),
                state: state?.to_string(),
                country: country?.to_string(),
                zip: zip?.map(str::to_string),
            }))
        }
        (None, Some(g)) => {
            let t = g.table(sink, GEO_KEYS)?;
            let latitude = t
                .required(sink, "latitude", "latitude = 37.39")
                .and_then(|n| n.number_in(sink, -90.0..=90.0));
            let longitude = t
                .required(sink, "longitude", "longitude = -121.97")
                .and_then(|n| n.number_in(sink, -180.0..=180.0));
            Some(SiteLocation::Geolocation {
                latitude: latitude?,
                longitude: longitude?,
            })
        }
    }
}
