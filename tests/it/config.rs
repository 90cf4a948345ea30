//! The configuration loader: TOML files → `Desired`, and every check reported
//! at its file, line, column and key, all in one pass.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mspform::config::{ConfigError, ConfigErrors, load, load_sources};
use mspform::model::{
    Customer, Desired, Device, Ownership, SecretRef, SecretUse, Site, SiteAddress, SiteLocation,
};
use mspform::vendors::aruba::Aruba;
use mspform::vendors::aruba::model::{ArubaAuth, ArubaCustomer, ArubaSettings, CustomerAddress};

const PROVIDERS: &str = r#"[providers.aruba]
type = "aruba-central"
base_url = "https://example.com"
token = { env = "ARUBA_TOKEN" }
license_services = ["ADVANCED_AP", "FOUNDATION_AP"]
"#;

const ACME: &str = r#"[customers.acme]
provider = "aruba"
name = "Acme"
country = "US"
address = { street = "1 Main St", city = "Springfield", state = "IL", zip = "62701" }
"#;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config")
}

fn sources(files: &[(&str, &str)]) -> Vec<(PathBuf, String)> {
    files
        .iter()
        .map(|(name, text)| (PathBuf::from(name), text.to_string()))
        .collect()
}

/// The errors of a configuration that must not load.
fn errors(files: &[(&str, &str)]) -> Vec<ConfigError> {
    match load_sources(&sources(files)) {
        Ok(desired) => panic!("expected errors, loaded {desired:#?}"),
        Err(ConfigErrors(errors)) => errors,
    }
}

/// `file:line:col key` of each error, in order.
fn places(errors: &[ConfigError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| format!("{}:{}:{} {}", e.file.display(), e.line, e.column, e.key))
        .collect()
}

fn help(e: &ConfigError) -> &str {
    e.help.as_deref().unwrap_or_default()
}

fn ok(files: &[(&str, &str)]) -> Desired {
    match load_sources(&sources(files)) {
        Ok(desired) => desired,
        Err(errors) => panic!("expected a valid configuration:\n{errors}"),
    }
}

