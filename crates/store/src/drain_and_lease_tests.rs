//! The queue's account of the messages a key signed (what a retiring key waits for) and the
//! cluster leases that let one node at a time run the platform's work, on both backends.

use sealpost_domain::{
    DomainName, IdempotencyKey, MessageId, QueuedMessage, Recipient, RecipientId, RecipientState,
    Route, Selector, SigningRecord, SubmissionSource, SystemClock, TenantId, Timestamp,
};

use crate::signing_domain_tests::with_domain;
use crate::tests::for_each_backend;

fn signed_message(
    tenant: TenantId,
    selector: &str,
    states: &[(RecipientState, i64)],
) -> QueuedMessage {
    QueuedMessage {
        id: MessageId::new(&SystemClock),
        tenant_id: tenant,
        mail_from: "bounce@client.example".into(),
        raw: b"From: a@client.example\r\n\r\nbody\r\n".to_vec(),
        signing: SigningRecord::Signed {
            domain: DomainName::parse("client.example").unwrap(),
            selector: Selector::parse(selector).unwrap(),
        },
        route: Route::Native,
        source: SubmissionSource::Http,
        idempotency_key: None::<IdempotencyKey>,
        accepted_at: Timestamp(1000),
        expires_at: Timestamp(1000 + 86_400),
        recipients: states
            .iter()
            .map(|(state, updated_at)| Recipient {
                id: RecipientId::new(&SystemClock),
                address: "someone@receiver.test".to_owned(),
                domain: "receiver.test".to_owned(),
                state: *state,
                attempts: 0,
                next_attempt_at: None,
                last_reply: None,
                updated_at: Timestamp(*updated_at),
            })
            .collect(),
    }
}

#[tokio::test]
async fn the_queue_accounts_for_the_messages_a_key_signed() {
    for_each_backend(|store| async move {
        let (acme, domain) = with_domain(&store).await;
        let name = domain.domain.clone();
        let selector = Selector::parse("workplace").unwrap();
        let drain = |since| {
            let store = store.clone();
            let (name, selector) = (name.clone(), selector.clone());
            async move {
                store
                    .key_drain(
                        acme.id,
                        &name,
                        Some(&selector),
                        Timestamp(since),
                        Timestamp(i64::MAX),
                    )
                    .await
                    .unwrap()
            }
        };
        assert_eq!(drain(0).await, (0, None));
        let waiting = signed_message(
            acme.id,
            "workplace",
            &[
                (RecipientState::Sent, 1100),
                (RecipientState::Deferred, 1200),
            ],
        );
        store.insert_message(&waiting).await.unwrap();
        let other_key = signed_message(acme.id, "workplace2", &[(RecipientState::Queued, 1300)]);
        store.insert_message(&other_key).await.unwrap();
        assert_eq!(drain(0).await, (1, Some(Timestamp(1100))));
        assert_eq!(drain(1001).await, (0, None));
        // An Ed25519 key's drain counts every message of the domain accepted while it signed.
        let any_selector = |until| {
            let store = store.clone();
            let name = name.clone();
            async move {
                store
                    .key_drain(acme.id, &name, None, Timestamp(0), Timestamp(until))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(any_selector(1000).await, (2, Some(Timestamp(1100))));
        assert_eq!(any_selector(999).await, (0, None));
        assert_eq!(
            store
                .unfinished_signed_with(
                    acme.id,
                    &name,
                    &[selector.clone(), Selector::parse("workplace2").unwrap()]
                )
                .await
                .unwrap(),
            2
        );
    })
    .await;
}

#[tokio::test]
async fn one_node_holds_a_lease_until_it_runs_out() {
    for_each_backend(|store| async move {
        let lease = "dns-recheck";
        assert!(
            store
                .take_lease(lease, "a", Timestamp(0), Timestamp(60))
                .await
                .unwrap()
        );
        assert!(
            !store
                .take_lease(lease, "b", Timestamp(30), Timestamp(90))
                .await
                .unwrap()
        );
        assert!(
            store
                .take_lease(lease, "a", Timestamp(50), Timestamp(110))
                .await
                .unwrap()
        );
        assert!(
            !store
                .take_lease(lease, "b", Timestamp(100), Timestamp(160))
                .await
                .unwrap()
        );
        assert!(
            store
                .take_lease(lease, "b", Timestamp(111), Timestamp(171))
                .await
                .unwrap()
        );
        assert_eq!(
            store.lease_holder(lease).await.unwrap(),
            Some(("b".to_owned(), Timestamp(171)))
        );
        store.release_lease(lease, "a").await.unwrap();
        assert!(
            store.lease_holder(lease).await.unwrap().is_some(),
            "only the holder releases"
        );
        store.release_lease(lease, "b").await.unwrap();
        assert!(
            store
                .take_lease(lease, "a", Timestamp(112), Timestamp(172))
                .await
                .unwrap()
        );
    })
    .await;
}
