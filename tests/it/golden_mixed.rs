//! Golden plan output of the mixed four-vendor example (`examples/msp`), as
//! `insta` snapshots in `tests/golden/` (see `golden.rs`). Needs every vendor
//! registered.

use mspform::plan::render;

use crate::golden::{check, no_day_quota};
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_portfolio_plan_matches_the_golden_files() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_mixed(&sim, dir.path());
    let desired = mspform::config::load(&conf).expect("the mixed example loads");
    let store = store(dir.path());
    let mut p = plan(&desired, &store).await;
    // What the vendor says is left of its day depends on how many calls
    // earlier tests' runs made: not part of the golden output (tests/it/quota.rs checks it).
    no_day_quota(&mut p.plan);
    // Addresses differ per run (the simulator's port): keep them out of the files.
    let local = |s: String| {
        s.replace(&sim.url(), "http://SIM")
            .replace(&dir.path().display().to_string(), "DIR")
    };
    check(
        "msp-create.txt",
        &local(anstream::adapter::strip_str(&render::text(&p.plan)).to_string()),
    );
    check("msp-create.md", &local(render::markdown(&p.plan)));
    check(
        "msp-create.json",
        &local(render::json(&p.plan).replace(env!("CARGO_PKG_VERSION"), "VERSION")),
    );
}
