//! A paused tenant's mail is held out of the claim's reach (migration 0037): pausing marks its
//! waiting mail, mail accepted during the pause is marked from the start, resuming unmarks all
//! of it, and a claim neither takes nor reads it meanwhile.

use sealpost_domain::{MessageId, QueuedMessage, TenantId, Timestamp};

use crate::Store;
use crate::claims::claim_sql;
use crate::held_mail::{PAUSE_LOCK_SQL, held_messages_sql};
use crate::queue_tests::{NOW, message, stores_with_tenant};

/// How many of `tenant`'s recipients are held, and how many are not.
async fn held_and_free(store: &Store, tenant: TenantId) -> (i64, i64) {
    with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN held THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN held THEN 0 ELSE 1 END), 0) \
             FROM recipients WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_one(pool)
        .await
        .unwrap()
    })
}

/// Sets every waiting recipient of `tenant` to a retry due now, as a receiver's 4xx would.
async fn make_due_retries(store: &Store, tenant: TenantId) {
    with_writer!(store, pool => {
        sqlx::query(
            "UPDATE recipients SET state = 'deferred', attempts = 1, next_attempt_at = $1 \
             WHERE tenant_id = $2",
        )
        .bind(NOW - 1)
        .bind(tenant)
        .execute(pool)
        .await
        .unwrap();
    });
}

/// The rows a claim's scans of its two waiting-mail indexes passed over, on PostgreSQL: the
/// claim is run under `EXPLAIN ANALYZE` in a transaction that is rolled back, and each index
/// scan's count of rows removed by its filter is summed.
async fn rows_a_claim_passes_over(store: &Store) -> i64 {
    let Store::Postgres(pool) = store else {
        unreachable!("a PostgreSQL store");
    };
    let mut transaction = pool.begin().await.unwrap();
    let explain = format!(
        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {}",
        claim_sql(store)
    );
    let plan: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(explain))
        .bind("node")
        .bind(NOW + 60)
        .bind("token")
        .bind(NOW)
        .bind(10i64)
        .fetch_all(&mut *transaction)
        .await
        .unwrap();
    transaction.rollback().await.unwrap();
    // Each index is scanned as such, so the rows its scan filters out are counted on its step.
    for index in ["recipients_claim_new", "recipients_claim_retry"] {
        assert!(
            plan.iter()
                .any(|(step,)| step.contains("Index Scan") && step.contains(index)),
            "{index}: {plan:?}"
        );
    }
    let mut passed = 0;
    let mut in_claim_index = false;
    for (step,) in &plan {
        if step.contains("->") {
            in_claim_index =
                step.contains("recipients_claim_new") || step.contains("recipients_claim_retry");
        } else if in_claim_index && let Some(count) = step.split("Rows Removed by Filter:").nth(1) {
            passed += count.trim().parse::<i64>().unwrap();
        }
    }
    passed
}

/// A paused tenant's 300 waiting messages, in front of another tenant's in the fair queue, are
/// not claimed, and on PostgreSQL not read by a claim either, as new mail and then as due
/// retries (the claim's index scans filter out no row; before migration 0037 they passed over
/// all 300); mail accepted during the pause is held from the start; after the resume nothing is
/// held and the claim takes the tenant's mail again.
#[tokio::test]
async fn a_paused_tenant_s_mail_is_out_of_the_claim_s_reach_until_it_resumes() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, paused) in stores {
        let other = crate::testing::tenant("other", "Other");
        store.create_tenant(&other).await.unwrap();
        for _ in 0..300 {
            let waiting = message(paused, &["someone@one.test"], None);
            store.insert_message(&waiting).await.unwrap();
        }
        let single = message(other.id, &["else@two.test"], None);
        store.insert_message(&single).await.unwrap();
        assert!(
            store
                .pause_sending(paused, Timestamp(NOW), "bounce rate")
                .await
                .unwrap()
        );
        assert_eq!(store.hold_waiting_mail(paused).await.unwrap(), 300);
        assert_eq!(held_and_free(&store, paused).await, (300, 0));
        let during = message(paused, &["late@one.test", "later@one.test"], None);
        store.insert_message(&during).await.unwrap();
        assert_eq!(held_and_free(&store, paused).await, (302, 0));
        assert_eq!(held_and_free(&store, other.id).await, (0, 1));

        if let Store::Postgres(_) = store {
            assert_eq!(rows_a_claim_passes_over(&store).await, 0, "new mail");
            make_due_retries(&store, paused).await;
            assert_eq!(rows_a_claim_passes_over(&store).await, 0, "due retries");
        }
        let claims = store
            .claim_due("node", Timestamp(NOW), Timestamp(NOW + 60), 10)
            .await
            .unwrap();
        let tenants: Vec<TenantId> = claims.iter().map(|claim| claim.tenant_id).collect();
        assert_eq!(tenants, [other.id]);

        assert!(store.resume_sending(paused, Timestamp(NOW)).await.unwrap());
        assert_eq!(held_and_free(&store, paused).await, (0, 302));
        let claims = store
            .claim_due("node", Timestamp(NOW), Timestamp(NOW + 60), 400)
            .await
            .unwrap();
        assert_eq!(claims.len(), 302);
        assert!(claims.iter().all(|claim| claim.tenant_id == paused));
    }
}

