//! `type = "extremecloud"`: ExtremeCloud provider settings and customer (tenant)
//! fields, with every field rule of the fact sheet (§2.2) checked here, so a bad
//! file fails before any vendor call.

use super::ExtremeCloud;
use super::model::{ExtremeAuth, ExtremeContact, ExtremeCustomer, ExtremeSettings};
use crate::config::{Node, Sink, Table, closest, env_name, secret};
use crate::vendor::config::{OneOf, country_code};
use crate::vendor::{CustomerInput, ProviderInput, VendorConfig};

/// What the embedded simulator accepts (the demo supplies these for unset
/// variables): the password of its inventory's administrators, and its static token.
pub(super) const DEMO_PASSWORD: &str = "sim-password";
pub(super) const DEMO_TOKEN: &str = "sim-token";

pub(super) const LOGIN_KEYS: &[&str] = &["user", "password", "scope"];

pub(super) const CONTACT_KEYS: &[&str] = &["email", "name", "phone"];

/// `accountName`: 1–64 characters.
const MAX_ACCOUNT_NAME: usize = 64;
/// `contactName`: 1–128 characters.
const MAX_CONTACT_NAME: usize = 128;
/// Characters the vendor refuses in names and administrator ids.
const FORBIDDEN: [char; 3] = [';', ':', '&'];
/// The areas of IANA time zone names.
const TZ_AREAS: &[&str] = &[
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
    "Etc",
];

impl VendorConfig for ExtremeCloud {
    type ProviderSchema = super::schema::ProviderKeys;
    type CustomerSchema = super::schema::CustomerKeys;
    type Settings = ExtremeSettings;
    type Customer = ExtremeCustomer;

    /// Provider keys besides `type`, `base_url` and `ownership`.
    const PROVIDER_KEYS: &'static [&'static str] = &[
        "token",
        "login",
        "msp_prefix",
        "token_path",
        "msp_id",
        "calls_per_second",
        "request_timeout_secs",
    ];
    /// Customer keys besides `provider` and `name`.
    const CUSTOMER_KEYS: &'static [&'static str] =
        &["country", "time_zone", "contact", "admin_user"];

    fn settings(input: &ProviderInput<'_>, sink: &mut Sink) -> Option<ExtremeSettings> {
        let table = input.table;
        let before = sink.errors.len();
        let auth = auth(input.node, table, sink);
        let path = |sink: &mut Sink, key: &str, default: &str, url_ok: bool| -> Option<String> {
            let Some(n) = table.get(key) else {
                return Some(default.to_string());
            };
            let value = n.string(sink)?;
            match check_path(value, url_ok) {
                Ok(v) => Some(v),
                Err(help) => {
                    n.error(sink, format!("`{value}` is not a usable path"), Some(help));
                    None
                }
            }
        };
        let msp_prefix = path(sink, "msp_prefix", "/v1", false);
        let token_path = path(sink, "token_path", "/management/v1/oauth2/token", true);
        let msp_id = match table.get("msp_id") {
            None => Some(None),
            Some(n) => n.nonempty_string(sink).map(|s| Some(s.to_string())),
        };
        let calls_per_second = input.number(sink, "calls_per_second", 1..=1000);
        let request_timeout_secs = input.number(sink, "request_timeout_secs", 1..=600);
        if sink.errors.len() > before {
            return None;
        }
        let mut settings = ExtremeSettings::new(auth?);
        settings.msp_prefix = msp_prefix?;
        settings.token_path = token_path?;
        settings.msp_id = msp_id?;
        settings.calls_per_second = u32::try_from(calls_per_second.unwrap_or(10)).ok()?;
        settings.request_timeout_secs = request_timeout_secs.unwrap_or(30);
        Some(settings)
    }

    fn customer(
        _settings: Option<&ExtremeSettings>,
        input: &CustomerInput<'_>,
        sink: &mut Sink,
    ) -> Option<ExtremeCustomer> {
        let table = &input.table;
        let before = sink.errors.len();
        input.check_name_length(
            MAX_ACCOUNT_NAME,
            &format!("ExtremeCloud allows at most {MAX_ACCOUNT_NAME} (accountName)"),
            sink,
        );
        let country = table
            .required(sink, "country", "country = \"NL\"")
            .and_then(|n| country_code(&n, sink));
        let time_zone = table
            .required(sink, "time_zone", "time_zone = \"Europe/Amsterdam\"")
            .and_then(|n| {
                let value = n.nonempty_string(sink)?;
                match check_time_zone(value) {
                    Ok(()) => Some(value),
                    Err(help) => {
                        n.error(
                            sink,
                            format!("`{value}` is not an IANA time zone name"),
                            Some(help),
                        );
                        None
                    }
                }
            });
        let contact = match table.get("contact") {
            None => Some(None),
            Some(n) => contact(&n, sink).map(Some),
        };
        let admin_user = table
            .required(sink, "admin_user", "admin_user = \"admin@acme.example\"")
            .and_then(|n| checked(&n, sink, check_user_id));
        if sink.errors.len() > before {
            return None;
        }
        Some(ExtremeCustomer {
            country: country?,
            time_zone: time_zone?.to_string(),
            contact: contact?,
            admin_user: admin_user?.to_string(),
        })
    }

    fn repoint(settings: &mut ExtremeSettings, map: &dyn Fn(&str) -> String) {
        // A full token URL (a path is relative to `base_url`, repointed already).
        if settings.token_path.starts_with("http://") || settings.token_path.starts_with("https://")
        {
            settings.token_path = map(&settings.token_path);
        }
    }
}