#[test]
fn valid_portfolio_directory_loads_exact_desired() {
    let dir = fixtures().join("portfolio");
    let desired = match load(&dir) {
        Ok(desired) => desired,
        Err(errors) => panic!("{errors}"),
    };

    let mut aruba = ArubaSettings::new(ArubaAuth::Token(SecretRef::Env("ARUBA_TOKEN".into())));
    aruba.license_services = Some(vec!["ADVANCED_AP".into(), "FOUNDATION_AP".into()]);
    let lab = ArubaSettings {
        auth: ArubaAuth::OAuth {
            client_id: SecretRef::Env("LAB_CLIENT_ID".into()),
            client_secret: SecretRef::File(dir.join("secrets/client_secret")),
            refresh_token: SecretRef::File(PathBuf::from("/run/secrets/lab_refresh")),
            access_token: None,
        },
        license_services: None,
        calls_per_second: 3,
        poll_interval_ms: 0,
        provision_timeout_secs: 60,
        move_timeout_secs: 120,
        request_timeout_secs: 5,
    };
    // Provider key → base URL, ownership and the typed settings.
    let providers = BTreeMap::from([
        (
            "aruba".to_string(),
            (
                "https://apigw-prod2.central.arubanetworks.com".to_string(),
                Ownership::Owned,
                aruba,
            ),
        ),
        (
            "aruba-lab".to_string(),
            (
                "http://127.0.0.1:8080/aruba".to_string(),
                Ownership::Exclusive,
                lab,
            ),
        ),
    ]);
    let customers = BTreeMap::from([
        (
            "coffee-shop".to_string(),
            Customer {
                key: "coffee-shop".into(),
                provider: "aruba".into(),
                name: "Coffee Shop".into(),
                sites: BTreeMap::from([
                    (
                        "kiosk".to_string(),
                        Site {
                            key: "kiosk".into(),
                            customer: "coffee-shop".into(),
                            name: "Airport Kiosk".into(),
                            location: SiteLocation::Geolocation {
                                latitude: 37.39,
                                longitude: -121.0,
                            },
                        },
                    ),
                    (
                        "santa-clara".to_string(),
                        Site {
                            key: "santa-clara".into(),
                            customer: "coffee-shop".into(),
                            name: "Santa Clara Site".into(),
                            location: SiteLocation::Address(SiteAddress {
                                street: "3970 Rivermark Plaza".into(),
                                city: "Santa Clara".into(),
                                state: "California".into(),
                                country: "United States".into(),
                                zip: Some("95053".into()),
                            }),
                        },
                    ),
                ]),
            },
        ),
        (
            "lab".to_string(),
            Customer {
                key: "lab".into(),
                provider: "aruba-lab".into(),
                name: "Lab".into(),
                sites: BTreeMap::from([(
                    "bench".to_string(),
                    Site {
                        key: "bench".into(),
                        customer: "lab".into(),
                        name: "Bench".into(),
                        location: SiteLocation::Address(SiteAddress {
                            street: "Hauptstraße 1".into(),
                            city: "Berlin".into(),
                            state: "Berlin".into(),
                            country: "Germany".into(),
                            zip: None,
                        }),
                    },
                )]),
            },
        ),
    ]);
    // Customer key → Aruba's part.
    let aruba_customers = BTreeMap::from([
        (
            "coffee-shop".to_string(),
            ArubaCustomer {
                country: "US".into(),
                address: CustomerAddress {
                    street: "6280 America Center Dr".into(),
                    city: "San Jose".into(),
                    state: "California".into(),
                    zip: "95002".into(),
                },
                group: Some("coffee_shop_group".into()),
                description: "Located at 15th and T Street".into(),
                lock_msp_ssids: false,
                auto_license: vec!["ADVANCED_AP".into(), "FOUNDATION_AP".into()],
                auto_license_declared: true,
                defaulted: vec!["lock_msp_ssids"],
            },
        ),
        (
            "lab".to_string(),
            ArubaCustomer {
                country: "DE".into(),
                address: CustomerAddress {
                    street: "Hauptstraße 1".into(),
                    city: "Berlin".into(),
                    state: "Berlin".into(),
                    zip: "10115".into(),
                },
                group: None,
                description: String::new(),
                lock_msp_ssids: true,
                auto_license: vec![],
                auto_license_declared: false,
                defaulted: vec!["description"],
            },
        ),
    ]);
    let devices = BTreeMap::from([
        (
            "BT000001".to_string(),
            Device {
                serial: "BT000001".into(),
                mac: "00:11:AA:BB:33:CC".into(),
                customer: "coffee-shop".into(),
                site: Some("santa-clara".into()),
                licenses: vec!["ADVANCED_AP".into(), "FOUNDATION_AP".into()],
            },
        ),
        (
            "CN12345678".to_string(),
            Device {
                serial: "CN12345678".into(),
                mac: "00:11:AA:BB:33:CD".into(),
                customer: "lab".into(),
                site: None,
                licenses: vec![],
            },
        ),
        (
            "CN12345679".to_string(),
            Device {
                serial: "CN12345679".into(),
                mac: "00:11:AA:BB:33:CE".into(),
                customer: "lab".into(),
                site: Some("bench".into()),
                licenses: vec![],
            },
        ),
    ]);
    // Every secret reference, with its place, for the check before vendor calls.
    let file = dir.join("providers.toml");
    // The demo value of each is what the embedded simulator accepts there.
    let used = |reference: SecretRef, line: usize, column: usize, key: &str, demo| SecretUse {
        reference,
        file: file.clone(),
        line,
        column,
        key: key.into(),
        rule: None,
        demo: Some(demo),
    };
    let secrets = vec![
        used(
            SecretRef::Env("ARUBA_TOKEN".into()),
            4,
            9,
            "providers.aruba.token",
            "sim-token",
        ),
        used(
            SecretRef::Env("LAB_CLIENT_ID".into()),
            18,
            13,
            "providers.aruba-lab.oauth.client_id",
            "sim-client",
        ),
        used(
            SecretRef::File(dir.join("secrets/client_secret")),
            19,
            17,
            "providers.aruba-lab.oauth.client_secret",
            "sim-secret",
        ),
        used(
            SecretRef::File(PathBuf::from("/run/secrets/lab_refresh")),
            20,
            17,
            "providers.aruba-lab.oauth.refresh_token",
            "sim-refresh",
        ),
    ];
    let loaded: BTreeMap<String, (String, Ownership, ArubaSettings)> = desired
        .providers
        .iter()
        .map(|(k, p)| {
            let spec = desired.spec::<Aruba>(k).expect("an Aruba provider");
            (
                k.clone(),
                (p.base_url.clone(), p.ownership, spec.settings.clone()),
            )
        })
        .collect();
    assert_eq!(loaded, providers);
    assert_eq!(desired.customers, customers);
    let loaded_aruba: BTreeMap<String, ArubaCustomer> = desired
        .providers
        .keys()
        .flat_map(|k| desired.spec::<Aruba>(k).unwrap().customers.clone())
        .collect();
    assert_eq!(loaded_aruba, aruba_customers);
    assert_eq!(desired.devices, devices);
    assert!(desired.partners.is_empty());
    assert_eq!(desired.secrets, secrets);
}