/// A PostgreSQL store with a paused tenant that has `waiting` messages not yet marked held, and
/// a resume of it under way by hand in an open transaction: its pause lock taken and the pause
/// cleared, not committed. Also the resume's backend, to see who waits for it.
async fn resume_under_way(
    waiting: usize,
) -> (
    Store,
    TenantId,
    sqlx::Transaction<'static, sqlx::Postgres>,
    i32,
) {
    let store = Store::connect(&crate::testing::fresh_postgres_url().await)
        .await
        .unwrap();
    let Store::Postgres(pool) = &store else {
        unreachable!("a PostgreSQL store");
    };
    let tenant = crate::testing::tenant("acme", "Acme");
    store.create_tenant(&tenant).await.unwrap();
    for _ in 0..waiting {
        let stored = message(tenant.id, &["someone@one.test"], None);
        store.insert_message(&stored).await.unwrap();
    }
    let pause = store.pause_sending(tenant.id, Timestamp(NOW), "bounce rate");
    assert!(pause.await.unwrap());
    let mut resume = pool.begin().await.unwrap();
    let resume_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *resume)
        .await
        .unwrap();
    for statement in [
        PAUSE_LOCK_SQL,
        "UPDATE tenants SET sending_paused_at = NULL, paused_reason = NULL WHERE id = $1",
    ] {
        sqlx::query(statement)
            .bind(tenant.id)
            .execute(&mut *resume)
            .await
            .unwrap();
    }
    (store, tenant.id, resume, resume_pid)
}

/// Ends the resume as a resume does: releases the held mail and commits.
async fn finish_resume(
    store: &Store,
    mut resume: sqlx::Transaction<'static, sqlx::Postgres>,
    tenant: TenantId,
) {
    let released: Result<(), sqlx::Error> = async {
        crate::held_mail::release_held!(resume, store, tenant);
        Ok(())
    }
    .await;
    released.unwrap();
    resume.commit().await.unwrap();
}

/// On PostgreSQL an acceptance that reads its tenant as paused while a resume is committing
/// neither waits for the resume nor marks its mail held: the resume releases only the held mail
/// it sees, so mail inserted as held alongside it would stay held, and unsent, for good.
#[tokio::test]
async fn mail_accepted_while_a_resume_commits_is_not_left_held() {
    let (store, tenant, resume, _) = resume_under_way(0).await;
    let accepted = message(tenant, &["someone@one.test"], None);
    let acceptance = store.insert_message(&accepted);
    tokio::time::timeout(std::time::Duration::from_secs(10), acceptance)
        .await
        .expect("the acceptance does not wait for the resume")
        .unwrap();
    finish_resume(&store, resume, tenant).await;
    assert_eq!(held_and_free(&store, tenant).await, (0, 1));
    let claims = store
        .claim_due("node", Timestamp(NOW), Timestamp(NOW + 60), 10)
        .await
        .unwrap();
    assert_eq!(claims.len(), 1);
}

/// On PostgreSQL a pause's marking that runs while a resume is committing waits for the resume
/// and then marks nothing: marked before the resume's release, its mail would stay held for good.
#[tokio::test]
async fn marking_waits_for_a_resume_under_way_and_then_marks_nothing() {
    let (store, tenant, resume, resume_pid) = resume_under_way(3).await;
    let Store::Postgres(pool) = &store else {
        unreachable!("a PostgreSQL store");
    };
    let marking = tokio::spawn({
        let store = store.clone();
        async move { store.hold_waiting_mail(tenant).await }
    });
    let waiting = crate::queue_tests::sessions_waiting_for(pool, resume_pid).await;
    assert_eq!(waiting, 1, "the marking waits for the resume");
    finish_resume(&store, resume, tenant).await;
    assert_eq!(marking.await.unwrap().unwrap(), 0);
    assert_eq!(held_and_free(&store, tenant).await, (0, 3));
}

