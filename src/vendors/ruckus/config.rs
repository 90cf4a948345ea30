//! `type = "ruckus-one"`: RUCKUS One provider settings and managed-tenant fields
//! (vendor-apis.md §3). Every documented field rule is checked here, so bad input
//! fails before any vendor call.

use toml::de::DeValue;

use super::Ruckus;
use super::model::{
    RuckusAddress, RuckusAdmin, RuckusAuth, RuckusCustomer, RuckusSettings, parse_day,
};
use crate::config::{Node, Sink, Table, env_name, secret};
use crate::vendor::{CustomerInput, ProviderInput, VendorConfig};

/// What the embedded simulator accepts (the demo supplies these for unset
/// variables): the client credentials of its inventory's `[ruckus.oauth]`, and
/// its static token.
pub(super) const DEMO_CLIENT_ID: &str = "sim-r1-client";
pub(super) const DEMO_CLIENT_SECRET: &str = "sim-r1-secret";
pub(super) const DEMO_TOKEN: &str = "sim-token";

pub(super) const ADDRESS_KEYS: &[&str] = &["street", "city", "state", "country", "zip"];
pub(super) const ADMIN_KEYS: &[&str] = &["email", "first_name", "last_name", "role"];

/// The vendor's limit for every MSP-EC string field ([0 .. 255] characters).
const MAX_CHARS: usize = 255;

impl VendorConfig for Ruckus {
    type ProviderSchema = super::schema::ProviderKeys;
    type CustomerSchema = super::schema::CustomerKeys;
    type Settings = RuckusSettings;
    type Customer = RuckusCustomer;

    /// Provider keys besides `type`, `base_url` and `ownership`.
    const PROVIDER_KEYS: &'static [&'static str] = &[
        "tenant_id",
        "client_id",
        "client_secret",
        "token",
        "token_url",
        "burst",
        "calls_per_second",
        "poll_interval_ms",
        "activity_timeout_secs",
        "request_timeout_secs",
    ];
    /// Customer keys besides `provider` and `name`.
    const CUSTOMER_KEYS: &'static [&'static str] = &[
        "address",
        "phone",
        "service_start",
        "service_end",
        "tier",
        "admin",
    ];

    fn settings(input: &ProviderInput<'_>, sink: &mut Sink) -> Option<RuckusSettings> {
        let table = input.table;
        let before = sink.errors.len();
        let tenant_id = table
            .required(sink, "tenant_id", "tenant_id = \"<32 hex characters>\"")
            .and_then(|n| tenant_id(&n, sink));
        let auth = auth(input.node, table, sink);
        let token_url = table.get("token_url").and_then(|n| url(&n, sink));
        // `None` when absent (the default applies), checked against the range when given.
        let burst = input.number(sink, "burst", 1..=10_000);
        let calls_per_second = input.number(sink, "calls_per_second", 1..=100);
        let poll_interval_ms = input.number(sink, "poll_interval_ms", 10..=60_000);
        let activity_timeout_secs = input.number(sink, "activity_timeout_secs", 1..=86_400);
        let request_timeout_secs = input.number(sink, "request_timeout_secs", 1..=600);
        if sink.errors.len() > before {
            return None;
        }
        let mut s = RuckusSettings::new(tenant_id?, auth?);
        s.token_url = token_url;
        if let Some(v) = burst {
            s.burst = u32::try_from(v).ok()?;
        }
        if let Some(v) = calls_per_second {
            s.calls_per_second = u32::try_from(v).ok()?;
        }
        s.poll_interval_ms = poll_interval_ms.unwrap_or(s.poll_interval_ms);
        s.activity_timeout_secs = activity_timeout_secs.unwrap_or(s.activity_timeout_secs);
        s.request_timeout_secs = request_timeout_secs.unwrap_or(s.request_timeout_secs);
        Some(s)
    }

    fn customer(
        _settings: Option<&RuckusSettings>,
        input: &CustomerInput<'_>,
        sink: &mut Sink,
    ) -> Option<RuckusCustomer> {
        let table = &input.table;
        let before = sink.errors.len();
        input.check_name_length(
            MAX_CHARS,
            &format!("RUCKUS One allows at most {MAX_CHARS}"),
            sink,
        );
        let address = match table.get("address") {
            None => Some(None),
            Some(n) => address(&n, sink).map(Some),
        };
        let phone = opt_text(table, "phone", sink);
        let tier = opt_text(table, "tier", sink);
        let (service_start, service_end) = service_dates(table, sink);
        let admin = match table.get("admin") {
            None => Some(None),
            Some(n) => admin(&n, sink).map(Some),
        };
        if sink.errors.len() > before {
            return None;
        }
        Some(RuckusCustomer {
            address: address?,
            phone: phone?,
            service_start: service_start?,
            service_end: service_end?,
            tier: tier?,
            admin: admin?,
        })
    }

    fn repoint(settings: &mut RuckusSettings, map: &dyn Fn(&str) -> String) {
        if let Some(url) = &mut settings.token_url {
            *url = map(url);
        }
    }
}

