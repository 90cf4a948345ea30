//! `type = "aruba-central"`: Aruba Central provider settings (credentials,
//! licence names, limits and timeouts) and the vendor part of a customer
//! (country, address, group, description, SSID lock, auto-licence). The core
//! loader has checked `type`, `base_url`, `ownership`, the customer's
//! `provider`, `name` and `sites`, the devices, and unknown keys; every error
//! here names file, line, column and key.

use super::model::{ArubaAuth, ArubaCustomer, ArubaSettings, CustomerAddress};
use crate::config::{
    Node, Repeats, Sink, Table, check_licenses, env_name, normalize_country, secret, string_list,
};
use crate::model::SecretRef;
use crate::vendor::{CustomerInput, ProviderInput};

/// What the embedded simulator accepts (`examples/sim-inventory.toml`); the demo
/// supplies these for unset variables.
pub(super) const DEMO_TOKEN: &str = "sim-token";
pub(super) const DEMO_CLIENT_ID: &str = "sim-client";
pub(super) const DEMO_CLIENT_SECRET: &str = "sim-secret";
pub(super) const DEMO_REFRESH_TOKEN: &str = "sim-refresh";

/// Provider keys besides `type`, `base_url` and `ownership`.
pub(super) const PROVIDER_KEYS: &[&str] = &[
    "token",
    "oauth",
    "license_services",
    "calls_per_second",
    "poll_interval_ms",
    "provision_timeout_secs",
    "move_timeout_secs",
    "request_timeout_secs",
];

const OAUTH_KEYS: &[&str] = &[
    "client_id",
    "client_secret",
    "refresh_token",
    "access_token",
];

/// Customer keys besides `provider`, `name` and `sites`.
pub(super) const CUSTOMER_KEYS: &[&str] = &[
    "country",
    "address",
    "group",
    "description",
    "lock_msp_ssids",
    "auto_license",
];

const ADDRESS_KEYS: &[&str] = &["street", "city", "state", "zip"];

/// mspform's limit on a customer name (the vendor documents none; names this
/// long are surely a mistake, and are refused before any call).
const MAX_NAME_CHARS: usize = 128;

pub(super) fn settings(input: &ProviderInput<'_>, sink: &mut Sink) -> Option<ArubaSettings> {
    let (node, table) = (input.node, input.table);
    let before = sink.errors.len();
    let auth = auth(node, table, sink);
    let license_services = table
        .get("license_services")
        .and_then(|n| string_list(&n, sink, Repeats::Error))
        .map(|items| {
            let mut names: Vec<String> = items.into_iter().map(|(s, _)| s).collect();
            names.sort();
            names
        });
    let int = |sink: &mut Sink, key: &str, range: std::ops::RangeInclusive<i64>, default: u64| {
        match table.get(key) {
            None => default,
            Some(n) => n
                .integer_in(sink, range)
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(default),
        }
    };
    let calls_per_second = int(sink, "calls_per_second", 1..=7, 7);
    let poll_interval_ms = int(sink, "poll_interval_ms", 0..=600_000, 10_000);
    let provision_timeout_secs = int(sink, "provision_timeout_secs", 1..=86_400, 600);
    let move_timeout_secs = int(sink, "move_timeout_secs", 1..=86_400, 300);
    let request_timeout_secs = int(sink, "request_timeout_secs", 1..=600, 30);
    if sink.errors.len() > before {
        return None;
    }
    let mut settings = ArubaSettings::new(auth?);
    settings.license_services = license_services;
    settings.calls_per_second = u32::try_from(calls_per_second).ok()?;
    settings.poll_interval_ms = poll_interval_ms;
    settings.provision_timeout_secs = provision_timeout_secs;
    settings.move_timeout_secs = move_timeout_secs;
    settings.request_timeout_secs = request_timeout_secs;
    Some(settings)
}

/// `token` or `oauth`: exactly one of them.
fn auth(provider: &Node<'_>, table: &Table<'_>, sink: &mut Sink) -> Option<ArubaAuth> {
    match (table.get("token"), table.get("oauth")) {
        (Some(token), Some(oauth)) => {
            let second = if oauth.position() > token.position() {
                &oauth
            } else {
                &token
            };
            second.error_at_key(
                sink,
                "give either `token` or `oauth`, not both",
                Some(format!(
                    "keep token = {{ env = \"{}\" }} for a static token, or the oauth table for the refresh flow",
                    env_name(provider.name, "token")
                )),
            );
            None
        }
        (None, None) => {
            provider.error_at_key(
                sink,
                "missing credentials: give `token` or `oauth`",
                Some(format!(
                    "add token = {{ env = \"{}\" }}, or oauth = {{ client_id = …, client_secret = …, refresh_token = … }}",
                    env_name(provider.name, "token")
                )),
            );
            None
        }
        (Some(token), None) => {
            secret(&token, provider.name, Some(DEMO_TOKEN), sink).map(ArubaAuth::Token)
        }
        (None, Some(oauth)) => oauth_auth(provider, &oauth, sink),
    }
}

/// The `oauth` table: client id and secret and a refresh token (required), and
/// optionally a current access token.
fn oauth_auth(provider: &Node<'_>, oauth: &Node<'_>, sink: &mut Sink) -> Option<ArubaAuth> {
    let table = oauth.table(sink, OAUTH_KEYS)?;
    let mut get = |key: &str, demo: &'static str, required: bool| -> Option<Option<SecretRef>> {
        let example = format!("{key} = {{ env = \"{}\" }}", env_name(provider.name, key));
        match table.get(key) {
            Some(node) => secret(&node, provider.name, Some(demo), sink).map(Some),
            None if required => {
                table.missing(sink, key, &example);
                None
            }
            None => Some(None),
        }
    };
    let client_id = get("client_id", DEMO_CLIENT_ID, true);
    let client_secret = get("client_secret", DEMO_CLIENT_SECRET, true);
    let refresh_token = get("refresh_token", DEMO_REFRESH_TOKEN, true);
    let access_token = get("access_token", DEMO_TOKEN, false);
    Some(ArubaAuth::OAuth {
        client_id: client_id??,
        client_secret: client_secret??,
        refresh_token: refresh_token??,
        access_token: access_token?,
    })
}

