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

/// Every list's search refuses the same way the reports' search does: beside the search box,
/// in a sentence, the text kept, and nothing named `q` at the top of the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_refuses_a_search_beside_its_search_box() {
    let mut harness = Harness::start("list-search-errors").await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    let long_search = "y".repeat(201);
    for (list, field, button) in [
        ("/t/acme/messages", "#filter-q", "#filter"),
        ("/t/acme/mailings", "#mailing-filter-q", "#mailing-filter"),
        ("/t/acme/contacts", "#contact-filter-q", "#contact-filter"),
    ] {
        harness.goto(list).await;
        harness.fill(field, &long_search).await;
        harness.click(button).await;
        let error = harness.error_beside(field).await;
        assert_eq!(error, "Search for at most 200 characters.", "{list}");
        assert_sentence(&error);
        assert_eq!(harness.value(field).await, long_search, "{list}");
        assert!(
            harness.browser.find(Locator::Css("#error")).await.is_err(),
            "{list}: the refused search is also shown at the top"
        );
        assert!(
            !harness.text("main").await.contains("q: "),
            "{list}: the API's field name is shown"
        );
    }
    harness
        .shot("item7-list-search-error-beside-the-field")
        .await;
    harness.finish().await;
}
