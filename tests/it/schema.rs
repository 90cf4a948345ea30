//! The JSON Schema of the configuration (`mspform schema`) against real files:
//! every example file and every vendor's starter is valid (each example names
//! the committed schema in its `#:schema` first line), and files with one
//! mistake are refused by both the loader and the schema. TOML is read as an
//! editor does (taplo): dates become strings.

use std::path::PathBuf;

use serde_json::Value;

use crate::cli::bin;
use crate::support::repo;

/// The committed schema (`docs/mspform.schema.json`).
fn schema() -> Value {
    let text = std::fs::read_to_string(repo().join("docs/mspform.schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema()).expect("the schema compiles")
}

/// TOML as JSON, the way editors validate it: dates and times as strings.
fn to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect::<serde_json::Map<_, _>>(),
        ),
    }
}

fn parse(text: &str) -> Value {
    to_json(&toml::Value::Table(text.parse::<toml::Table>().unwrap()))
}

/// The schema's complaints about a file (empty when it is valid).
fn complaints(validator: &jsonschema::Validator, text: &str) -> Vec<String> {
    let instance = parse(text);
    validator
        .iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The configuration files among the examples (the simulator's inventory is
/// not one).
fn example_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["examples/msp", "examples/portfolio"] {
        for entry in std::fs::read_dir(repo().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_example_names_the_schema_and_is_valid_against_it() {
    let validator = validator();
    let files = example_files();
    assert!(files.len() >= 15, "{files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap_or_default();
        let target = first
            .strip_prefix("#:schema ")
            .unwrap_or_else(|| panic!("{}: first line {first:?}", path.display()));
        let resolved = path.parent().unwrap().join(target);
        assert_eq!(
            std::fs::canonicalize(&resolved).unwrap(),
            std::fs::canonicalize(repo().join("docs/mspform.schema.json")).unwrap(),
            "{}",
            path.display()
        );
        let errors = complaints(&validator, &text);
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
    // And the loader is fine with the directive (a comment).
    for dir in ["examples/msp", "examples/portfolio"] {
        mspform::config::load(&repo().join(dir)).unwrap_or_else(|e| panic!("{dir}: {e}"));
    }
}

#[test]
fn every_starter_is_valid_against_the_schema() {
    let validator = validator();
    for starter in mspform::vendors::starters() {
        for (what, text) in [
            ("provider", starter.provider),
            ("customer", starter.customer),
        ] {
            let errors = complaints(&validator, text);
            assert!(
                errors.is_empty(),
                "{} {what}: {errors:#?}",
                starter.type_name
            );
        }
    }
}

/// `init` writes the schema beside the files it creates, each of which names
/// it and is valid against it; the loader skips the `.json` file.
#[test]
fn init_writes_the_schema_beside_the_starter_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["init", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(dir.path().join("mspform.schema.json")).unwrap();
    assert_eq!(
        written,
        std::fs::read_to_string(repo().join("docs/mspform.schema.json")).unwrap()
    );
    let validator = validator();
    let mut tomls = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        tomls += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("#:schema ./mspform.schema.json\n"),
            "{}",
            path.display()
        );
        let errors = complaints(&validator, &text);
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
    assert_eq!(tomls, 5);
    mspform::config::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
}

/// `mspform schema` prints the committed schema, needs no configuration or
/// state, and `--out` writes the same.
#[test]
fn the_command_prints_the_committed_schema_without_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let committed = std::fs::read_to_string(repo().join("docs/mspform.schema.json")).unwrap();
    let out = bin()
        .arg("schema")
        .current_dir(dir.path())
        .env_remove("MSPFORM_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), committed);
    let file = dir.path().join("s.json");
    let out = bin()
        .args(["schema", "--out"])
        .arg(&file)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), committed);
    assert!(!dir.path().join("state").exists(), "no state was opened");
}

/// A valid configuration of all four provider types with a customer each, a
/// device and a partner; each known-bad file below changes one thing.
const GOOD: &str = r#"
[providers.aruba]
type = "aruba-central"
base_url = "https://apigw-prod2.central.arubanetworks.com"
token = { env = "ARUBA_TOKEN" }
calls_per_second = 7

[providers.extreme]
type = "extremecloud"
base_url = "https://api.ezcloudx.com"
login = { user = "msp-admin@example.net", password = { env = "EXTREME_PASSWORD" } }

[providers.ruckus]
type = "ruckus-one"
base_url = "https://api.ruckus.cloud"
tenant_id = "0123456789abcdef0123456789abcdef"
client_id = { env = "RUCKUS_CLIENT_ID" }
client_secret = { env = "RUCKUS_CLIENT_SECRET" }

[providers.voice]
type = "audiocodes-live"
base_url = "https://live.example.net/tenantui"
token = { env = "VOICE_TOKEN" }

[customers.coffee-shop]
provider = "aruba"
name = "Coffee Shop"
country = "US"
address = { street = "1 Main St", city = "San Jose", state = "California", zip = "95002" }

[customers.coffee-shop.sites.hq]
name = "HQ"
geolocation = { latitude = 37.39, longitude = -121.97 }

[customers.harbor]
provider = "extreme"
name = "Harbor"
country = "NL"
time_zone = "Europe/Amsterdam"
admin_user = "admin@harbor.example"

[customers.bayview]
provider = "ruckus"
name = "Bayview"
service_start = 2026-01-01

[customers.retail-voice]
provider = "voice"
name = "RetailCo-Voice"
short_name = "RetailVoice"
customer_type = "IPGROUP_TYPE"
site = { sbc_id = 7, onboarding_script = 10007, cleanup_script = 10700 }
script_parameters = { ProxySet = "RetailCo", CarrierUserPassword = { env = "CARRIER_PASSWORD" } }

[devices.AP0000001]
customer = "coffee-shop"
mac = "20:4C:03:00:00:01"
site = "hq"

[partners.westgate]
provider = "extreme"
name = "Westgate IT"
customers = ["harbor"]

[[ignore]]
address = "customer.harbor"
reason = "edited in the portal"
until = 2027-01-31
"#;

/// `GOOD` with `from` replaced by `to` (which must occur exactly once).
fn one_mistake(from: &str, to: &str) -> String {
    assert_eq!(GOOD.matches(from).count(), 1, "{from}");
    GOOD.replace(from, to)
}

fn loader_errors(text: &str) -> Vec<String> {
    let sources = [(PathBuf::from("bad.toml"), text.to_string())];
    match mspform::config::load_sources(&sources) {
        Ok(_) => Vec::new(),
        Err(e) => {
            e.0.iter()
                .map(|e| format!("{}: {}", e.key, e.message))
                .collect()
        }
    }
}

#[test]
fn known_bad_files_are_refused_by_the_loader_and_by_the_schema() {
    let validator = validator();
    assert_eq!(loader_errors(GOOD), Vec::<String>::new());
    assert_eq!(complaints(&validator, GOOD), Vec::<String>::new());
    let cases = [
        (
            "an unknown key in a provider",
            one_mistake(
                "calls_per_second = 7",
                "calls_per_second = 7\nflavour = \"x\"",
            ),
        ),
        (
            "a misspelt customer key",
            one_mistake("time_zone = \"Europe", "time_zon = \"Europe"),
        ),
        (
            "a string where an integer is",
            one_mistake("calls_per_second = 7", "calls_per_second = \"7\""),
        ),
        (
            "a provider without `type`",
            one_mistake("type = \"extremecloud\"\n", ""),
        ),
        (
            "an unknown provider type",
            one_mistake("type = \"ruckus-one\"", "type = \"ruckus-1\""),
        ),
        (
            "a secret written inline",
            one_mistake(
                "token = { env = \"ARUBA_TOKEN\" }",
                "token = \"eyJhbGciOi\"",
            ),
        ),
        (
            "a secret with both `env` and `file`",
            one_mistake(
                "client_secret = { env = \"RUCKUS_CLIENT_SECRET\" }",
                "client_secret = { env = \"RUCKUS_CLIENT_SECRET\", file = \"secret.txt\" }",
            ),
        ),
        (
            "an inline script password",
            one_mistake(
                "CarrierUserPassword = { env = \"CARRIER_PASSWORD\" }",
                "CarrierUserPassword = \"hunter2\"",
            ),
        ),
        (
            "a provider without credentials",
            one_mistake("token = { env = \"VOICE_TOKEN\" }\n", ""),
        ),
        (
            "a customer without `name`",
            one_mistake("name = \"Harbor\"\n", ""),
        ),
        (
            "an unknown ownership",
            one_mistake(
                "calls_per_second = 7",
                "calls_per_second = 7\nownership = \"mine\"",
            ),
        ),
        (
            "a site with an unknown key",
            one_mistake("name = \"HQ\"", "name = \"HQ\"\nfloor = 3"),
        ),
        (
            "a device MAC that is not one",
            one_mistake("mac = \"20:4C:03:00:00:01\"", "mac = \"20:4C:03\""),
        ),
        (
            "an unknown top-level table",
            one_mistake("[[ignore]]", "[[ignored]]"),
        ),
        (
            "an invalid customer key",
            one_mistake("[customers.bayview]", "[customers.Bayview]"),
        ),
        (
            "an AudioCodes short name with a space",
            one_mistake(
                "short_name = \"RetailVoice\"",
                "short_name = \"Retail Voice\"",
            ),
        ),
    ];
    let mut wrong = Vec::new();
    for (what, text) in &cases {
        let loader = loader_errors(text);
        let schema = complaints(&validator, text);
        if loader.is_empty() || schema.is_empty() {
            wrong.push(format!("{what}: loader {loader:?}, schema {schema:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// What the schema cannot see, it leaves to `mspform validate`: a customer's
/// vendor-specific required keys (the provider's type is not in its table).
#[test]
fn vendor_required_customer_keys_are_left_to_validate() {
    let text = one_mistake("time_zone = \"Europe/Amsterdam\"\n", "");
    assert_eq!(complaints(&validator(), &text), Vec::<String>::new());
    assert_eq!(
        loader_errors(&text),
        ["customers.harbor.time_zone: missing required key `time_zone`"]
    );
    let description = schema()["$defs"]["Customer"]["description"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(description.contains("mspform validate"), "{description}");
}
