//! Deleting a tenant, on both backends: one row of the tenant in every table of the schema, the
//! whole schema scanned afterwards (tables listed from the database's own catalogue, so a table
//! added later is covered), and the crash between the two phases.

use std::collections::BTreeMap;

use sealpost_domain::{AttemptId, AttemptResult, RecipientState, SystemClock, TenantId, Timestamp};

use crate::tenant_deletion_fixture::{Filled, fill};
use crate::tests::for_each_backend;
use crate::{AttemptRecord, Claim, RecipientUpdate, Store, StoreError};

/// Tables that belong to the installation, not to any tenant.
const INSTALLATION_TABLES: &[&str] = &[
    "_sqlx_migrations",
    "cluster_leases",
    "master_key_rotation",
    "meta",
    "queue_clock",
    "destination_status",
    "dkim_zone_version",
];

/// Installation tables that count changes, a tenant's deletion among them.
const COUNTERS: &[&str] = &["dkim_zone_version"];

/// Every table of the schema, from the database's own catalogue.
async fn tables(store: &Store) -> Vec<String> {
    let sql = match store {
        Store::Sqlite(_) => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Store::Postgres(_) => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
    };
    with_reader!(store, pool => {
        sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
    })
}

/// Every row of every table, each row as one text holding all its values.
async fn dump(store: &Store) -> BTreeMap<String, Vec<String>> {
    let mut rows = BTreeMap::new();
    for table in tables(store).await {
        let sql = match store {
            Store::Sqlite(pools) => {
                let pool = pools.readers();
                let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT name FROM pragma_table_info('{table}')"
                )))
                .fetch_all(pool)
                .await
                .unwrap();
                let quoted: Vec<String> =
                    columns.iter().map(|c| format!("quote(\"{c}\")")).collect();
                format!(
                    "SELECT {} FROM \"{table}\" ORDER BY 1",
                    quoted.join(" || '|' || ")
                )
            }
            Store::Postgres(_) => format!("SELECT t::text FROM \"{table}\" t ORDER BY 1"),
        };
        let values: Vec<String> = with_reader!(store, pool => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await.unwrap()
        });
        rows.insert(table, values);
    }
    rows
}

fn of_tenant(row: &str, filled: &Filled) -> bool {
    filled.ids.iter().any(|id| row.contains(id.as_str()))
}

