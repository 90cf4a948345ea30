//! The CLI's ecosystem commands through the binary: `--version` names the
//! commit and build date, `completions` prints scripts the shells accept,
//! `man` writes one page per subcommand, and `demo` without `-c` runs the
//! bundled example.

use std::process::Command;

use crate::cli::bin;

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn version_names_the_commit_and_build_date() {
    let text = ok(&bin().arg("--version").output().unwrap());
    let re_date = text
        .split("built ")
        .nth(1)
        .map(|d| d.trim().trim_end_matches(')').to_string())
        .unwrap_or_default();
    assert!(text.starts_with("mspform 0."), "{text}");
    assert!(text.contains("(commit "), "{text}");
    assert_eq!(re_date.len(), 10, "YYYY-MM-DD: {text}");
    assert_eq!(&re_date[4..5], "-", "{text}");
}

#[test]
fn bash_accepts_the_completion_script_and_every_shell_gets_one() {
    let dir = tempfile::tempdir().unwrap();
    let script = ok(&bin().args(["completions", "bash"]).output().unwrap());
    assert!(script.contains("mspform") && script.contains("--max-calls"));
    let path = dir.path().join("mspform.bash");
    std::fs::write(&path, &script).unwrap();
    let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let text = ok(&bin().args(["completions", shell]).output().unwrap());
        assert!(text.contains("drift"), "{shell}");
    }
    // `mspform completions bash | head -1`: the reader leaves early; no panic.
    for command in [&["completions", "bash"][..], &["schema"]] {
        let mut child = bin()
            .args(command)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{command:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{command:?}: {stderr}");
    }
    let out = bin().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_writes_one_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    ok(&bin()
        .args(["man", "--out"])
        .arg(dir.path())
        .output()
        .unwrap());
    for page in [
        "mspform.1",
        "mspform-plan.1",
        "mspform-apply.1",
        "mspform-drift.1",
        "mspform-state-migrate.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.contains(".TH"), "{page} is a roff page");
    }
    let plan = std::fs::read_to_string(dir.path().join("mspform-plan.1")).unwrap();
    assert!(plan.contains("max\\-calls"), "options are documented");
    // Rendered by man itself where it is installed.
    if Command::new("man").arg("--version").output().is_ok() {
        let shown = Command::new("man")
            .arg("-l")
            .arg(dir.path().join("mspform-apply.1"))
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .unwrap();
        assert!(shown.status.success());
        assert!(String::from_utf8_lossy(&shown.stdout).contains("mspform-apply"));
    }
}

#[test]
fn demo_without_a_config_runs_the_bundled_example() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("demo")
        .current_dir(dir.path())
        .env_remove("MSPFORM_CONFIG")
        .output()
        .unwrap();
    let text = ok(&out);
    assert!(text.contains("bundled four-vendor example"), "{text}");
    assert!(text.contains("Apply complete"), "{text}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing is written to the working directory"
    );
}

/// `-v` logs every vendor call (provider, call without host or query, status,
/// milliseconds, attempt); `--log-format json` makes each log line a JSON object.
#[test]
fn verbose_json_logs_carry_every_vendor_call() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["-v", "--log-format", "json", "demo"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    let calls: Vec<serde_json::Value> = err
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|v: &serde_json::Value| v["fields"]["message"] == "vendor call")
        .collect();
    assert!(calls.len() > 20, "{err}");
    for c in &calls {
        let f = &c["fields"];
        assert!(
            f["provider"].is_string() && f["status"].is_u64() && f["ms"].is_u64(),
            "{c}"
        );
        assert!(!f["call"].as_str().unwrap().contains("http"), "{c}");
    }
}

