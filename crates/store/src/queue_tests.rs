//! The queue's behaviour on both backends: atomic acceptance, idempotency keys, claiming under a
//! lease, fencing of a lost lease, release, retry and cancel.

use sealpost_domain::{
    AttemptId, AttemptResult, DkimVerdict, DomainName, MessageId, QueuedMessage, RecipientState,
    SigningRecord, SubmissionSource, SystemClock, Tenant, TenantId, TenantName, Timestamp,
    UnsignedReason,
};

use crate::subjects::subject_of;
use crate::{AttemptRecord, RecipientUpdate, Store, StoreError, testing};

/// The summary a list should show of a message just stored: never verified yet.
fn summary_of(message: &QueuedMessage) -> sealpost_domain::MessageSummary {
    sealpost_domain::MessageSummary::of(message, subject_of(&message.raw), None)
}

pub(crate) use crate::testing::{NOW, message};

pub(crate) async fn stores_with_tenant() -> (tempfile::TempDir, Vec<(Store, TenantId)>) {
    let directory = tempfile::tempdir().unwrap();
    let mut stores = Vec::new();
    for store in testing::fresh_stores(directory.path()).await {
        let tenant = testing::tenant("acme", "Acme");
        store.create_tenant(&tenant).await.unwrap();
        stores.push((store, tenant.id));
    }
    (directory, stores)
}

/// How many PostgreSQL sessions wait for the session `pid`, once some do or after 5 s: for tests
/// that hold a transaction open and must see another statement wait for it.
pub(crate) async fn sessions_waiting_for(pool: &sqlx::PgPool, pid: i32) -> i64 {
    let mut waiting = 0;
    for _ in 0..100 {
        waiting = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))",
        )
        .bind(pid)
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    waiting
}

pub(crate) fn attempt(outcome: AttemptResult) -> AttemptRecord {
    AttemptRecord {
        id: AttemptId::new(&SystemClock),
        started_at: Timestamp(NOW),
        finished_at: Timestamp(NOW + 1),
        outcome,
        reply: "451 4.7.1 try later".into(),
        host: Some("mx.receiver.test".into()),
    }
}

