//! `type = "aruba-central"`: Aruba Central provider settings (credentials,
//! licence names, limits and timeouts) and the vendor part of a customer
//! (country, address, group, description, SSID lock, auto-licence). The core
//! loader has checked `type`, `base_url`, `ownership`, the customer's
//! `provider`, `name` and `sites`, the devices, and unknown keys; every error
//! here names file, line, column and key.

use super::Aruba;
use super::model::{ArubaAuth, ArubaCustomer, ArubaSettings, CustomerAddress};
use crate::config::{Node, Repeats, Sink, Table, check_licenses, env_name, secret, string_list};
use crate::model::SecretRef;
use crate::vendor::config::{OneOf, country_code};
use crate::vendor::{CustomerInput, ProviderInput, VendorConfig};

/// What the embedded simulator accepts (`examples/sim-inventory.toml`); the demo
/// supplies these for unset variables.
pub(super) const DEMO_TOKEN: &str = "sim-token";
pub(super) const DEMO_CLIENT_ID: &str = "sim-client";
pub(super) const DEMO_CLIENT_SECRET: &str = "sim-secret";
pub(super) const DEMO_REFRESH_TOKEN: &str = "sim-refresh";

pub(super) const OAUTH_KEYS: &[&str] = &[
    "client_id",
    "client_secret",
    "refresh_token",
    "access_token",
];

pub(super) const ADDRESS_KEYS: &[&str] = &["street", "city", "state", "zip"];

/// mspform's limit on a customer name (the vendor documents none; names this
/// long are surely a mistake, and are refused before any call).
const MAX_NAME_CHARS: usize = 128;

impl VendorConfig for Aruba {
    type ProviderSchema = super::schema::ProviderKeys;
    type CustomerSchema = super::schema::CustomerKeys;
    type Settings = ArubaSettings;
    type Customer = ArubaCustomer;

    /// Provider keys besides `type`, `base_url` and `ownership`.
    const PROVIDER_KEYS: &'static [&'static str] = &[
        "token",
        "oauth",
        "license_services",
        "calls_per_second",
        "poll_interval_ms",
        "provision_timeout_secs",
        "move_timeout_secs",
        "request_timeout_secs",
    ];
    /// Customer keys besides `provider`, `name` and `sites`.
    const CUSTOMER_KEYS: &'static [&'static str] = &[
        "country",
        "address",
        "group",
        "description",
        "lock_msp_ssids",
        "auto_license",
    ];

    fn settings(input: &ProviderInput<'_>, sink: &mut Sink) -> Option<ArubaSettings> {
        let before = sink.errors.len();
        let auth = auth(input.node, input.table, sink);
        let license_services = input
            .table
            .get("license_services")
            .and_then(|n| string_list(&n, sink, Repeats::Error))
            .map(|items| {
                let mut names: Vec<String> = items.into_iter().map(|(s, _)| s).collect();
                names.sort();
                names
            });
        let mut int = |key: &str, range, default| input.number(sink, key, range).unwrap_or(default);
        let calls_per_second = int("calls_per_second", 1..=7, 7);
        let poll_interval_ms = int("poll_interval_ms", 0..=600_000, 10_000);
        let provision_timeout_secs = int("provision_timeout_secs", 1..=86_400, 600);
        let move_timeout_secs = int("move_timeout_secs", 1..=86_400, 300);
        let request_timeout_secs = int("request_timeout_secs", 1..=600, 30);
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

    fn customer(
        settings: Option<&ArubaSettings>,
        input: &CustomerInput<'_>,
        sink: &mut Sink,
    ) -> Option<ArubaCustomer> {
        let table = &input.table;
        let before = sink.errors.len();
        input.check_name_length(
            MAX_NAME_CHARS,
            &format!("the limit is {MAX_NAME_CHARS}"),
            sink,
        );
        let country = table
            .required(sink, "country", "country = \"US\"")
            .and_then(|n| country_code(&n, sink));
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
        let auto_license_declared = table.get("auto_license").is_some();
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
        let defaulted = ["description", "lock_msp_ssids"]
            .into_iter()
            .filter(|k| table.get(k).is_none())
            .collect();
        Some(ArubaCustomer {
            defaulted,
            country: country?,
            address: address?,
            group: group.map(str::to_string),
            description: description.unwrap_or_default().to_string(),
            lock_msp_ssids: lock_msp_ssids.unwrap_or(false),
            auto_license,
            auto_license_declared,
        })
    }

    fn license_names(settings: &ArubaSettings) -> Option<Vec<String>> {
        settings.license_services.clone()
    }
}

/// `token` or `oauth`: exactly one of them.
fn auth(provider: &Node<'_>, table: &Table<'_>, sink: &mut Sink) -> Option<ArubaAuth> {
    let token_env = env_name(provider.name, "token");
    let credentials = OneOf {
        keys: ["token", "oauth"],
        missing: "missing credentials: give `token` or `oauth`",
        help_both: format!(
            "keep token = {{ env = \"{token_env}\" }} for a static token, or the oauth table for the refresh flow"
        ),
        help_missing: format!(
            "add token = {{ env = \"{token_env}\" }}, or oauth = {{ client_id = …, client_secret = …, refresh_token = … }}"
        ),
    };
    match credentials.pick(provider, table, sink)? {
        ("token", token) => {
            secret(&token, provider.name, Some(DEMO_TOKEN), sink).map(ArubaAuth::Token)
        }
        (_, oauth) => oauth_auth(provider, &oauth, sink),
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