#[tokio::test]
async fn deleting_a_tenant_leaves_nothing_of_it_in_any_table() {
    for_each_backend(|store| async move {
        let doomed = fill(&store, "doomed").await;
        let kept = fill(&store, "kept").await;
        let before = dump(&store).await;
        for (table, rows) in &before {
            if INSTALLATION_TABLES.contains(&table.as_str()) {
                continue;
            }
            assert!(
                rows.iter().any(|row| of_tenant(row, &doomed)),
                "the fixture has no row of the tenant in {table}; add one so its deletion is tested"
            );
            assert!(rows.iter().any(|row| of_tenant(row, &kept)), "{table}");
        }

        let footprint = store.tenant_footprint(doomed.tenant).await.unwrap();
        assert!(
            footprint.iter().all(|(_, count)| *count == 1),
            "{footprint:?}"
        );
        store
            .delete_tenant(doomed.tenant, Timestamp(5))
            .await
            .unwrap();
        let footprint = store.tenant_footprint(doomed.tenant).await.unwrap();
        assert!(
            footprint.iter().all(|(_, count)| *count == 0),
            "{footprint:?}"
        );

        let after = dump(&store).await;
        for (table, rows) in &before {
            let left: Vec<&String> = after[table]
                .iter()
                .filter(|row| of_tenant(row, &doomed))
                .collect();
            assert!(left.is_empty(), "{table} still holds {left:?}");
            if COUNTERS.contains(&table.as_str()) {
                continue;
            }
            let expected: Vec<&String> =
                rows.iter().filter(|row| !of_tenant(row, &doomed)).collect();
            let kept_rows: Vec<&String> = after[table].iter().collect();
            assert_eq!(kept_rows, expected, "other rows of {table} changed");
        }
        assert!(matches!(
            store.tenant(doomed.tenant).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.delete_tenant(doomed.tenant, Timestamp(6)).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(store.tenant(kept.tenant).await.unwrap().id, kept.tenant);
    })
    .await;
}

/// What is left of a tenant's sealed values: (signing key text, sealed password) per key, the
/// relay password, and the webhook secrets.
async fn sealed_values(store: &Store, tenant: TenantId) -> Vec<Option<Vec<u8>>> {
    let t = tenant.to_string();
    let mut values = Vec::new();
    with_reader!(store, pool => {
        let keys: Vec<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT encrypted_pkcs8, sealed_password FROM signing_keys WHERE tenant_id = $1",
        )
        .bind(&t)
        .fetch_all(pool)
        .await
        .unwrap();
        for (pkcs8, password) in keys {
            values.push(Some(pkcs8.into_bytes()));
            values.push(Some(password));
        }
        let relay: Vec<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT sealed_password FROM delivery_settings WHERE tenant_id = $1")
                .bind(&t)
                .fetch_all(pool)
                .await
                .unwrap();
        values.extend(relay);
        let hooks: Vec<(Vec<u8>, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT secret_sealed, previous_secret_sealed FROM webhook_endpoints WHERE tenant_id = $1",
        )
        .bind(&t)
        .fetch_all(pool)
        .await
        .unwrap();
        for (secret, previous) in hooks {
            values.push(Some(secret));
            values.push(previous);
        }
    });
    values
}

#[tokio::test]
async fn a_crash_after_the_first_phase_leaves_nothing_usable_and_the_deletion_resumes() {
    for_each_backend(|store| async move {
        let doomed = fill(&store, "doomed").await;
        let kept = fill(&store, "kept").await;
        let kept_secrets = sealed_values(&store, kept.tenant).await;
        assert!(
            sealed_values(&store, doomed.tenant)
                .await
                .iter()
                .all(|v| v.as_ref().is_some_and(|v| !v.is_empty()))
        );

        // The crash: phase one committed, phase two never ran.
        store
            .shred_tenant(doomed.tenant, Timestamp(5))
            .await
            .unwrap();

        let shredded = sealed_values(&store, doomed.tenant).await;
        assert_eq!(
            shredded.len(),
            5,
            "two for the key, one relay password, two webhook secrets"
        );
        assert!(
            shredded
                .iter()
                .all(|value| value.as_ref().is_none_or(Vec::is_empty)),
            "{shredded:?}"
        );
        assert_eq!(sealed_values(&store, kept.tenant).await, kept_secrets);
        let doomed_hash = format!("hash-{}", doomed.ids[1]);
        assert_eq!(store.tenant_for_api_key(&doomed_hash).await.unwrap(), None);
        let kept_hash = format!("hash-{}", kept.ids[1]);
        assert_eq!(
            store
                .tenant_for_api_key(&kept_hash)
                .await
                .unwrap()
                .map(|tenant| tenant.id),
            Some(kept.tenant)
        );

        let claims = store
            .claim_due("node", Timestamp(10), Timestamp(100), 10)
            .await
            .unwrap();
        let claimed: Vec<String> = claims
            .iter()
            .map(|claim| claim.recipient_id.to_string())
            .collect();
        assert_eq!(
            claimed,
            std::slice::from_ref(&kept.recipient),
            "only the kept tenant's mail is claimed"
        );
        let hooks = store
            .claim_webhook_deliveries(Timestamp(10), Timestamp(100), 10)
            .await
            .unwrap();
        let hook_tenants: Vec<TenantId> = hooks.iter().map(|hook| hook.tenant_id).collect();
        assert_eq!(hook_tenants, [kept.tenant]);
        assert!(
            store.tenant(doomed.tenant).await.is_ok(),
            "the rows are still there"
        );

        // The next start finishes the deletion.
        assert_eq!(
            store.finish_tenant_deletions().await.unwrap(),
            [doomed.tenant]
        );
        assert!(matches!(
            store.tenant(doomed.tenant).await,
            Err(StoreError::NotFound)
        ));
        let after = dump(&store).await;
        for (table, rows) in &after {
            assert!(!rows.iter().any(|row| of_tenant(row, &doomed)), "{table}");
        }
        assert!(store.finish_tenant_deletions().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_second_phase_refuses_a_tenant_not_shredded_and_accepts_one_gone() {
    for_each_backend(|store| async move {
        let live = fill(&store, "live").await;
        assert!(matches!(
            store.purge_tenant(live.tenant).await,
            Err(StoreError::Changed(_))
        ));
        assert!(store.tenant(live.tenant).await.is_ok());
        // Two nodes finishing the same deletion: the second finds it done.
        store.shred_tenant(live.tenant, Timestamp(5)).await.unwrap();
        store.purge_tenant(live.tenant).await.unwrap();
        store.purge_tenant(live.tenant).await.unwrap();
        assert!(matches!(
            store.tenant(live.tenant).await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}

/// A delivery in flight when its tenant is deleted: the worker's outcome finds no recipient,
/// records nothing and raises no error, and the other tenant's outcome is recorded.
#[tokio::test]
async fn an_outcome_after_the_deletion_records_nothing() {
    for_each_backend(|store| async move {
        let doomed = fill(&store, "doomed").await;
        let kept = fill(&store, "kept").await;
        let claims = store
            .claim_due("node", Timestamp(10), Timestamp(100), 10)
            .await
            .unwrap();
        assert_eq!(claims.len(), 2);
        store
            .delete_tenant(doomed.tenant, Timestamp(20))
            .await
            .unwrap();

        let sent = RecipientUpdate {
            state: RecipientState::Sent,
            next_attempt_at: None,
            last_reply: "250 ok".into(),
        };
        let finished: Vec<(Claim, RecipientUpdate, AttemptRecord)> = claims
            .into_iter()
            .map(|claim| {
                let attempt = AttemptRecord {
                    id: AttemptId::new(&SystemClock),
                    started_at: Timestamp(10),
                    finished_at: Timestamp(30),
                    outcome: AttemptResult::Delivered,
                    reply: "250 ok".into(),
                    host: None,
                };
                (claim, sent.clone(), attempt)
            })
            .collect();
        let recorded = store.finish_attempts(&finished).await.unwrap();
        let by_tenant: Vec<(TenantId, bool)> = finished
            .iter()
            .map(|(claim, _, _)| claim.tenant_id)
            .zip(recorded)
            .collect();
        assert!(by_tenant.contains(&(doomed.tenant, false)), "{by_tenant:?}");
        assert!(by_tenant.contains(&(kept.tenant, true)), "{by_tenant:?}");
        for (table, rows) in dump(&store).await {
            assert!(!rows.iter().any(|row| of_tenant(row, &doomed)), "{table}");
        }
    })
    .await;
}

/// On PostgreSQL an outcome being recorded when its tenant's purge starts finishes, then the
/// purge, and nothing the outcome wrote is left: the outcome holds its recipient and then
/// writes its event, its webhook delivery (to the tenant's enabled endpoint) and its counts, as
/// `finish_attempts` does; the purge waits for the recipient before it deletes anything. A
/// purge that deleted first deadlocked with it (on the endpoint or the counts) or left its
/// event behind.
#[tokio::test]
async fn an_outcome_recorded_during_the_purge_and_the_purge_both_finish() {
    let store = Store::connect(&crate::testing::fresh_postgres_url().await)
        .await
        .unwrap();
    let Store::Postgres(pool) = &store else {
        unreachable!("a PostgreSQL store");
    };
    let doomed = fill(&store, "doomed").await;
    store
        .shred_tenant(doomed.tenant, Timestamp(20))
        .await
        .unwrap();
    let (message, endpoint): (String, String) = sqlx::query_as(
        "SELECT r.message_id, e.id FROM recipients r, webhook_endpoints e \
         WHERE r.tenant_id = $1 AND e.tenant_id = $1 AND e.enabled",
    )
    .bind(doomed.tenant)
    .fetch_one(pool)
    .await
    .unwrap();
    let mut outcome = pool.begin().await.unwrap();
    let outcome_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *outcome)
        .await
        .unwrap();
    sqlx::query("UPDATE recipients SET state = 'sent', updated_at = 30 WHERE tenant_id = $1")
        .bind(doomed.tenant)
        .execute(&mut *outcome)
        .await
        .unwrap();
    let purge = tokio::spawn({
        let store = store.clone();
        async move { store.purge_tenant(doomed.tenant).await }
    });
    let blocked = crate::queue_tests::sessions_waiting_for(pool, outcome_pid).await;
    assert_eq!(blocked, 1, "the purge waits for the outcome");
    sqlx::query(
        "INSERT INTO events (tenant_id, message_id, recipient_id, kind, detail, at) \
         VALUES ($1, $2, $3, 'sent', '250 ok', 30)",
    )
    .bind(doomed.tenant)
    .bind(&message)
    .bind(&doomed.recipient)
    .execute(&mut *outcome)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO webhook_outbox (endpoint_id, tenant_id, event_type, stream, message_id, \
         detail, event_at, state, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, 'message.delivered', $3, $3, '{}', 30, 'pending', 0, 30, 30)",
    )
    .bind(&endpoint)
    .bind(doomed.tenant)
    .bind(&message)
    .execute(&mut *outcome)
    .await
    .unwrap();
    // The fixture's tenant has counts for hour 0, which the outcome adds to as delivery does.
    let mut addition = sqlx::QueryBuilder::new("");
    crate::sending_counts::push_additions(
        &mut addition,
        &crate::sending_counts::additions([(doomed.tenant, "sent", Timestamp(30))]),
    );
    addition.build().execute(&mut *outcome).await.unwrap();
    outcome.commit().await.unwrap();
    purge.await.unwrap().unwrap();
    for (table, rows) in dump(&store).await {
        assert!(!rows.iter().any(|row| of_tenant(row, &doomed)), "{table}");
    }
}

/// Where `haystack` holds `needle`, if anywhere.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// SQLite's files themselves keep no copy of a deleted tenant's id: deleted content is zeroed
/// (`secure_delete`) and the write-ahead log is truncated by the checkpoint after the deletion.
#[tokio::test]
async fn the_sqlite_files_keep_no_trace_of_a_deleted_tenant() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&crate::testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let doomed = fill(&store, "doomed").await;
    let kept = fill(&store, "kept").await;
    let files = || {
        ["sealpost.db", "sealpost.db-wal"]
            .iter()
            .filter_map(|name| std::fs::read(directory.path().join(name)).ok())
            .collect::<Vec<_>>()
    };
    let doomed_id = doomed.tenant.to_string();
    assert!(
        files()
            .iter()
            .any(|bytes| find(bytes, doomed_id.as_bytes()).is_some())
    );

    store
        .delete_tenant(doomed.tenant, Timestamp(5))
        .await
        .unwrap();

    for id in &doomed.ids {
        for bytes in files() {
            assert_eq!(
                find(&bytes, id.as_bytes()),
                None,
                "{id} is still in the file"
            );
        }
    }
    let kept_id = kept.tenant.to_string();
    assert!(
        files()
            .iter()
            .any(|bytes| find(bytes, kept_id.as_bytes()).is_some())
    );
    store.close().await;
}
