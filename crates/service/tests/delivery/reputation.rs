//! The reputation guard on both backends (SPEC S10.5): a tenant whose bounce rate crosses the
//! pause threshold has its new mail accepted and held, while another tenant's mail to the same
//! receiver keeps flowing; the operator sees why, resumes it, and the held mail goes out.

use std::sync::Arc;

use sealpost_domain::{Feedback, RecipientState, ReputationPolicy, SubmissionSource};
use sealpost_service::{Clock as _, ServiceError, Submission};
use sealpost_store::testing;
use sealpost_testdns::TestDns;

use crate::aiosmtpd::Sink;
use crate::support;

fn submission(from: &str, to: &str) -> Submission {
    Submission {
        mail_from: from.into(),
        recipients: vec![to.into()],
        raw: format!("From: {from}\nTo: {to}\nSubject: News\n\nHello\n").into_bytes(),
        idempotency_key: None,
        source: SubmissionSource::Http,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_tenant_is_held_while_another_keeps_sending() {
    let directory = tempfile::tempdir().unwrap();
    let mailbox = tempfile::tempdir().unwrap();
    let sink = Sink::start(mailbox.path());
    for store in testing::fresh_stores(directory.path()).await {
        let dns: TestDns = support::dns(&["receiver.test"]).await;
        let (service, delivery, acme) = support::signing_service(store, &dns, sink.port).await;
        let service = service.with_reputation_policy(ReputationPolicy {
            min_volume: 4,
            ..ReputationPolicy::default()
        });
        // A second tenant proves its own domain, as on the internet.
        let globex = service
            .accounts()
            .create_tenant("globex", "")
            .await
            .unwrap()
            .id;
        let domains = service.signing_domains();
        let proof = domains
            .add_sending_domain(globex, "globex.test")
            .await
            .unwrap();
        dns.replace(
            support::zone(&["receiver.test"]).txt(&proof.record_name(), &[&proof.record_value()]),
        )
        .unwrap();
        domains
            .verify_sending_domain(globex, "globex.test")
            .await
            .unwrap();

        let submissions = service.submissions();
        let mut sent = Vec::new();
        for index in 0..4 {
            let to = format!("reader{index}@receiver.test");
            sent.push(
                submissions
                    .submit(acme, submission("news@client.test", &to))
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 4);
        let message = service.messages().message(acme, sent[0].id).await.unwrap();
        let feedback = service.feedback();
        feedback
            .record_feedback(
                acme,
                message.recipients[0].id,
                Feedback::HardBounce,
                "550 5.1.1",
            )
            .await
            .unwrap();
        let reputation = feedback.reputation(acme).await.unwrap();
        assert_eq!(reputation.figures.sent, 4);
        assert_eq!(reputation.figures.bounced, 1);
        let reason = reputation.standing.paused_reason.clone().unwrap();
        assert!(reason.starts_with("bounce rate 25.00 %"), "{reason}");
        assert!(
            feedback
                .reputation(globex)
                .await
                .unwrap()
                .standing
                .sending_paused_at
                .is_none()
        );

        // Held, not refused; the other tenant's mail goes out.
        let held = submissions
            .submit(acme, submission("news@client.test", "held@receiver.test"))
            .await
            .unwrap();
        let flowing = submissions
            .submit(
                globex,
                submission("hello@globex.test", "other@receiver.test"),
            )
            .await
            .unwrap();
        assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 1);
        let state = |tenant, id| {
            let messages = service.messages();
            async move { messages.message(tenant, id).await.unwrap().recipients[0].state }
        };
        let other = service
            .messages()
            .message(globex, flowing.id)
            .await
            .unwrap();
        assert_eq!(other.recipients[0].state, RecipientState::Sent, "{other:?}");
        assert_eq!(state(acme, held.id).await, RecipientState::Queued);

        feedback.resume_sending(acme).await.unwrap();
        assert!(matches!(
            feedback.resume_sending(acme).await,
            Err(ServiceError::Conflict(_))
        ));
        assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 1);
        let released = service.messages().message(acme, held.id).await.unwrap();
        assert_eq!(
            released.recipients[0].state,
            RecipientState::Sent,
            "{:?}",
            released.recipients
        );
    }
}

/// Mail held by a pause does not expire for it: a message accepted while its tenant is paused
/// and held for longer than its whole lifetime is still retried after the resume, when its
/// receiver cannot be reached, instead of failing as expired; its expiry moved on by the pause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_held_for_longer_than_its_lifetime_is_retried_after_the_resume() {
    let directory = tempfile::tempdir().unwrap();
    // A port nothing listens on: every attempt fails, and is retried while the message lives.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for store in testing::fresh_stores(directory.path()).await {
        let dns: TestDns = support::dns(&["receiver.test"]).await;
        let clock = Arc::new(support::TestClock::default());
        let (service, delivery, acme) =
            support::signing_service_with_clock(store.clone(), &dns, closed, Arc::clone(&clock))
                .await;
        let paused = store.pause_sending(acme, clock.now(), "bounce rate 25.00 %");
        assert!(paused.await.unwrap());
        let held = service
            .submissions()
            .submit(acme, submission("news@client.test", "held@receiver.test"))
            .await
            .unwrap();
        let accepted = service.messages().message(acme, held.id).await.unwrap();
        let lifetime = accepted.expires_at.0 - accepted.accepted_at.0;
        clock.advance(lifetime + 3600);
        service.feedback().resume_sending(acme).await.unwrap();
        assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 1);
        let tried = service.messages().message(acme, held.id).await.unwrap();
        assert_eq!(
            tried.recipients[0].state,
            RecipientState::Deferred,
            "{:?}",
            tried.recipients
        );
        // Moved on by the pause after its acceptance: the time advanced, and the few seconds
        // the test itself took.
        let moved = tried.expires_at.0 - accepted.expires_at.0;
        assert!(
            (lifetime + 3600..lifetime + 3660).contains(&moved),
            "{moved}"
        );
    }
}