#[tokio::test]
async fn messages_are_stored_whole_and_idempotency_keys_are_unique() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let first = message(tenant, &["a@one.test", "b@two.test"], Some("order-1"));
        store.insert_message(&first).await.unwrap();
        assert_eq!(store.message(tenant, first.id).await.unwrap(), first);

        let again = message(tenant, &["a@one.test"], Some("order-1"));
        assert!(matches!(
            store.insert_message(&again).await,
            Err(StoreError::Duplicate(_))
        ));
        assert!(matches!(
            store.message(tenant, again.id).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            store
                .message_by_idempotency_key(tenant, "order-1")
                .await
                .unwrap(),
            Some((first.id, "f1".repeat(32)))
        );
        // Another tenant never sees the message.
        assert!(matches!(
            store.message(TenantId::new(&SystemClock), first.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(store.message_exists(tenant, first.id).await.unwrap());
        assert!(
            !store
                .message_exists(TenantId::new(&SystemClock), first.id)
                .await
                .unwrap()
        );
        assert!(
            !store
                .message_exists(tenant, MessageId::new(&SystemClock))
                .await
                .unwrap()
        );
        let listed = store.recent_messages(tenant, 10).await.unwrap();
        assert_eq!(listed, [summary_of(&first)]);
        assert_eq!(
            store.message_summary(tenant, first.id).await.unwrap(),
            listed[0]
        );
        assert!(
            store
                .recent_messages(TenantId::new(&SystemClock), 10)
                .await
                .unwrap()
                .is_empty()
        );
        // A summary carries the stored Subject and its size, not the source.
        let mut big = message(tenant, &["c@three.test"], None);
        big.raw = b"Subject: big\r\n\r\n"
            .iter()
            .copied()
            .cycle()
            .take(20_000)
            .collect();
        store.insert_message(&big).await.unwrap();
        let summary = store.message_summary(tenant, big.id).await.unwrap();
        assert_eq!(summary, summary_of(&big));
        assert_eq!(summary.subject, "big");
        assert_eq!(summary.size, 20_000);
        // A verification's verdict is kept for the lists, and a changed one replaces it.
        assert_eq!(summary.dkim_verdict, None);
        for verdict in [DkimVerdict::Fail, DkimVerdict::Pass] {
            store
                .record_dkim_verdict(tenant, big.id, verdict, Timestamp(7))
                .await
                .unwrap();
            let summary = store.message_summary(tenant, big.id).await.unwrap();
            assert_eq!(summary.dkim_verdict, Some(verdict));
        }
        // Another tenant's verdict reaches nothing.
        store
            .record_dkim_verdict(
                TenantId::new(&SystemClock),
                big.id,
                DkimVerdict::Fail,
                Timestamp(8),
            )
            .await
            .unwrap();
        let summary = store.message_summary(tenant, big.id).await.unwrap();
        assert_eq!(summary.dkim_verdict, Some(DkimVerdict::Pass));
    }
}

#[tokio::test]
async fn recent_senders_are_distinct_newest_first_and_the_tenant_s_own() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        assert!(store.recent_senders(tenant, 10).await.unwrap().is_empty());
        for (sender, at) in [
            ("old@client.test", NOW - 30),
            ("", NOW - 20),
            ("new@client.test", NOW - 10),
            ("old@client.test", NOW),
        ] {
            let mut sent = message(tenant, &["a@one.test"], None);
            sent.mail_from = sender.into();
            sent.accepted_at = Timestamp(at);
            store.insert_message(&sent).await.unwrap();
        }
        assert_eq!(
            store.recent_senders(tenant, 10).await.unwrap(),
            ["old@client.test", "new@client.test"],
            "the null sender of a bounce is no suggestion"
        );
        // Only the newest message is read when the limit is one.
        assert_eq!(
            store.recent_senders(tenant, 1).await.unwrap(),
            ["old@client.test"]
        );
        let other = TenantId::new(&SystemClock);
        assert!(store.recent_senders(other, 10).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn claims_lease_recipients_and_a_lost_lease_records_nothing() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let queued = message(tenant, &["a@one.test", "b@two.test"], None);
        store.insert_message(&queued).await.unwrap();

        let claims = store
            .claim_due("node-a", Timestamp(NOW), Timestamp(NOW + 60), 10)
            .await
            .unwrap();
        assert_eq!(claims.len(), 2);
        // Leased recipients are not claimed again while the lease holds.
        let none = store
            .claim_due("node-b", Timestamp(NOW + 30), Timestamp(NOW + 90), 10)
            .await
            .unwrap();
        assert!(none.is_empty());

        // After the lease expires another node takes over; the first node's outcome is refused.
        let taken = store
            .claim_due("node-b", Timestamp(NOW + 61), Timestamp(NOW + 120), 10)
            .await
            .unwrap();
        assert_eq!(taken.len(), 2);
        let sent = RecipientUpdate {
            state: RecipientState::Sent,
            next_attempt_at: None,
            last_reply: "250 ok".into(),
        };
        assert!(
            !store
                .finish_attempt(&claims[0], &sent, &attempt(AttemptResult::Delivered))
                .await
                .unwrap()
        );
        let by_b = taken
            .iter()
            .find(|claim| claim.recipient_id == claims[0].recipient_id)
            .unwrap();
        assert!(
            store
                .finish_attempt(by_b, &sent, &attempt(AttemptResult::Delivered))
                .await
                .unwrap()
        );
        // A final state is never changed by a stale claim either.
        assert!(
            !store
                .finish_attempt(by_b, &sent, &attempt(AttemptResult::Delivered))
                .await
                .unwrap()
        );

        let deferred = RecipientUpdate {
            state: RecipientState::Deferred,
            next_attempt_at: Some(Timestamp(NOW + 600)),
            last_reply: "451 4.7.1 try later".into(),
        };
        let other = taken
            .iter()
            .find(|claim| claim.recipient_id != claims[0].recipient_id)
            .unwrap();
        assert!(
            store
                .finish_attempt(other, &deferred, &attempt(AttemptResult::Temporary))
                .await
                .unwrap()
        );

        let stored = store.message(tenant, queued.id).await.unwrap();
        for recipient in &stored.recipients {
            let expected = match recipient.id == claims[0].recipient_id {
                true => RecipientState::Sent,
                false => RecipientState::Deferred,
            };
            assert_eq!((recipient.state, recipient.attempts), (expected, 1));
        }
        assert_eq!(store.attempts(tenant, queued.id).await.unwrap().len(), 2);

        // Not due before its time; due after; retry-now makes it due at once.
        assert!(
            store
                .claim_due("node-a", Timestamp(NOW + 100), Timestamp(NOW + 160), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .retry_now(tenant, queued.id, Timestamp(NOW + 100))
                .await
                .unwrap(),
            1
        );
        let retried = store
            .claim_due("node-a", Timestamp(NOW + 100), Timestamp(NOW + 160), 10)
            .await
            .unwrap();
        assert_eq!(retried.len(), 1);
        assert!(store.release_claim(&retried[0]).await.unwrap());
        assert_eq!(
            store
                .cancel(tenant, queued.id, Timestamp(NOW + 101))
                .await
                .unwrap(),
            1
        );
        let stored = store.message(tenant, queued.id).await.unwrap();
        let cancelled = stored
            .recipients
            .iter()
            .find(|recipient| recipient.id == other.recipient_id)
            .unwrap();
        assert_eq!(cancelled.state, RecipientState::Cancelled);
        assert!(
            store
                .claim_due(
                    "node-a",
                    Timestamp(NOW + 10_000),
                    Timestamp(NOW + 10_060),
                    10
                )
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn new_mail_is_claimed_before_retries() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let old = message(tenant, &["old@one.test"], None);
        store.insert_message(&old).await.unwrap();
        let claim = store
            .claim_due("n", Timestamp(NOW), Timestamp(NOW + 60), 1)
            .await
            .unwrap();
        let deferred = RecipientUpdate {
            state: RecipientState::Deferred,
            next_attempt_at: Some(Timestamp(NOW + 10)),
            last_reply: "451".into(),
        };
        assert!(
            store
                .finish_attempt(&claim[0], &deferred, &attempt(AttemptResult::Temporary))
                .await
                .unwrap()
        );
        let new = message(tenant, &["new@two.test"], None);
        store.insert_message(&new).await.unwrap();
        let first = store
            .claim_due("n", Timestamp(NOW + 20), Timestamp(NOW + 80), 1)
            .await
            .unwrap();
        assert_eq!(first[0].message_id, new.id);
    }
}

#[tokio::test]
async fn unsigned_mail_from_the_smtp_listener_reads_back_as_written() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let mut unsigned = message(tenant, &["a@one.test"], None);
        unsigned.signing = SigningRecord::Unsigned(UnsignedReason::MailFromDomainInactive(
            DomainName::parse("bounce.client.test").unwrap(),
        ));
        unsigned.source = SubmissionSource::Smtp;
        store.insert_message(&unsigned).await.unwrap();
        assert_eq!(store.message(tenant, unsigned.id).await.unwrap(), unsigned);
        assert_eq!(
            store.message_summary(tenant, unsigned.id).await.unwrap(),
            summary_of(&unsigned)
        );
    }
}

/// Writes `value` into one column of a stored message with raw SQL, as a hand edit would.
async fn overwrite(store: &Store, message: MessageId, column: &str, value: &str) {
    let sql = format!("UPDATE messages SET {column} = $1 WHERE id = $2");
    let sql = sqlx::AssertSqlSafe(sql);
    let updated = match store {
        Store::Sqlite(pools) => sqlx::query(sql)
            .bind(value)
            .bind(message)
            .execute(pools.writer())
            .await
            .map(|done| done.rows_affected()),
        Store::Postgres(pool) => sqlx::query(sql)
            .bind(value)
            .bind(message)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()),
    };
    assert_eq!(updated.unwrap(), 1);
}

