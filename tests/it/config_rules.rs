//! Validation without cascades and without gaps, on the four-vendor example
//! (`examples/msp`) with one mistake at a time: an unknown provider type is one
//! error, identical errors are one error listing their places, a misspelt
//! required key is one error; control characters are refused in every value,
//! and AudioCodes short names are unique regardless of case.

use std::path::Path;

use mspform::config::{ConfigError, ConfigErrors, load};

use crate::support::repo;

/// Copies `examples/msp` into `dir`, replacing `from` with `to` in `file`.
fn example_with(dir: &Path, file: &str, from: &str, to: &str) -> std::path::PathBuf {
    let conf = dir.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    let mut replaced = false;
    for entry in std::fs::read_dir(repo().join("examples/msp")).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.file_name().unwrap() == file {
            assert!(text.contains(from), "{file} holds {from:?}");
            text = text.replace(from, to);
            replaced = true;
        }
        std::fs::write(conf.join(path.file_name().unwrap()), text).unwrap();
    }
    assert!(replaced, "{file} exists");
    conf
}

fn errors_with(file: &str, from: &str, to: &str) -> (std::path::PathBuf, Vec<ConfigError>) {
    let dir = tempfile::tempdir().unwrap();
    let conf = example_with(dir.path(), file, from, to);
    let errors = match load(&conf) {
        Ok(_) => panic!("expected errors after {from:?} → {to:?} in {file}"),
        Err(ConfigErrors(errors)) => errors,
    };
    // The temporary directory is gone once this returns: keep the file name only.
    (
        conf.join(file).strip_prefix(&conf).unwrap().to_path_buf(),
        errors,
    )
}

fn at(errors: &[ConfigError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| {
            format!(
                "{}:{}:{} {}",
                e.file.file_name().unwrap().to_string_lossy(),
                e.line,
                e.column,
                e.key
            )
        })
        .collect()
}

#[test]
fn the_example_loads() {
    load(&repo().join("examples/msp")).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn an_unknown_provider_type_is_one_error_with_a_suggestion_and_no_cascade() {
    // Before: 11 errors, the cause last — the provider, its two customers and
    // its two partners were checked against Aruba's schema.
    let (_, errors) = errors_with(
        "providers.toml",
        "type = \"extremecloud\"",
        "type = \"extreme-cloud\"",
    );
    assert_eq!(at(&errors), ["providers.toml:21:8 providers.extreme.type"]);
    assert_eq!(errors[0].message, "unknown provider type `extreme-cloud`");
    assert!(
        errors[0]
            .help
            .as_deref()
            .unwrap_or_default()
            .starts_with("did you mean `extremecloud`? supported provider types: "),
        "{:?}",
        errors[0].help
    );
    // A misspelt `type` key is the one error too.
    let (_, errors) = errors_with(
        "providers.toml",
        "type = \"extremecloud\"",
        "tpye = \"extremecloud\"",
    );
    assert_eq!(at(&errors), ["providers.toml:21:1 providers.extreme.tpye"]);
    assert_eq!(errors[0].message, "unknown key `tpye`");
    assert_eq!(errors[0].help.as_deref(), Some("did you mean `type`?"));
}

#[test]
fn a_customer_of_an_undefined_provider_is_not_checked_against_a_guessed_schema() {
    let (_, errors) = errors_with(
        "harbor-logistics.toml",
        "provider = \"extreme\"",
        "provider = \"extrem\"",
    );
    // Not also: unknown keys time_zone, contact, admin_user; missing address;
    // nor the partner that lists the customer.
    assert_eq!(
        at(&errors),
        ["harbor-logistics.toml:3:12 customers.harbor-logistics.provider"]
    );
    assert_eq!(errors[0].message, "provider `extrem` is not defined");
    assert!(
        errors[0]
            .help
            .as_deref()
            .unwrap_or_default()
            .starts_with("did you mean `extreme`?")
    );
}

#[test]
fn one_licence_typo_used_by_eight_devices_is_one_error_listing_the_places() {
    let (_, errors) = errors_with(
        "acme-retail.toml",
        "licenses = [\"FOUNDATION_AP\"]",
        "licenses = [\"FOUNDATON_AP\"]",
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = &errors[0];
    assert_eq!(e.message, "unknown licence service `FOUNDATON_AP`");
    assert_eq!(e.key, "devices.AP0000010.licenses[0]");
    let also: Vec<&str> = e.also.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        also,
        (11..=17)
            .map(|n| format!("devices.AP00000{n}.licenses[0]"))
            .collect::<Vec<_>>()
    );
    let text = e.to_string();
    assert!(
        text.contains("\n  also at: ")
            && text.contains("acme-retail.toml:29:13 (devices.AP0000011.licenses[0])"),
        "{text}"
    );
}

#[test]
fn a_misspelt_required_key_is_one_error() {
    for (file, from, to, key, near) in [
        (
            "coffee-shop.toml",
            "name = \"Coffee Shop\"",
            "nmae = \"Coffee Shop\"",
            "customers.coffee-shop.nmae",
            "name",
        ),
        (
            "harbor-logistics.toml",
            "time_zone = ",
            "timezone = ",
            "customers.harbor-logistics.timezone",
            "time_zone",
        ),
        (
            "retail-voice.toml",
            "short_name = ",
            "shortname = ",
            "customers.retail-voice.shortname",
            "short_name",
        ),
        (
            "partners.toml",
            "customers = [\"lakeside-dental\"]",
            "customer = [\"lakeside-dental\"]",
            "partners.northwind.customer",
            "customers",
        ),
    ] {
        let (_, errors) = errors_with(file, from, to);
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, [key], "{errors:#?}");
        let unknown = to.split(' ').next().unwrap_or_default();
        assert_eq!(errors[0].message, format!("unknown key `{unknown}`"));
        assert!(
            errors[0]
                .help
                .as_deref()
                .unwrap_or_default()
                .starts_with(&format!("did you mean `{near}`?")),
            "{:?}",
            errors[0].help
        );
    }
}

