//! `mspform import` on ExtremeCloud, through the real binary against the
//! simulator: the ExtremeCloud part of the example portfolio applied, then
//! imported into a directory holding only its providers file — one file per
//! live tenant, the partners with their tenants, the unreadable administrator
//! marked — and that directory planned with an empty state only adopts.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::{apply, sim, store};
use crate::support_extreme::write_extreme_part;

fn bin(conf: &Path, state: &Path, rest: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mspform"));
    c.env("NO_COLOR", "1")
        .env_remove("MSPFORM_LOG")
        .env_remove("MSPFORM_CONFIG")
        .env_remove("MSPFORM_STATE")
        .arg("-c")
        .arg(conf)
        .arg("--state")
        .arg(state)
        .args(rest)
        .stdin(Stdio::null());
    c
}

async fn run(conf: &Path, state: &Path, rest: &[&str]) -> Output {
    let mut cmd = bin(conf, state, rest);
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

/// A directory holding only the providers file of `conf`.
fn providers_only(conf: &Path, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(conf.join("providers.toml"), dir.join("providers.toml")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_files_plan_to_adopt_every_tenant_and_partner() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_extreme_part(&sim, dir.path());
    let desired = mspform::config::load(&conf).unwrap();
    assert!(apply(&desired, &store(dir.path())).await.ok());

    let new = dir.path().join("new");
    providers_only(&conf, &new);
    let fresh = dir.path().join("fresh-state");
    let out = run(&new, &fresh, &["import", "--out", new.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Imported 6 customer(s) into 7 file(s)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        names(&new),
        [
            "harbor-logistics.toml",
            "lakeside-dental.toml",
            "old-mill-hotel.toml",
            "orchard-bakery.toml",
            "partners-extreme.toml",
            "pier-cafe.toml",
            "providers.toml",
            "riverside-school.toml",
        ]
    );
    let harbor = std::fs::read_to_string(new.join("harbor-logistics.toml")).unwrap();
    for line in [
        "[customers.harbor-logistics]",
        "provider = \"extreme\"",
        "name = \"Harbor Logistics\"",
        "country = \"NL\"",
        "time_zone = \"Europe/Amsterdam\"",
        "contact = { email = \"it@harbor-logistics.example\", name = \"Hanna de Haven\", phone = \"+31 10 555 0123\" }",
        // The simulator, like the documented samples, shows no userId.
        "admin_user = \"unknown@admin-user.invalid\"  # not readable from the API",
    ] {
        assert!(harbor.contains(line), "{line}\n{harbor}");
    }
    let partners = std::fs::read_to_string(new.join("partners-extreme.toml")).unwrap();
    for block in [
        "[partners.northwind-partners]\nprovider = \"extreme\"\nname = \"Northwind Partners\"\ncustomers = [\"lakeside-dental\", \"old-mill-hotel\"]",
        "[partners.southbay-networks]\nprovider = \"extreme\"\nname = \"Southbay Networks\"\ncustomers = [\"pier-cafe\"]",
        "[partners.westgate-it]\nprovider = \"extreme\"\nname = \"Westgate IT\"\ncustomers = [\"harbor-logistics\"]",
    ] {
        assert!(partners.contains(block), "{block}\n{partners}");
    }

    // Never overwritten without --force (importing again from the providers
    // file alone; a configuration holding the imported files imports nothing).
    let only = dir.path().join("only");
    providers_only(&conf, &only);
    let again = run(&only, &fresh, &["import", "--out", new.to_str().unwrap()]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("exist already") && stderr(&again).contains("--force"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read_to_string(new.join("harbor-logistics.toml")).unwrap(),
        harbor
    );
    // What the configuration declares already is not imported again.
    let again = run(&new, &fresh, &["import", "--out", new.to_str().unwrap()]).await;
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("Imported 0 customer(s) into 0 file(s)"),
        "{}",
        stderr(&again)
    );

    // The round trip: the providers file and the imported files, an empty state.
    let out = run(&new, &fresh, &["validate"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let writes = sim.write_calls("extreme");
    let out = run(&new, &fresh, &["plan", "--format", "json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &plan["summary"];
    assert_eq!(
        [&s["create"], &s["update"], &s["delete"], &s["replace"]],
        [0, 0, 0, 0],
        "{plan:#}"
    );
    assert_eq!(s["adopt"], 6 + 3, "{plan:#}");
    for action in plan["actions"].as_array().unwrap() {
        assert_eq!(action["op"], "adopt", "{action}");
        assert!(
            action["changes"].as_array().is_none_or(|c| c.is_empty()),
            "{action}"
        );
    }
    assert_eq!(
        sim.write_calls("extreme"),
        writes,
        "plan and import never write"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_the_account_shows_is_imported_and_named_tenants_only() {
    let sim = sim(false).await;
    sim.extreme_switches(|s| s.echo_user_id = true);
    let dir = tempfile::tempdir().unwrap();
    let conf = write_extreme_part(&sim, dir.path());
    let new = dir.path().join("new");
    providers_only(&conf, &new);
    let fresh = dir.path().join("fresh-state");
    let out = run(
        &new,
        &fresh,
        &[
            "import",
            "--customer",
            "Pier Cafe",
            "--out",
            new.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        names(&new),
        ["partners-extreme.toml", "pier-cafe.toml", "providers.toml"]
    );
    let pier = std::fs::read_to_string(new.join("pier-cafe.toml")).unwrap();
    assert!(
        pier.contains("admin_user = \"admin@pier-cafe.example\"\n"),
        "read as the account shows it, no comment: {pier}"
    );
    // Only the partner holding the named tenant.
    let partners = std::fs::read_to_string(new.join("partners-extreme.toml")).unwrap();
    assert_eq!(partners.matches("[partners.").count(), 1, "{partners}");
    assert!(partners.contains("name = \"Southbay Networks\"\ncustomers = [\"pier-cafe\"]"));

    let out = run(&new, &fresh, &["plan", "--format", "json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["summary"]["adopt"], 2, "{plan:#}");
    assert_eq!(plan["summary"]["create"], 0, "{plan:#}");
}
