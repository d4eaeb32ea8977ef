//! The suppression list at work on both backends: a submission to a suppressed address is
//! accepted for the other recipients, which are delivered to aiosmtpd, while the suppressed one
//! ends `suppressed` with the reason and is never handed to the receiver; another tenant's list
//! changes nothing; a CSV with a bad line stores nothing.

use sealpost_domain::{Feedback, RecipientState, SuppressionReason};
use sealpost_service::{ImportSummary, ServiceError};
use sealpost_store::testing;

use crate::aiosmtpd::Sink;
use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suppressed_recipient_is_accepted_final_and_never_sent() {
    let dns = support::dns(&["receiver.test"]).await;
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let mailbox = tempfile::tempdir().unwrap();
        let sink = Sink::start(mailbox.path());
        let (service, delivery, tenant) = support::signing_service(store, &dns, sink.port).await;
        let feedback = service.feedback();
        let entry = feedback
            .add_suppression(tenant, "Gone@Receiver.test", "", "asked by phone")
            .await
            .unwrap();
        assert_eq!(entry.address.as_str(), "gone@receiver.test");
        // Another tenant suppresses the address this tenant still mails.
        let other = service.accounts().create_tenant("other", "").await.unwrap();
        feedback
            .add_suppression(other.id, "ok@receiver.test", "complaint", "")
            .await
            .unwrap();

        let accepted = service
            .submissions()
            .submit(
                tenant,
                support::work_order(&["ok@receiver.test", "gone@receiver.test"]),
            )
            .await
            .unwrap();
        assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 1);

        let message = service
            .messages()
            .message(tenant, accepted.id)
            .await
            .unwrap();
        let states: Vec<_> = message
            .recipients
            .iter()
            .map(|recipient| (recipient.address.as_str(), recipient.state))
            .collect();
        assert_eq!(
            states,
            [
                ("ok@receiver.test", RecipientState::Sent),
                ("gone@receiver.test", RecipientState::Suppressed)
            ]
        );
        let suppressed = &message.recipients[1];
        assert_eq!(suppressed.attempts, 0);
        assert_eq!(
            suppressed.last_reply.as_deref(),
            Some(
                "suppressed: gone@receiver.test is on this tenant's suppression list because of \
                 an entry added by hand"
            )
        );
        let envelope = std::fs::read_to_string(mailbox.path().join("1.json")).unwrap();
        assert!(envelope.contains("ok@receiver.test"), "{envelope}");
        assert!(!envelope.contains("gone@"), "{envelope}");
        assert!(!mailbox.path().join("2.json").exists());

        // Removed from the list, the address is mailed again.
        feedback
            .remove_suppression(tenant, "gone@receiver.test")
            .await
            .unwrap();
        assert!(matches!(
            feedback
                .remove_suppression(tenant, "gone@receiver.test")
                .await,
            Err(ServiceError::NotFound("suppression"))
        ));
        assert!(feedback.list_suppressions(tenant).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn an_import_with_a_bad_line_stores_nothing_and_an_export_reads_back() {
    let dns = support::dns(&[]).await;
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let (service, _delivery, tenant) = support::signing_service(store, &dns, 9).await;
        let feedback = service.feedback();
        let refused = feedback
            .import_suppressions(
                tenant,
                "address,reason\none@client.test,manual\ntwo@,manual\nthree@client.test,spam\n",
            )
            .await;
        let Err(ServiceError::Invalid { field, message }) = refused else {
            panic!("expected a refusal, got {refused:?}");
        };
        assert_eq!(field, "csv");
        assert!(
            message.starts_with("nothing was imported; line 3: "),
            "{message}"
        );
        assert!(
            message.contains("line 4: unknown reason \"spam\""),
            "{message}"
        );
        assert!(feedback.list_suppressions(tenant).await.unwrap().is_empty());

        let summary = feedback
            .import_suppressions(
                tenant,
                "one@client.test,unsubscribe\nTwo@client.test\none@client.test\n",
            )
            .await
            .unwrap();
        assert_eq!(summary, ImportSummary { read: 3, added: 2 });
        let export = feedback.export_suppressions(tenant).await.unwrap();
        let lines: Vec<&str> = export.lines().collect();
        assert_eq!(lines[0], "address,reason,detail,created_at,message_id");
        assert!(
            lines[1].starts_with("one@client.test,unsubscribe,,"),
            "{export}"
        );
        assert!(lines[2].starts_with("two@client.test,manual,,"), "{export}");

        let again = feedback.import_suppressions(tenant, &export).await.unwrap();
        assert_eq!(again, ImportSummary { read: 2, added: 0 });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_bounce_after_sent_bounces_and_suppresses_a_soft_one_only_bounces() {
    let dns = support::dns(&["receiver.test"]).await;
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let mailbox = tempfile::tempdir().unwrap();
        let sink = Sink::start(mailbox.path());
        let (service, delivery, tenant) = support::signing_service(store, &dns, sink.port).await;
        let first = service
            .submissions()
            .submit(
                tenant,
                support::work_order(&["gone@receiver.test", "full@receiver.test"]),
            )
            .await
            .unwrap();
        assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 2);
        let message = service.messages().message(tenant, first.id).await.unwrap();
        assert!(
            message
                .recipients
                .iter()
                .all(|r| r.state == RecipientState::Sent)
        );
        let (gone, full) = (message.recipients[0].id, message.recipients[1].id);

        let feedback = service.feedback();
        let state = feedback
            .record_feedback(tenant, gone, Feedback::HardBounce, "550 5.1.1 user unknown")
            .await
            .unwrap();
        assert_eq!(state, RecipientState::Bounced);
        let state = feedback
            .record_feedback(tenant, full, Feedback::SoftBounce, "452 4.2.2 mailbox full")
            .await
            .unwrap();
        assert_eq!(state, RecipientState::Bounced);
        let message = service.messages().message(tenant, first.id).await.unwrap();
        assert_eq!(
            message.recipients[0].last_reply.as_deref(),
            Some("550 5.1.1 user unknown")
        );
        let entries = feedback.list_suppressions(tenant).await.unwrap();
        assert_eq!(
            entries.len(),
            1,
            "only the hard bounce suppresses: {entries:?}"
        );
        assert_eq!(entries[0].address.as_str(), "gone@receiver.test");
        assert_eq!(entries[0].reason, SuppressionReason::HardBounce);
        assert_eq!(entries[0].message_id, Some(first.id));

        let second = service
            .submissions()
            .submit(
                tenant,
                support::work_order(&["gone@receiver.test", "full@receiver.test"]),
            )
            .await
            .unwrap();
        assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 1);
        let message = service.messages().message(tenant, second.id).await.unwrap();
        let states: Vec<_> = message.recipients.iter().map(|r| r.state).collect();
        assert_eq!(states, [RecipientState::Suppressed, RecipientState::Sent]);
    }
}
