//! The JSON Schema of the configuration (`mspform schema`, committed as
//! `docs/mspform.schema.json`), for editors: taplo and VS Code's Even Better
//! TOML read it through a `#:schema` first line.
//!
//! The loader is hand-written over spanned TOML, so nothing can be derived
//! from it: the schema is built from small mirror types (`schemars`, doc
//! comments become descriptions). The core's part — the top-level tables,
//! what every provider, customer, site, device, partner, ignore rule and
//! secret reference has — is here; each vendor's part (its provider keys, its
//! customer keys) comes from the registry ([`crate::vendors::schemas`]), so
//! this file names no vendor. Tests check that every mirror's property names
//! equal the key lists the loader accepts, so the two cannot drift apart.
//!
//! A `[customers.X]` table names its provider by key, not by type, so the
//! schema cannot tell which vendor's keys apply: it allows every vendor's
//! customer keys and requires none of them; `mspform validate` checks the
//! vendor rules. Pure: no I/O.

use std::collections::BTreeMap;

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use crate::vendor::config::Schema as VendorSchema;

/// A secret, by reference only: `{ env = "NAME" }` or `{ file = "path" }`,
/// never the value itself. The loader checks that it is set (or readable and
/// not empty) before any vendor call.
#[derive(JsonSchema)]
#[schemars(
    rename = "SecretRef",
    deny_unknown_fields,
    extend("minProperties" = 1, "maxProperties" = 1)
)]
#[allow(dead_code)]
pub(crate) struct SecretRef {
    /// The environment variable holding the secret.
    #[schemars(length(min = 1))]
    env: Option<String>,
    /// A file holding the secret, relative to this configuration file.
    #[schemars(length(min = 1))]
    file: Option<String>,
}

/// Which live objects mspform may delete.
// The values are described at the key: without descriptions here they become
// an `enum`, so a wrong value is reported as "not one of" them.
#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
#[allow(dead_code)]
enum Ownership {
    Owned,
    Exclusive,
}

/// What every provider has (the vendor's keys come from its folder).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct ProviderCommon {
    /// The provider type: decides the vendor and the other keys.
    #[schemars(rename = "type")]
    ty: String,
    /// The vendor's API URL (http:// or https://).
    #[schemars(regex(pattern = r"^https?://\S*[^\s/]\S*$"))]
    base_url: String,
    /// `owned` (default): delete only what mspform created or adopted;
    /// `exclusive`: delete every undeclared object of the account.
    ownership: Option<Ownership>,
}

/// What every customer has. `name` is the natural key: a live customer with
/// this exact name is adopted, never duplicated.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct CustomerCommon {
    /// The key of the `[providers.<key>]` table this customer lives in.
    #[schemars(length(min = 1))]
    provider: String,
    /// The customer's name at the vendor (unique per provider).
    #[schemars(length(min = 1))]
    name: String,
    /// `true`: never deleted nor replaced by an apply (lifted only by
    /// `mspform state unprotect`).
    protect: Option<bool>,
    /// The customer's sites, by key (address `site.<customer>/<key>`).
    sites: Option<BTreeMap<String, Site>>,
}

/// A site: its name and either a postal address or coordinates.
#[derive(JsonSchema)]
#[schemars(
    deny_unknown_fields,
    extend("oneOf" = [{ "required": ["address"] }, { "required": ["geolocation"] }])
)]
#[allow(dead_code)]
struct Site {
    /// The site's name (unique within the customer).
    #[schemars(length(min = 1))]
    name: String,
    /// The postal address (or `geolocation`, not both).
    address: Option<SiteAddress>,
    /// The coordinates (or `address`, not both).
    geolocation: Option<Geolocation>,
}

/// A site's postal address.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct SiteAddress {
    #[schemars(length(min = 1))]
    street: String,
    #[schemars(length(min = 1))]
    city: String,
    #[schemars(length(min = 1))]
    state: String,
    /// The country's name, e.g. "United States".
    #[schemars(length(min = 1))]
    country: String,
    #[schemars(length(min = 1))]
    zip: Option<String>,
}

