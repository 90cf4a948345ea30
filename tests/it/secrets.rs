//! Secret references are checked in one pass before any vendor call: every
//! missing, empty or unreadable one is reported at the file, line and column of
//! its reference, never with a value; `validate --offline` skips the check.

use std::path::{Path, PathBuf};

use mspform::config::{ConfigErrors, check_secrets, load};

use crate::cli::{args, run};
use crate::support::*;

const SECRET_VALUE: &str = "s3cr3t-Value-that-must-never-be-shown";

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// Three providers and an AudioCodes customer whose secrets are given in
/// `secrets` (written as TOML inline tables), one file.
fn config(dir: &Path, aruba: &str, extreme: &str, voice: &str, carrier: &str) -> PathBuf {
    let path = dir.join("mspform.toml");
    write(
        &path,
        &format!(
            r#"[providers.aruba]
type = "aruba-central"
base_url = "https://example.com"
token = {aruba}

[providers.extreme]
type = "extremecloud"
base_url = "https://example.com"
login = {{ user = "msp@example.net", password = {extreme} }}

[providers.voice]
type = "audiocodes-live"
base_url = "https://example.com/tenantui"
oauth = {{ tenant_id = "8d2f5c1e-3b7a-4c9e-a1f0-6e4b2d7c9a53", client_id = {{ file = "voice-id" }}, client_secret = {voice}, scope = "api://x/.default" }}

[customers.voice]
provider = "voice"
name = "RetailCo-Voice"
short_name = "RetailVoice"
customer_type = "IPGROUP_TYPE"
site = {{ sbc_id = 7, onboarding_script = 10007, cleanup_script = 10700 }}
script_parameters = {{ CarrierUserPassword = {carrier} }}
"#
        ),
    );
    write(&dir.join("voice-id"), SECRET_VALUE);
    path
}

#[test]
fn every_missing_secret_is_reported_at_its_reference_in_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("empty"), " \n");
    write(&dir.path().join("long"), &"x".repeat(51));
    let path = config(
        dir.path(),
        "{ env = \"MSPFORM_TEST_UNSET_ARUBA_TOKEN\" }",
        "{ env = \"MSPFORM_TEST_UNSET_EXTREME_PASSWORD\" }",
        "{ file = \"empty\" }",
        "{ file = \"long\" }",
    );
    let desired = load(&path).unwrap_or_else(|e| panic!("{e}"));
    let Err(ConfigErrors(errors)) = check_secrets(&desired) else {
        panic!("four secrets are unusable");
    };
    let places: Vec<String> = errors
        .iter()
        .map(|e| format!("{}:{} {}", e.line, e.column, e.key))
        .collect();
    assert_eq!(
        places,
        [
            "4:9 providers.aruba.token",
            "9:48 providers.extreme.login.password",
            "14:114 providers.voice.oauth.client_secret",
            "22:45 customers.voice.script_parameters.CarrierUserPassword",
        ]
    );
    assert_eq!(
        errors[0].message,
        "environment variable MSPFORM_TEST_UNSET_ARUBA_TOKEN is not set"
    );
    assert!(
        errors[0]
            .help
            .as_deref()
            .unwrap_or_default()
            .contains("validate --offline")
    );
    assert_eq!(
        errors[2].message,
        format!(
            "the secret file {} is empty",
            dir.path().join("empty").display()
        )
    );
    assert!(
        errors[3]
            .message
            .ends_with("CarrierUserPassword is 51 characters long; AudioCodes takes at most 50"),
        "{}",
        errors[3].message
    );
    let shown = ConfigErrors(errors).to_string();
    assert!(
        !shown.contains(SECRET_VALUE) && !shown.contains("xxxxxxxx"),
        "{shown}"
    );
}

#[test]
fn usable_secrets_pass_and_one_variable_used_twice_is_one_error() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "e", "v", "c"] {
        write(&dir.path().join(name), SECRET_VALUE);
    }
    let path = config(
        dir.path(),
        "{ file = \"a\" }",
        "{ file = \"e\" }",
        "{ file = \"v\" }",
        "{ file = \"c\" }",
    );
    let desired = load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(desired.secrets.len(), 5);
    check_secrets(&desired).unwrap_or_else(|e| panic!("{e}"));

    let path = config(
        dir.path(),
        "{ env = \"MSPFORM_TEST_UNSET_SHARED\" }",
        "{ env = \"MSPFORM_TEST_UNSET_SHARED\" }",
        "{ file = \"missing-file\" }",
        "{ file = \"c\" }",
    );
    let desired = load(&path).unwrap_or_else(|e| panic!("{e}"));
    let Err(ConfigErrors(errors)) = check_secrets(&desired) else {
        panic!("two secrets are unusable");
    };
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!(errors[0].key, "providers.aruba.token");
    assert_eq!(errors[0].also.len(), 1);
    assert_eq!(errors[0].also[0].key, "providers.extreme.login.password");
    assert!(
        errors[1]
            .message
            .starts_with("cannot read the secret file ")
            && errors[1].message.contains("missing-file")
            && errors[1].message.contains("(os error 2)"),
        "{}",
        errors[1].message
    );
}

