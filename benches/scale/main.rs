//! The scale benchmark (issue 10): `cargo bench --bench scale -- [N] [options]`.
//!
//! For each vendor (one after another, each with its own simulator, configuration
//! and state), it generates N customers with what that vendor manages and a
//! matching simulator account with nothing onboarded (`generate.rs`), then runs
//! the real `mspform` binary (built in the bench profile) once per step of each
//! phase: first plan, onboarding apply, second plan, targeted plan, saved-plan
//! cycle, drift after a portal edit, a simulated day of hourly drift runs under
//! Aruba's daily quota, and a second apply. Per phase it prints the calls by
//! endpoint (the simulator's call log), the API minimum and its formula
//! (`minimum.rs`), wall time against the rate bound, the child's CPU time and
//! peak RSS (`child.rs`: `wait4` rusage of that one process); then a summary
//! table and the targets.
//!
//! A phase whose flags the CLI does not have yet prints `n/a (<clap's first
//! line>)` and the benchmark goes on; a phase that fails otherwise prints why
//! and goes on. Not part of `cargo test`. Talks only to 127.0.0.1.

mod child;
mod generate;
mod minimum;
mod options;
mod report;
mod run;

use std::process::ExitCode;

use options::{Options, USAGE};

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            if e.to_string() != "help" {
                eprintln!("error: {e:#}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match bench(&opts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(opts: &Options) -> anyhow::Result<()> {
    let root = tempfile::Builder::new()
        .prefix("mspform-scale-")
        .tempdir()?;
    print!("{}", report::header(opts));
    let mut runs = Vec::new();
    for &vendor in &opts.vendors {
        let dir = root.path().join(vendor.name());
        std::fs::create_dir_all(&dir)?;
        let v = run::vendor(opts, vendor, &dir).await?;
        // Printed as each vendor finishes, so a long run shows progress.
        print!("{}", report::vendor(&v));
        runs.push(v);
    }
    print!("{}", report::summary(opts, &runs));
    print!("{}", report::targets(opts, &runs));
    if opts.keep {
        let kept = root.keep();
        println!("\nkept: {}", kept.display());
    }
    Ok(())
}
