//! A message whose DKIM signature no longer verifies is not a green "sent" (issue 16, item 9):
//! the tenant's DNS record of the key changes after the message went out, as when someone
//! replaces the record by hand, and the message page shows the failure in red, with no green
//! badge left that says "sent"; the message list then shows the verdict too.

use fantoccini::Locator;
use sealpost_service::{KeyImport, Submission};
use sealpost_vault::{MasterKey, Vault};

use crate::support::{ACME_ADMIN, Harness, PASSWORD, fixture};

const DOMAIN: &str = "mail.client.test";
const RECORD_NAME: &str = "workplace._domainkey.mail.client.test";
/// The status badge of the message list's one row.
const LIST_BADGE: &str = "#messages td[data-label='Status'] .badge";

/// The DKIM record value of a key: the fixture key's, or a fresh one's.
fn dkim_record(pem: Option<&str>) -> String {
    let vault = Vault::new(MasterKey::generate());
    let key = match pem {
        Some(pem) => vault.import(pem, None).unwrap(),
        None => vault.generate().unwrap(),
    };
    sealpost_domain::dkim_txt_value(&key.public_key_der())
}

/// Makes mail.client.test an active signing domain with the fixture key, its record published
/// (which proves the domain), and submits one message from it; returns the message's id.
async fn send_signed_message(harness: &Harness) -> String {
    let pem = fixture("rsa2048-pkcs8.pem");
    let record = dkim_record(Some(&pem));
    harness.publish(|zone| zone.txt_split(RECORD_NAME, &record));
    let domains = harness.service.signing_domains();
    let domain = domains
        .add_signing_domain(harness.acme, DOMAIN, "workplace")
        .await
        .unwrap();
    let import = KeyImport {
        pem: &pem,
        password: None,
    };
    domains
        .import_key(harness.acme, domain.id, import)
        .await
        .unwrap();
    domains
        .update_signing_domain(harness.acme, domain.id, Some(true), None)
        .await
        .unwrap();
    let raw = format!(
        "From: Facilities <facilities@{DOMAIN}>\r\nTo: ann@receiver.test\r\n\
         Subject: Boiler report\r\n\r\nThe boiler in building B is fixed.\r\n"
    );
    let submission = Submission {
        mail_from: format!("facilities@{DOMAIN}"),
        recipients: vec!["ann@receiver.test".to_owned()],
        raw: raw.into_bytes(),
        idempotency_key: None,
        source: sealpost_domain::SubmissionSource::Http,
    };
    let accepted = harness
        .service
        .submissions()
        .submit(harness.acme, submission)
        .await
        .unwrap();
    accepted.id.to_string()
}

async fn class_of(harness: &Harness, selector: &str) -> String {
    harness
        .wait_for(selector)
        .await
        .attr("class")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_whose_dkim_fails_is_not_a_green_sent() {
    let mut harness = Harness::start("dkim-failed").await;
    let id = send_signed_message(&harness).await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    let path = format!("/t/acme/messages/{id}");
    harness.goto(&path).await;
    harness.refresh_until("#message-status", "sent").await;
    assert_eq!(harness.text("#dkim-result").await, "pass");
    assert!(class_of(&harness, "#message-status").await.contains("ok"));
    // The list shows what the last verification found, without asking DNS per row.
    harness.goto("/t/acme/messages").await;
    assert_eq!(harness.text(LIST_BADGE).await, "sent");
    assert!(class_of(&harness, LIST_BADGE).await.contains("ok"));
    harness.goto(&path).await;

    // The record now carries another key: the signature the message went out with fails.
    let replaced = dkim_record(None);
    harness.publish(|zone| zone.txt_split(RECORD_NAME, &replaced));
    harness.browser.refresh().await.unwrap();
    assert_eq!(harness.text("#message-status").await, "sent, DKIM failed");
    let status_class = class_of(&harness, "#message-status").await;
    assert!(status_class.contains("bad"), "{status_class}");
    assert_eq!(harness.text("#dkim-result").await, "fail");
    let summary = harness.text("#dkim").await;
    assert!(
        summary.contains("The DKIM signature did not verify."),
        "{summary}"
    );
    let result_class = class_of(&harness, "#dkim-result").await;
    assert!(!result_class.contains("ok"), "{result_class}");
    // No badge on the page says "sent" in green, not even the recipient's.
    for badge in harness
        .browser
        .find_all(Locator::Css(".badge.ok"))
        .await
        .unwrap()
    {
        let text = badge.text().await.unwrap();
        assert!(!text.contains("sent"), "a green {text:?} badge");
    }
    harness.shot("item9-dkim-failed-is-not-green").await;
    harness.scroll_to("#dkim").await;
    harness.shot("item9-dkim-failed-cause").await;

    // The list no longer calls it a green "sent" either.
    harness.goto("/t/acme/messages").await;
    assert_eq!(harness.text(LIST_BADGE).await, "sent, DKIM failed");
    let list_class = class_of(&harness, LIST_BADGE).await;
    assert!(list_class.contains("bad"), "{list_class}");
    harness.shot("item9-dkim-failed-in-the-list").await;

    // The dashboard counts the one recipient in the singular.
    harness.goto("/t/acme").await;
    assert_eq!(harness.text("#figures-total").await, "1 recipient");
    harness.finish().await;
}