#[test]
fn a_single_file_loads_and_relative_secret_files_follow_it() {
    let desired = ok(&[(
        "conf/dir/main.toml",
        r#"[providers.aruba]
type = "aruba-central"
base_url = "https://example.com///"
token = { file = "token.txt" }
"#,
    )]);
    let provider = &desired.providers["aruba"];
    assert_eq!(provider.base_url, "https://example.com");
    let settings = &desired
        .spec::<Aruba>("aruba")
        .expect("an Aruba provider")
        .settings;
    assert_eq!(
        settings.auth,
        ArubaAuth::Token(SecretRef::File(PathBuf::from("conf/dir/token.txt")))
    );
    assert_eq!(settings, &{
        let mut s = ArubaSettings::new(settings.auth.clone());
        s.license_services = None;
        s
    });
}

#[test]
fn a_directory_without_toml_files_is_an_error() {
    let dir = fixtures().join("empty-dir");
    let Err(ConfigErrors(errors)) = load(&dir) else {
        panic!("expected an error");
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].file, dir);
    assert_eq!(errors[0].message, "the directory holds no .toml files");
    let missing = fixtures().join("does-not-exist");
    let Err(ConfigErrors(errors)) = load(&missing) else {
        panic!("expected an error");
    };
    assert_eq!(errors[0].file, missing);
    assert!(
        errors[0]
            .message
            .starts_with("cannot read the configuration")
    );
}

#[test]
fn a_syntax_error_does_not_stop_the_other_files_nor_cascade() {
    let dir = fixtures().join("broken");
    let Err(ConfigErrors(errors)) = load(&dir) else {
        panic!("expected errors");
    };
    let a = dir.join("a.toml").display().to_string();
    let b = dir.join("b.toml").display().to_string();
    // b.toml's reference to provider `aruba` (defined in the broken a.toml) is not
    // reported as missing, and its customer is not checked against a guessed
    // schema (its `country` would be wrong for Aruba, right or irrelevant for
    // another vendor); what does not depend on the provider is checked.
    assert_eq!(
        places(&errors),
        [format!("{a}:4:30 "), format!("{b}:9:7 devices.D1.mac")]
    );
    assert!(
        errors[0].message.starts_with("TOML syntax error: "),
        "{}",
        errors[0].message
    );
    assert!(!errors[0].message.contains("ARUBA_TOKEN"));
    assert_eq!(errors[1].message, "`zz` is not a MAC address");
}

#[test]
fn syntax_errors_report_their_position() {
    let errors = errors(&[
        (
            "a.toml",
            "[providers.aruba]\ntype = \"aruba-central\"\ntype = \"x\"\n",
        ),
        ("b.toml", "name = \n"),
    ]);
    assert_eq!(places(&errors), ["a.toml:3:1 ", "b.toml:1:8 "]);
    assert_eq!(errors[0].message, "TOML syntax error: duplicate key");
}

#[test]
fn unknown_keys_list_the_allowed_ones_and_suggest_the_closest() {
    let errors = errors(&[(
        "a.toml",
        r#"[providers.aruba]
type = "aruba-central"
base_ur = "https://example.com"
token = { env = "T", nme = "x" }
flavour = 1

[partners.p1]
provider = "aruba"
"#,
    )]);
    // The misspelt required `base_url` is one error (the unknown key and its
    // suggestion), not also "missing required key `base_url`".
    assert_eq!(
        places(&errors),
        [
            "a.toml:3:1 providers.aruba.base_ur",
            "a.toml:4:22 providers.aruba.token.nme",
            "a.toml:5:1 providers.aruba.flavour",
            "a.toml:7:11 partners.p1.name",
            "a.toml:7:11 partners.p1.customers",
            "a.toml:8:12 partners.p1.provider",
        ]
    );
    assert_eq!(errors[0].message, "unknown key `base_ur`");
    assert!(
        help(&errors[0])
            .starts_with("did you mean `base_url`? allowed keys here: `type`, `base_url`, "),
        "{}",
        help(&errors[0])
    );
    assert_eq!(help(&errors[1]), "allowed keys here: `env`, `file`");
    assert!(!help(&errors[2]).contains("did you mean"));
    assert!(errors[5].message.contains("has no partner assignments"));
}