/// A site's coordinates, in degrees.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Geolocation {
    #[schemars(range(min = -90.0, max = 90.0))]
    latitude: f64,
    #[schemars(range(min = -180.0, max = 180.0))]
    longitude: f64,
}

/// A device (the table's key is its serial): moved from the MSP inventory into
/// a customer, optionally licensed and put in one of the customer's sites.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Device {
    /// The key of the customer the device is assigned to.
    customer: String,
    /// The MAC address: six pairs of hex digits, separated by `:` or `-` or not at all.
    #[schemars(regex(
        pattern = r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{2}-){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{12}$"
    ))]
    mac: String,
    /// The key of one of the customer's sites.
    #[schemars(length(min = 1))]
    site: Option<String>,
    /// The licences (subscriptions) the device holds.
    licenses: Option<Vec<NonEmpty>>,
}

/// A partner account (found by name; mspform does not create partners) and
/// exactly which declared customers it manages.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Partner {
    /// The key of the provider the partner belongs to.
    provider: String,
    /// The partner's name at the vendor.
    #[schemars(length(min = 1))]
    name: String,
    /// The partner's role, on vendors whose partners have roles.
    role: Option<String>,
    /// The keys of the declared customers this partner manages (undeclared
    /// ones are left where they are).
    #[schemars(extend("uniqueItems" = true))]
    customers: Vec<NonEmpty>,
    /// `true`: the partner's assignments are never removed by an apply.
    protect: Option<bool>,
}

/// `[[ignore]]`: drift that `drift` counts but does not report.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct IgnoreRule {
    /// An address or a glob of addresses, e.g. "customer.acme-*".
    #[schemars(length(min = 1))]
    address: String,
    /// The fields to ignore (without it: every drift of the matching objects).
    #[schemars(length(min = 1), extend("uniqueItems" = true))]
    fields: Option<Vec<NonEmpty>>,
    /// Why (required).
    #[schemars(length(min = 1))]
    reason: String,
    /// The last day the rule applies (UTC): a TOML date without quotes, e.g. 2027-01-31.
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    until: Option<String>,
}

/// `[safety]`: the bulk-change threshold (once, in any file).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Safety {
    /// A plan deleting or replacing more than this share (in %) of the objects
    /// of one kind a provider owns is refused without `--force-bulk`.
    #[schemars(range(min = 0, max = 100))]
    bulk_percent: Option<u64>,
    /// The check applies from this many owned objects of a kind.
    #[schemars(range(min = 1, max = 1_000_000))]
    bulk_minimum: Option<u64>,
}

/// A string that is not empty.
#[derive(JsonSchema)]
#[schemars(transparent)]
#[allow(dead_code)]
pub(crate) struct NonEmpty(#[schemars(length(min = 1))] String);

/// Keys of providers, customers, sites and partners.
const KEY_PATTERN: &str = "^[a-z0-9][a-z0-9_-]*$";
/// Device serials.
const SERIAL_PATTERN: &str = "^[A-Za-z0-9]+$";

/// The settings every part of the schema is generated with (JSON Schema 2020-12).
pub(crate) fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12().into_generator()
}

/// The schema of the whole configuration, as `mspform schema` prints it.
pub fn json_schema() -> Value {
    json_schema_of(crate::vendors::schemas())
}

/// [`json_schema`] pretty-printed, with a final newline.
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    text.push('\n');
    text
}

