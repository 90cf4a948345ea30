//! `type = "audiocodes-live"`: AudioCodes Live Platform provider settings and
//! Essentials customer fields, with every rule the vendor documents for the
//! create call (vendor-apis.md §4.2), so bad input fails here and not at the vendor.

use std::collections::{BTreeMap, BTreeSet};

use toml::de::DeValue;

use super::Audiocodes;
use super::model::{
    AudiocodesAuth, AudiocodesCustomer, AudiocodesSettings, AudiocodesSite, MAX_USER_NAME_CHARS,
    PASSWORD_PARAMETER, ScriptParam, check_resolved_parameter,
};
use crate::config::{
    Node, Sink, Table, closest, env_name, forbidden_char, list, secret, secret_with,
};
use crate::model::SecretRule;
use crate::vendor::config::OneOf;
use crate::vendor::{CustomerInput, ProviderInput, VendorConfig};

/// What the embedded simulator accepts (the demo supplies these for unset variables).
pub(super) const DEMO_TOKEN: &str = "sim-token";
pub(super) const DEMO_CLIENT_ID: &str = "5a9e2c7f-1b4d-4f6a-8e3c-9d0b7a6f5e12";
pub(super) const DEMO_CLIENT_SECRET: &str = "sim-ac-secret";
pub(super) const DEMO_SCRIPT_SECRET: &str = "demo-carrier-secret";

pub(super) const OAUTH_KEYS: &[&str] = &[
    "tenant_id",
    "client_id",
    "client_secret",
    "scope",
    "token_url",
];

/// Microsoft's token endpoint; `{tenant_id}` is replaced.
pub const DEFAULT_TOKEN_URL: &str =
    "https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token";

pub(super) const SITE_KEYS: &[&str] = &["sbc_id", "onboarding_script", "cleanup_script"];

/// `ovocCustomerType` values.
pub const CUSTOMER_TYPES: &[&str] = &["IPGROUP_TYPE", "TENANT_TYPE"];

/// Script parameters by the spelling of the API's example body (the parameter
/// table spells some differently; the example is what the API takes).
pub const SCRIPT_PARAMETERS: &[&str] = &[
    "CacProfile",
    "ProxySet",
    "OnlinePstnGateway",
    "CarrierUserName",
    "CarrierUserPassword",
    "CarrierMainLine",
    "CarrierHostName",
];

const MAX_FULL_NAME_CHARS: usize = 200;
/// Characters no customer name may hold (besides `.` and blanks).
const FORBIDDEN: &[char] = &['\\', '/', ':', '*', '?', '"', '<', '>', '|'];

impl VendorConfig for Audiocodes {
    type ProviderSchema = super::schema::ProviderKeys;
    type CustomerSchema = super::schema::CustomerKeys;
    type Settings = AudiocodesSettings;
    type Customer = AudiocodesCustomer;

