//! Golden plan output: the Aruba example portfolio's first plan, as text,
//! Markdown and JSON, and a drift plan, as `insta` snapshots in `tests/golden/`.
//! A mismatch prints a diff; `INSTA_UPDATE=always cargo test --test it golden`
//! (or `cargo insta review`) rewrites them. The mixed four-vendor plans are in
//! `golden_mixed.rs`.

use mspform::plan::render;

use crate::support::*;

/// Compares `actual` with the snapshot `tests/golden/<name>.snap`.
pub(crate) fn check(name: &str, actual: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo().join("tests/golden"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    // The snapshot comparison ignores trailing blank lines; the output has none.
    assert!(
        actual.ends_with('\n') && !actual.ends_with("\n\n"),
        "{name}: the output ends with one newline"
    );
    settings.bind(|| insta::assert_snapshot!(name, actual));
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
    // The apply's settle reads depend on how its concurrent steps overlap: the
    // day's quota left after it would vary, so the drift plan runs the next day
    // (on the simulator's clock).
    sim.advance_clock(86_400);
    let drift = plan(&desired, &store).await;
    check(
        "portfolio-drift.txt",
        &anstream::adapter::strip_str(&render::text(&drift.plan)).to_string(),
    );
}
