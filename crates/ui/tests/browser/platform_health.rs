//! The operator's platform health page: the doctor's checks with their fixes, for operators
//! only.

use crate::support::{ACME_ADMIN, Harness, OPERATOR, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_reads_the_platform_health_with_its_fixes() {
    let mut harness = Harness::start("platform-health").await;
    harness.sign_in(OPERATOR, PASSWORD).await;
    harness.click("#health-link").await;
    let summary = harness
        .wait_for("#health-summary")
        .await
        .text()
        .await
        .unwrap();
    // The test platform configures no sending addresses and no SPF include: red, with fixes.
    assert!(summary.contains("Something must be fixed"), "{summary}");
    let checks = harness.text("#checks").await;
    for expected in [
        "database",
        "every migration applied",
        "master_key",
        "no sending addresses are configured",
        "List the addresses this platform sends from in platform.sending_ips.",
        "Set platform.domain",
        "offline mode",
    ] {
        assert!(checks.contains(expected), "{expected:?} not in {checks}");
    }
    harness.shot("operator-platform-health").await;
    harness.sign_out().await;

    // A tenant administrator does not see the page.
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    assert!(
        harness
            .browser
            .find(fantoccini::Locator::Css("#health-link"))
            .await
            .is_err()
    );
    harness.goto("/platform/health").await;
    let page = harness.page_text().await;
    assert!(
        !page.contains("health-summary") && !page.contains("Checks"),
        "{page}"
    );
    harness.finish().await;
}