/// A tenant being deleted is neither paused nor resumed, and a pause's marking marks none of
/// its mail: the purge is under way, and holds the tenant's recipients.
#[tokio::test]
async fn a_tenant_being_deleted_is_neither_paused_nor_resumed_nor_marked() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let other = crate::testing::tenant("other", "Other");
        store.create_tenant(&other).await.unwrap();
        let waiting = message(other.id, &["a@one.test", "b@one.test"], None);
        store.insert_message(&waiting).await.unwrap();
        assert!(
            store
                .pause_sending(other.id, Timestamp(NOW), "bounce rate")
                .await
                .unwrap()
        );
        for doomed in [tenant, other.id] {
            store.shred_tenant(doomed, Timestamp(NOW)).await.unwrap();
        }
        let pause = store.pause_sending(tenant, Timestamp(NOW), "bounce rate");
        assert!(!pause.await.unwrap());
        assert_eq!(store.hold_waiting_mail(other.id).await.unwrap(), 0);
        assert!(
            !store
                .resume_sending(other.id, Timestamp(NOW))
                .await
                .unwrap()
        );
    }
}

/// Held mail of a tenant that is not paused, however it came to be, is released by the guard
/// each start runs, and a paused tenant's stays held.
#[tokio::test]
async fn stray_holds_are_released_and_a_paused_tenant_s_are_kept() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let paused = crate::testing::tenant("paused", "Paused");
        store.create_tenant(&paused).await.unwrap();
        for owner in [tenant, paused.id] {
            let waiting = message(owner, &["a@one.test", "b@one.test"], None);
            store.insert_message(&waiting).await.unwrap();
        }
        let pause = store.pause_sending(paused.id, Timestamp(NOW), "bounce rate");
        assert!(pause.await.unwrap());
        store.hold_waiting_mail(paused.id).await.unwrap();
        with_writer!(&store, pool => {
            sqlx::query("UPDATE recipients SET held = TRUE WHERE tenant_id = $1")
                .bind(tenant)
                .execute(pool)
                .await
                .unwrap();
        });
        assert_eq!(store.release_stray_holds().await.unwrap(), 2);
        assert_eq!(held_and_free(&store, tenant).await, (0, 2));
        assert_eq!(held_and_free(&store, paused.id).await, (2, 0));
    }
}

/// Pauses `tenant` without marking its mail, as a pause cut short before its marking leaves it.
async fn pause_by_hand(store: &Store, tenant: TenantId) {
    with_writer!(store, pool => {
        sqlx::query("UPDATE tenants SET sending_paused_at = $1 WHERE id = $2")
            .bind(NOW)
            .bind(tenant)
            .execute(pool)
            .await
            .unwrap();
    });
}

/// Marking goes in batches, each its own transaction, until the tenant's waiting mail (never
/// tried and retries) is all held; it marks nothing once the tenant is no longer paused, and
/// each start marks what a pause cut short left unmarked.
#[tokio::test]
async fn a_pause_marks_its_mail_in_batches_and_only_while_paused() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        // Another tenant's mail waits among the tenant's in the fair queue.
        let other = crate::testing::tenant("other", "Other");
        store.create_tenant(&other).await.unwrap();
        for n in 0..40 {
            let address = format!("r{n}@one.test");
            store
                .insert_message(&message(tenant, &[address.as_str()], None))
                .await
                .unwrap();
            store
                .insert_message(&message(other.id, &[address.as_str()], None))
                .await
                .unwrap();
        }
        // Some of them retries, as a receiver's 4xx leaves them.
        with_writer!(&store, pool => {
            sqlx::query(
                "UPDATE recipients SET state = 'deferred', attempts = 1 \
                 WHERE tenant_id = $1 AND address < 'r2'",
            )
            .bind(tenant)
            .execute(pool)
            .await
            .unwrap();
        });
        let marked = store.hold_waiting_mail_in_batches(tenant, 3).await.unwrap();
        assert_eq!(marked, 0, "a tenant not paused");
        pause_by_hand(&store, tenant).await;
        let marked = store.hold_waiting_mail_in_batches(tenant, 3).await.unwrap();
        assert_eq!(marked, 40);
        assert_eq!(held_and_free(&store, tenant).await, (40, 0));
        assert!(store.resume_sending(tenant, Timestamp(NOW)).await.unwrap());
        pause_by_hand(&store, tenant).await;
        assert_eq!(store.hold_paused_mail().await.unwrap(), 40);
        assert_eq!(held_and_free(&store, tenant).await, (40, 0));
        assert_eq!(held_and_free(&store, other.id).await, (0, 40));
    }
}