    /// Provider keys besides `type`, `base_url` and `ownership`.
    const PROVIDER_KEYS: &'static [&'static str] = &[
        "token",
        "oauth",
        "calls_per_second",
        "create_timeout_secs",
        "request_timeout_secs",
    ];
    /// Customer keys besides `provider` and `name`.
    const CUSTOMER_KEYS: &'static [&'static str] = &[
        "short_name",
        "customer_type",
        "ms_tenant_id",
        "channel_id",
        "lc_customer_id",
        "site",
        "script_parameters",
    ];

    fn settings(input: &ProviderInput<'_>, sink: &mut Sink) -> Option<AudiocodesSettings> {
        let before = sink.errors.len();
        let auth = auth(input.node, input.table, sink);
        let mut int = |key: &str, range, default| input.number(sink, key, range).unwrap_or(default);
        let calls_per_second = int("calls_per_second", 1..=1000, 10);
        let create_timeout_secs = int("create_timeout_secs", 1..=3600, 300);
        let request_timeout_secs = int("request_timeout_secs", 1..=600, 30);
        if sink.errors.len() > before {
            return None;
        }
        let mut settings = AudiocodesSettings::new(auth?);
        settings.calls_per_second = u32::try_from(calls_per_second).ok()?;
        settings.create_timeout_secs = create_timeout_secs;
        settings.request_timeout_secs = request_timeout_secs;
        Some(settings)
    }

    fn customer(
        _settings: Option<&AudiocodesSettings>,
        input: &CustomerInput<'_>,
        sink: &mut Sink,
    ) -> Option<AudiocodesCustomer> {
        let table = &input.table;
        let before = sink.errors.len();
        if let Some(name) = &input.name {
            full_name(name, sink);
        }
        let short_name = table
            .required(sink, "short_name", "short_name = \"Acme\"")
            .and_then(|n| short_name(&n, sink));
        let customer_type = table
            .required(sink, "customer_type", "customer_type = \"IPGROUP_TYPE\"")
            .and_then(|n| customer_type(&n, sink));
        let ms_tenant_id = ms_tenant_id(table, customer_type.as_deref(), sink);
        let channel_id = optional(table, "channel_id", sink);
        let lc_customer_id = optional(table, "lc_customer_id", sink);
        let site = table
            .required(
                sink,
                "site",
                "site = { sbc_id = 1, onboarding_script = 10, cleanup_script = 11 }",
            )
            .and_then(|n| site(&n, sink));
        let script_parameters = match table.get("script_parameters") {
            None => Some(BTreeMap::new()),
            Some(n) => script_parameters(&n, input.provider, sink),
        };
        if sink.errors.len() > before {
            return None;
        }
        Some(AudiocodesCustomer {
            short_name: short_name?,
            customer_type: customer_type?,
            ms_tenant_id: ms_tenant_id?,
            channel_id: channel_id?,
            lc_customer_id: lc_customer_id?,
            site: site?,
            script_parameters: script_parameters?,
        })
    }

    fn check_customers(customers: &[(&CustomerInput<'_>, &AudiocodesCustomer)], sink: &mut Sink) {
        check_unique_short_names(customers, sink);
    }

    fn repoint(settings: &mut AudiocodesSettings, map: &dyn Fn(&str) -> String) {
        if let AudiocodesAuth::ClientCredentials { token_url, .. } = &mut settings.auth {
            *token_url = map(token_url);
        }
    }
}

/// `token` (a static bearer) or `oauth` (Entra ID client credentials): exactly one.
fn auth(provider: &Node<'_>, table: &Table<'_>, sink: &mut Sink) -> Option<AudiocodesAuth> {
    let oauth_example = format!(
        "oauth = {{ tenant_id = \"<your Entra tenant id>\", client_id = {{ env = \"{}\" }}, client_secret = {{ env = \"{}\" }}, scope = \"api://<LiveCloud app id>/.default\" }}",
        env_name(provider.name, "client_id"),
        env_name(provider.name, "client_secret")
    );
    let token_env = env_name(provider.name, "token");
    let credentials = OneOf {
        keys: ["token", "oauth"],
        missing: "missing credentials: give `oauth` or `token`",
        help_both: format!(
            "keep token = {{ env = \"{token_env}\" }} for a static bearer token, or the oauth table for Entra ID client credentials"
        ),
        help_missing: format!("add {oauth_example}, or token = {{ env = \"{token_env}\" }}"),
    };
    match credentials.pick(provider, table, sink)? {
        ("token", token) => {
            secret(&token, provider.name, Some(DEMO_TOKEN), sink).map(AudiocodesAuth::Token)
        }
        (_, oauth) => client_credentials(provider, &oauth, sink),
    }
}

/// The `oauth` table: an Entra ID app registration's client credentials.
fn client_credentials(
    provider: &Node<'_>,
    oauth: &Node<'_>,
    sink: &mut Sink,
) -> Option<AudiocodesAuth> {
    let t = oauth.table(sink, OAUTH_KEYS)?;
    let tenant_id = t
        .nonempty_string(sink, "tenant_id", "tenant_id = \"<your Entra tenant id>\"")
        .and_then(|v| entra_tenant_id(&t, v, sink));
    let mut cred = |key: &str, demo: &'static str| match t.get(key) {
        Some(n) => secret(&n, provider.name, Some(demo), sink),
        None => {
            t.missing(
                sink,
                key,
                &format!("{key} = {{ env = \"{}\" }}", env_name(provider.name, key)),
            );
            None
        }
    };
    let client_id = cred("client_id", DEMO_CLIENT_ID);
    let client_secret = cred("client_secret", DEMO_CLIENT_SECRET);
    let scope = t
        .nonempty_string(
            sink,
            "scope",
            "scope = \"api://<LiveCloud app id>/.default\"",
        )
        .and_then(|v| scope(&t, v, sink));
    let token_url = match t.get("token_url") {
        None => Some(DEFAULT_TOKEN_URL.to_string()),
        Some(n) => token_url(&n, sink),
    };
    Some(AudiocodesAuth::ClientCredentials {
        tenant_id: tenant_id?,
        client_id: client_id?,
        client_secret: client_secret?,
        scope: scope?,
        token_url: token_url?,
    })
}