#[test]
fn secret_files_that_are_not_regular_files_are_refused_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("c"), SECRET_VALUE);
    let path = config(
        dir.path(),
        "{ file = \"/dev/zero\" }",
        "{ file = \".\" }",
        "{ file = \"c\" }",
        "{ file = \"c\" }",
    );
    let desired = load(&path).unwrap_or_else(|e| panic!("{e}"));
    let Err(ConfigErrors(errors)) = check_secrets(&desired) else {
        panic!("two secrets are unusable");
    };
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "the secret file /dev/zero is not a regular file".to_string(),
            format!(
                "the secret file {} is not a regular file",
                dir.path().join(".").display()
            ),
        ]
    );
}

/// The four-vendor example with the carrier password and two provider
/// credentials taken from variables that are not set.
fn mixed_without(sim: &mspform::sim::Simulator, dir: &Path) -> PathBuf {
    let conf = write_mixed(sim, dir);
    for (file, secret) in [
        ("retail-voice.toml", "RETAILCO_CARRIER_PASSWORD"),
        ("providers.toml", "EXTREME_PASSWORD"),
        ("providers.toml", "RUCKUS_CLIENT_SECRET"),
    ] {
        let path = conf.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let from = format!(
            "{{ file = \"{}\" }}",
            dir.join("secrets").join(secret).display()
        );
        assert!(text.contains(&from), "{file}: {from}");
        let to = format!("{{ env = \"MSPFORM_TEST_UNSET_{secret}\" }}");
        write(&path, &text.replace(&from, &to));
    }
    conf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_checks_every_secret_before_any_vendor_call() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = mixed_without(&sim, dir.path());
    let state = dir.path().join("state");
    // Before: validate and plan passed, and apply made 35 calls and failed the
    // 36th (the AudioCodes create) on the first unset variable.
    for cmd in [
        &["validate"][..],
        &["plan"],
        &["apply", "--auto-approve"],
        &["drift"],
        &["import", "--provider", "aruba"],
    ] {
        let out = run(args(&conf, &state, cmd)).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd:?}: {err}");
        for (place, variable) in [
            ("providers.toml:24:", "EXTREME_PASSWORD"),
            ("providers.toml:31:", "RUCKUS_CLIENT_SECRET"),
            ("retail-voice.toml:10:", "RETAILCO_CARRIER_PASSWORD"),
        ] {
            assert!(
                err.contains(place)
                    && err.contains(&format!(
                        "environment variable MSPFORM_TEST_UNSET_{variable} is not set"
                    )),
                "{cmd:?} reports {variable} at {place}: {err}"
            );
        }
        assert!(err.contains("3 errors in the configuration"), "{err}");
        for vendor in ["aruba", "extreme", "ruckus", "audiocodes"] {
            assert_eq!(sim.total_calls(vendor), 0, "{cmd:?}: no call to {vendor}");
        }
    }
    // Linting without the secrets.
    let out = run(args(&conf, &state, &["validate", "--offline"])).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("secret reference(s) not checked (--offline)"),
        "{text}"
    );
    // With the variables set, validate passes and counts what it checked.
    let mut cmd = crate::cli::bin();
    for variable in [
        "EXTREME_PASSWORD",
        "RUCKUS_CLIENT_SECRET",
        "RETAILCO_CARRIER_PASSWORD",
    ] {
        cmd.env(format!("MSPFORM_TEST_UNSET_{variable}"), "some-value");
    }
    let out = cmd
        .args(args(&conf, &state, &["validate"]))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("secret reference(s) checked."), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_variable_is_refused_and_never_echoed() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = mixed_without(&sim, dir.path());
    let state = dir.path().join("state");
    let mut cmd = crate::cli::bin();
    cmd.env("MSPFORM_TEST_UNSET_EXTREME_PASSWORD", "   ")
        .env("MSPFORM_TEST_UNSET_RUCKUS_CLIENT_SECRET", SECRET_VALUE)
        .env(
            "MSPFORM_TEST_UNSET_RETAILCO_CARRIER_PASSWORD",
            format!("{SECRET_VALUE}-{SECRET_VALUE}"),
        );
    let out = tokio::task::spawn_blocking(move || {
        cmd.args(args(&conf, &state, &["plan"])).output().unwrap()
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("environment variable MSPFORM_TEST_UNSET_EXTREME_PASSWORD is empty"),
        "{err}"
    );
    assert!(
        err.contains("CarrierUserPassword is 75 characters long; AudioCodes takes at most 50"),
        "{err}"
    );
    assert!(!err.contains(SECRET_VALUE), "{err}");
    assert_eq!(sim.total_calls("aruba") + sim.total_calls("extreme"), 0);
}