#[test]
fn control_characters_are_refused_in_every_value_of_every_vendor() {
    for (file, from, to, key, described) in [
        (
            "coffee-shop.toml",
            "name = \"Coffee Shop\"",
            "name = \"Coffee\\nShop\"",
            "customers.coffee-shop.name",
            "U+000A (line feed) at character 7",
        ),
        (
            "coffee-shop.toml",
            "description = \"Located at 15th and T Street\"",
            "description = \"Located\\u001b[2J at 15th\"",
            "customers.coffee-shop.description",
            "U+001B (escape) at character 8",
        ),
        (
            "coffee-shop.toml",
            "name = \"Roastery\"",
            "name = \"Roast\\u0007ery\"",
            "customers.coffee-shop.sites.roastery.name",
            "U+0007 (bell) at character 6",
        ),
        (
            "harbor-logistics.toml",
            "name = \"Harbor Logistics\"",
            "name = \"Harbor\\rLogistics\"",
            "customers.harbor-logistics.name",
            "U+000D (carriage return) at character 7",
        ),
        (
            "harbor-logistics.toml",
            "name = \"Hanna de Haven\"",
            "name = \"Hanna\\tde Haven\"",
            "customers.harbor-logistics.contact.name",
            "U+0009 (tab) at character 6",
        ),
        (
            "bayview-resort.toml",
            "name = \"Bayview Resort\"",
            "name = \"Bayview \\u202Etroser\"",
            "customers.bayview-resort.name",
            "U+202E (bidirectional text control) at character 9",
        ),
        (
            "bayview-resort.toml",
            "first_name = \"Bay\"",
            "first_name = \"B\\u007fay\"",
            "customers.bayview-resort.admin.first_name",
            "U+007F (delete) at character 2",
        ),
        (
            "retail-voice.toml",
            "name = \"RetailCo-Voice\"",
            "name = \"RetailCo\\u001bVoice\"",
            "customers.retail-voice.name",
            "U+001B (escape) at character 9",
        ),
        (
            "retail-voice.toml",
            "CarrierHostName = \"sip.carrier.example\"",
            "CarrierHostName = \"sip.carrier.example\\n\"",
            "customers.retail-voice.script_parameters.CarrierHostName",
            "U+000A (line feed) at character 20",
        ),
        (
            "partners.toml",
            "name = \"Westgate IT\"",
            "name = \"Westgate\\u0085IT\"",
            "partners.westgate.name",
            "U+0085 at character 9",
        ),
    ] {
        let (_, errors) = errors_with(file, from, to);
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, [key], "{to}: {errors:#?}");
        assert_eq!(
            errors[0].message,
            format!("contains the control character {described}")
        );
        let shown = errors[0].to_string();
        assert!(
            !shown.chars().any(|c| c.is_control() && c != '\n'),
            "shown without the character: {shown:?}"
        );
    }
}

#[test]
fn audiocodes_short_names_differing_only_in_case_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let conf = example_with(dir.path(), "retail-voice.toml", "", "");
    let voice = std::fs::read_to_string(conf.join("retail-voice.toml")).unwrap();
    std::fs::write(
        conf.join("retail-voice-2.toml"),
        voice
            .replace("[customers.retail-voice]", "[customers.retail-voice-2]")
            .replace("RetailCo-Voice", "RetailCo-Voice2")
            .replace(
                "short_name = \"RetailVoice\"",
                "short_name = \"retailvoice\"",
            ),
    )
    .unwrap();
    let Err(ConfigErrors(errors)) = load(&conf) else {
        panic!("case-only duplicate short names must be refused");
    };
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        errors[0].file.file_name().unwrap().to_string_lossy(),
        "retail-voice.toml",
        "reported at the later use (load order: retail-voice-2.toml first)"
    );
    assert!(
        errors[0].message.starts_with(
            "short_name `RetailVoice` differs only in case from `retailvoice`, used on provider `voice` by `customers.retail-voice-2`"
        ),
        "{}",
        errors[0].message
    );
}