/// A path prefix (`/v1`, or empty for the root) or the token path; with `url_ok`,
/// also a full `http(s)://` URL. Returned without a trailing `/`.
fn check_path(value: &str, url_ok: bool) -> Result<String, String> {
    let trimmed = value.trim_end_matches('/');
    let is_url = value.starts_with("https://") || value.starts_with("http://");
    let ok = !value.contains(|c: char| c.is_whitespace() || matches!(c, '?' | '#'))
        && ((url_ok && is_url) || trimmed.is_empty() || trimmed.starts_with('/'))
        && !(url_ok && trimmed.is_empty());
    if ok {
        Ok(trimmed.to_string())
    } else if url_ok {
        Err("give a path starting with `/`, e.g. token_path = \"/management/v1/oauth2/token\", or a full https:// URL".to_string())
    } else {
        Err(
            "give a path starting with `/`, e.g. msp_prefix = \"/v1\" (or \"\" for the root)"
                .to_string(),
        )
    }
}

/// `token` or `login`: exactly one of them.
fn auth(provider: &Node<'_>, table: &Table<'_>, sink: &mut Sink) -> Option<ExtremeAuth> {
    let password_env = env_name(provider.name, "password");
    let token_env = env_name(provider.name, "token");
    let credentials = OneOf {
        keys: ["token", "login"],
        missing: "missing credentials: give `login` or `token`",
        help_both: format!(
            "keep login = {{ user = \"…\", password = {{ env = \"{password_env}\" }} }} so mspform can log in again when the token expires, or token = {{ env = \"{token_env}\" }} for a static token"
        ),
        help_missing: format!(
            "add login = {{ user = \"msp-admin@example.net\", password = {{ env = \"{password_env}\" }} }} (an MSP Power Admin account), or token = {{ env = \"{token_env}\" }}"
        ),
    };
    match credentials.pick(provider, table, sink)? {
        ("token", token) => {
            secret(&token, provider.name, Some(DEMO_TOKEN), sink).map(ExtremeAuth::Token)
        }
        (_, login) => {
            let t = login.table(sink, LOGIN_KEYS)?;
            let user = t.nonempty_string(sink, "user", "user = \"msp-admin@example.net\"");
            let password = match t.get("password") {
                Some(n) => secret(&n, provider.name, Some(DEMO_PASSWORD), sink),
                None => {
                    t.missing(
                        sink,
                        "password",
                        &format!("password = {{ env = \"{password_env}\" }}"),
                    );
                    None
                }
            };
            let scope = match t.get("scope") {
                None => Some(None),
                Some(n) => n.string(sink).map(|s| Some(s.to_string())),
            };
            Some(ExtremeAuth::Password {
                user_id: user?.to_string(),
                password: password?,
                scope: scope?,
            })
        }
    }
}

