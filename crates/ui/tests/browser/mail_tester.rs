//! The mail tester's forms keep a refusal beside the field it is about, in a sentence without
//! the API's field names, and keep what was typed (issue 16, item 7): the troubleshooting
//! screen's MAIL FROM, and the search of the mail tester's reports. The refused test mailing is
//! in `messages`, with the test mailing that is sent.

use fantoccini::Locator;

use crate::support::{ACME_ADMIN, Harness, PASSWORD, assert_sentence};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_tester_errors_stand_beside_their_fields() {
    let mut harness = Harness::start("mail-tester-forms").await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;

    // A good sender with a mistyped MAIL FROM: the reason beside MAIL FROM, not the sender.
    harness.goto("/t/acme/troubleshoot").await;
    harness.fill("#sender", "facilities@client.test").await;
    harness.fill("#mail-from", "bounces at client.test").await;
    harness.click("#diagnose").await;
    let error = harness.error_beside("#mail-from").await;
    assert!(
        error.contains("\"bounces at client.test\" is not a valid e-mail address"),
        "{error}"
    );
    assert_sentence(&error);
    assert_eq!(harness.value("#sender").await, "facilities@client.test");
    assert_eq!(harness.value("#mail-from").await, "bounces at client.test");
    assert!(
        harness
            .browser
            .find(Locator::Css("#sender-error"))
            .await
            .is_err(),
        "the MAIL FROM's error stands beside the sender"
    );
    harness.shot("item7-mail-from-error-beside-the-field").await;

    // A search longer than the reports can be searched for: the reason beside the search box,
    // the text kept.
    let long_search = "x".repeat(201);
    harness.goto("/t/acme/checker").await;
    harness.fill("#report-filter-q", &long_search).await;
    harness.click("#report-filter").await;
    let error = harness.error_beside("#report-filter-q").await;
    assert_eq!(error, "Search for at most 200 characters.");
    assert_sentence(&error);
    assert_eq!(harness.value("#report-filter-q").await, long_search);
    harness.shot("item7-search-error-beside-the-field").await;
    harness.finish().await;
}
