//! Golden plan output: the example portfolio's first plan, as text, Markdown and
//! JSON. A mismatch prints a unified diff; `MSPFORM_UPDATE_GOLDEN=1` rewrites the files.

use mspform::plan::render;

use crate::support::*;

fn check(name: &str, actual: &str) {
    let path = repo().join("tests/golden").join(name);
    if std::env::var_os("MSPFORM_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, actual)
            .unified_diff()
            .header(&format!("tests/golden/{name}"), "actual")
            .to_string();
        panic!("golden output differs (MSPFORM_UPDATE_GOLDEN=1 rewrites it):\n{diff}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_portfolio_plan_matches_the_golden_files() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let desired = portfolio(&sim, dir.path());
    let store = store(dir.path());
    let p = plan(&desired, &store).await;
    check(
        "portfolio-create.txt",
        &anstream::adapter::strip_str(&render::text(&p.plan)).to_string(),
    );
    check("portfolio-create.md", &render::markdown(&p.plan));
    check(
        "portfolio-create.json",
        &render::json(&p.plan).replace(env!("CARGO_PKG_VERSION"), "VERSION"),
    );

    assert!(apply(&desired, &store).await.ok());
    sim.aruba_edit(mspform::sim::ArubaEdit::CustomerField {
        customer_name: "Coffee Shop".into(),
        field: "description".into(),
        value: "Located at 15th and U Street, next to the bakery".into(),
    })
    .unwrap();
    let drift = plan(&desired, &store).await;
    check(
        "portfolio-drift.txt",
        &anstream::adapter::strip_str(&render::text(&drift.plan)).to_string(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_portfolio_plan_matches_the_golden_files() {
    let sim = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = write_mixed(&sim, dir.path());
    let desired = mspform::config::load(&conf).expect("the mixed example loads");
    let store = store(dir.path());
    let p = plan(&desired, &store).await;
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