/// `tenant_id`: a directory id or domain, nothing that would bend the token URL.
fn entra_tenant_id(t: &Table<'_>, v: &str, sink: &mut Sink) -> Option<String> {
    if v.contains(|c: char| c == '/' || c.is_whitespace() || c == '?' || c == '#') {
        t.get("tenant_id")?.error(
            sink,
            "not an Entra tenant id",
            Some("give the directory (tenant) id of the app registration, a GUID such as \"4bf50a33-a383-4d3f-9403-220c898bc1b2\" (or its domain, e.g. \"contoso.onmicrosoft.com\")".to_string()),
        );
        return None;
    }
    Some(v.to_string())
}

/// `scope`: the API's id followed by `/.default` (client credentials).
fn scope(t: &Table<'_>, v: &str, sink: &mut Sink) -> Option<String> {
    if v.ends_with("/.default") && !v.contains(char::is_whitespace) {
        return Some(v.to_string());
    }
    t.get("scope")?.error(
        sink,
        "a client-credentials scope is the API's id followed by `/.default`",
        Some("write scope = \"api://<LiveCloud app id>/.default\" (the LiveCloud-APIToken app registration)".to_string()),
    );
    None
}

/// `token_url`: an http(s) URL (`{tenant_id}` in it is replaced).
fn token_url(n: &Node<'_>, sink: &mut Sink) -> Option<String> {
    let v = n.nonempty_string(sink)?;
    let ok =
        (v.starts_with("https://") || v.starts_with("http://")) && !v.contains(char::is_whitespace);
    if !ok {
        n.error(
            sink,
            format!("`{v}` is not an http:// or https:// URL"),
            Some(format!(
                "remove token_url to use Microsoft's ({DEFAULT_TOKEN_URL}); `{{tenant_id}}` in it is replaced"
            )),
        );
        return None;
    }
    Some(v.to_string())
}

/// The character rules of customer names, or the offending character.
pub fn bad_name_char(value: &str) -> Option<char> {
    value
        .chars()
        .find(|c| FORBIDDEN.contains(c) || *c == '.' || c.is_whitespace())
}

fn name_rule_help(field: &str) -> String {
    format!(
        "{field} may not contain \\ / : * ? \" < > |, a dot or blank spaces (AudioCodes' customer-name rules)"
    )
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex).
pub fn is_guid(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    parts.len() == 5
        && parts
            .iter()
            .zip(lens)
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Whether a script parameter name is one the API documents (case-sensitive).
pub fn known_parameter(name: &str) -> bool {
    SCRIPT_PARAMETERS.contains(&name)
        || numbered(name, "CustomVar.Variable")
        || numbered(name, "additionalProp")
}

fn numbered(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// The documented spelling a mistyped parameter name most likely means.
pub fn parameter_suggestion(name: &str) -> Option<String> {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
            .collect::<String>()
            .to_lowercase()
    };
    let wanted = squash(name);
    if let Some(known) = SCRIPT_PARAMETERS.iter().find(|k| squash(k) == wanted) {
        return Some(known.to_string());
    }
    for prefix in ["CustomVar.Variable", "additionalProp"] {
        if let Some(rest) = wanted.strip_prefix(&squash(prefix))
            && !rest.is_empty()
            && rest.chars().all(|c| c.is_ascii_digit())
        {
            return Some(format!("{prefix}{rest}"));
        }
    }
    closest(name, SCRIPT_PARAMETERS.iter().copied()).map(str::to_string)
}

/// `short_name`: 3 to 15 characters, the name rules.
fn short_name(n: &Node<'_>, sink: &mut Sink) -> Option<String> {
    let v = n.nonempty_string(sink)?;
    let chars = v.chars().count();
    if !(3..=15).contains(&chars) {
        n.error(
            sink,
            format!("short_name is {chars} characters long; AudioCodes takes 3 to 15"),
            Some("give a short name of 3 to 15 characters, e.g. short_name = \"Acme\"".to_string()),
        );
        return None;
    }
    if let Some(c) = bad_name_char(v) {
        n.error(
            sink,
            format!("short_name contains {c:?}"),
            Some(name_rule_help("short_name")),
        );
        return None;
    }
    Some(v.to_string())
}

/// `customer_type`: one of [`CUSTOMER_TYPES`], with a suggestion for a near miss.
fn customer_type(n: &Node<'_>, sink: &mut Sink) -> Option<String> {
    let v = n.string(sink)?;
    if CUSTOMER_TYPES.contains(&v) {
        return Some(v.to_string());
    }
    let hint = CUSTOMER_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(v.trim()))
        .copied()
        .or_else(|| closest(v, CUSTOMER_TYPES.iter().copied()))
        .map(|t| format!("did you mean `{t}`? "))
        .unwrap_or_default();
    n.error(
        sink,
        format!("unknown customer_type `{v}`"),
        Some(format!(
            "{hint}IPGROUP_TYPE: one IP group per customer (SIP registration or access trunk); TENANT_TYPE: linked by the customer's Microsoft tenant id"
        )),
    );
    None
}