/// The MSP's own tenant id: 32 hexadecimal characters (lower-cased).
fn tenant_id(n: &Node<'_>, sink: &mut Sink) -> Option<String> {
    let id = n.nonempty_string(sink)?;
    let id = id.trim().to_ascii_lowercase();
    if id.len() != 32 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        n.error(
            sink,
            format!("`{id}` is not a RUCKUS One tenant id"),
            Some(
                "give the MSP's own tenant id: 32 hexadecimal characters, as shown under Administration → Account Management or in the token URL".to_string(),
            ),
        );
        return None;
    }
    Some(id)
}

/// `token`, or `client_id` + `client_secret`: exactly one way.
fn auth(provider: &Node<'_>, table: &Table<'_>, sink: &mut Sink) -> Option<RuckusAuth> {
    let token = table.get("token");
    let id = table.get("client_id");
    let secret_node = table.get("client_secret");
    let example = format!(
        "client_id = {{ env = \"{}\" }} and client_secret = {{ env = \"{}\" }}",
        env_name(provider.name, "client_id"),
        env_name(provider.name, "client_secret")
    );
    match (token, id, secret_node) {
        (Some(token), None, None) => {
            secret(&token, provider.name, Some(DEMO_TOKEN), sink).map(RuckusAuth::Token)
        }
        (None, Some(id), Some(s)) => {
            let client_id = secret(&id, provider.name, Some(DEMO_CLIENT_ID), sink);
            let client_secret = secret(&s, provider.name, Some(DEMO_CLIENT_SECRET), sink);
            Some(RuckusAuth::ClientCredentials {
                client_id: client_id?,
                client_secret: client_secret?,
            })
        }
        (None, None, None) => {
            provider.error_at_key(
                sink,
                "missing credentials: give `client_id` and `client_secret`, or `token`",
                Some(format!(
                    "add {example} (an application token of the MSP account), or token = {{ env = \"{}\" }}",
                    env_name(provider.name, "token")
                )),
            );
            None
        }
        (Some(token), _, _) => {
            token.error_at_key(
                sink,
                "give either `token` or `client_id` + `client_secret`, not both",
                Some(
                    "keep the client credentials (mspform requests and renews tokens itself), or only a static token"
                        .to_string(),
                ),
            );
            None
        }
        (None, Some(n), None) | (None, None, Some(n)) => {
            let missing = if n.name == "client_id" {
                "client_secret"
            } else {
                "client_id"
            };
            n.error_at_key(
                sink,
                format!("`{}` needs `{missing}` too", n.name),
                Some(format!("add {example}")),
            );
            None
        }
    }
}

fn url(node: &Node<'_>, sink: &mut Sink) -> Option<String> {
    let url = node.nonempty_string(sink)?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.trim_end_matches('/').is_empty() && !url.contains(char::is_whitespace) =>
        {
            Some(url.trim_end_matches('/').to_string())
        }
        _ => {
            node.error(
                sink,
                format!("`{url}` is not an http:// or https:// URL"),
                Some(
                    "write the host the token is requested from, e.g. token_url = \"https://ruckus.cloud\"; mspform appends /oauth2/token/<tenant_id>".to_string(),
                ),
            );
            None
        }
    }
}

/// A non-empty string of at most 255 characters.
fn text(node: &Node<'_>, sink: &mut Sink) -> Option<String> {
    let s = node.nonempty_string(sink)?;
    let chars = s.chars().count();
    if chars > MAX_CHARS {
        node.error(
            sink,
            format!("{chars} characters; RUCKUS One allows at most {MAX_CHARS}"),
            Some(format!("shorten `{}`", node.last_key())),
        );
        return None;
    }
    Some(s.to_string())
}

