//! The E-mail tab: switching to an own mail server and testing the connection.

use crate::support::{ACME_ADMIN, Harness, PASSWORD};

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
