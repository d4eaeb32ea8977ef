//! The operator's pages: the platform health (the doctor's checks with their fixes) and the
//! destinations the delivering nodes send to, for operators only.

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

    // A node published a destination that answered 421: the page says it is backing off, why,
    // and until when.
    let now = sealpost_domain::Clock::now(&sealpost_domain::SystemClock).0;
    let google = sealpost_store::testing::throttled_destination("node-a", "google", now);
    let store = harness.service.store();
    store
        .publish_destinations("node-a", &[google])
        .await
        .unwrap();
    // Another node's receiver took mail, but it rests through node-a's pause.
    let calm = sealpost_store::testing::calm_destination("node-b", "google", now);
    store.publish_destinations("node-b", &[calm]).await.unwrap();
    harness.click("#destinations-link").await;
    let summary = harness.text("#destinations-summary").await;
    assert_eq!(
        summary,
        "2 of 2 destinations backing off or resting after a throttling reply."
    );
    let row = harness.text("#destination-1").await;
    for expected in [
        "google",
        "gmail.test, googlemail.test",
        "2 in use of 5 allowed",
        "10 connections, 100 messages each, 3000 a minute",
        "backing off (level 1)",
        "421 4.7.0 Try again later",
    ] {
        assert!(row.contains(expected), "{expected:?} not in {row}");
    }
    let resting = harness.text("#destination-2").await;
    for expected in [
        "node-b",
        "resting for node node-a",
        "after its receiver's reply: 421 4.7.0 Try again later",
    ] {
        assert!(resting.contains(expected), "{expected:?} not in {resting}");
    }
    assert!(
        !resting.contains("backing off") && !resting.contains("full speed"),
        "{resting}"
    );
    harness.shot("operator-destinations").await;
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
    harness.goto("/platform/destinations").await;
    let page = harness.page_text().await;
    assert!(!page.contains("google"), "{page}");
    harness.finish().await;
}