/// `ms_tenant_id`: a GUID, required for `TENANT_TYPE`. `Some(None)` when absent
/// (and not required), `None` when invalid.
fn ms_tenant_id(
    table: &Table<'_>,
    customer_type: Option<&str>,
    sink: &mut Sink,
) -> Option<Option<String>> {
    let Some(n) = table.get("ms_tenant_id") else {
        if customer_type == Some("TENANT_TYPE") {
            table.missing(
                sink,
                "ms_tenant_id",
                "ms_tenant_id = \"4bf50a33-a383-4d3f-9403-220c898bc1b2\"",
            );
        }
        return Some(None);
    };
    let v = n.nonempty_string(sink)?;
    if is_guid(v) {
        return Some(Some(v.to_string()));
    }
    n.error(
        sink,
        format!("`{v}` is not a Microsoft tenant id"),
        Some("give the customer's Microsoft Entra tenant id, a GUID such as \"4bf50a33-a383-4d3f-9403-220c898bc1b2\"".to_string()),
    );
    None
}

/// `site = { sbc_id, onboarding_script, cleanup_script }`: all three required.
fn site(n: &Node<'_>, sink: &mut Sink) -> Option<AudiocodesSite> {
    let t = n.table(sink, SITE_KEYS)?;
    let mut id = |key: &str| {
        t.required(sink, key, &format!("{key} = 1"))
            .and_then(|n| n.integer_in(sink, 0..=i64::from(i32::MAX)))
            .and_then(|v| u64::try_from(v).ok())
    };
    let sbc_id = id("sbc_id");
    let onboarding_script = id("onboarding_script");
    let cleanup_script = id("cleanup_script");
    Some(AudiocodesSite {
        sbc_id: sbc_id?,
        onboarding_script: onboarding_script?,
        cleanup_script: cleanup_script?,
    })
}

/// `name` is the vendor's `fullName`: at most 200 characters, the name rules.
fn full_name(node: &Node<'_>, sink: &mut Sink) {
    // Control characters are reported by the string check, once.
    let Some(v) = node
        .value
        .get_ref()
        .as_str()
        .filter(|v| forbidden_char(v).is_none())
    else {
        return;
    };
    let chars = v.chars().count();
    if chars > MAX_FULL_NAME_CHARS {
        node.error(
            sink,
            format!("the name is {chars} characters long; AudioCodes takes at most {MAX_FULL_NAME_CHARS}"),
            Some("shorten the name (it is the customer's fullName)".to_string()),
        );
    } else if let Some(c) = bad_name_char(v) {
        node.error(
            sink,
            format!("the name contains {c:?}"),
            Some(format!(
                "{}; e.g. name = \"{}\"",
                name_rule_help("the full name"),
                v.chars()
                    .filter(|c| bad_name_char(&c.to_string()).is_none())
                    .collect::<String>()
            )),
        );
    }
}

/// An optional non-empty string: `Some(None)` when absent, `None` when invalid.
fn optional(table: &Table<'_>, key: &str, sink: &mut Sink) -> Option<Option<String>> {
    match table.get(key) {
        None => Some(None),
        Some(n) => n.nonempty_string(sink).map(|v| Some(v.to_string())),
    }
}