#[test]
fn missing_required_keys_point_at_the_table_header() {
    let errors = errors(&[
        ("p.toml", PROVIDERS),
        (
            "a.toml",
            "[customers.acme]\nprovider = \"aruba\"\n\n[customers.acme.sites.hq]\naddress = { city = \"x\" }\n",
        ),
    ]);
    assert_eq!(
        places(&errors),
        [
            "a.toml:1:12 customers.acme.name",
            "a.toml:1:12 customers.acme.country",
            "a.toml:1:12 customers.acme.address",
            "a.toml:4:23 customers.acme.sites.hq.name",
            "a.toml:5:1 customers.acme.sites.hq.address.street",
            "a.toml:5:1 customers.acme.sites.hq.address.state",
            "a.toml:5:1 customers.acme.sites.hq.address.country",
        ]
    );
    assert_eq!(errors[0].message, "missing required key `name`");
    assert_eq!(
        help(&errors[0]),
        "add name = \"Coffee Shop\" to `customers.acme`"
    );
}

#[test]
fn wrong_types_name_both_types() {
    let errors = errors(&[
        ("p.toml", PROVIDERS),
        (
            "a.toml",
            r#"[customers.acme]
provider = "aruba"
name = 7
country = "US"
address = "1 Main St"
lock_msp_ssids = "yes"
auto_license = "ADVANCED_AP"
"#,
        ),
    ]);
    assert_eq!(
        places(&errors),
        [
            "a.toml:3:8 customers.acme.name",
            "a.toml:5:11 customers.acme.address",
            "a.toml:6:18 customers.acme.lock_msp_ssids",
            "a.toml:7:16 customers.acme.auto_license",
        ]
    );
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "expected a string, found an integer",
            "expected a table, found a string",
            "expected a boolean, found a string",
            "expected an array, found a string",
        ]
    );
    // Without a provider the customer's schema is unknown: only the provider is
    // reported, not keys that would be wrong for one vendor and right for another.
    let untyped = self::errors(&[
        ("p.toml", PROVIDERS),
        (
            "a.toml",
            "[customers.acme]\nprovider = 7\nname = \"Acme\"\naddress = \"1 Main St\"\n",
        ),
    ]);
    assert_eq!(places(&untyped), ["a.toml:2:12 customers.acme.provider"]);
    assert_eq!(untyped[0].message, "expected a string, found an integer");
}