#[track_caller]
fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>, expected: &str) {
    match result {
        Err(StoreError::Corrupt(detail)) => assert_eq!(detail, expected),
        other => panic!("expected a corrupt row ({expected}), got {other:?}"),
    }
}

#[tokio::test]
async fn a_stored_value_that_does_not_parse_is_reported_as_corrupt() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let stored = message(tenant, &["a@one.test"], None);
        store.insert_message(&stored).await.unwrap();
        overwrite(&store, stored.id, "source", "carrier-pigeon").await;
        assert_corrupt(
            store.message(tenant, stored.id).await,
            "submission source \"carrier-pigeon\"",
        );
        assert_corrupt(
            store.message_summary(tenant, stored.id).await,
            "submission source \"carrier-pigeon\"",
        );
        assert_corrupt(
            store.recent_messages(tenant, 10).await,
            "submission source \"carrier-pigeon\"",
        );

        let stored = message(tenant, &["a@one.test"], None);
        store.insert_message(&stored).await.unwrap();
        overwrite(&store, stored.id, "signing_selector", "not a selector").await;
        assert_corrupt(
            store.message(tenant, stored.id).await,
            "signing selector \"not a selector\"",
        );
    }
}

#[tokio::test]
async fn an_id_that_is_not_a_uuid_is_reported_as_corrupt() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, _) in stores {
        let sql = "INSERT INTO tenants (id, name, display_name, created_at) \
                   VALUES ('not-a-uuid', 'edited', 'Edited', 0)";
        let inserted = match &store {
            Store::Sqlite(pools) => sqlx::query(sql).execute(pools.writer()).await.map(|_| ()),
            Store::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        };
        inserted.unwrap();
        let listed = store.list_tenants().await;
        match listed {
            Err(StoreError::Corrupt(detail)) => {
                assert!(detail.contains("TenantId \"not-a-uuid\""), "{detail}")
            }
            other => panic!("expected a corrupt row, got {other:?}"),
        }
    }
}