fn json_schema_of(vendors: &[&'static dyn VendorSchema]) -> Value {
    let mut generator = generator();
    let mut defs = Map::new();

    let types: Vec<&str> = vendors.iter().map(|v| v.info().type_name).collect();
    let mut branches = Vec::new();
    for vendor in vendors {
        let info = vendor.info();
        let name = format!("provider-{}", info.type_name);
        let branch = provider_branch(*vendor, &mut generator);
        branches.push(json!({
            "if": { "properties": { "type": { "const": info.type_name } }, "required": ["type"] },
            "then": { "$ref": format!("#/$defs/{name}") },
        }));
        defs.insert(name, branch);
    }
    let provider = json!({
        "description": "A vendor account (`[providers.<key>]`; the key is the prefix of its objects' addresses). `type` decides which other keys it takes.",
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": { "description": "The provider type.", "enum": types },
        },
        "allOf": branches,
    });
    defs.insert("Provider".into(), provider);
    defs.insert("Customer".into(), customer(vendors, &mut generator));

    let mut partner = value(Partner::json_schema(&mut generator));
    let roles: Vec<&str> = {
        let mut r: Vec<&str> = vendors
            .iter()
            .flat_map(|v| v.info().capabilities.partner_roles.iter().copied())
            .collect();
        r.sort_unstable();
        r.dedup();
        r
    };
    let with_roles: Vec<&str> = vendors
        .iter()
        .map(|v| v.info())
        .filter(|i| !i.capabilities.partner_roles.is_empty())
        .map(|i| i.type_name)
        .collect();
    partner["properties"]["role"] = json!({
        "description": format!("The partner's role, on {} providers only.", with_roles.join(", ")),
        "enum": roles,
    });
    defs.insert("Partner".into(), partner);
    defs.insert("Device".into(), value(Device::json_schema(&mut generator)));
    defs.insert(
        "IgnoreRule".into(),
        value(IgnoreRule::json_schema(&mut generator)),
    );
    defs.insert("Safety".into(), value(Safety::json_schema(&mut generator)));
    defs.extend(generator.take_definitions(true));

    let with = |pred: fn(&crate::vendor::Capabilities) -> bool| -> String {
        let t: Vec<&str> = vendors
            .iter()
            .map(|v| v.info())
            .filter(|i| pred(&i.capabilities))
            .map(|i| i.type_name)
            .collect();
        t.join(", ")
    };
    let mut doc = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "mspform configuration",
        "description": "An mspform configuration: one TOML file or a directory of them, each holding any part of it. Generated by `mspform schema`. A customer names its provider by key, so the schema allows every vendor's customer keys and requires none of them: `mspform validate` checks the rules of the provider's type (and references between tables, and secrets).",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "providers": map_of("Provider", KEY_PATTERN, "The vendor accounts, by key."),
            "customers": map_of("Customer", KEY_PATTERN, "The customers, by key (address `customer.<key>`)."),
            "devices": map_of("Device", SERIAL_PATTERN, &format!("The devices, by serial (address `device.<serial>`); on {} providers.", with(|c| c.devices))),
            "partners": map_of("Partner", KEY_PATTERN, &format!("Partner assignments, by key (address `partner.<key>`); on {} providers.", with(|c| c.partners))),
            "ignore": { "description": "Drift rules: drift they match is counted, not reported.", "type": "array", "items": { "$ref": "#/$defs/IgnoreRule" } },
            "safety": { "$ref": "#/$defs/Safety" },
        },
        "$defs": defs,
    });
    tidy(&mut doc);
    doc
}

fn map_of(def: &str, key_pattern: &str, description: &str) -> Value {
    json!({
        "description": description,
        "type": "object",
        "propertyNames": { "pattern": key_pattern },
        "additionalProperties": { "$ref": format!("#/$defs/{def}") },
    })
}

fn value(schema: Schema) -> Value {
    schema.to_value()
}