fn script_parameters(
    node: &Node<'_>,
    provider: &str,
    sink: &mut Sink,
) -> Option<BTreeMap<String, ScriptParam>> {
    let before = sink.errors.len();
    let table = node.table_any(sink)?;
    let mut out = BTreeMap::new();
    let mut entries = table.entries();
    entries.sort_by_key(|n| n.position());
    for entry in entries {
        // `CustomVar.Variable1 = "x"` without quotes is a dotted key: a table.
        if entry.name == "CustomVar"
            && let DeValue::Table(t) = entry.value.get_ref()
            && !t.contains_key("env")
            && !t.contains_key("file")
        {
            let Some(inner) = entry.table_any(sink) else {
                continue;
            };
            for var in inner.entries() {
                let name = format!("CustomVar.{}", var.name);
                if let Some(p) = parameter(&var, &name, provider, sink) {
                    out.insert(name, p);
                }
            }
            continue;
        }
        let name = entry.name.to_string();
        if let Some(p) = parameter(&entry, &name, provider, sink) {
            out.insert(name, p);
        }
    }
    (sink.errors.len() == before).then_some(out)
}

fn parameter(node: &Node<'_>, name: &str, provider: &str, sink: &mut Sink) -> Option<ScriptParam> {
    if !known_parameter(name) {
        let hint = parameter_suggestion(name)
            .map(|s| format!("did you mean `{s}`? (names are case-sensitive, spelled as in the API's example) "))
            .unwrap_or_default();
        node.error_at_key(
            sink,
            format!("unknown script parameter `{name}`"),
            Some(format!(
                "{hint}documented parameters: {}, `CustomVar.Variable<N>`, `additionalProp<N>` (quote dotted names: \"CustomVar.Variable1\" = \"…\")",
                list(SCRIPT_PARAMETERS.iter().copied())
            )),
        );
        return None;
    }
    let by_reference = |sink: &mut Sink| {
        secret_with(
            node,
            provider,
            secret_rule(name),
            Some(DEMO_SCRIPT_SECRET),
            sink,
        )
        .map(ScriptParam::Secret)
    };
    if name == PASSWORD_PARAMETER {
        // Only by reference; an inline string is reported without its value.
        return by_reference(sink);
    }
    match node.value.get_ref() {
        DeValue::Table(_) => by_reference(sink),
        DeValue::String(_) => {
            let v = node.nonempty_string(sink)?;
            if name == "CarrierUserName" && v.chars().count() > MAX_USER_NAME_CHARS {
                node.error(
                    sink,
                    format!(
                        "CarrierUserName is {} characters long; the limit is {MAX_USER_NAME_CHARS}",
                        v.chars().count()
                    ),
                    Some("shorten the digest user name".to_string()),
                );
                return None;
            }
            Some(ScriptParam::Value(v.to_string()))
        }
        _ => {
            node.type_error(
                sink,
                "a string",
                Some(format!(
                    "write \"{name}\" = \"…\" (or {{ env = \"…\" }} for a secret value)"
                )),
            );
            None
        }
    }
}

/// The vendor's rule for a script parameter given by reference, checked once
/// the secret is read.
fn secret_rule(name: &str) -> Option<SecretRule> {
    match name {
        PASSWORD_PARAMETER => Some(SecretRule {
            name: PASSWORD_PARAMETER,
            check: |v| check_resolved_parameter(PASSWORD_PARAMETER, v),
        }),
        "CarrierUserName" => Some(SecretRule {
            name: "CarrierUserName",
            check: |v| check_resolved_parameter("CarrierUserName", v),
        }),
        _ => None,
    }
}

