//! A round of outcomes recorded together: each is fenced by its own claim, and the answer says
//! which were recorded, in the order they were given.

use sealpost_domain::{AttemptResult, RecipientState, Timestamp};

use crate::RecipientUpdate;
use crate::queue_tests::{NOW, attempt, message, stores_with_tenant};

#[tokio::test]
async fn a_round_records_the_outcomes_whose_lease_holds_and_only_those() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let addresses: Vec<String> = (0..70).map(|index| format!("r{index}@one.test")).collect();
        let addresses: Vec<&str> = addresses.iter().map(String::as_str).collect();
        let queued = message(tenant, &addresses, None);
        store.insert_message(&queued).await.unwrap();
        let mut claims = store
            .claim_due("node-a", Timestamp(NOW), Timestamp(NOW + 60), 100)
            .await
            .unwrap();
        assert_eq!(claims.len(), 70);
        // Every third claim holds a token that is not the recipient's any more, as after
        // another node took the lease over.
        for claim in claims.iter_mut().step_by(3) {
            claim.lease_token = "taken-over".into();
        }
        let sent = RecipientUpdate {
            state: RecipientState::Sent,
            next_attempt_at: None,
            last_reply: "250 2.0.0 ok".into(),
        };
        let round: Vec<_> = claims
            .iter()
            .map(|claim| {
                let record = attempt(AttemptResult::Delivered);
                (claim.clone(), sent.clone(), record)
            })
            .collect();
        let recorded = store.finish_attempts(&round).await.unwrap();
        let expected: Vec<bool> = (0..70).map(|index| index % 3 != 0).collect();
        assert_eq!(recorded, expected);
        let stored = store.message(tenant, queued.id).await.unwrap();
        for recipient in &stored.recipients {
            let claim = claims
                .iter()
                .position(|claim| claim.recipient_id == recipient.id);
            let fenced = claim.unwrap() % 3 == 0;
            let expected = match fenced {
                true => (RecipientState::Sending, 0, None),
                false => (RecipientState::Sent, 1, Some("250 2.0.0 ok")),
            };
            assert_eq!(
                (
                    recipient.state,
                    recipient.attempts,
                    recipient.last_reply.as_deref()
                ),
                expected
            );
        }
        let history = store.attempts(tenant, queued.id).await.unwrap();
        assert_eq!(
            history.len(),
            expected.iter().filter(|&&recorded| recorded).count()
        );
    }
}

#[tokio::test]
async fn a_recipient_named_twice_in_a_round_is_recorded_once_by_its_current_claim() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let queued = message(tenant, &["twice@one.test"], None);
        store.insert_message(&queued).await.unwrap();
        let first = store
            .claim_due("node-a", Timestamp(NOW), Timestamp(NOW + 60), 10)
            .await
            .unwrap();
        // The lease ran out before the first attempt finished, and this node claimed the
        // recipient again; both attempts end in the same round, the stale one first.
        let second = store
            .claim_due("node-a", Timestamp(NOW + 61), Timestamp(NOW + 120), 10)
            .await
            .unwrap();
        assert_eq!((first.len(), second.len()), (1, 1));
        let deferred = RecipientUpdate {
            state: RecipientState::Deferred,
            next_attempt_at: Some(Timestamp(NOW + 600)),
            last_reply: "451 4.7.1 try later".into(),
        };
        let attempts: Vec<_> = [&first[0], &second[0]]
            .into_iter()
            .map(|claim| {
                (
                    claim.clone(),
                    deferred.clone(),
                    attempt(AttemptResult::Temporary),
                )
            })
            .collect();
        let recorded = store.finish_attempts(&attempts).await.unwrap();
        assert_eq!(recorded, [false, true]);
        assert_eq!(store.attempts(tenant, queued.id).await.unwrap().len(), 1);
        let stored = store.message(tenant, queued.id).await.unwrap();
        let recipient = &stored.recipients[0];
        assert_eq!(
            (
                recipient.state,
                recipient.attempts,
                recipient.next_attempt_at
            ),
            (RecipientState::Deferred, 1, Some(Timestamp(NOW + 600)))
        );
    }
}