/// Each message's expiry as delivery, its page and the lists read it.
async fn expiries(store: &Store, tenant: TenantId, id: MessageId) -> [i64; 3] {
    let delivered = store.messages_to_deliver(&[id]).await.unwrap();
    let shown = store.message(tenant, id).await.unwrap();
    let listed = store.message_summary(tenant, id).await.unwrap();
    [
        delivered[0].expires_at.0,
        shown.expires_at.0,
        listed.expires_at.0,
    ]
}

/// How many pauses of `tenant` resumes recorded.
async fn recorded_pauses(store: &Store, tenant: TenantId) -> i64 {
    with_reader!(store, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM tenant_pauses WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

/// `message` as if accepted at `at`, with the usual day to live.
fn accepted_at(mut message: QueuedMessage, at: i64) -> QueuedMessage {
    message.accepted_at = Timestamp(at);
    message.expires_at = Timestamp(at + 86_400);
    message
}

/// A message expires later by the paused time that came after its acceptance (migration 0039),
/// the same to delivery, its page and the lists: by the whole pause when it was accepted before,
/// by the rest of it when accepted during the pause; a later pause adds its own when it began
/// before the message's expiry as the earlier pauses moved it, and nothing when it began after.
/// Mail that expired before a pause, mail accepted after one, and another tenant's mail keep
/// their expiry. The held mail is released over several steps (a message of 1,000 recipients
/// among them) and a resume writes one row, however much mail waits.
#[tokio::test]
async fn a_message_expires_later_by_the_pause_after_its_acceptance() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let other = crate::testing::tenant("other", "Other");
        store.create_tenant(&other).await.unwrap();
        let many: Vec<String> = (0..1000).map(|n| format!("r{n}@one.test")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let before = message(tenant, &["a@one.test"], None);
        let large = message(tenant, &many, None);
        let expired = accepted_at(message(tenant, &["e@one.test"], None), NOW - 90_000);
        // Expiring 50 s into the first pause, and 250 s after it began: the second pause begins
        // at +300, before the latter's moved expiry (+350) but after the former's (+150), and
        // lasts long enough (200 s) to pass the former's had it counted itself.
        let soon = accepted_at(message(tenant, &["f@one.test"], None), NOW + 50 - 86_400);
        let later = accepted_at(message(tenant, &["g@one.test"], None), NOW + 250 - 86_400);
        let elsewhere = message(other.id, &["b@two.test"], None);
        let accepted = [&before, &large, &expired, &soon, &later, &elsewhere];
        let accepted: Vec<QueuedMessage> = accepted.into_iter().cloned().collect();
        store.insert_messages(&accepted).await.unwrap();
        let pause = store.pause_sending(tenant, Timestamp(NOW), "bounce rate");
        assert!(pause.await.unwrap());
        assert_eq!(store.hold_waiting_mail(tenant).await.unwrap(), 1004);
        let during = accepted_at(message(tenant, &["c@one.test"], None), NOW + 40);
        store.insert_message(&during).await.unwrap();
        assert_eq!(held_and_free(&store, tenant).await, (1005, 0));
        let resume = store.resume_sending(tenant, Timestamp(NOW + 100));
        assert!(resume.await.unwrap());
        assert_eq!(held_and_free(&store, tenant).await, (0, 1005));
        let after = accepted_at(message(tenant, &["d@one.test"], None), NOW + 200);
        store.insert_message(&after).await.unwrap();
        let moved = |message: &QueuedMessage, by: i64| [message.expires_at.0 + by; 3];
        for (message, by) in [
            (&before, 100),
            (&large, 100),
            (&expired, 0),
            (&soon, 100),
            (&later, 100),
            (&during, 60),
            (&after, 0),
        ] {
            let expiry = expiries(&store, tenant, message.id).await;
            assert_eq!(expiry, moved(message, by), "{}", message.id);
        }
        let expiry = expiries(&store, other.id, elsewhere.id).await;
        assert_eq!(expiry, moved(&elsewhere, 0));

        let pause = store.pause_sending(tenant, Timestamp(NOW + 300), "bounce rate");
        assert!(pause.await.unwrap());
        let resume = store.resume_sending(tenant, Timestamp(NOW + 500));
        assert!(resume.await.unwrap());
        for (message, by) in [
            (&before, 300),
            (&large, 300),
            (&expired, 0),
            (&soon, 100),
            (&later, 300),
            (&during, 260),
            (&after, 200),
        ] {
            let expiry = expiries(&store, tenant, message.id).await;
            assert_eq!(expiry, moved(message, by), "{}", message.id);
        }
        let expiry = expiries(&store, other.id, elsewhere.id).await;
        assert_eq!(expiry, moved(&elsewhere, 0));
        assert_eq!(
            recorded_pauses(&store, tenant).await,
            2,
            "one row per resume"
        );
    }
}

/// Recorded pauses never overlap: a pause stamped before the end of the one recorded last (its
/// node read the time before a resume ended that one) is recorded from that end, and a resume
/// no later than its pause, or than the end recorded last, records nothing. A waiting message's
/// expiry moves by the paused time once.
#[tokio::test]
async fn recorded_pauses_never_overlap() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let waiting = message(tenant, &["a@one.test"], None);
        store.insert_message(&waiting).await.unwrap();
        for (paused, resumed, moved) in [
            (NOW + 50, NOW + 50, 0),
            (NOW + 50, NOW + 20, 0),
            (NOW, NOW + 100, 100),
            (NOW + 50, NOW + 200, 200),
            (NOW + 150, NOW + 180, 200),
        ] {
            let pause = store.pause_sending(tenant, Timestamp(paused), "bounce rate");
            assert!(pause.await.unwrap());
            let resume = store.resume_sending(tenant, Timestamp(resumed));
            assert!(resume.await.unwrap());
            let expiry = expiries(&store, tenant, waiting.id).await;
            assert_eq!(
                expiry,
                [waiting.expires_at.0 + moved; 3],
                "{paused}..{resumed}"
            );
        }
        let recorded: Vec<(i64, i64)> = with_reader!(&store, pool => {
            sqlx::query_as(
                "SELECT paused_at, resumed_at FROM tenant_pauses WHERE tenant_id = $1 \
                 ORDER BY paused_at",
            )
            .bind(tenant)
            .fetch_all(pool)
            .await
            .unwrap()
        });
        assert_eq!(recorded, [(NOW, NOW + 100), (NOW + 100, NOW + 200)]);
        assert_eq!(held_and_free(&store, tenant).await, (0, 1));
    }
}