/// Reports a `short_name` used by two customers of one AudioCodes provider, at
/// the later use: it is how mspform finds a customer, so it must be unique, and
/// the platform refuses short names that differ only in case, so they are
/// compared without regard to case.
fn check_unique_short_names(
    customers: &[(&CustomerInput<'_>, &AudiocodesCustomer)],
    sink: &mut Sink,
) {
    let mut uses: Vec<(&str, Node<'_>)> = customers
        .iter()
        .filter_map(|(input, c)| Some((c.short_name.as_str(), input.table.get("short_name")?)))
        .collect();
    uses.sort_by_key(|u| u.1.position());
    let mut seen: BTreeMap<String, (&str, Node<'_>)> = BTreeMap::new();
    let mut reported = BTreeSet::new();
    for (short, node) in uses {
        let folded = short.to_lowercase();
        let provider = customers[0].0.provider;
        match seen.get(&folded) {
            Some((first_short, first)) => {
                if reported.insert(node.place()) {
                    let (message, help) = if *first_short == short {
                        (
                            format!(
                                "short_name `{short}` is already used on provider `{provider}` by `{}` ({})",
                                first.path.trim_end_matches(".short_name"),
                                first.src.place(first.value_start())
                            ),
                            "mspform finds AudioCodes customers by short name: give each its own",
                        )
                    } else {
                        (
                            format!(
                                "short_name `{short}` differs only in case from `{first_short}`, used on provider `{provider}` by `{}` ({})",
                                first.path.trim_end_matches(".short_name"),
                                first.src.place(first.value_start())
                            ),
                            "AudioCodes compares short names without regard to case and refuses the second: give each customer a short name of its own",
                        )
                    };
                    node.error(sink, message, Some(help.to_string()));
                }
            }
            None => {
                seen.insert(folded, (short, node));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, ConfigErrors, load_sources};
    use crate::model::{Desired, SecretRef};
    use std::path::PathBuf;

    const PROVIDER: &str = r#"[providers.ac]
type = "audiocodes-live"
base_url = "https://live.example.com/tenantui"
oauth = { tenant_id = "8d2f5c1e-3b7a-4c9e-a1f0-6e4b2d7c9a53", client_id = { env = "AC_CLIENT_ID" }, client_secret = { env = "AC_CLIENT_SECRET" }, scope = "api://c7e1a4b2-9f3d-4e8a-b6c5-2d1f0e9a8b74/.default" }
"#;

    const ACME: &str = r#"[customers.acme]
provider = "ac"
name = "AcmeCorp"
short_name = "Acme"
customer_type = "TENANT_TYPE"
ms_tenant_id = "4bf50a33-a383-4d3f-9403-220c898bc1b2"
channel_id = "a35c73f3-4597-4f5b-bfec-1283f43d8b92"
site = { sbc_id = 5, onboarding_script = 10008, cleanup_script = 10701 }
script_parameters = { CacProfile = "5 sessions", ProxySet = "SIPTrunk", CarrierUserName = "acme", CarrierUserPassword = { env = "ACME_CARRIER_PASSWORD" }, "CustomVar.Variable1" = "x" }
"#;

    fn load(files: &[(&str, &str)]) -> Result<Desired, Vec<ConfigError>> {
        let sources: Vec<(PathBuf, String)> = files
            .iter()
            .map(|(n, t)| (PathBuf::from(n), t.to_string()))
            .collect();
        load_sources(&sources).map_err(|ConfigErrors(e)| e)
    }

    /// `line:col key: message` of each error.
    fn errors(customer: &str) -> Vec<String> {
        load(&[("a.toml", PROVIDER), ("c.toml", customer)])
            .expect_err("must not load")
            .iter()
            .map(|e| {
                format!(
                    "{}:{} {}: {} | {}",
                    e.line,
                    e.column,
                    e.key,
                    e.message,
                    e.help.clone().unwrap_or_default()
                )
            })
            .collect()
    }

    fn acme_with(from: &str, to: &str) -> String {
        assert!(ACME.contains(from), "{from}");
        ACME.replace(from, to)
    }

    #[test]
    fn a_full_customer_and_provider_load() {
        let d = load(&[("a.toml", PROVIDER), ("c.toml", ACME)]).unwrap();
        let p = &d.providers["ac"];
        let s = &d
            .spec::<super::super::Audiocodes>("ac")
            .expect("audiocodes")
            .settings;
        assert_eq!(p.type_name(), "audiocodes-live");
        assert_eq!(s.calls_per_second, 10);
        assert_eq!(s.create_timeout_secs, 300);
        let AudiocodesAuth::ClientCredentials {
            token_url,
            scope,
            client_secret,
            ..
        } = &s.auth
        else {
            panic!("client credentials expected");
        };
        assert_eq!(token_url, DEFAULT_TOKEN_URL);
        assert!(scope.ends_with("/.default"));
        assert_eq!(client_secret, &SecretRef::Env("AC_CLIENT_SECRET".into()));
        let c = &d.customers["acme"];
        assert_eq!(c.name, "AcmeCorp");
        let a = &d.spec::<super::super::Audiocodes>("ac").unwrap().customers["acme"];
        assert_eq!(a.short_name, "Acme");
        assert_eq!(a.site.cleanup_script, 10701);
        assert_eq!(
            a.script_parameters["CarrierUserPassword"],
            ScriptParam::Secret(SecretRef::Env("ACME_CARRIER_PASSWORD".into()))
        );
        assert_eq!(
            a.script_parameters["CustomVar.Variable1"],
            ScriptParam::Value("x".into())
        );
        // An unquoted dotted key is the same parameter.
        let d = load(&[
            ("a.toml", PROVIDER),
            (
                "c.toml",
                &acme_with(
                    "\"CustomVar.Variable1\" = \"x\"",
                    "CustomVar.Variable2 = \"y\"",
                ),
            ),
        ])
        .unwrap();
        let a = &d.spec::<super::super::Audiocodes>("ac").unwrap().customers["acme"];
        assert_eq!(
            a.script_parameters["CustomVar.Variable2"],
            ScriptParam::Value("y".into())
        );
        // A static token instead of client credentials.
        let static_token = "[providers.ac]\ntype = \"audiocodes-live\"\nbase_url = \"https://h/tenantui\"\ntoken = { file = \"tok\" }\ncreate_timeout_secs = 900\n";
        let d = load(&[("a.toml", static_token), ("c.toml", ACME)]).unwrap();
        let s = &d.spec::<super::super::Audiocodes>("ac").unwrap().settings;
        assert_eq!(s.create_timeout_secs, 900);
        assert!(matches!(s.auth, AudiocodesAuth::Token(SecretRef::File(_))));
    }

    #[test]
    fn short_and_full_names_follow_the_vendor_rules() {
        let e = errors(&acme_with("short_name = \"Acme\"", "short_name = \"Ac\""));
        assert!(
            e[0].starts_with("4:14 customers.acme.short_name: short_name is 2 characters long"),
            "{e:?}"
        );
        let e = errors(&acme_with(
            "short_name = \"Acme\"",
            "short_name = \"Acme.Corp\"",
        ));
        assert!(e[0].contains("contains '.'"), "{e:?}");
        let e = errors(&acme_with(
            "short_name = \"Acme\"",
            "short_name = \"AcmeCorporation1\"",
        ));
        assert!(e[0].contains("16 characters"), "{e:?}");
        let e = errors(&acme_with("name = \"AcmeCorp\"", "name = \"Acme Corp\""));
        assert!(
            e[0].starts_with("3:8 customers.acme.name: the name contains ' '"),
            "{e:?}"
        );
        assert!(e[0].contains("AcmeCorp"), "suggests a valid name: {e:?}");
        let long = format!("name = \"{}\"", "a".repeat(201));
        let e = errors(&acme_with("name = \"AcmeCorp\"", &long));
        assert!(e[0].contains("201 characters"), "{e:?}");
    }

    #[test]
    fn type_tenant_and_site_are_checked() {
        let e = errors(&acme_with(
            "customer_type = \"TENANT_TYPE\"",
            "customer_type = \"tenant_type\"",
        ));
        assert!(
            e[0].contains("unknown customer_type") && e[0].contains("did you mean `TENANT_TYPE`"),
            "{e:?}"
        );
        let e = errors(&acme_with(
            "ms_tenant_id = \"4bf50a33-a383-4d3f-9403-220c898bc1b2\"\n",
            "",
        ));
        assert!(
            e[0].contains("missing required key `ms_tenant_id`"),
            "{e:?}"
        );
        // IPGROUP_TYPE needs none.
        let ip = acme_with(
            "customer_type = \"TENANT_TYPE\"",
            "customer_type = \"IPGROUP_TYPE\"",
        )
        .replace(
            "ms_tenant_id = \"4bf50a33-a383-4d3f-9403-220c898bc1b2\"\n",
            "",
        );
        assert!(load(&[("a.toml", PROVIDER), ("c.toml", &ip)]).is_ok());
        let e = errors(&acme_with(
            "4bf50a33-a383-4d3f-9403-220c898bc1b2",
            "4bf50a33",
        ));
        assert!(e[0].contains("not a Microsoft tenant id"), "{e:?}");
        let e = errors(&acme_with("cleanup_script = 10701 ", ""));
        assert!(
            e[0].contains("missing required key `cleanup_script`"),
            "{e:?}"
        );
        let e = errors(&acme_with("sbc_id = 5", "sbc_id = \"5\""));
        assert!(e[0].contains("expected an integer"), "{e:?}");
    }

    #[test]
    fn script_parameters_are_checked_and_the_password_is_never_echoed() {
        let e = errors(&acme_with("CacProfile", "CACProfile"));
        assert!(
            e[0].contains("unknown script parameter `CACProfile`")
                && e[0].contains("did you mean `CacProfile`?"),
            "{e:?}"
        );
        let e = errors(&acme_with(
            "\"CustomVar.Variable1\"",
            "\"customvar.variable1\"",
        ));
        assert!(
            e[0].contains("did you mean `CustomVar.Variable1`?"),
            "{e:?}"
        );
        let e = errors(&acme_with(
            "CarrierUserPassword = { env = \"ACME_CARRIER_PASSWORD\" }",
            "CarrierUserPassword = \"hunter2-secret\"",
        ));
        assert!(e[0].contains("secrets must be given by reference"), "{e:?}");
        assert!(!e.concat().contains("hunter2-secret"), "{e:?}");
        let long = format!("CarrierUserName = \"{}\"", "u".repeat(61));
        let e = errors(&acme_with("CarrierUserName = \"acme\"", &long));
        assert!(e[0].contains("61 characters"), "{e:?}");
        let e = errors(&acme_with("ProxySet = \"SIPTrunk\"", "ProxySet = 5"));
        assert!(e[0].contains("expected a string"), "{e:?}");
    }

    #[test]
    fn credentials_are_checked() {
        let both = format!("{PROVIDER}token = {{ env = \"T\" }}\n");
        let e = load(&[("a.toml", &both), ("c.toml", ACME)]).unwrap_err();
        assert!(e[0].message.contains("either `token` or `oauth`"), "{e:?}");
        let bad_scope = PROVIDER.replace("/.default", "");
        let e = load(&[("a.toml", &bad_scope), ("c.toml", ACME)]).unwrap_err();
        assert!(e[0].message.contains("/.default"), "{e:?}");
        let inline = PROVIDER.replace(
            "client_secret = { env = \"AC_CLIENT_SECRET\" }",
            "client_secret = \"s3cr3t-inline\"",
        );
        let e = load(&[("a.toml", &inline), ("c.toml", ACME)]).unwrap_err();
        assert!(e[0].message.contains("by reference"), "{e:?}");
        assert!(!format!("{e:?}").contains("s3cr3t-inline"));
        let none =
            "[providers.ac]\ntype = \"audiocodes-live\"\nbase_url = \"https://h/tenantui\"\n";
        let e = load(&[("a.toml", none), ("c.toml", ACME)]).unwrap_err();
        assert!(e[0].message.contains("missing credentials"), "{e:?}");
    }

    #[test]
    fn a_short_name_is_used_once_per_provider() {
        let other = ACME
            .replace("[customers.acme]", "[customers.acme2]")
            .replace("AcmeCorp", "AcmeCorp2");
        let e = load(&[("a.toml", PROVIDER), ("c.toml", ACME), ("d.toml", &other)]).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].file, PathBuf::from("d.toml"));
        assert!(
            e[0].message.contains("short_name `Acme` is already used")
                && e[0].message.contains("c.toml:4"),
            "{e:?}"
        );
    }

    #[test]
    fn parameter_names_follow_the_example_spelling() {
        for ok in [
            "CacProfile",
            "ProxySet",
            "CarrierUserPassword",
            "CustomVar.Variable1",
            "CustomVar.Variable12",
            "additionalProp3",
        ] {
            assert!(known_parameter(ok), "{ok}");
        }
        for bad in [
            "CACProfile",
            "Proxy Set",
            "customvar.variable1",
            "additionalProp",
            "CustomVar.VariableX",
        ] {
            assert!(!known_parameter(bad), "{bad}");
        }
        assert_eq!(
            parameter_suggestion("CACProfile").as_deref(),
            Some("CacProfile")
        );
        assert_eq!(
            parameter_suggestion("Proxy Set").as_deref(),
            Some("ProxySet")
        );
        assert_eq!(
            parameter_suggestion("customvar.variable2").as_deref(),
            Some("CustomVar.Variable2")
        );
        assert_eq!(
            parameter_suggestion("AdditionalProp1").as_deref(),
            Some("additionalProp1")
        );
        assert_eq!(
            parameter_suggestion("CarierUserName").as_deref(),
            Some("CarrierUserName")
        );
    }

    #[test]
    fn guids_and_name_characters() {
        assert!(is_guid("4bf50a33-a383-4d3f-9403-220c898bc1b2"));
        assert!(is_guid("4BF50A33-A383-4D3F-9403-220C898BC1B2"));
        assert!(!is_guid("4bf50a33a3834d3f9403220c898bc1b2"));
        assert!(!is_guid("4bf50a33-a383-4d3f-9403-220c898bc1bz"));
        assert_eq!(bad_name_char("Acme"), None);
        assert_eq!(bad_name_char("Ac.me"), Some('.'));
        assert_eq!(bad_name_char("Ac me"), Some(' '));
        assert_eq!(bad_name_char("A|b"), Some('|'));
    }
}
