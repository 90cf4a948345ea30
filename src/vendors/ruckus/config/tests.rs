//! The RUCKUS One provider and customer rules, each error at its place.

use std::path::PathBuf;

use crate::config::{ConfigError, ConfigErrors, load_sources};
use crate::model::{Desired, SecretRef};
use crate::vendor::VendorConfig;
use crate::vendors::ruckus::Ruckus;
use crate::vendors::ruckus::model::{RuckusAddress, RuckusAdmin, RuckusAuth, RuckusSettings};

const PROVIDER: &str = r#"[providers.r1]
type = "ruckus-one"
base_url = "https://api.eu.ruckus.cloud"
tenant_id = "8D1F0C7E2B4A4F6C9E3D5A7B1C2E4F60"
client_id = { env = "R1_CLIENT_ID" }
client_secret = { env = "R1_CLIENT_SECRET" }
"#;

fn load(text: &str) -> Result<Desired, Vec<ConfigError>> {
    load_sources(&[(PathBuf::from("r1.toml"), text.to_string())]).map_err(|ConfigErrors(e)| e)
}

fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(d) => panic!("expected errors, loaded {d:#?}"),
        Err(e) => e
            .iter()
            .map(|e| format!("{}:{} {}: {}", e.line, e.column, e.key, e.message))
            .collect(),
    }
}

#[test]
fn a_full_provider_and_customer_load_with_defaults() {
    let text = format!(
        r#"{PROVIDER}token_url = "https://eu.ruckus.cloud/"
activity_timeout_secs = 60

[customers.acme]
provider = "r1"
name = "Acme Sales"
address = {{ street = "350 W Java Dr", city = "Sunnyvale", country = "US" }}
phone = "650-123-4567"
service_start = 2025-01-01
service_end = "2026-01-01"
tier = "GOLD"
admin = {{ email = "it@acme.example", first_name = "Ada", role = "PRIME_ADMIN" }}

[partners.integrator]
provider = "r1"
name = "Wire Masters"
role = "integrator"
customers = ["acme"]
"#
    );
    let d = load(&text).expect("loads");
    assert_eq!(d.providers["r1"].type_name(), "ruckus-one");
    let spec = d.spec::<Ruckus>("r1").expect("a RUCKUS One provider");
    let s = &spec.settings;
    assert_eq!(
        s.tenant_id, "8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60",
        "lower-cased"
    );
    assert_eq!(
        s.auth,
        RuckusAuth::ClientCredentials {
            client_id: SecretRef::Env("R1_CLIENT_ID".into()),
            client_secret: SecretRef::Env("R1_CLIENT_SECRET".into()),
        }
    );
    assert_eq!(s.token_url.as_deref(), Some("https://eu.ruckus.cloud"));
    assert_eq!((s.burst, s.calls_per_second), (200, 100));
    assert_eq!(s.activity_timeout_secs, 60);
    assert_eq!(s.poll_interval_ms, 500);
    let c = &spec.customers["acme"];
    assert_eq!(
        c.address,
        Some(RuckusAddress {
            street: Some("350 W Java Dr".into()),
            city: Some("Sunnyvale".into()),
            state: None,
            country: Some("US".into()),
            zip: None,
        })
    );
    assert_eq!(c.service_start.as_deref(), Some("2025-01-01"));
    assert_eq!(c.service_end.as_deref(), Some("2026-01-01"));
    assert_eq!(
        c.admin,
        Some(RuckusAdmin {
            email: "it@acme.example".into(),
            first_name: Some("Ada".into()),
            last_name: None,
            role: Some("PRIME_ADMIN".into()),
        })
    );
    assert_eq!(d.partners["integrator"].role.as_deref(), Some("integrator"));
}

#[test]
fn a_static_token_is_enough() {
    let d = load(
        r#"[providers.r1]
type = "ruckus-one"
base_url = "https://api.ruckus.cloud"
tenant_id = "8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60"
token = { file = "r1.token" }
"#,
    )
    .unwrap();
    let s = &d.spec::<Ruckus>("r1").unwrap().settings;
    assert!(matches!(s.auth, RuckusAuth::Token(SecretRef::File(_))));
}

#[test]
fn provider_rules_are_checked_at_their_place() {
    let errs = errors(
        r#"[providers.r1]
type = "ruckus-one"
base_url = "https://api.ruckus.cloud"
tenant_id = "not-hex"
token = "eyJhbGciOi"
client_id = { env = "ID" }
burst = 0
calls_per_second = 500
token_url = "ftp://x"
"#,
    );
    let joined = errors_text(&errs);
    assert!(
        joined.contains("4:13 providers.r1.tenant_id: `not-hex` is not a RUCKUS One tenant id"),
        "{joined}"
    );
    assert!(
        joined.contains("providers.r1.token: give either `token` or `client_id` + `client_secret`"),
        "{joined}"
    );
    assert!(
        joined.contains("7:9 providers.r1.burst: must be between 1 and 10000"),
        "{joined}"
    );
    assert!(
        joined.contains("8:20 providers.r1.calls_per_second: must be between 1 and 100"),
        "{joined}"
    );
    assert!(
        joined.contains("9:13 providers.r1.token_url: `ftp://x` is not an http:// or https:// URL"),
        "{joined}"
    );
    assert!(
        !joined.contains("eyJhbGciOi"),
        "never echoes a secret: {joined}"
    );
}