/// One provider type's table: the common keys and the vendor's, nothing else.
fn provider_branch(vendor: &dyn VendorSchema, generator: &mut SchemaGenerator) -> Value {
    let info = vendor.info();
    let common = value(ProviderCommon::json_schema(generator));
    let mut branch = value(vendor.provider_json_schema(generator));
    let object = branch.as_object_mut();
    let Some(object) = object else {
        return branch;
    };
    let mut properties = common["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    if let Some(Value::Object(own)) = object.remove("properties") {
        properties.extend(own);
    }
    properties.insert(
        "type".into(),
        json!({ "description": format!("{} ({})", info.title, info.docs), "const": info.type_name }),
    );
    let mut required: Vec<Value> = common["required"].as_array().cloned().unwrap_or_default();
    if let Some(Value::Array(own)) = object.remove("required") {
        required.extend(own);
    }
    object.insert("description".into(), json!(info.title));
    object.insert("type".into(), json!("object"));
    object.insert("properties".into(), Value::Object(properties));
    object.insert("required".into(), Value::Array(required));
    object.insert("additionalProperties".into(), json!(false));
    branch
}

/// The customer table: the common keys, and every vendor's keys (none
/// required: the schema cannot tell the provider's type).
fn customer(vendors: &[&'static dyn VendorSchema], generator: &mut SchemaGenerator) -> Value {
    let mut schema = value(CustomerCommon::json_schema(generator));
    let sites: Vec<&str> = vendors
        .iter()
        .map(|v| v.info())
        .filter(|i| i.capabilities.sites)
        .map(|i| i.type_name)
        .collect();
    if let Some(d) = schema.pointer_mut("/properties/sites/description")
        && let Some(text) = d.as_str()
    {
        *d = json!(format!("{text} On {} providers.", sites.join(", ")));
    }
    if let Some(s) = schema.pointer_mut("/properties/sites") {
        s["propertyNames"] = json!({ "pattern": KEY_PATTERN });
    }
    // Key → (vendor type, its schema) of every vendor that has the key.
    let mut by_key: BTreeMap<String, Vec<(&str, Value)>> = BTreeMap::new();
    for vendor in vendors {
        let part = value(vendor.customer_json_schema(generator));
        if let Some(Value::Object(properties)) = part.get("properties") {
            for (key, schema) in properties {
                by_key
                    .entry(key.clone())
                    .or_default()
                    .push((vendor.info().type_name, schema.clone()));
            }
        }
    }
    let properties = schema["properties"].as_object_mut();
    if let Some(properties) = properties {
        for (key, uses) in by_key {
            properties.insert(key, union(uses));
        }
    }
    schema["description"] = json!(
        "A customer (`[customers.<key>]`). Besides `provider` and `name`, it takes the keys of its provider's type; each key's description says which types have it. Which of them are required for the type is checked by `mspform validate`."
    );
    schema
}

/// One customer key that one or more vendors have: their schemas (one when
/// they agree, else any of them) and each vendor's description.
fn union(uses: Vec<(&str, Value)>) -> Value {
    let mut descriptions = Vec::new();
    let mut schemas: Vec<Value> = Vec::new();
    for (ty, mut schema) in uses {
        let text = schema
            .as_object_mut()
            .and_then(|o| o.remove("description"))
            .and_then(|d| d.as_str().map(str::to_string));
        descriptions.push(match text {
            Some(t) => format!("`{ty}`: {t}"),
            None => format!("`{ty}`"),
        });
        if !schemas.contains(&schema) {
            schemas.push(schema);
        }
    }
    let description = json!(descriptions.join("\n"));
    if schemas.len() == 1 {
        let mut one = schemas.remove(0);
        if let Some(o) = one.as_object_mut() {
            o.insert("description".into(), description);
        }
        one
    } else {
        json!({ "description": description, "anyOf": schemas })
    }
}

/// TOML has no null and no integer widths: `Option<T>` is "T, not required"
/// (schemars writes "T or null"), and `uint64` formats mean nothing to editors.
fn tidy(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::Array(types)) = o.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    o.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(any)) = o.get("anyOf")
                && any.len() == 2
                && any.iter().any(|s| s == &json!({ "type": "null" }))
            {
                let keep = any
                    .iter()
                    .find(|s| *s != &json!({ "type": "null" }))
                    .cloned();
                o.remove("anyOf");
                if let Some(Value::Object(keep)) = keep {
                    o.extend(keep);
                }
            }
            if o.get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| f.starts_with("int") || f.starts_with("uint") || f == "double")
            {
                o.remove("format");
            }
            for child in o.values_mut() {
                tidy(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(tidy),
        _ => {}
    }
}