/// On PostgreSQL, with 2,000 held recipients of a tenant beside a sent history of 38,000,
/// analysed as in service: a resume's release takes its messages from the index of held mail by
/// tenant and message in order, with no sort, so it stops after its step and starts past the last
/// message released; and a batch of marking reads the claim's own indexes, not the tenant's
/// history.
#[tokio::test]
async fn postgres_reads_held_mail_and_marks_through_their_indexes() {
    let store = Store::connect(&crate::testing::fresh_postgres_url().await)
        .await
        .unwrap();
    let Store::Postgres(pool) = &store else {
        unreachable!("a PostgreSQL store");
    };
    let tenant = crate::testing::tenant("acme", "Acme");
    store.create_tenant(&tenant).await.unwrap();
    let stored = message(tenant.id, &["someone@one.test"], None);
    store.insert_message(&stored).await.unwrap();
    sqlx::query(
        "INSERT INTO recipients (id, message_id, tenant_id, position, address, domain, state, \
         attempts, updated_at, fair_key, accepted_at, held) \
         SELECT gen_random_uuid()::text, $1, $2, n, 'someone@one.test', 'one.test', \
         CASE WHEN n % 20 = 0 THEN 'queued' ELSE 'sent' END, 0, $3, n, $3, n % 20 = 0 \
         FROM generate_series(1, 40000) AS n",
    )
    .bind(stored.id)
    .bind(tenant.id)
    .bind(NOW)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE recipients")
        .execute(pool)
        .await
        .unwrap();
    let explain = |sql: String, after_or_batch: &'static str| async move {
        let query = sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}"))).bind(tenant.id);
        // The held mail's statement binds where to start and how far to read; a batch of
        // marking how many to mark and where each part starts.
        let query = match after_or_batch {
            "after" => query.bind("").bind(512i64),
            _ => query.bind(5000i64).bind(0i64).bind(0i64),
        };
        let steps: Vec<(String,)> = query.fetch_all(pool).await.unwrap();
        steps
            .into_iter()
            .map(|(step,)| step)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let release = explain(held_messages_sql(&store).to_owned(), "after").await;
    // An index scan in order (or one that reads the index alone), which stops at the limit.
    assert!(release.contains("Scan using recipients_held"), "{release}");
    for unbounded in ["Sort", "Bitmap", "Aggregate"] {
        assert!(!release.contains(unbounded), "{release}");
    }
    let batch = explain(crate::held_mail::hold_batch_sql(&store), "batch").await;
    for index in ["recipients_claim_new", "recipients_claim_retry"] {
        assert!(batch.contains(index), "{batch}");
    }
    assert!(!batch.contains("recipients_tenant"), "{batch}");
}
