//! The E-mail tab: switching to an own mail server and testing the connection; automatic DKIM
//! key rotation, set on the tab and shown on a signing domain's page.

use crate::support::{ACME_ADMIN, Harness, PASSWORD, assert_sentence};

const RELAY_PASSWORD: &str = "relay-secret-4711";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_mail_server_connection_test() {
    let mut harness = Harness::start("own-mail-server").await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    harness.goto("/t/acme/settings/email").await;
    assert!(harness.text("#no-retry").await.contains("not retried"));
    harness.click_in_page("#mode-relay").await;
    harness.fill("#relay-host", "127.0.0.1").await;
    harness
        .fill("#relay-port", &harness.smtp_port.to_string())
        .await;
    harness.fill("#relay-username", "facilities").await;
    harness.fill("#relay-password", RELAY_PASSWORD).await;
    harness
        .wait_for("#relay-tls")
        .await
        .select_by_value("none")
        .await
        .unwrap();
    harness.shot("form").await;
    harness.click("#save-settings").await;
    assert!(harness.text("#notice").await.contains("saved"));
    let password_field = harness.wait_for("#relay-password").await;
    assert_eq!(
        password_field.prop("value").await.unwrap().as_deref(),
        Some("")
    );

    harness.click("#test-connection").await;
    let result = harness.text("#test-result").await;
    assert!(result.contains("accepted"), "{result}");
    // The transcript is folded away under a successful test.
    harness.click_in_page("#test details summary").await;
    let transcript = harness.text("#transcript").await;
    assert!(transcript.contains("AUTH"), "{transcript}");
    assert!(transcript.contains("235"), "{transcript}");
    let page = harness.browser.source().await.unwrap();
    assert!(
        !page.contains(RELAY_PASSWORD),
        "the relay password is on the page"
    );
    harness.scroll_to("#test-result").await;
    harness.shot("tested").await;

    harness.goto("/t/acme").await;
    assert!(harness.text("#tile-settings").await.contains("not retried"));
    harness.finish().await;
}

/// A period outside the range is refused next to its field and given back as typed; a valid
/// one is saved, and the domain's page says when its key is next replaced and, once a new key
/// waits, what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_key_rotation() {
    let mut harness = Harness::start("key-rotation").await;
    let domain = harness.signing_domain(harness.acme).await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.goto(&format!("/t/acme/domains/{domain}")).await;
    assert!(harness.text("#key-rotation").await.starts_with("Off:"));

    harness.goto("/t/acme/settings/email").await;
    assert!(
        !harness
            .wait_for("#rotation-on")
            .await
            .is_selected()
            .await
            .unwrap()
    );
    harness.click_in_page("#rotation-on").await;
    harness.fill("#rotation-days", "20").await;
    harness.click("#save-rotation").await;
    let error = harness.error_beside("#rotation-days").await;
    assert!(error.contains("from 30 to 730"), "{error}");
    assert_sentence(&error);
    assert_eq!(harness.value("#rotation-days").await, "20");
    harness.scroll_to("#key-rotation").await;
    harness.shot("refused").await;

    harness.fill("#rotation-days", "180").await;
    harness.click("#save-rotation").await;
    assert!(harness.text("#notice").await.contains("key rotation"));
    assert!(
        harness
            .wait_for("#rotation-on")
            .await
            .is_selected()
            .await
            .unwrap()
    );
    assert_eq!(harness.value("#rotation-days").await, "180");

    harness.goto(&format!("/t/acme/domains/{domain}")).await;
    let line = harness.text("#key-rotation").await;
    assert!(
        line.starts_with("Every 180 days: a new key is made for the RSA key on "),
        "{line}"
    );
    harness.shot("scheduled").await;

    // A new key waiting for its record (as a rotation leaves one): the line says what to do.
    let id = domain.parse().unwrap();
    harness
        .service
        .signing_domains()
        .generate_key(harness.acme, id)
        .await
        .unwrap();
    harness.goto(&format!("/t/acme/domains/{domain}")).await;
    let waiting = harness.text("#key-rotation").await;
    assert!(
        waiting.contains("A new key under selector workplace2 waits for its DNS record"),
        "{waiting}"
    );
    assert_sentence(&waiting);
    harness.shot("waiting").await;
    harness.finish().await;
}