pub(super) fn customer(
    settings: Option<&ArubaSettings>,
    input: &CustomerInput<'_>,
    sink: &mut Sink,
) -> Option<ArubaCustomer> {
    let table = &input.table;
    let before = sink.errors.len();
    if let (Some(n), Some(name)) = (&input.name, input.name_value) {
        let chars = name.chars().count();
        if chars > MAX_NAME_CHARS {
            n.error(
                sink,
                format!("the name is {chars} characters long; the limit is {MAX_NAME_CHARS}"),
                Some("shorten the name".to_string()),
            );
        }
    }
    let country = table
        .required(sink, "country", "country = \"US\"")
        .and_then(|n| country(&n, sink));
    let address = table
        .required(
            sink,
            "address",
            "address = { street = \"…\", city = \"…\", state = \"…\", zip = \"…\" }",
        )
        .and_then(|n| address(&n, sink));
    let group = table.opt_nonempty_string(sink, "group");
    let description = table.get("description").and_then(|n| n.string(sink));
    let lock_msp_ssids = table.get("lock_msp_ssids").and_then(|n| n.boolean(sink));
    let mut auto_license = Vec::new();
    if let Some(n) = table.get("auto_license")
        && let Some(items) = string_list(&n, sink, Repeats::Error)
    {
        if let Some(offered) = settings.and_then(|s| s.license_services.as_ref()) {
            check_licenses(input.provider, offered, &items, sink);
        }
        auto_license = items.into_iter().map(|(s, _)| s).collect();
        auto_license.sort();
    }
    if sink.errors.len() > before {
        return None;
    }
    Some(ArubaCustomer {
        country: country?,
        address: address?,
        group: group.map(str::to_string),
        description: description.unwrap_or_default().to_string(),
        lock_msp_ssids: lock_msp_ssids.unwrap_or(false),
        auto_license,
    })
}

/// ISO 3166-1 alpha-2 (a country name is refused with the code to write).
fn country(n: &Node<'_>, sink: &mut Sink) -> Option<String> {
    let value = n.string(sink)?;
    match normalize_country(value) {
        Ok(code) => Some(code.to_string()),
        Err(help) => {
            n.error(
                sink,
                format!("`{value}` is not an ISO 3166-1 alpha-2 country code"),
                Some(help),
            );
            None
        }
    }
}

fn address(n: &Node<'_>, sink: &mut Sink) -> Option<CustomerAddress> {
    let t = n.table(sink, ADDRESS_KEYS)?;
    let street = t.nonempty_string(sink, "street", "street = \"…\"");
    let city = t.nonempty_string(sink, "city", "city = \"…\"");
    let state = t.nonempty_string(sink, "state", "state = \"…\"");
    let zip = t.nonempty_string(sink, "zip", "zip = \"…\"");
    Some(CustomerAddress {
        street: street?.to_string(),
        city: city?.to_string(),
        state: state?.to_string(),
        zip: zip?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::config::{ConfigErrors, load_sources};

    const PROVIDER: &str = "[providers.aruba]\ntype = \"aruba-central\"\nbase_url = \"https://example.com\"\ntoken = { env = \"ARUBA_TOKEN\" }\n";

    /// `key: message` of each error of a configuration that must not load.
    fn errors(customer: &str) -> Vec<String> {
        let sources = [(PathBuf::from("a.toml"), format!("{PROVIDER}\n{customer}"))];
        match load_sources(&sources) {
            Ok(_) => panic!("expected errors"),
            Err(ConfigErrors(errors)) => errors
                .iter()
                .map(|e| format!("{}: {}", e.key, e.message))
                .collect(),
        }
    }

    #[test]
    fn the_vendor_keys_are_checked_when_the_name_is_wrong_too() {
        let missing = errors("[customers.acme]\nprovider = \"aruba\"\n");
        assert_eq!(
            missing,
            [
                "customers.acme.name: missing required key `name`",
                "customers.acme.country: missing required key `country`",
                "customers.acme.address: missing required key `address`",
            ]
        );
        let wrong = errors(
            "[customers.acme]\nprovider = \"aruba\"\nname = 5\ncountry = \"US\"\naddress = \"x\"\nlock_msp_ssids = \"no\"\n",
        );
        assert_eq!(wrong.len(), 3, "{wrong:?}");
        assert!(wrong[0].starts_with("customers.acme.name:"), "{wrong:?}");
        assert!(wrong[1].starts_with("customers.acme.address:"), "{wrong:?}");
        assert!(
            wrong[2].starts_with("customers.acme.lock_msp_ssids:"),
            "{wrong:?}"
        );
    }

    #[test]
    fn a_name_over_128_characters_is_refused() {
        let customer = format!(
            "[customers.long]\nprovider = \"aruba\"\nname = \"{}\"\ncountry = \"US\"\naddress = {{ street = \"s\", city = \"c\", state = \"st\", zip = \"z\" }}\n",
            "x".repeat(129)
        );
        assert_eq!(
            errors(&customer),
            ["customers.long.name: the name is 129 characters long; the limit is 128"]
        );
    }
}