fn errors_text(errs: &[String]) -> String {
    errs.join("\n")
}

#[test]
fn credentials_must_be_complete() {
    let base = "[providers.r1]\ntype = \"ruckus-one\"\nbase_url = \"https://api.ruckus.cloud\"\ntenant_id = \"8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60\"\n";
    let errs = errors_text(&errors(base));
    assert!(errs.contains("missing credentials"), "{errs}");
    let errs = errors_text(&errors(&format!(
        "{base}client_secret = {{ env = \"S\" }}\n"
    )));
    assert!(
        errs.contains("5:1 providers.r1.client_secret: `client_secret` needs `client_id` too"),
        "{errs}"
    );
    let errs = errors_text(&errors(&format!(
        "{base}client_id = {{ env = \"S\" }}\nclient_secret = \"hunter2\"\n"
    )));
    assert!(
        errs.contains("secrets must be given by reference"),
        "{errs}"
    );
    assert!(!errs.contains("hunter2"), "{errs}");
    let errs = errors_text(&errors(&format!(
        "{base}token = {{ env = \"T\" }}\nlicense_services = []\n"
    )));
    assert!(errs.contains("unknown key `license_services`"), "{errs}");
}

#[test]
fn customer_rules_are_checked_at_their_place() {
    let long = "x".repeat(256);
    let text = format!(
        r#"{PROVIDER}
[customers.acme]
provider = "r1"
name = "{long}"
address = {{ street = "", town = "Sunnyvale" }}
phone = 5551234
service_start = "2025-02-30"
service_end = 2024-01-01T10:00:00
tier = "{long}"
admin = {{ email = "not-an-email", first_name = "Ada" }}
colour = "red"

[customers.beta]
provider = "r1"
name = "Beta"
service_start = "2025-06-01"
service_end = "2025-01-01"
address = {{}}
admin = {{ first_name = "Bob" }}
"#
    );
    let errs = errors_text(&errors(&text));
    for want in [
        "10:8 customers.acme.name: the name is 256 characters long; RUCKUS One allows at most 255",
        "customers.acme.address.town: unknown key `town`",
        "customers.acme.address.street: must not be empty",
        "12:9 customers.acme.phone: expected a string, found an integer",
        "13:17 customers.acme.service_start: not a valid calendar date",
        "14:15 customers.acme.service_end: expected a date without a time",
        "15:8 customers.acme.tier: 256 characters; RUCKUS One allows at most 255",
        "customers.acme.admin.email: `not-an-email` is not an email address",
        "customers.acme.colour: unknown key `colour`",
        "customers.beta.service_end: the service ends (2025-01-01) before it starts (2025-06-01)",
        "customers.beta.address: the address is empty",
        "customers.beta.admin.email: missing required key `email`",
    ] {
        assert!(errs.contains(want), "missing {want:?} in\n{errs}");
    }
}

#[test]
fn tech_partner_roles_are_checked() {
    let text = format!(
        r#"{PROVIDER}
[customers.acme]
provider = "r1"
name = "Acme"

[partners.p]
provider = "r1"
name = "Wire Masters"
role = "reseller"
customers = ["acme"]
"#
    );
    let errs = errors_text(&errors(&text));
    assert!(
        errs.contains("partners.p.role: unknown role `reseller`"),
        "{errs}"
    );
}

/// `mspform demo` supplies, for an unset variable, the value recorded with the
/// secret: the embedded simulator's `[ruckus.oauth]` client and its static token.
#[cfg(feature = "sim")]
#[test]
fn secrets_carry_the_embedded_simulators_credentials_for_the_demo() {
    let inventory = crate::sim::Inventory::embedded().ruckus;
    let d = load(PROVIDER).expect("loads");
    let demo: Vec<(&str, Option<&str>)> =
        d.secrets.iter().map(|s| (s.key.as_str(), s.demo)).collect();
    assert_eq!(
        demo,
        [
            (
                "providers.r1.client_id",
                Some(inventory.oauth.client_id.as_str())
            ),
            (
                "providers.r1.client_secret",
                Some(inventory.oauth.client_secret.as_str())
            ),
        ]
    );
    let token = "[providers.r1]\ntype = \"ruckus-one\"\nbase_url = \"https://api.ruckus.cloud\"\ntenant_id = \"8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60\"\ntoken = { env = \"R1_TOKEN\" }\n";
    let d = load(token).expect("loads");
    assert_eq!(d.secrets.len(), 1);
    assert!(
        inventory
            .tokens
            .iter()
            .any(|t| Some(t.as_str()) == d.secrets[0].demo),
        "{:?} is one of {:?}",
        d.secrets[0].demo,
        inventory.tokens
    );
}

#[test]
fn the_demo_repoints_a_token_url_and_leaves_none_alone() {
    let mut s = RuckusSettings::new(
        "8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60".into(),
        RuckusAuth::Token(SecretRef::Env("T".into())),
    );
    let map = |url: &str| url.replace("http://127.0.0.1:8080", "http://127.0.0.1:9");
    Ruckus::repoint(&mut s, &map);
    assert_eq!(
        s.token_url, None,
        "the base URL is used: nothing to rewrite"
    );
    s.token_url = Some("http://127.0.0.1:8080/ruckus".into());
    Ruckus::repoint(&mut s, &map);
    assert_eq!(s.token_url.as_deref(), Some("http://127.0.0.1:9/ruckus"));
}