#[test]
fn inline_secrets_are_refused_and_never_echoed() {
    let files = [
        (
            "a.toml",
            r#"[providers.aruba]
type = "aruba-central"
base_url = "https://example.com"
token = "s3cr3t-value-123"

[providers.lab]
type = "aruba-central"
base_url = "https://example.com"
oauth = { client_id = "id-value-xyz", client_secret = { env = "S", file = "f" }, refresh_token = { env = "" } }
"#,
        ),
        (
            "b.toml",
            "[providers.x]\ntoken = \"eyJhbGciOi-also-secret\n",
        ),
    ];
    let errors = errors(&files);
    assert_eq!(
        places(&errors),
        [
            "a.toml:4:9 providers.aruba.token",
            "a.toml:9:23 providers.lab.oauth.client_id",
            "a.toml:9:68 providers.lab.oauth.client_secret.file",
            "a.toml:9:106 providers.lab.oauth.refresh_token.env",
            "b.toml:2:32 ",
        ]
    );
    assert_eq!(errors[0].message, "secrets must be given by reference");
    assert!(help(&errors[0]).starts_with("token = { env = \"ARUBA_TOKEN\" }"));
    assert_eq!(errors[1].message, "secrets must be given by reference");
    assert!(help(&errors[1]).starts_with("client_id = { env = \"LAB_CLIENT_ID\" }"));
    assert_eq!(errors[2].message, "give either `env` or `file`, not both");
    assert_eq!(errors[3].message, "must not be empty");
    let text = ConfigErrors(errors).to_string();
    for secret in ["s3cr3t", "id-value-xyz", "eyJhbGciOi"] {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
}

#[test]
fn credentials_need_exactly_one_of_token_and_oauth() {
    let errors = errors(&[(
        "a.toml",
        r#"[providers.a]
type = "aruba-central"
base_url = "https://example.com"
token = { env = "A_TOKEN" }
oauth = { client_id = { env = "C" }, client_secret = { env = "S" }, refresh_token = { env = "R" } }

[providers.b]
type = "aruba-central"
base_url = "https://example.com"

[providers.c]
type = "aruba-central"
base_url = "https://example.com"
token = {}

[providers.d]
type = "aruba-central"
base_url = "https://example.com"
token = 42

[providers.e]
type = "aruba-central"
base_url = "https://example.com"
[providers.e.oauth]
client_id = { env = "C" }
"#,
    )]);
    assert_eq!(
        places(&errors),
        [
            "a.toml:5:1 providers.a.oauth",
            "a.toml:7:12 providers.b",
            "a.toml:14:1 providers.c.token",
            "a.toml:19:9 providers.d.token",
            "a.toml:24:14 providers.e.oauth.client_secret",
            "a.toml:24:14 providers.e.oauth.refresh_token",
        ]
    );
    assert_eq!(
        errors[0].message,
        "give either `token` or `oauth`, not both"
    );
    assert_eq!(
        errors[1].message,
        "missing credentials: give `token` or `oauth`"
    );
    assert_eq!(
        errors[2].message,
        "a secret reference needs `env` or `file`"
    );
    assert_eq!(errors[3].message, "expected a table, found an integer");
    assert_eq!(help(&errors[3]), "token = { env = \"D_TOKEN\" }");
}

#[test]
fn the_move_timeout_is_a_whole_number_of_seconds_from_one() {
    for bad in ["0", "1.5", "\"60\"", "86401"] {
        let errors = errors(&[(
            "a.toml",
            &format!(
                "[providers.aruba]\ntype = \"aruba-central\"\nbase_url = \"https://a.example\"\ntoken = {{ env = \"T\" }}\nmove_timeout_secs = {bad}\n"
            ),
        )]);
        assert_eq!(
            places(&errors),
            ["a.toml:5:21 providers.aruba.move_timeout_secs"],
            "{bad}"
        );
    }
}

#[test]
fn provider_values_are_checked() {
    let errors = errors(&[(
        "a.toml",
        r#"[providers.extreme]
type = "extremecloud"
base_url = "https://api.ezcloudx.com"
whatever = 1

[providers.aruba]
type = "aruba-central"
base_url = "ftp://example.com"
ownership = "mine"
token = { env = "T" }
calls_per_second = 8
poll_interval_ms = -1
provision_timeout_secs = 1.5
request_timeout_secs = 601
license_services = ["A", "A"]

[providers.Bad_Key]
type = "aruba-central"
base_url = "https://"
token = { env = "T" }

[providers.typo]
type = "aruba-centrl"
"#,
    )]);
    assert_eq!(
        places(&errors),
        [
            "a.toml:1:12 providers.extreme",
            "a.toml:4:1 providers.extreme.whatever",
            "a.toml:8:12 providers.aruba.base_url",
            "a.toml:9:13 providers.aruba.ownership",
            "a.toml:11:20 providers.aruba.calls_per_second",
            "a.toml:12:20 providers.aruba.poll_interval_ms",
            "a.toml:13:26 providers.aruba.provision_timeout_secs",
            "a.toml:14:24 providers.aruba.request_timeout_secs",
            "a.toml:15:26 providers.aruba.license_services[1]",
            "a.toml:17:12 providers.Bad_Key",
            "a.toml:19:12 providers.Bad_Key.base_url",
            // An unknown type is one error: the rest of the provider is not
            // checked against a guessed schema (no "missing base_url", no
            // "missing credentials").
            "a.toml:23:8 providers.typo.type",
        ]
    );
    assert_eq!(
        errors[0].message,
        "missing credentials: give `login` or `token`"
    );
    assert_eq!(errors[1].message, "unknown key `whatever`");
    assert_eq!(errors[11].message, "unknown provider type `aruba-centrl`");
    assert!(help(&errors[11]).starts_with("did you mean `aruba-central`?"));
    assert_eq!(errors[4].message, "must be between 1 and 7");
    assert_eq!(errors[6].message, "expected an integer, found a float");
    assert_eq!(errors[9].message, "invalid provider key `Bad_Key`");
    assert!(help(&errors[9]).contains("`bad_key`"));
}

#[test]
fn references_to_missing_providers_customers_and_sites() {
    let errors = errors(&[
        ("p.toml", PROVIDERS),
        (
            "a.toml",
            r#"[customers.acme]
provider = "arubba"
name = "Acme"
country = "US"
address = { street = "1 Main St", city = "Springfield", state = "IL", zip = "62701" }

[customers.beta]
provider = "aruba"
name = "Beta"
country = "US"
address = { street = "1 Main St", city = "Springfield", state = "IL", zip = "62701" }

[customers.beta.sites.hq]
name = "HQ"
geolocation = { latitude = 1, longitude = 2 }

[devices.D1]
customer = "acmee"
mac = "00:00:00:00:00:01"

[devices.D2]
customer = "beta"
mac = "00:00:00:00:00:02"
site = "hqq"
"#,
        ),
    ]);
    assert_eq!(
        places(&errors),
        [
            "a.toml:2:12 customers.acme.provider",
            "a.toml:18:12 devices.D1.customer",
            "a.toml:24:8 devices.D2.site",
        ]
    );
    assert_eq!(errors[0].message, "provider `arubba` is not defined");
    assert_eq!(
        help(&errors[0]),
        "did you mean `aruba`? defined providers: `aruba`; or add a [providers.arubba] table"
    );
    assert_eq!(errors[1].message, "customer `acmee` is not defined");
    assert!(help(&errors[1]).starts_with("did you mean `acme`? defined customers: `acme`, `beta`"));
    assert_eq!(errors[2].message, "customer `beta` has no site `hqq`");
    assert!(help(&errors[2]).starts_with("did you mean `hq`? sites of `beta`: `hq`"));
}

#[test]
fn keys_defined_twice_across_files_name_both_places() {
    let a = format!("{ACME}\n[devices.BT1]\ncustomer = \"acme\"\nmac = \"00:00:00:00:00:01\"\n");
    let b = r#"# the same customer again
[customers.acme]
provider = "aruba"
name = "Acme 2"
country = "US"
address = { street = "1 Main St", city = "Springfield", state = "IL", zip = "62701" }

[devices.BT1]
customer = "acme"
mac = "00:00:00:00:00:02"
"#;
    let errors = errors(&[("p.toml", PROVIDERS), ("b.toml", b), ("a.toml", &a)]);
    assert_eq!(
        places(&errors),
        ["b.toml:2:12 customers.acme", "b.toml:8:10 devices.BT1"]
    );
    assert_eq!(
        errors[0].message,
        "`customers.acme` is already defined at a.toml:1:12"
    );
    assert_eq!(
        errors[1].message,
        "`devices.BT1` is already defined at a.toml:7:10"
    );
}

#[test]
fn serials_differing_only_in_case_and_shared_macs() {
    let errors = errors(&[
        ("p.toml", PROVIDERS),
        ("c.toml", ACME),
        (
            "a.toml",
            "[devices.BT0001]\ncustomer = \"acme\"\nmac = \"00:11:22:33:44:55\"\n\n[devices.D2]\ncustomer = \"acme\"\nmac = \"00-11-22-33-44-55\"\n",
        ),
        (
            "b.toml",
            "[devices.bt0001]\ncustomer = \"acme\"\nmac = \"66:11:22:33:44:55\"\n",
        ),
    ]);
    assert_eq!(
        places(&errors),
        ["a.toml:7:7 devices.D2.mac", "b.toml:1:10 devices.bt0001"]
    );
    assert_eq!(
        errors[0].message,
        "MAC address 00:11:22:33:44:55 is also used by device `BT0001` (a.toml:3:7)"
    );
    assert_eq!(
        errors[1].message,
        "device serial `bt0001` differs only in case from `BT0001` defined at a.toml:1:10"
    );
}

#[test]
fn device_values_are_checked() {
    let errors = errors(&[
        ("p.toml", PROVIDERS),
        ("c.toml", ACME),
        (
            "a.toml",
            "[devices.BT-1]\ncustomer = \"acme\"\nmac = \"00:11:22:33:44\"\nsite = \"\"\n",
        ),
    ]);
    assert_eq!(
        places(&errors),
        [
            "a.toml:1:10 devices.BT-1",
            "a.toml:3:7 devices.BT-1.mac",
            "a.toml:4:8 devices.BT-1.site"
        ]
    );
    assert_eq!(errors[0].message, "invalid device serial `BT-1`");
    assert_eq!(errors[1].message, "`00:11:22:33:44` is not a MAC address");
}

#[test]
fn countries_must_be_iso_alpha2_codes() {
    let customer = |key: &str, country: &str| {
        format!(
            "[customers.{key}]\nprovider = \"aruba\"\nname = \"{key}\"\ncountry = \"{country}\"\naddress = {{ street = \"s\", city = \"c\", state = \"st\", zip = \"z\" }}\n"
        )
    };
    let errors = errors(&[
        ("p.toml", PROVIDERS),
        ("a.toml", &customer("a", "USA")),
        ("b.toml", &customer("b", "United States")),
        ("c.toml", &customer("c", "XX")),
        ("d.toml", &customer("d", "gb")),
    ]);
    assert_eq!(
        places(&errors),
        [
            "a.toml:4:11 customers.a.country",
            "b.toml:4:11 customers.b.country",
            "c.toml:4:11 customers.c.country"
        ]
    );
    assert_eq!(
        errors[0].message,
        "`USA` is not an ISO 3166-1 alpha-2 country code"
    );
    let us = "use the ISO 3166-1 alpha-2 code of United States: country = \"US\"";
    assert_eq!(help(&errors[0]), us);
    assert_eq!(help(&errors[1]), us);
    assert!(help(&errors[2]).starts_with("use an ISO 3166-1 alpha-2 country code"));
}

#[test]
fn sites_need_exactly_one_of_address_and_geolocation() {
    let errors = errors(&[
        ("p.toml", PROVIDERS),
        (
            "a.toml",
            &format!(
                r#"{ACME}
[customers.acme.sites.both]
name = "Both"
address = {{ street = "s", city = "c", state = "st", country = "United States" }}
geolocation = {{ latitude = 1.5, longitude = 2 }}

[customers.acme.sites.neither]
name = "Neither"

[customers.acme.sites.far]
name = "Far"
geolocation = {{ latitude = 91, longitude = "west" }}
"#
            ),
        ),
    ]);
    assert_eq!(
        places(&errors),
        [
            "a.toml:10:1 customers.acme.sites.both.geolocation",
            "a.toml:12:23 customers.acme.sites.neither",
            "a.toml:17:28 customers.acme.sites.far.geolocation.latitude",
            "a.toml:17:44 customers.acme.sites.far.geolocation.longitude",
        ]
    );
    assert_eq!(
        errors[0].message,
        "give either `address` or `geolocation`, not both"
    );
    assert_eq!(
        errors[1].message,
        "a site needs an `address` or a `geolocation`"
    );
    assert_eq!(errors[2].message, "must be between -90 and 90");
    assert_eq!(errors[3].message, "expected a number, found a string");
}

#[test]
fn licences_are_checked_against_the_provider_list() {
    let lab = "[providers.lab]\ntype = \"aruba-central\"\nbase_url = \"https://example.com\"\ntoken = { env = \"T\" }\n";
    let errors = errors(&[
        ("p.toml", PROVIDERS),
        ("q.toml", lab),
        (
            "a.toml",
            &format!(
                r#"{ACME}auto_license = ["ADVANCED_APP", "FOUNDATION_AP", "FOUNDATION_AP"]

[customers.free]
provider = "lab"
name = "Free"
country = "US"
address = {{ street = "s", city = "c", state = "st", zip = "z" }}
auto_license = ["ANYTHING"]

[devices.D1]
customer = "acme"
mac = "00:00:00:00:00:01"
licenses = ["FOUNDATION", "ADVANCED_AP"]

[devices.D2]
customer = "free"
mac = "00:00:00:00:00:02"
licenses = ["WHATEVER"]
"#
            ),
        ),
    ]);
    assert_eq!(
        places(&errors),
        [
            "a.toml:6:17 customers.acme.auto_license[0]",
            "a.toml:6:50 customers.acme.auto_license[2]",
            "a.toml:18:13 devices.D1.licenses[0]",
        ]
    );
    assert_eq!(errors[0].message, "unknown licence service `ADVANCED_APP`");
    assert_eq!(
        help(&errors[0]),
        "did you mean `ADVANCED_AP`? provider `aruba` lists these license_services: `ADVANCED_AP`, `FOUNDATION_AP`"
    );
    assert!(
        errors[1]
            .message
            .starts_with("`FOUNDATION_AP` is listed twice")
    );
    assert!(help(&errors[2]).starts_with("did you mean `FOUNDATION_AP`?"));
}

#[test]
fn customer_and_site_names_must_be_unique() {
    let errors = errors(&[
        ("p.toml", PROVIDERS),
        ("a.toml", ACME),
        (
            "b.toml",
            &format!(
                "{}\n[customers.acme2.sites.one]\nname = \"Office\"\ngeolocation = {{ latitude = 0, longitude = 0 }}\n\n[customers.acme2.sites.two]\nname = \"Office\"\ngeolocation = {{ latitude = 0, longitude = 0 }}\n",
                ACME.replace("customers.acme]", "customers.acme2]")
            ),
        ),
        (
            "c.toml",
            &format!(
                "[customers.long]\nprovider = \"aruba\"\nname = \"{}\"\ncountry = \"US\"\naddress = {{ street = \"s\", city = \"c\", state = \"st\", zip = \"\" }}\ngroup = \"\"\n",
                "x".repeat(129)
            ),
        ),
    ]);
    assert_eq!(
        places(&errors),
        [
            "b.toml:3:8 customers.acme2.name",
            "b.toml:12:8 customers.acme2.sites.two.name",
            "c.toml:3:8 customers.long.name",
            "c.toml:5:59 customers.long.address.zip",
            "c.toml:6:9 customers.long.group",
        ]
    );
    assert_eq!(
        errors[0].message,
        "customer name `Acme` is already used on provider `aruba` by `customers.acme` (a.toml:3:8)"
    );
    assert_eq!(
        errors[1].message,
        "site name `Office` is already used by `customers.acme2.sites.one` (b.toml:8:8)"
    );
    assert_eq!(
        errors[2].message,
        "the name is 129 characters long; the limit is 128"
    );
}

#[test]
fn several_errors_in_one_pass_sorted_and_displayed() {
    let errors = errors(&[
        (
            "b.toml",
            "[devices.D1]\ncustomer = \"nobody\"\nmac = \"zz\"\n",
        ),
        (
            "a.toml",
            "[providers.aruba]\ntype = \"aruba-central\"\nbase_url = \"https://example.com\"\ntoken = \"hunter2\"\n",
        ),
        ("c.toml", "[customers.x\n"),
    ]);
    assert_eq!(
        places(&errors),
        [
            "a.toml:4:9 providers.aruba.token",
            "b.toml:3:7 devices.D1.mac",
            "c.toml:1:13 "
        ]
    );
    let text = ConfigErrors(errors).to_string();
    assert!(text.starts_with(
        "a.toml:4:9: providers.aruba.token: secrets must be given by reference\n  help: token = { env = \"ARUBA_TOKEN\" }"
    ));
    assert!(text.contains("\n\nb.toml:3:7: devices.D1.mac: `zz` is not a MAC address\n  help: "));
    assert!(text.contains("\n\nc.toml:1:13: TOML syntax error: "));
    assert!(text.ends_with("\n\n3 errors in the configuration; no vendor call was made."));
    assert!(!text.contains("hunter2"));
}

#[test]
fn one_error_display() {
    let errors = errors(&[("a.toml", "[customers.x]\nprovider = 1\n")]);
    let first = &errors[0];
    assert_eq!(
        first.to_string(),
        format!(
            "a.toml:1:12: customers.x.name: missing required key `name`\n  help: {}",
            help(first)
        )
    );
    let one = ConfigErrors(vec![first.clone()]).to_string();
    assert!(one.ends_with("\n\n1 error in the configuration; no vendor call was made."));
}

#[test]
fn a_configuration_that_declares_no_provider_is_an_error() {
    for text in ["", "# nothing yet\n", "\n\n", "[providers]\n"] {
        let errors = errors(&[("conf.toml", text)]);
        assert_eq!(places(&errors), ["conf.toml:0:0 "], "{text:?}");
        assert_eq!(errors[0].message, "the configuration declares no provider");
        assert!(help(&errors[0]).contains("[providers.<key>]"), "{errors:?}");
    }
}

#[test]
fn directories_are_walked_recursively_in_path_order_skipping_hidden_entries() {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("tempdir: {e}"),
    };
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{e}"));
    };
    write("z/providers.toml", PROVIDERS.as_bytes());
    write("a/acme.toml", ACME.as_bytes());
    write(".git/config.toml", b"not [[ toml");
    write("b/.draft.toml", b"not [[ toml");
    write("b/notes.txt", b"not [[ toml");
    write("b/bad.toml", b"[customers.bad]\nname = \"caf\xe9\"\n");
    let Err(ConfigErrors(errors)) = load(dir.path()) else {
        panic!("expected the non-UTF-8 file to be reported");
    };
    assert_eq!(
        places(&errors),
        [format!("{}:2:12 ", dir.path().join("b/bad.toml").display())]
    );
    assert_eq!(errors[0].message, "the file is not valid UTF-8");

    write("b/bad.toml", b"# fixed\n");
    let desired = load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(desired.providers.len(), 1);
    assert_eq!(desired.customers["acme"].name, "Acme");

    // A single file is loaded as is; its references are then missing.
    let Err(ConfigErrors(errors)) = load(&dir.path().join("a/acme.toml")) else {
        panic!("expected a missing provider");
    };
    assert_eq!(errors[0].message, "provider `aruba` is not defined");
}
