//! A message on its way: its recipients reach "sent" on refresh, and the stored source
//! verifies with DKIM.

use sealpost_service::Submission;

use crate::support::{ACME_ADMIN, Harness, PASSWORD};

const MESSAGE: &str = "From: Facilities <facilities@client.test>\r\nTo: ok@receiver.test\r\n\
                       Subject: Work order 4711\r\n\r\nThe boiler is fixed.\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sent_message_shows_sent_and_dkim_pass() {
    let mut harness = Harness::start("message").await;
    harness.signing_domain(harness.acme).await;
    let accepted = harness
        .service
        .submit(
            harness.acme,
            Submission {
                mail_from: "facilities@client.test".into(),
                recipients: vec!["ok@receiver.test".into(), "second@receiver.test".into()],
                raw: MESSAGE.as_bytes().to_vec(),
                idempotency_key: None,
                source: "http",
            },
        )
        .await
        .unwrap();
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-messages").await;
    assert!(
        harness
            .text("#tile-messages")
            .await
            .contains("Work order 4711")
    );

    harness.goto("/t/acme/messages").await;
    harness.fill("#filter-q", "4711").await;
    harness.click("#filter").await;
    assert!(harness.text("#messages").await.contains("Work order 4711"));
    harness.shot("list").await;

    harness
        .goto(&format!("/t/acme/messages/{}", accepted.id))
        .await;
    harness.refresh_until("#message-status", "sent").await;
    let recipients = harness.text("#recipients").await;
    assert_eq!(recipients.matches("sent").count(), 2, "{recipients}");
    assert!(harness.text("#attempts").await.contains("250"));
    assert_eq!(harness.text("#dkim-result").await, "pass");
    assert!(harness.text("#dkim").await.contains("verified"));
    assert!(harness.text("#signing").await.contains("d=client.test"));
    assert!(harness.text("#raw").await.contains("DKIM-Signature:"));
    assert_eq!(harness.received.count(), 1);
    harness.shot("sent-dkim-pass").await;

    // The troubleshooting screen agrees: both domains are active, the record carries our key.
    harness.goto("/t/acme/troubleshoot").await;
    harness.fill("#sender", "facilities@client.test").await;
    harness.click("#diagnose").await;
    assert_eq!(harness.text("#sender-domain").await, "client.test");
    assert!(
        harness
            .text("#signing-verdict")
            .await
            .contains("DKIM-signed")
    );
    assert!(
        harness
            .text("#report-dkim")
            .await
            .starts_with("DKIM record ok")
    );
    harness.shot("troubleshoot").await;
    harness.finish().await;
}