/// One tenant's burst does not hold another tenant's message back: accepted after a burst of
/// 250, it is claimed in the next round of 100, and new mail still goes before due retries.
#[tokio::test]
async fn another_tenant_s_message_is_claimed_in_the_round_after_a_burst() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, burst) in stores {
        let quiet = Tenant {
            id: TenantId::new(&SystemClock),
            name: TenantName::parse("quiet").unwrap(),
            display_name: "Quiet".into(),
            created_at: Timestamp(NOW),
        };
        store.create_tenant(&quiet).await.unwrap();
        let retry = message(burst, &["retry@one.test"], None);
        store.insert_message(&retry).await.unwrap();
        let claim = store
            .claim_due("n", Timestamp(NOW), Timestamp(NOW + 60), 1)
            .await
            .unwrap();
        let deferred = RecipientUpdate {
            state: RecipientState::Deferred,
            next_attempt_at: Some(Timestamp(NOW + 10)),
            last_reply: "451".into(),
        };
        assert!(
            store
                .finish_attempt(&claim[0], &deferred, &attempt(AttemptResult::Temporary))
                .await
                .unwrap()
        );
        let many: Vec<QueuedMessage> = (0..250)
            .map(|index| message(burst, &[&format!("r{index}@big.test")], None))
            .collect();
        store.insert_messages(&many).await.unwrap();
        let first = store
            .claim_due("n", Timestamp(NOW + 20), Timestamp(NOW + 80), 100)
            .await
            .unwrap();
        assert!(first.iter().all(|claim| claim.tenant_id == burst));
        // The clock moved on to the last place the round claimed, in the claim's own commit.
        let (served, last_claimed): (i64, i64) = with_reader!(&store, pool => {
            sqlx::query_as(
                "SELECT (SELECT served FROM queue_clock WHERE id = 1), \
                 (SELECT MAX(fair_key) FROM recipients WHERE state = 'sending')",
            )
            .fetch_one(pool)
            .await
            .unwrap()
        });
        assert_eq!(served, last_claimed);
        let single = message(quiet.id, &["one@small.test"], None);
        store.insert_message(&single).await.unwrap();
        let second = store
            .claim_due("n", Timestamp(NOW + 20), Timestamp(NOW + 80), 100)
            .await
            .unwrap();
        assert_eq!(second.len(), 100);
        assert!(
            second.iter().any(|claim| claim.message_id == single.id),
            "the quiet tenant's message waited behind the burst"
        );
        // The due retry comes after every new recipient: 250 + 1 new, 200 claimed so far.
        assert!(second.iter().all(|claim| claim.message_id != retry.id));
        let third = store
            .claim_due("n", Timestamp(NOW + 20), Timestamp(NOW + 80), 100)
            .await
            .unwrap();
        assert_eq!(third.len(), 52);
        assert!(third.iter().any(|claim| claim.message_id == retry.id));
    }
}

/// On PostgreSQL a commit of new mail wakes a listener on another connection (another node)
/// at once, rather than at that node's next poll.
#[tokio::test]
async fn a_commit_of_new_mail_wakes_listeners_on_postgres() {
    let url = testing::fresh_postgres_url().await;
    let store = Store::connect(&url).await.unwrap();
    let tenant = Tenant {
        id: TenantId::new(&SystemClock),
        name: TenantName::parse("acme").unwrap(),
        display_name: "Acme".into(),
        created_at: Timestamp(NOW),
    };
    store.create_tenant(&tenant).await.unwrap();
    let mut listener = crate::WorkListener::connect(&url).await.unwrap();
    store
        .insert_message(&message(tenant.id, &["a@one.test"], None))
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), listener.next())
        .await
        .expect("no notification within 10 s of the commit")
        .unwrap();
}

/// The dashboard's figures count the recipients of the messages accepted since a time, by
/// state, whatever became of them since: a recipient carries its message's acceptance time.
#[tokio::test]
async fn figures_count_recipients_by_state_among_messages_accepted_since() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let mut old = message(tenant, &["old@receiver.test"], None);
        old.accepted_at = Timestamp(NOW - 100);
        let recent = message(tenant, &["a@receiver.test", "b@receiver.test"], None);
        let other = message(tenant, &["c@receiver.test"], None);
        store
            .insert_messages(&[old, recent.clone(), other.clone()])
            .await
            .unwrap();
        store
            .cancel(tenant, other.id, Timestamp(NOW + 1))
            .await
            .unwrap();
        let counts = store
            .recipient_states_since(tenant, Timestamp(NOW - 10))
            .await
            .unwrap();
        assert_eq!(
            counts,
            [("cancelled".to_owned(), 1), ("queued".to_owned(), 2)]
        );
        let all = store
            .recipient_states_since(tenant, Timestamp(NOW - 100))
            .await
            .unwrap();
        assert_eq!(all, [("cancelled".to_owned(), 1), ("queued".to_owned(), 3)]);
        let another = store
            .recipient_states_since(TenantId::new(&SystemClock), Timestamp(0))
            .await
            .unwrap();
        assert!(another.is_empty());
    }
}
