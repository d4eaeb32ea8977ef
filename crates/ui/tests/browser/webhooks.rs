//! Webhooks as a tenant administrator sets them up: a wrong address refused beside the field with
//! what was typed kept, an endpoint added and its signing secret shown once, a test event in the
//! delivery log, the delivery given up and the endpoint switched off by the platform with its
//! reason, switching it on, "Send again", a new secret, and deletion after a confirmation. The
//! harness gives up a failed delivery at once; the endpoint's host (a `.example` name) never
//! resolves, so nothing is ever delivered.

use fantoccini::Locator;

use crate::support::{ACME_ADMIN, Harness, PASSWORD, assert_sentence};

const URL: &str = "https://hooks.client.example/sealpost-events";
const TEST_ROW: &str = "tr[data-event='test']";

async fn count(harness: &Harness, selector: &str) -> usize {
    harness
        .browser
        .find_all(Locator::Css(selector))
        .await
        .unwrap()
        .len()
}

/// How far the page scrolls sideways; 0 when it fits the window.
async fn overflow(harness: &Harness) -> i64 {
    harness
        .browser
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_is_added_tested_given_up_rotated_and_deleted() {
    let mut harness = Harness::start("webhooks").await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    // The section sits next to the suppression list in the tenant's navigation.
    let next = harness
        .text("nav.sections a[href='/t/acme/suppressions'] + a")
        .await;
    assert_eq!(next, "Webhooks");
    harness
        .click("nav.sections a[href='/t/acme/webhooks']")
        .await;
    assert!(
        harness
            .text("#no-webhooks")
            .await
            .contains("No endpoint yet")
    );

    let secret = add(&mut harness).await;
    harness.click(".webhook-link").await;
    test_event_given_up_and_sent_again(&mut harness).await;
    rotate_and_delete(&mut harness, &secret).await;
    on_a_phone(&mut harness).await;
    harness.finish().await;
}

/// A wrong address, then a good one; returns the secret shown.
async fn add(harness: &mut Harness) -> String {
    harness.fill("#new-webhook-url", "ftp://x").await;
    harness
        .click_in_page("input[name=event][value='message.bounced']")
        .await;
    harness.click("#add-webhook").await;
    let error = harness.error_beside("#new-webhook-url").await;
    assert!(
        error.starts_with("Enter a full URL starting with https://"),
        "{error}"
    );
    assert_sentence(&error);
    assert_eq!(harness.value("#new-webhook-url").await, "ftp://x");
    let ticked = harness
        .wait_for("input[name=event][value='message.bounced']")
        .await
        .prop("checked")
        .await
        .unwrap();
    assert_eq!(ticked.as_deref(), Some("true"), "the ticked event was lost");
    assert_eq!(count(harness, "tr.webhook").await, 0);
    harness.shot("1280-wrong-address-beside-the-field").await;

    harness.fill("#new-webhook-url", URL).await;
    harness.click("#add-webhook").await;
    let secret = harness.text("#new-secret").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let card = harness.text("#new-secret-card").await;
    assert!(card.contains("It will not be shown again."), "{card}");
    let copy = "#new-secret-card button.copy";
    harness.click_in_page(copy).await;
    let button = harness.copy_result(copy).await;
    assert!(
        button == "Copied" || button.starts_with("Selected"),
        "{button}"
    );
    let row = format!("tr.webhook[data-url='{URL}']");
    assert_eq!(
        harness.text(&format!("{row} .events")).await,
        "Messages: bounced"
    );
    assert_eq!(harness.text(&format!("{row} .state")).await, "on");
    harness.shot("1280-secret-shown-once").await;

    // Opened again, the page no longer has the secret anywhere.
    harness.goto("/t/acme/webhooks").await;
    harness.wait_for(&row).await;
    assert!(!harness.page_text().await.contains(&secret));
    let source = harness.browser.source().await.unwrap();
    assert!(
        !source.contains(&secret),
        "the secret is in the page's HTML"
    );
    secret
}

async fn test_event_given_up_and_sent_again(harness: &mut Harness) {
    assert!(
        harness
            .text("#no-deliveries")
            .await
            .contains("No event yet")
    );
    harness.click("#send-test").await;
    assert!(
        harness
            .text("#notice")
            .await
            .starts_with("A test event is on its way")
    );
    assert_eq!(
        harness.text(&format!("{TEST_ROW} .event")).await,
        "test event"
    );
    // The host does not resolve: the delivery is given up, with why, and the platform switches
    // the endpoint off, saying why.
    harness
        .refresh_until(&format!("{TEST_ROW} .state"), "given up")
        .await;
    let answer = harness.text(&format!("{TEST_ROW} .last-answer")).await;
    assert!(
        answer.contains("hooks.client.example does not resolve"),
        "{answer}"
    );
    assert_eq!(harness.text(&format!("{TEST_ROW} .attempts")).await, "1");
    let state = harness.text("#webhook-state").await;
    assert!(state.starts_with("off"), "{state}");
    let reason = harness.text("#disabled-reason").await;
    assert!(
        reason.starts_with("Switched off by the platform: no delivery succeeded"),
        "{reason}"
    );
    harness.shot("1280-given-up-and-switched-off").await;

    harness.click("#switch-on").await;
    assert!(
        harness
            .text("#notice")
            .await
            .starts_with("The endpoint is on")
    );
    assert!(harness.text("#webhook-state").await.starts_with("on"));
    assert_eq!(count(harness, "#disabled-reason").await, 0);
    harness.shot("1280-switched-on-again").await;

    // Sent again to the endpoint that is on: a second attempt of the same delivery.
    harness.click(&format!("{TEST_ROW} button.replay")).await;
    assert!(
        harness
            .text("#notice")
            .await
            .starts_with("The event is sent again")
    );
    harness
        .refresh_until(&format!("{TEST_ROW} .attempts"), "2")
        .await;
    assert_eq!(count(harness, TEST_ROW).await, 1, "sent again, not copied");
}

async fn rotate_and_delete(harness: &mut Harness, first_secret: &str) {
    // A new secret asks first, then shows itself once, with how long the old one still signs.
    assert!(
        !harness
            .wait_for("#rotate-secret")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    harness.click_in_page("#rotation summary").await;
    harness.click("#rotate-secret").await;
    let secret = harness.text("#new-secret").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_ne!(secret, first_secret);
    let card = harness.text("#new-secret-card").await;
    assert!(card.contains("It will not be shown again."), "{card}");
    assert!(
        card.contains("The old secret keeps signing beside it for a day, until "),
        "{card}"
    );
    harness.shot("1280-new-secret").await;

    harness.click_in_page("#deletion summary").await;
    let question = harness.text("#deletion form p").await;
    assert!(question.starts_with(&format!("Delete the endpoint {URL}?")));
    harness.shot("1280-delete-asks-first").await;
    harness.click("#delete-webhook").await;
    assert!(
        harness
            .text("#notice")
            .await
            .starts_with("The endpoint was deleted")
    );
    harness.wait_for("#no-webhooks").await;
    harness.shot("1280-deleted").await;
}

/// At 390 px: an endpoint for every event, its secret and its page fit the window.
async fn on_a_phone(harness: &mut Harness) {
    harness.browser.set_window_size(390, 844).await.unwrap();
    harness.goto("/t/acme/webhooks").await;
    harness.fill("#new-webhook-url", URL).await;
    harness.click("#add-webhook").await;
    harness.wait_for("#new-secret").await;
    assert_eq!(
        harness
            .text(&format!("tr.webhook[data-url='{URL}'] .events"))
            .await,
        "All events"
    );
    assert_eq!(overflow(harness).await, 0);
    harness.shot("390-secret-shown-once").await;
    harness.scroll_to("form.fields").await;
    harness.shot("390-add-form").await;
    harness.click(".webhook-link").await;
    harness.click("#send-test").await;
    harness
        .refresh_until(&format!("{TEST_ROW} .state"), "given up")
        .await;
    assert_eq!(overflow(harness).await, 0);
    harness.shot("390-endpoint").await;
    harness.scroll_to("#deliveries").await;
    harness.shot("390-delivery-log").await;
}
