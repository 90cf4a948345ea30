//! `[providers.<key>]` → [`Provider`], including secret references.

use crate::model::{ArubaAuth, ArubaSettings, Ownership, Provider, ProviderKind, SecretRef};

use super::source::{Node, Repeats, Sink, Table, string_list};
use super::text::{did_you_mean, is_valid_key, list, suggest_key};
use toml::de::DeValue;

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
const SECRET_KEYS: &[&str] = &["env", "file"];
const SUPPORTED: &[&str] = &[
    "aruba-central",
    "extremecloud",
    "ruckus-one",
    "audiocodes-live",
];
/// Keys every provider type has.
pub(super) const COMMON_KEYS: &[&str] = &["type", "base_url", "ownership"];

/// Reports a key that does not match `[a-z0-9][a-z0-9_-]*`.
pub(super) fn check_key(node: &Node<'_>, kind: &str, sink: &mut Sink) -> bool {
    if is_valid_key(node.name) {
        return true;
    }
    node.error_at_key(
        sink,
        format!("invalid {kind} key `{}`", node.name),
        Some(format!(
            "keys use lower-case letters, digits, `-` and `_`, and start with a letter or digit, e.g. `{}`",
            suggest_key(node.name)
        )),
    );
    false
}

pub(super) fn provider(node: &Node<'_>, sink: &mut Sink) -> Option<Provider> {
    let before = sink.errors.len();
    check_key(node, "provider", sink);
    let table = node.table_any(sink)?;
    // The type decides the schema of everything else: without a known type,
    // nothing else is checked (against a guessed schema every other key would be
    // an error), and customers and partners of this provider are not either.
    let vendor = provider_type(&table, sink)?;
    if matches!(vendor, "extremecloud" | "ruckus-one" | "audiocodes-live") {
        let base_url = table
            .nonempty_string(sink, "base_url", "base_url = \"https://…\"")
            .and_then(|url| base_url(url, &table.get("base_url")?, sink));
        let ownership = ownership(&table, sink);
        let keys: &[&str] = match vendor {
            "extremecloud" => super::extreme::PROVIDER_KEYS,
            "ruckus-one" => super::ruckus::PROVIDER_KEYS,
            _ => super::audiocodes::PROVIDER_KEYS,
        };
        let allowed: Vec<&str> = COMMON_KEYS.iter().chain(keys).copied().collect();
        table.check_unknown(sink, &allowed);
        let kind = match vendor {
            "extremecloud" => super::extreme::settings(node, &table, sink),
            "ruckus-one" => super::ruckus::settings(node, &table, sink),
            _ => super::audiocodes::settings(node, &table, sink),
        };
        if sink.errors.len() > before {
            return None;
        }
        return Some(Provider {
            key: node.name.to_string(),
            base_url: base_url?,
            ownership: ownership?,
            kind: kind?,
        });
    }
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

/// The provider's `type`, when it is one of the supported types; otherwise one
/// error (missing, misspelt key, wrong type, or unknown type with a suggestion).
fn provider_type<'a>(table: &Table<'a>, sink: &mut Sink) -> Option<&'a str> {
    if table.get("type").is_none() {
        table.check_misspelt(sink, &["type"]);
    }
    let ty = table.required(sink, "type", "type = \"aruba-central\"")?;
    let name = ty.string(sink)?;
    if SUPPORTED.contains(&name) {
        return Some(name);
    }
    ty.error(
        sink,
        format!("unknown provider type `{name}`"),
        Some(format!(
            "{}supported provider types: {}; nothing else of this provider, nor its customers and partners, is checked until the type is known",
            did_you_mean(name, SUPPORTED.iter().copied()),
            list(SUPPORTED.iter().copied())
        )),
    );
    None
}

/// Whether `ty` is a provider type mspform supports.
pub(super) fn is_supported(ty: &str) -> bool {
    SUPPORTED.contains(&ty)
}

