//! Retry and Cancel on the message page: each waits behind a confirmation, a GET of their
//! addresses does nothing, and the outcome shows on the page.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use sealpost_domain::RecipientState;

use crate::support::{ACME_ADMIN, Harness, PASSWORD};

async fn displayed(harness: &Harness, selector: &str) -> bool {
    harness
        .wait_for(selector)
        .await
        .is_displayed()
        .await
        .unwrap()
}

/// Reloads the message page until its attempts show `count` greylisted replies.
async fn until_greylisted(harness: &Harness, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempts = harness.text("#attempts").await;
        if attempts.matches("greylisted").count() >= count {
            return;
        }
        assert!(Instant::now() < deadline, "{attempts}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        harness.browser.refresh().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_mail_is_retried_and_cancelled_after_confirmation() {
    let mut harness = Harness::start("message-actions").await;
    harness.signing_domain(harness.acme).await;
    let id = harness
        .submit(
            harness.acme,
            &["ann@receiver.test", "later@receiver.test"],
            "Work order 17",
        )
        .await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    let path = format!("/t/acme/messages/{id}");
    harness.goto(&path).await;
    harness.refresh_until("#message-status", "deferred").await;
    until_greylisted(&harness, 1).await;

    // Both actions wait behind their confirmation.
    assert!(!displayed(&harness, "#retry-confirm").await);
    assert!(!displayed(&harness, "#cancel-confirm").await);
    harness.shot("deferred").await;

    // A GET of an action's address, as a link or a reload sends it, only shows the message.
    harness.goto(&format!("{path}/cancel")).await;
    harness.wait_for("#message-status").await;
    assert_eq!(harness.current_path().await, path);
    assert_eq!(harness.text("#message-status").await, "deferred");
    harness.goto(&format!("{path}/retry")).await;
    harness.wait_for("#message-status").await;
    assert_eq!(harness.current_path().await, path);

    harness.click_in_page("#retry summary").await;
    let question = harness.text("#retry").await;
    assert!(
        question.contains("Try the 1 deferred recipient again now"),
        "{question}"
    );
    harness.shot("retry-confirm").await;
    harness.click("#retry-confirm").await;
    let notice = harness.text("#notice").await;
    assert!(notice.contains("Trying 1 recipient again now"), "{notice}");
    // The retry happened at once: a second greylisted attempt, long before the policy's next.
    until_greylisted(&harness, 2).await;

    harness.click_in_page("#cancel summary").await;
    let question = harness.text("#cancel").await;
    assert!(
        question.contains("Cancel delivery to the 1 recipient still waiting"),
        "{question}"
    );
    let class = harness
        .wait_for("#cancel-confirm")
        .await
        .attr("class")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(class.contains("danger"), "{class}");
    harness.shot("cancel-confirm").await;
    harness.click("#cancel-confirm").await;
    let notice = harness.text("#notice").await;
    assert!(
        notice.contains("Delivery cancelled for 1 recipient"),
        "{notice}"
    );
    let recipients = harness.text("#recipients").await;
    assert!(
        recipients.contains("cancelled") && recipients.contains("sent"),
        "{recipients}"
    );
    // Nothing is left to retry or cancel.
    assert!(
        harness
            .browser
            .find(Locator::Css("#message-actions"))
            .await
            .is_err()
    );
    harness.shot("cancelled").await;
    let message = harness
        .service
        .messages()
        .message(harness.acme, id.parse().unwrap())
        .await
        .unwrap();
    let states: Vec<_> = message.recipients.iter().map(|r| r.state).collect();
    assert!(states.contains(&RecipientState::Cancelled), "{states:?}");
    assert!(states.contains(&RecipientState::Sent), "{states:?}");
    harness.finish().await;
}