/// `Some(None)` when absent, `Some(Some(v))` when valid, `None` when invalid.
fn opt_text(table: &Table<'_>, key: &str, sink: &mut Sink) -> Option<Option<String>> {
    match table.get(key) {
        None => Some(None),
        Some(n) => text(&n, sink).map(Some),
    }
}

/// A calendar date `YYYY-MM-DD`, as a TOML string or a TOML local date.
fn date(node: &Node<'_>, sink: &mut Sink) -> Option<String> {
    let help = Some(format!(
        "write {} = \"2025-01-31\" (a date, no time: RUCKUS One service dates are compared by day)",
        node.last_key()
    ));
    let parsed = match node.value.get_ref() {
        DeValue::String(s) => parse_day(s.as_ref()),
        DeValue::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt
            .date
            .map(|d| (i64::from(d.year), u32::from(d.month), u32::from(d.day)))
            .filter(|(y, m, d)| parse_day(&format!("{y:04}-{m:02}-{d:02}")).is_some()),
        DeValue::Datetime(_) => {
            node.error(sink, "expected a date without a time", help);
            return None;
        }
        _ => {
            node.type_error(sink, "a date", help);
            return None;
        }
    };
    match parsed {
        Some((y, m, d)) => Some(format!("{y:04}-{m:02}-{d:02}")),
        None => {
            node.error(sink, "not a valid calendar date", help);
            None
        }
    }
}

/// `address = { street, city, state, country, zip }`: at least one part.
fn address(n: &Node<'_>, sink: &mut Sink) -> Option<RuckusAddress> {
    let t = n.table(sink, ADDRESS_KEYS)?;
    let street = opt_text(&t, "street", sink);
    let city = opt_text(&t, "city", sink);
    let state = opt_text(&t, "state", sink);
    let country = opt_text(&t, "country", sink);
    let zip = opt_text(&t, "zip", sink);
    let address = RuckusAddress {
        street: street?,
        city: city?,
        state: state?,
        country: country?,
        zip: zip?,
    };
    if address == RuckusAddress::default() {
        n.error(
            sink,
            "the address is empty",
            Some(
                "give at least one of street, city, state, country, zip, or remove `address`"
                    .to_string(),
            ),
        );
        return None;
    }
    Some(address)
}

/// `service_start` and `service_end`, each `Some(None)` when absent; the end
/// may not come before the start.
type Day = Option<Option<String>>;
fn service_dates(table: &Table<'_>, sink: &mut Sink) -> (Day, Day) {
    let end_node = table.get("service_end");
    let service_start = match table.get("service_start") {
        None => Some(None),
        Some(n) => date(&n, sink).map(Some),
    };
    let service_end = match &end_node {
        None => Some(None),
        Some(n) => date(n, sink).map(Some),
    };
    if let (Some(Some(start)), Some(Some(end)), Some(n)) = (&service_start, &service_end, &end_node)
        && end < start
    {
        n.error(
            sink,
            format!("the service ends ({end}) before it starts ({start})"),
            Some("service_end must be on or after service_start".to_string()),
        );
    }
    (service_start, service_end)
}

/// Whether a text looks like an email address (`name@domain.tld`, no blanks).
pub fn is_email(v: &str) -> bool {
    v.split_once('@').is_some_and(|(l, d)| {
        !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
    }) && !v.contains(char::is_whitespace)
}

/// `admin = { email, first_name, last_name, role }`: the email is required.
fn admin(n: &Node<'_>, sink: &mut Sink) -> Option<RuckusAdmin> {
    let t = n.table(sink, ADMIN_KEYS)?;
    let email = t
        .required(sink, "email", "email = \"admin@example.com\"")
        .and_then(|e| {
            let v = text(&e, sink)?;
            if !is_email(&v) {
                e.error(
                    sink,
                    format!("`{v}` is not an email address"),
                    Some(
                        "the invitation goes to this address: write it as name@example.com"
                            .to_string(),
                    ),
                );
                return None;
            }
            Some(v)
        });
    let first_name = opt_text(&t, "first_name", sink);
    let last_name = opt_text(&t, "last_name", sink);
    let role = opt_text(&t, "role", sink);
    Some(RuckusAdmin {
        email: email?,
        first_name: first_name?,
        last_name: last_name?,
        role: role?,
    })
}

#[cfg(test)]
mod tests;