fn ownership(table: &Table<'_>, sink: &mut Sink) -> Option<Ownership> {
    match table.get("ownership") {
        None => Some(Ownership::Owned),
        Some(n) => match n.string(sink) {
            Some("owned") => Some(Ownership::Owned),
            Some("exclusive") => Some(Ownership::Exclusive),
            Some(other) => {
                n.error(
                    sink,
                    format!("unknown ownership `{other}`"),
                    Some(
                        "write ownership = \"owned\" (delete only what mspform created or adopted) or ownership = \"exclusive\" (mspform owns the whole account)".to_string(),
                    ),
                );
                None
            }
            None => None,
        },
    }
}

/// The licence services a provider table declares, read leniently (no errors):
/// used to check customers and devices even when the provider has other errors.
pub(super) fn declared_license_services(node: &Node<'_>) -> Option<Vec<String>> {
    let DeValue::Table(table) = node.value.get_ref() else {
        return None;
    };
    let DeValue::Array(items) = table.get("license_services")?.get_ref() else {
        return None;
    };
    items
        .iter()
        .map(|item| item.get_ref().as_str().map(str::to_string))
        .collect()
}

fn base_url(url: &str, node: &Node<'_>, sink: &mut Sink) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let trimmed = url.trim_end_matches('/');
    match rest {
        Some(rest)
            if !rest.trim_end_matches('/').is_empty() && !url.contains(char::is_whitespace) =>
        {
            Some(trimmed.to_string())
        }
        _ => {
            node.error(
                sink,
                format!("`{url}` is not an http:// or https:// URL"),
                Some("write the API gateway URL, e.g. base_url = \"https://apigw-prod2.central.arubanetworks.com\"".to_string()),
            );
            None
        }
    }
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

/// The environment variable name suggested in help texts: `ARUBA_TOKEN`.
pub(super) fn env_name(provider: &str, field: &str) -> String {
    format!("{provider}_{field}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `{ env = "NAME" }` or `{ file = "path" }`, recorded with its place so it is
/// checked before any vendor call. Never echoes the value: a string here may be
/// the secret itself.
pub(super) fn secret(node: &Node<'_>, provider: &str, sink: &mut Sink) -> Option<SecretRef> {
    secret_for(node, provider, None, sink)
}

/// A secret that fills an AudioCodes script parameter (`parameter`), whose
/// value rules are checked when the secret is read.
pub(super) fn secret_for(
    node: &Node<'_>,
    provider: &str,
    parameter: Option<&str>,
    sink: &mut Sink,
) -> Option<SecretRef> {
    let reference = secret_ref(node, provider, sink)?;
    sink.secret(node, reference.clone(), parameter);
    Some(reference)
}

fn secret_ref(node: &Node<'_>, provider: &str, sink: &mut Sink) -> Option<SecretRef> {
    let field = node.name;
    let example = format!("{field} = {{ env = \"{}\" }}", env_name(provider, field));
    match node.value.get_ref() {
        DeValue::String(_) => {
            node.error(
                sink,
                "secrets must be given by reference",
                Some(format!(
                    "{example} (or {field} = {{ file = \"path/to/secret\" }}); never write the secret itself in the file"
                )),
            );
            None
        }
        DeValue::Table(_) => {
            let table = node.table(sink, SECRET_KEYS)?;
            match (table.get("env"), table.get("file")) {
                (Some(env), Some(file)) => {
                    let second = if file.position() > env.position() {
                        file
                    } else {
                        env
                    };
                    second.error_at_key(
                        sink,
                        "give either `env` or `file`, not both",
                        Some(example),
                    );
                    None
                }
                (None, None) => {
                    node.error_at_key(
                        sink,
                        "a secret reference needs `env` or `file`",
                        Some(example),
                    );
                    None
                }
                (Some(env), None) => {
                    let name = env.nonempty_string(sink)?;
                    Some(SecretRef::Env(name.to_string()))
                }
                (None, Some(file)) => {
                    let path = file.nonempty_string(sink)?;
                    Some(SecretRef::File(node.src.dir().join(path)))
                }
            }
        }
        _ => {
            node.type_error(sink, "a table", Some(example));
            None
        }
    }
}