/// The property names of a mirror type's table, sorted: tests compare them
/// with the key lists the loader accepts.
#[cfg(test)]
pub(crate) fn property_names<T: JsonSchema>() -> Vec<String> {
    let schema = value(T::json_schema(&mut generator()));
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// `keys`, sorted, as owned strings.
#[cfg(test)]
pub(crate) fn sorted(keys: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
    k.sort();
    k
}

/// Asserts that mirror type `T` has exactly the keys `keys` (the loader's list).
#[cfg(test)]
pub(crate) fn assert_mirror<T: JsonSchema>(keys: &[&str]) {
    assert_eq!(
        property_names::<T>(),
        sorted(keys),
        "{}",
        std::any::type_name::<T>()
    );
}

/// Asserts that vendor `V`'s provider and customer mirrors have exactly the
/// keys its configuration accepts.
#[cfg(test)]
pub(crate) fn assert_vendor_mirrors<V: crate::vendor::VendorConfig>() {
    assert_mirror::<V::ProviderSchema>(V::PROVIDER_KEYS);
    assert_mirror::<V::CustomerSchema>(V::CUSTOMER_KEYS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_mirrors_have_exactly_the_keys_the_loader_accepts() {
        use super::super::{customer, device, merge, partner, provider, rules};
        assert_eq!(
            property_names::<ProviderCommon>(),
            sorted(provider::COMMON_KEYS)
        );
        assert_eq!(property_names::<SecretRef>(), sorted(provider::SECRET_KEYS));
        let mut customer_keys = customer::COMMON_KEYS.to_vec();
        customer_keys.push("sites");
        assert_eq!(property_names::<CustomerCommon>(), sorted(&customer_keys));
        assert_eq!(property_names::<Site>(), sorted(customer::SITE_KEYS));
        assert_eq!(
            property_names::<SiteAddress>(),
            sorted(customer::SITE_ADDRESS_KEYS)
        );
        assert_eq!(property_names::<Geolocation>(), sorted(customer::GEO_KEYS));
        assert_eq!(property_names::<Device>(), sorted(device::KEYS));
        assert_eq!(property_names::<Partner>(), sorted(partner::KEYS));
        assert_eq!(property_names::<IgnoreRule>(), sorted(rules::IGNORE_KEYS));
        assert_eq!(property_names::<Safety>(), sorted(rules::SAFETY_KEYS));
        let doc = json_schema();
        let mut root: Vec<String> = doc["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        root.sort();
        assert_eq!(root, sorted(merge::ROOT_KEYS));
    }

    #[test]
    fn every_registered_type_has_its_provider_branch_and_its_customer_keys() {
        let doc = json_schema();
        let customer = &doc["$defs"]["Customer"]["properties"];
        for vendor in crate::vendors::schemas() {
            let ty = vendor.info().type_name;
            let branch = &doc["$defs"][format!("provider-{ty}")];
            let mut keys: Vec<String> = branch["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            keys.sort();
            let mut expected: Vec<&str> = super::super::provider::COMMON_KEYS.to_vec();
            expected.extend(vendor.provider_keys());
            assert_eq!(keys, sorted(&expected), "{ty}");
            assert_eq!(branch["additionalProperties"], json!(false), "{ty}");
            for key in vendor.customer_keys() {
                let description = customer[key]["description"].as_str().unwrap_or_default();
                assert!(
                    description.contains(&format!("`{ty}`")),
                    "customer key {key} does not name {ty}: {description}"
                );
            }
        }
    }

    #[test]
    fn the_committed_schema_is_up_to_date() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/mspform.schema.json");
        let text = json_schema_text();
        if std::env::var_os("MSPFORM_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            written == text,
            "docs/mspform.schema.json is out of date: run MSPFORM_UPDATE_DOCS=1 cargo test --lib the_committed_schema"
        );
    }
}
