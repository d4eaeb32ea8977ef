//! The claim, gathered in three parts through their own indexes (migration 0031), takes exactly
//! what the claim's rule in its plainest SQL takes (`testing::claim_reference_sql`), on a queue
//! that holds every kind of row the rule tells apart, at every limit.

use sealpost_domain::{QueuedMessage, TenantId};

use crate::Store;
use crate::claims::claim_sql;
use crate::queue_tests::{NOW, message, stores_with_tenant};
use crate::testing::claim_reference_sql;

/// The kinds of recipients the rule tells apart, with the state, attempts, next attempt and
/// lease end each gets: new mail, due and not-due retries (one with no time at all), leases
/// run out on mail never tried and on a retry, and a lease still running.
const KINDS: [(&str, i64, Option<i64>, Option<i64>); 8] = [
    ("queued", 0, None, None),
    ("deferred", 2, Some(NOW - 10), None),
    ("deferred", 1, Some(NOW + 100), None),
    ("deferred", 1, None, None),
    ("sending", 0, None, Some(NOW - 1)),
    ("sending", 3, Some(NOW - 5), Some(NOW - 1)),
    ("sending", 0, None, Some(NOW + 100)),
    ("queued", 0, Some(NOW), None),
];

/// 61 recipients of `tenant`, each of one kind in turn, with places in the fair queue that are
/// all different and in no order of kind or of insertion.
async fn mixed_queue(store: &Store, tenant: TenantId) {
    let addresses: Vec<String> = (0..61).map(|n| format!("r{n}@one.test")).collect();
    let addresses: Vec<&str> = addresses.iter().map(String::as_str).collect();
    let queued: QueuedMessage = message(tenant, &addresses, None);
    store.insert_message(&queued).await.unwrap();
    for (n, recipient) in queued.recipients.iter().enumerate() {
        let (state, attempts, next, lease) = KINDS[n % KINDS.len()];
        let place = i64::try_from((n * 37) % 61).unwrap() + 1;
        with_writer!(store, pool => {
            sqlx::query(
                "UPDATE recipients SET state = $1, attempts = $2, next_attempt_at = $3, \
                 lease_until = $4, fair_key = $5 WHERE id = $6",
            )
            .bind(state)
            .bind(attempts)
            .bind(next)
            .bind(lease)
            .bind(place)
            .bind(recipient.id)
            .execute(pool)
            .await
            .unwrap();
        });
    }
}

/// The ids `sql` leases with `limit`, sorted, in a transaction that is rolled back, so the
/// queue is the same for the next claim.
async fn leased_by(store: &Store, sql: &str, limit: i64) -> Vec<String> {
    let mut ids: Vec<String> = with_writer!(store, pool => {
        let mut transaction = pool.begin().await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
            .bind("node")
            .bind(NOW + 60)
            .bind("token")
            .bind(NOW)
            .bind(limit)
            .fetch_all(&mut *transaction)
            .await
            .unwrap();
        transaction.rollback().await.unwrap();
        rows.into_iter().map(|(id,)| id).collect()
    });
    ids.sort();
    ids
}

#[tokio::test]
async fn the_claim_takes_what_the_plain_rule_takes_at_every_limit() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        mixed_queue(&store, tenant).await;
        // A paused tenant's mail, in the same places, is held; a part of it is not marked so,
        // as mail accepted on PostgreSQL while the pause commits is not, and stays unclaimed.
        let paused = crate::testing::tenant("paused", "Paused");
        store.create_tenant(&paused).await.unwrap();
        mixed_queue(&store, paused.id).await;
        assert!(
            store
                .pause_sending(paused.id, sealpost_domain::Timestamp(NOW), "bounce rate")
                .await
                .unwrap()
        );
        store.hold_waiting_mail(paused.id).await.unwrap();
        with_writer!(&store, pool => {
            sqlx::query("UPDATE recipients SET held = FALSE WHERE tenant_id = $1 AND fair_key < 20")
                .bind(paused.id)
                .execute(pool)
                .await
                .unwrap();
        });
        let (claim, reference) = (claim_sql(&store), claim_reference_sql(&store));
        let mut taken_at_most = 0;
        for limit in 1..=50 {
            let taken = leased_by(&store, &claim, limit).await;
            assert_eq!(taken, leased_by(&store, &reference, limit).await, "{limit}");
            taken_at_most = taken_at_most.max(taken.len());
        }
        // Six of the eight kinds are due: 46 of the 61, which the largest limits take whole.
        assert_eq!(taken_at_most, 46);
    }
}