/// `contact = { email, name, phone }`: email and name required.
fn contact(n: &Node<'_>, sink: &mut Sink) -> Option<ExtremeContact> {
    let t = n.table(sink, CONTACT_KEYS)?;
    let email = t
        .required(sink, "email", "email = \"noc@acme.example\"")
        .and_then(|n| checked(&n, sink, check_email));
    let name = t
        .required(sink, "name", "name = \"Acme NOC\"")
        .and_then(|n| checked(&n, sink, check_contact_name));
    let phone = match t.get("phone") {
        None => Some(""),
        Some(n) => n.string(sink),
    };
    Some(ExtremeContact {
        email: email?.to_string(),
        name: name?.to_string(),
        phone: phone?.to_string(),
    })
}

/// A string that passes `check` (which returns the message and help when it does not).
fn checked<'a>(
    node: &Node<'a>,
    sink: &mut Sink,
    check: fn(&str) -> Result<(), (String, String)>,
) -> Option<&'a str> {
    let value = node.string(sink)?;
    match check(value) {
        Ok(()) => Some(value),
        Err((message, help)) => {
            node.error(sink, message, Some(help));
            None
        }
    }
}

/// A plausible IANA time zone: `UTC`/`GMT`, or `Area/Location[/Sub]` with a known
/// area and locations that start with a capital letter. The help suggests a
/// spelling when only the case is wrong.
pub(crate) fn check_time_zone(tz: &str) -> Result<(), String> {
    if matches!(tz, "UTC" | "GMT") {
        return Ok(());
    }
    let parts: Vec<&str> = tz.split('/').collect();
    let segment_ok = |p: &str| {
        p.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
    };
    if TZ_AREAS.contains(&parts[0])
        && (2..=3).contains(&parts.len())
        && parts[1..].iter().all(|p| segment_ok(p))
    {
        return Ok(());
    }
    if tz.eq_ignore_ascii_case("utc") || tz.eq_ignore_ascii_case("gmt") {
        return Err(format!("write time_zone = \"{}\"", tz.to_ascii_uppercase()));
    }
    // Case fixes: `europe/amsterdam` → `Europe/Amsterdam`.
    if let Some(area) = TZ_AREAS.iter().find(|a| a.eq_ignore_ascii_case(parts[0]))
        && (2..=3).contains(&parts.len())
    {
        let fixed: Vec<String> = std::iter::once(area.to_string())
            .chain(parts[1..].iter().map(|p| title_case(p)))
            .collect();
        let fixed = fixed.join("/");
        if fixed != tz && check_time_zone(&fixed).is_ok() {
            return Err(format!("did you mean time_zone = \"{fixed}\"?"));
        }
    }
    let hint = closest(parts[0], TZ_AREAS.iter().copied())
        .map(|a| format!("did you mean the area `{a}`? "))
        .unwrap_or_default();
    Err(format!(
        "{hint}use an IANA name such as \"Europe/Amsterdam\", \"America/New_York\" or \"UTC\""
    ))
}

/// `new_york` → `New_York`, `port-au-prince` → `Port-Au-Prince`.
fn title_case(s: &str) -> String {
    let mut out = String::new();
    let mut up = true;
    for c in s.chars() {
        out.push(if up { c.to_ascii_uppercase() } else { c });
        up = matches!(c, '_' | '-');
    }
    out
}

/// A syntactically valid e-mail address: one `@`, a local part, a dotted domain of
/// letters, digits and `-`, no white space.
pub(crate) fn check_email(s: &str) -> Result<(), (String, String)> {
    let bad = || {
        (
            format!("`{s}` is not a valid e-mail address"),
            "write an address such as \"noc@acme.example\"".to_string(),
        )
    };
    let (local, domain) = s.split_once('@').ok_or_else(bad)?;
    let labels_ok = domain.contains('.')
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if local.is_empty()
        || domain.contains('@')
        || !labels_ok
        || s.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(())
}

/// `contactName`: 1–128 characters, no `;` `:` `&`.
pub(crate) fn check_contact_name(s: &str) -> Result<(), (String, String)> {
    let n = s.chars().count();
    if s.trim().is_empty() {
        return Err((
            "must not be empty".to_string(),
            "give the contact person's name, e.g. name = \"Acme NOC\"".to_string(),
        ));
    }
    if n > MAX_CONTACT_NAME {
        return Err((
            format!(
                "the contact name is {n} characters long; ExtremeCloud allows at most {MAX_CONTACT_NAME}"
            ),
            "shorten the name".to_string(),
        ));
    }
    if s.contains(FORBIDDEN) {
        return Err((
            "ExtremeCloud refuses `;`, `:` and `&` in a contact name".to_string(),
            "write `and` instead of `&`, and leave out `;` and `:`".to_string(),
        ));
    }
    Ok(())
}

