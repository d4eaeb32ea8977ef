//! Signing domains: a new one, a generated key and its DNS record, activation refused until the
//! domain is proven and accepted once its DKIM record is published, an encrypted key imported
//! with a wrong and then the right password, activation and the DNS check.

use crate::support::{ACME_ADMIN, FIXTURE_PASSWORD, Harness, PASSWORD, fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_domain_with_generated_key_shows_the_dns_record() {
    let mut harness = Harness::start("generate-key").await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    harness.goto("/t/acme/domains").await;
    harness.fill("#new-domain", "Mail.Client.test").await;
    harness.fill("#new-selector", "workplace").await;
    harness.shot("new-domain").await;
    harness.click("#create-domain").await;
    assert!(
        harness
            .text("#notice")
            .await
            .contains("Signing domain added")
    );
    assert_eq!(harness.text("#domain-status").await, "no key yet");
    let domain_path = harness.current_path().await;

    harness.click("#generate-key").await;
    assert!(harness.text("#notice").await.contains("RSA-2048"));
    assert_eq!(harness.text("#hash-algorithm").await, "SHA-256");
    assert_eq!(harness.text("#key-length").await, "2048 bits");
    let public_key = harness
        .wait_for("#public-key")
        .await
        .prop("value")
        .await
        .unwrap();
    assert!(
        public_key
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    assert_eq!(
        harness.text("#dkim-name").await,
        "workplace._domainkey.mail.client.test"
    );
    assert!(
        harness
            .text("#dkim-value")
            .await
            .starts_with("v=DKIM1; k=rsa; p=MIIB")
    );
    harness.click_in_page("#dkim-forms summary").await;
    assert!(harness.text("#record-zone").await.contains("IN TXT"));
    // The copy button puts the value on the clipboard, or selects it where that is refused.
    harness
        .click_in_page("#dns-records button[data-copy=dkim-value]")
        .await;
    let button = harness
        .copy_result("#dns-records button[data-copy=dkim-value]")
        .await;
    assert!(
        button == "Copied" || button.starts_with("Selected"),
        "{button}"
    );
    harness.click_in_page("#it-message summary").await;
    assert!(
        harness
            .text("#it-text")
            .await
            .contains("please publish these DNS records")
    );
    let page = harness.browser.source().await.unwrap();
    assert!(
        !page.contains("PRIVATE KEY"),
        "the page shows private key material"
    );
    harness.scroll_to("#dns-records").await;
    harness.shot("dns-record").await;

    // Nothing is published for this name: the check says so and how to fix it.
    harness.click("#check-now").await;
    let dkim = harness.text("#report-dkim").await;
    assert!(dkim.contains("error"), "{dkim}");
    harness.scroll_to("#dns-report").await;
    harness.shot("dns-check").await;

    let list_path = "/t/acme/domains";
    harness.goto(list_path).await;
    let list = harness.text("#domains").await;
    assert!(
        list.contains("mail.client.test") && list.contains("key ready"),
        "{list}"
    );

    // The page says before activating that the domain is not proven, and how to prove it.
    harness.goto(&domain_path).await;
    assert_eq!(harness.text("#proof-status").await, "pending");
    assert_eq!(
        harness.text("#verification-name").await,
        "_sealpost.mail.client.test"
    );
    assert!(
        harness
            .text("#verification-value")
            .await
            .starts_with("sealpost-verification=")
    );
    harness.scroll_to("#proof").await;
    harness.shot("proof-pending").await;
    // Activating before anything is published is refused with what DNS showed.
    harness.click("#activate").await;
    let error = harness.text("#error").await;
    assert!(
        error.contains("mail.client.test is not proven yet")
            && error.contains("workplace._domainkey.mail.client.test"),
        "{error}"
    );
    assert_eq!(
        harness.text("#domain-status").await,
        "key ready, not active"
    );
    harness.shot("activation-refused").await;

    // The IT department publishes the DKIM record the page shows: activation proves the domain.
    let name = harness.text("#dkim-name").await;
    let value = harness.text("#dkim-value").await;
    harness.publish(|zone| zone.txt_split(&name, &value));
    harness.click("#activate").await;
    assert!(harness.text("#notice").await.contains("active"));
    assert_eq!(harness.text("#domain-status").await, "active");
    assert_eq!(harness.text("#proof-status").await, "proven");
    let proof = harness.text("#proof-text").await;
    assert!(proof.contains("by the DKIM record"), "{proof}");
    harness.click("#sending-domains-link").await;
    let card = "[data-domain='mail.client.test']";
    assert_eq!(harness.text(&format!("{card} .status")).await, "proven");
    harness.shot("sending-domains").await;
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_key_import_needs_the_right_password() {
    let mut harness = Harness::start("import-key").await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    harness.goto("/t/acme/domains").await;
    harness.fill("#new-domain", "client.test").await;
    harness.click("#create-domain").await;
    harness.wait_for("#notice").await;
    let encrypted = fixture("rsa2048-pkcs8-pbkdf2-aes256.pem");

    harness.click_in_page("#key summary").await;
    harness.paste("#import-pem", &encrypted).await;
    harness.fill("#import-password", "wrong password").await;
    harness.shot("import-form").await;
    harness.click("#import-key").await;
    let error = harness.text("#import-error").await;
    assert!(error.to_lowercase().contains("password"), "{error}");
    assert_eq!(harness.text("#domain-status").await, "no key yet");
    // The pasted key stays in the form (issue 16, item 7); the password does not.
    let kept = harness
        .wait_for("#import-pem")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref().map(str::trim), Some(encrypted.trim()));
    let password = harness
        .wait_for("#import-password")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(password.as_deref(), Some(""));
    harness.scroll_to("#import-error").await;
    harness.shot("item7-wrong-password-keeps-the-key").await;

    harness.fill("#import-password", FIXTURE_PASSWORD).await;
    harness.click("#import-key").await;
    assert!(harness.text("#notice").await.contains("imported"));
    assert_eq!(harness.text("#key-length").await, "2048 bits");

    // The test DNS publishes this key's record: activate, then the DKIM check passes.
    harness.click("#activate").await;
    assert!(harness.text("#notice").await.contains("active"));
    assert_eq!(harness.text("#domain-status").await, "active");
    harness.click("#check-now").await;
    let dkim = harness.text("#report-dkim").await;
    assert!(dkim.starts_with("DKIM record ok"), "{dkim}");
    harness.scroll_to("#dns-report").await;
    harness.shot("imported-active-checked").await;
    harness.finish().await;
}