/// `init` writes a starter the loader accepts, for all vendors or those
/// named, and never overwrites a file.
#[test]
fn init_writes_a_valid_starter_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all");
    ok(&bin().args(["init", "--dir"]).arg(&all).output().unwrap());
    let text = ok(&bin()
        .args(["validate", "--offline", "-c"])
        .arg(&all)
        .output()
        .unwrap());
    assert!(text.contains("4 provider(s)"), "{text}");
    for vendor in [
        "aruba-central",
        "extremecloud",
        "ruckus-one",
        "audiocodes-live",
    ] {
        let one = dir.path().join(vendor);
        ok(&bin()
            .args(["init", "--provider", vendor, "--dir"])
            .arg(&one)
            .output()
            .unwrap());
        let text = ok(&bin()
            .args(["validate", "--offline", "-c"])
            .arg(&one)
            .output()
            .unwrap());
        assert!(
            text.contains("1 provider(s), 1 customer(s)"),
            "{vendor}: {text}"
        );
    }
    let before = std::fs::read_to_string(all.join("providers.toml")).unwrap();
    let again = bin().args(["init", "--dir"]).arg(&all).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not overwriting"));
    assert_eq!(
        std::fs::read_to_string(all.join("providers.toml")).unwrap(),
        before
    );
    let bad = bin()
        .args(["init", "--provider", "aruba", "--dir"])
        .arg(dir.path().join("bad"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("did you mean `aruba-central`"));
    assert!(!dir.path().join("bad").exists(), "nothing written");
}

/// The shared options keep their environment variables on the commands that
/// read them, and given before the command (where they went when they were
/// global) they still reach it: the command's own value wins, then the one
/// before it, then the environment. A command that does not read one is not
/// bothered by its variable.
#[test]
fn shared_options_come_from_the_environment_or_either_side_of_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut c = bin();
        c.current_dir(dir.path())
            .env_remove("MSPFORM_LOCK_TIMEOUT")
            .env_remove("MSPFORM_LOG_FORMAT")
            .env_remove("MSPFORM_STATE_SCHEMA")
            .args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let err = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();
    // `state rm` opens the state (creating the directory) before finding nothing to forget.
    let state_used = |env: &[(&str, &str)], args: &[&str], want: &str| {
        let out = run(env, args);
        assert!(
            err(&out).contains("customer.gone is not in the state"),
            "{args:?}: {}",
            err(&out)
        );
        let made: Vec<String> = ["env-state", "early-state", "own-state"]
            .into_iter()
            .filter(|d| dir.path().join(d).exists())
            .map(str::to_string)
            .collect();
        assert_eq!(made, [want], "{args:?}");
        std::fs::remove_dir_all(dir.path().join(want)).unwrap();
    };
    let env_state = [("MSPFORM_STATE", "env-state")];
    state_used(&env_state, &["state", "rm", "customer.gone"], "env-state");
    state_used(
        &env_state,
        &["--state", "early-state", "state", "rm", "customer.gone"],
        "early-state",
    );
    state_used(
        &env_state,
        &[
            "--state",
            "early-state",
            "state",
            "rm",
            "customer.gone",
            "--state",
            "own-state",
        ],
        "own-state",
    );

    let env_config = [("MSPFORM_CONFIG", "from-env.toml")];
    let out = run(&env_config, &["validate", "--offline"]);
    assert!(
        err(&out).contains("from-env.toml: cannot read"),
        "{}",
        err(&out)
    );
    let out = run(&env_config, &["-c", "early.toml", "validate", "--offline"]);
    assert!(
        err(&out).contains("early.toml: cannot read"),
        "{}",
        err(&out)
    );
    assert!(!err(&out).contains("from-env.toml"), "{}", err(&out));

    let bogus = [("MSPFORM_LOCK_TIMEOUT", "bogus")];
    let out = run(&bogus, &["state", "rm", "customer.gone"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(err(&out).contains("--lock-timeout"), "{}", err(&out));
    let script = ok(&run(&bogus, &["completions", "bash"]));
    assert!(script.contains("mspform"), "{script}");

    // MSPFORM_LOG_FORMAT reaches validate's logs (-v lists the skipped file).
    let conf = dir.path().join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    for entry in std::fs::read_dir(crate::support::repo().join("examples/portfolio")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, conf.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(conf.join("notes.txt"), "todo").unwrap();
    let conf = conf.display().to_string();
    let out = run(
        &[("MSPFORM_LOG_FORMAT", "json")],
        &["validate", "--offline", "-v", "-c", &conf],
    );
    ok(&out);
    let logs: Vec<serde_json::Value> = err(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        logs.iter().any(|l| l.to_string().contains("notes.txt")),
        "{logs:?}"
    );
}