/// `userId` of the tenant's first power administrator: an e-mail of at most 128
/// characters (local part ≤ 63, domain ≤ 64), no `;` `:` `&`.
pub(crate) fn check_user_id(s: &str) -> Result<(), (String, String)> {
    if s.contains(FORBIDDEN) {
        return Err((
            "ExtremeCloud refuses `;`, `:` and `&` in an administrator id".to_string(),
            "give the administrator's e-mail address, e.g. admin_user = \"admin@acme.example\""
                .to_string(),
        ));
    }
    check_email(s)?;
    let (local, domain) = s.split_once('@').unwrap_or((s, ""));
    let (nl, nd, n) = (
        local.chars().count(),
        domain.chars().count(),
        s.chars().count(),
    );
    let too_long = |what: &str, have: usize, max: usize| {
        Err((
            format!("the {what} is {have} characters long; ExtremeCloud allows at most {max}"),
            "use a shorter administrator address (at most 63 characters before the @, 64 after)"
                .to_string(),
        ))
    };
    if nl > 63 {
        return too_long("part before the @", nl, 63);
    }
    if nd > 64 {
        return too_long("domain", nd, 64);
    }
    if n > 128 {
        return too_long("administrator id", n, 128);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::extremecloud::ExtremeCloud;

    #[test]
    fn time_zones() {
        for ok in [
            "UTC",
            "GMT",
            "Europe/Amsterdam",
            "America/New_York",
            "America/Argentina/Buenos_Aires",
            "America/Port-au-Prince",
            "Etc/GMT+5",
            "Etc/UTC",
        ] {
            assert_eq!(check_time_zone(ok), Ok(()), "{ok}");
        }
        assert!(
            check_time_zone("europe/amsterdam")
                .unwrap_err()
                .contains("\"Europe/Amsterdam\"")
        );
        assert!(check_time_zone("utc").unwrap_err().contains("\"UTC\""));
        assert!(
            check_time_zone("Eurpe/Paris")
                .unwrap_err()
                .contains("`Europe`")
        );
        for bad in [
            "",
            "Europe",
            "Mars/Olympus",
            "Europe/",
            "CET",
            "Europe/a b",
            "A/B/C/D",
        ] {
            assert!(check_time_zone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_and_admin_ids() {
        assert!(check_email("noc@acme.example").is_ok());
        for bad in [
            "noc",
            "@acme.example",
            "noc@acme",
            "noc@@acme.example",
            "a b@c.de",
            "noc@acme..example",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        let local63 = "a".repeat(63);
        let domain64 = format!("{}.com", "b".repeat(60));
        assert!(check_user_id(&format!("{local63}@{domain64}")).is_ok());
        assert!(check_user_id(&format!("{}@x.com", "a".repeat(64))).is_err());
        assert!(check_user_id(&format!("a@{}.com", "b".repeat(61))).is_err());
        assert!(check_user_id("a;b@x.com").unwrap_err().0.contains("`;`"));
        assert!(check_user_id("a&b@x.com").is_err());
    }

    #[test]
    fn contact_names() {
        assert!(check_contact_name("Acme NOC").is_ok());
        assert!(check_contact_name(&"x".repeat(128)).is_ok());
        assert!(check_contact_name(&"x".repeat(129)).is_err());
        assert!(check_contact_name("A & B").is_err());
        assert!(check_contact_name("A: B").is_err());
        assert!(check_contact_name(" ").is_err());
    }

    #[test]
    fn paths() {
        assert_eq!(check_path("/v1", false).as_deref(), Ok("/v1"));
        assert_eq!(check_path("/v1/", false).as_deref(), Ok("/v1"));
        assert_eq!(check_path("", false).as_deref(), Ok(""));
        assert!(check_path("v1", false).is_err());
        assert!(check_path("https://x/t", false).is_err());
        assert_eq!(
            check_path("https://login.example/t", true).as_deref(),
            Ok("https://login.example/t")
        );
        assert!(check_path("", true).is_err());
        assert!(check_path("/a b", true).is_err());
    }

    fn load(text: &str) -> Result<crate::model::Desired, Vec<(String, String)>> {
        crate::config::load_sources(&[("x.toml".into(), text.to_string())]).map_err(|e| {
            e.iter()
                .map(|e| {
                    (
                        format!("{}:{} {}", e.line, e.column, e.key),
                        e.message.clone(),
                    )
                })
                .collect()
        })
    }

    #[test]
    fn provider_settings_and_defaults() {
        let d = load(
            "[providers.x]\ntype = \"extremecloud\"\nbase_url = \"https://api.ezcloudx.com/\"\nlogin = { user = \"a@b.example\", password = { env = \"P\" } }\n",
        )
        .unwrap();
        let p = &d.providers["x"];
        assert_eq!(p.base_url, "https://api.ezcloudx.com");
        let s = &d.spec::<ExtremeCloud>("x").unwrap().settings;
        assert_eq!(s.msp_prefix, "/v1");
        assert_eq!(s.token_path, "/management/v1/oauth2/token");
        assert_eq!(
            (
                s.calls_per_second,
                s.request_timeout_secs,
                s.msp_id.as_deref()
            ),
            (10, 30, None)
        );
        assert!(
            matches!(&s.auth, ExtremeAuth::Password { user_id, scope: None, .. } if user_id == "a@b.example")
        );

        let d = load(
            "[providers.x]\ntype = \"extremecloud\"\nbase_url = \"https://h\"\ntoken = { file = \"t\" }\nmsp_prefix = \"\"\nmsp_id = \"Msp-tenantid-X\"\n",
        )
        .unwrap();
        let s = &d.spec::<ExtremeCloud>("x").unwrap().settings;
        assert_eq!(s.msp_prefix, "");
        assert_eq!(s.msp_id.as_deref(), Some("Msp-tenantid-X"));
        assert!(matches!(s.auth, ExtremeAuth::Token(_)));
    }

    #[test]
    fn provider_errors_are_placed() {
        let errors = load(
            "[providers.x]\ntype = \"extremecloud\"\nbase_url = \"https://h\"\ntoken = { env = \"T\" }\nlogin = { user = \"\", password = \"hunter2\" }\nmsp_prefix = \"v1\"\ncalls_per_second = 0\n",
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                (
                    "5:1 providers.x.login".to_string(),
                    "give either `token` or `login`, not both".to_string()
                ),
                (
                    "6:14 providers.x.msp_prefix".to_string(),
                    "`v1` is not a usable path".to_string()
                ),
                (
                    "7:20 providers.x.calls_per_second".to_string(),
                    "must be between 1 and 1000".to_string()
                ),
            ]
        );
        let errors = load(
            "[providers.x]\ntype = \"extremecloud\"\nbase_url = \"https://h\"\nlogin = { user = \"\", password = \"hunter2\" }\n",
        )
        .unwrap_err();
        let messages: Vec<&str> = errors.iter().map(|e| e.1.as_str()).collect();
        assert_eq!(
            messages,
            ["must not be empty", "secrets must be given by reference"]
        );
        assert!(errors.iter().all(|e| !e.1.contains("hunter2")));
        let errors =
            load("[providers.x]\ntype = \"extremecloud\"\nbase_url = \"https://h\"\n").unwrap_err();
        assert_eq!(errors[0].1, "missing credentials: give `login` or `token`");
    }

    #[test]
    fn customer_without_contact_and_required_keys() {
        let provider = "[providers.x]\ntype = \"extremecloud\"\nbase_url = \"https://h\"\ntoken = { env = \"T\" }\n";
        let d = load(&format!(
            "{provider}[customers.a]\nprovider = \"x\"\nname = \"A\"\ncountry = \"nl\"\ntime_zone = \"UTC\"\nadmin_user = \"admin@a.example\"\n"
        ))
        .unwrap();
        let c = &d.spec::<ExtremeCloud>("x").unwrap().customers["a"];
        assert_eq!((c.country.as_str(), c.contact.is_none()), ("NL", true));
        let errors = load(&format!(
            "{provider}[customers.a]\nprovider = \"x\"\nname = \"A\"\ncontact = {{ phone = \"1\" }}\n"
        ))
        .unwrap_err();
        let keys: Vec<&str> = errors.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            keys,
            [
                "5:12 customers.a.country",
                "5:12 customers.a.time_zone",
                "5:12 customers.a.admin_user",
                "8:1 customers.a.contact.email",
                "8:1 customers.a.contact.name",
            ]
        );
    }
}
