//! Aruba Central's configuration schema (NOT YET PORTED: extracted from the old
//! src/config/provider.rs and src/config/customer.rs; the port wires it to the
//! `Vendor` trait: settings(), customer(), license_names()).

// ---- from src/config/provider.rs (Aruba part) ----
const KEYS: &[&str] = &[
    "type",
    "base_url",
    "ownership",
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
    table.check_unknown(sink, KEYS);

    let base_url = table
        .nonempty_string(
            sink,
            "base_url",
            "base_url = \"https://apigw-prod2.central.arubanetworks.com\"",
        )
        .and_then(|url| base_url(url, &table.get("base_url")?, sink));
    let ownership = ownership(&table, sink);
    let auth = auth(node, &table, sink);
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
    Some(Provider {
        key: node.name.to_string(),
        base_url: base_url?,
        ownership: ownership?,
        kind: ProviderKind::ArubaCentral(settings),
    })
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
        (Some(token), None) => secret(&token, provider.name, sink).map(ArubaAuth::Token),
        (None, Some(oauth)) => {
            let table = oauth.table(sink, OAUTH_KEYS)?;
            let mut get = |key: &str, required: bool| -> Option<Option<SecretRef>> {
                let example = format!("{key} = {{ env = \"{}\" }}", env_name(provider.name, key));
                match table.get(key) {
                    Some(node) => secret(&node, provider.name, sink).map(Some),
                    None if required => {
                        table.missing(sink, key, &example);
                        None
                    }
                    None => Some(None),
                }
            };
            let client_id = get("client_id", true);
            let client_secret = get("client_secret", true);
            let refresh_token = get("refresh_token", true);
            let access_token = get("access_token", false);
            Some(ArubaAuth::OAuth {
                client_id: client_id??,
                client_secret: client_secret??,
                refresh_token: refresh_token??,
                access_token: access_token?,
            })
        }
    }
}


// ---- from src/config/customer.rs (Aruba part) ----
const KEYS: &[&str] = &[
    "provider",
    "name",
    "country",
    "address",
    "group",
    "description",
    "lock_msp_ssids",
    "auto_license",
    "sites",
];
const ADDRESS_KEYS: &[&str] = &["street", "city", "state", "zip"];
    let country = table
        .required(sink, "country", "country = \"US\"")
        .and_then(|n| {
            let value = n.string(sink)?;
            match normalize_country(value) {
                Ok(code) => Some(code),
                Err(help) => {
                    n.error(
                        sink,
                        format!("`{value}` is not an ISO 3166-1 alpha-2 country code"),
                        Some(help),
                    );
                    None
                }
            }
        });
    let address = table
        .required(
            sink,
            "address",
            "address = { street = \"…\", city = \"…\", state = \"…\", zip = \"…\" }",
        )
        .and_then(|n| n.table(sink, ADDRESS_KEYS))
        .and_then(|t| {
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
        });
    let group = table.opt_nonempty_string(sink, "group");
    let description = table.get("description").and_then(|n| n.string(sink));
    let lock_msp_ssids = table.get("lock_msp_ssids").and_then(|n| n.boolean(sink));
    let mut auto_license = Vec::new();
    if let Some(n) = table.get("auto_license")
        && let Some(items) = string_list(&n, sink, Repeats::Error)
    {
        if let Some(provider) = provider {
            refs.check_licenses(provider, &items, sink);
        }
        auto_license = items.into_iter().map(|(s, _)| s).collect();
        auto_license.sort();
    }
    let sites = match table.get("sites") {
        Some(n) => sites(node.name, &n, sink),
        None => BTreeMap::new(),
    };

    if sink.errors.len() > before {
        return None;
    }
    Some(Customer {
        key: node.name.to_string(),
        provider: provider?.to_string(),
        name: name?.to_string(),
        spec: CustomerSpec::Aruba(ArubaCustomer {
            country: country?.to_string(),
            address: address?,
            group: group.map(str::to_string),
            description: description.unwrap_or_default().to_string(),
            lock_msp_ssids: lock_msp_ssids.unwrap_or(false),
            auto_license,
            sites,
        }),
    })
}

