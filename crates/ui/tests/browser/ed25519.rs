//! The optional Ed25519 key (RFC 8463) on a signing domain's page: generated or imported beside
//! the RSA key under its own selector, pending until its record is published, listed in the
//! hand-off, and an RSA key pasted as the Ed25519 key refused with the reason.

use crate::support::{ACME_ADMIN, Harness, PASSWORD, fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ed25519_key_is_added_beside_the_rsa_key() {
    let mut harness = Harness::start("ed25519").await;
    let id = harness.signing_domain(harness.acme).await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    harness.goto(&format!("/t/acme/domains/{id}")).await;

    harness.click_in_page("#ed25519-key > summary").await;
    harness.shot("ed25519-offer").await;
    harness.click("#generate-ed25519-key").await;
    let notice = harness.text("#notice").await;
    assert!(notice.contains("Ed25519 key was added"), "{notice}");
    let pending = harness.text("#key-workplace-ed").await;
    assert!(pending.contains("pending"), "{pending}");
    assert_eq!(harness.text("#domain-status").await, "active");
    let page = harness.page_text().await;
    assert!(
        page.contains("workplace-ed._domainkey"),
        "the hand-off lists the record"
    );
    assert!(page.contains("k=ed25519"), "the record says k=ed25519");

    harness.click_in_page("#ed25519-key > summary").await;
    harness
        .paste(
            "#import-ed25519-pem",
            &fixture("ed25519-pkcs8-pbkdf2-aes256.pem"),
        )
        .await;
    harness
        .fill("#import-ed25519-password", "fixture-pass")
        .await;
    harness.click("#import-ed25519-key").await;
    assert!(
        harness
            .text("#notice")
            .await
            .contains("Ed25519 key was added")
    );
    assert!(harness.text("#key-workplace-ed2").await.contains("pending"));

    harness.click_in_page("#ed25519-key > summary").await;
    harness
        .paste("#import-ed25519-pem", &fixture("rsa2048-pkcs8.pem"))
        .await;
    harness.click("#import-ed25519-key").await;
    let page = harness.page_text().await;
    assert!(page.contains("paste an Ed25519 key"), "{page}");
    harness.shot("ed25519-refused").await;
    harness.finish().await;
}
