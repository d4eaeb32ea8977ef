//! The plans of the reads pages make often, on SQLite, whose planner has no statistics to go
//! by: a message's recipients and a list page's recipients must use the index by message, and a
//! message's attempts the index by tenant and message, rather than read every row of the tenant
//! (or of every tenant), and the
//! dashboard's figures one index only; the reads made on a schedule or for every event must
//! not read a table that only grows. And the plans of the claim, on both backends: it reads new
//! mail in order from one index and stops at its limit, and retries by due time from another;
//! and of an acceptance's read of its tenant's last place, on both backends, one entry from the
//! end of the index by tenant and place.

use crate::acceptance::{last_place_notify_sql, last_place_sql};
use crate::claims::{SERVED_SQLITE, claim_sql};
use crate::figures::RECIPIENT_STATES_SQL;
use crate::held_mail::{held_messages_sql, hold_batch_sql};
use crate::key_rotation::ROTATION_CANDIDATES_SQL;
use crate::message_rows::expiry_column;
use crate::outcomes::MESSAGE_ATTEMPTS_SQL;
use crate::queue::{OLDEST_WAITING_SQL, change_waiting_sql, message_recipients_sql};
use crate::queue_tests::{NOW, message, stores_with_tenant};
use crate::sending_counts::WINDOW_SQL;
use crate::summaries::{listed_recipients_sql, page_sql};
use crate::webhook_outbox::{LAST_SUCCESS_SQL, LEASED_OUTBOX_SQL, outbox_claim_sql};
use crate::{Store, testing};
use sealpost_domain::Timestamp;

/// SQLite's plan of `sql`, one line per step.
async fn sqlite_plan(store: &Store, sql: &str) -> String {
    let Store::Sqlite(pools) = store else {
        panic!("a SQLite store");
    };
    let pool = pools.readers();
    let rows: Vec<(i64, i64, i64, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(_, _, _, step)| step)
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_message_s_rows_are_read_through_indexes_by_message() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    for (sql, index) in [
        (
            message_recipients_sql!(sqlite).to_owned(),
            "recipients_message_state (message_id=?",
        ),
        (
            listed_recipients_sql(&store, 3),
            "recipients_message_state (message_id=?",
        ),
        (
            change_waiting_sql!(sqlite).to_owned(),
            "recipients_message_state (message_id=?",
        ),
        (MESSAGE_ATTEMPTS_SQL.to_owned(), "attempts_tenant_message"),
        // A message's expiry reads its tenant's pauses that ended after its acceptance.
        (
            concat!(
                "SELECT ",
                expiry_column!(),
                " FROM messages m WHERE m.id = $1"
            )
            .to_owned(),
            "tenant_pauses_resumed (tenant_id=? AND resumed_at>?)",
        ),
    ] {
        let plan = sqlite_plan(&store, &sql).await;
        assert!(plan.contains(index), "{sql}\n{plan}");
        assert!(!plan.contains("SCAN"), "{sql}\n{plan}");
    }
    // A list page joins its page of messages (`p`), which it reads whole, to their recipients.
    let page = page_sql(&store);
    let plan = sqlite_plan(&store, page).await;
    assert!(
        plan.contains("SEARCH r USING INDEX recipients_message_state (message_id=?)"),
        "{page}\n{plan}"
    );
    let scans: Vec<&str> = plan
        .lines()
        .filter(|step| step.starts_with("SCAN"))
        .collect();
    assert_eq!(scans, ["SCAN p"], "{page}\n{plan}");
}

/// Every acceptance reads its tenant's last place in the fair queue from the end of the
/// tenant's range of the index of recipients by tenant and place (migration 0021), however many
/// recipients the tenant has: the program seeks the last entry at or below the tenant's end
/// (`SeekLE`), which it does only for a `MAX` it reads from one end of the index.
#[tokio::test]
async fn an_acceptance_reads_its_tenant_s_last_place_from_one_index() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let sql = last_place_sql!();
    let plan = sqlite_plan(&store, sql).await;
    assert!(
        plan.contains(
            "SEARCH recipients USING COVERING INDEX recipients_tenant_fair (tenant_id=?)"
        ),
        "{sql}\n{plan}"
    );
    // The statement's one row is made from nothing; every table is searched, nothing sorted.
    let scans: Vec<&str> = plan
        .lines()
        .filter(|step| step.starts_with("SCAN") || step.contains("TEMP B-TREE"))
        .collect();
    assert_eq!(scans, ["SCAN CONSTANT ROW"], "{sql}\n{plan}");
    let Store::Sqlite(pools) = &store else {
        panic!("a SQLite store");
    };
    let program = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")))
        .fetch_all(pools.readers())
        .await
        .unwrap();
    let opcodes: Vec<String> = program
        .iter()
        .map(|row| sqlx::Row::get::<String, _>(row, 1))
        .collect();
    assert!(
        opcodes.iter().any(|opcode| opcode == "SeekLE"),
        "{opcodes:?}"
    );
}

/// On PostgreSQL the last place is the first entry from the end of the tenant's range of the
/// index, also in the generic plan a connection keeps for the statement after a few runs, once
/// the table has been analysed (`statistics.rs`), in both forms of the statement: the first
/// tenant's of a batch, which asks for the notification that wakes the nodes, and the others'. Before its first analysis the planner takes a tenant for a row
/// or two, and a generic plan made then may read every recipient of the tenant; the analysis
/// that autovacuum makes once the table has grown invalidates that plan.
#[tokio::test]
async fn postgres_reads_the_last_place_from_the_end_of_its_index() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let Store::Postgres(pool) = &store else {
            continue;
        };
        testing::accept_messages(&store, tenant, 1_000).await;
        sqlx::query("ANALYZE recipients")
            .execute(pool)
            .await
            .unwrap();
        let mut connection = pool.acquire().await.unwrap();
        for statement in [
            "SET plan_cache_mode = force_generic_plan".to_owned(),
            format!("PREPARE last_place (text) AS {}", last_place_sql!()),
            format!(
                "PREPARE last_place_notify (text, text) AS {}",
                last_place_notify_sql!()
            ),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&mut *connection)
                .await
                .unwrap();
        }
        for explain in [
            "EXPLAIN EXECUTE last_place ('tenant')",
            "EXPLAIN EXECUTE last_place_notify ('tenant', 'channel')",
        ] {
            let plan: Vec<String> = sqlx::query_scalar(explain)
                .fetch_all(&mut *connection)
                .await
                .unwrap();
            let plan = plan.join("\n");
            // One step reads recipients, from the end of the tenant's range, and a limit of one
            // row stops it.
            let steps: Vec<&str> = plan.lines().collect();
            let reads: Vec<usize> = (0..steps.len())
                .filter(|&at| steps[at].contains(" on recipients"))
                .collect();
            assert_eq!(reads.len(), 1, "{plan}");
            let read = reads[0];
            assert!(
                steps[read].contains("Index Only Scan Backward using recipients_tenant_fair"),
                "{plan}"
            );
            assert!(read > 0 && steps[read - 1].contains("Limit"), "{plan}");
        }
        connection.close().await.unwrap();
    }
}

#[tokio::test]
async fn the_dashboard_s_figures_read_one_covering_index() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let plan = sqlite_plan(&store, RECIPIENT_STATES_SQL).await;
    assert_eq!(
        plan,
        "SEARCH recipients USING COVERING INDEX recipients_tenant_accepted_state \
         (tenant_id=? AND accepted_at>?)\nUSE TEMP B-TREE FOR GROUP BY"
    );
}

/// The reads a node makes on a schedule or for every event or deleted row go through an index
/// to the rows they want, never through a whole table that keeps every event, attempt or key:
/// a webhook round's due rows of enabled endpoints and then its leased rows by token, an
/// endpoint's last success from its successes, a domain's keys under way by tenant and domain,
/// the oldest waiting message from the front of each waiting state, the places a claim has just
/// taken by its lease, and what a deleted outbox row, message, signing domain or tenant takes
/// with it (its recipients, its attempts, its mention in mailings and mail tester addresses, its
/// keys, its UI accounts), and what a deleted contact must not leave behind (a mailing naming
/// it), as the foreign keys look them up.
#[tokio::test]
async fn scheduled_reads_and_deletions_never_read_a_growing_table_whole() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let outbox_claim = outbox_claim_sql(&store);
    let hold_batch = hold_batch_sql(&store);
    // The lease is set on the rows the selection chose, by their ids.
    let plan = sqlite_plan(&store, &outbox_claim).await;
    assert!(
        plan.starts_with("SEARCH webhook_outbox USING INTEGER PRIMARY KEY (rowid=?)"),
        "{plan}"
    );
    for (sql, index) in [
        (
            outbox_claim.as_str(),
            "SEARCH o USING INDEX webhook_outbox_pending (endpoint_id=? AND next_attempt_at<?)",
        ),
        (LEASED_OUTBOX_SQL, "webhook_outbox_lease (lease_token=?)"),
        (hold_batch.as_str(), "recipients_claim_new (fair_key>?)"),
        (hold_batch.as_str(), "recipients_claim_retry (<expr>>?)"),
        (LAST_SUCCESS_SQL, "webhook_attempts_success (endpoint_id=?)"),
        (
            "DELETE FROM webhook_attempts WHERE outbox_id = $1",
            "webhook_attempts_outbox (outbox_id=?)",
        ),
        (
            ROTATION_CANDIDATES_SQL,
            "signing_keys_tenant (tenant_id=? AND signing_domain_id=?)",
        ),
        (OLDEST_WAITING_SQL, "recipients_waiting (state=?)"),
        // The reputation guard's window, read after every bounce and complaint: the counts of
        // the tenant's hours, and its events by kind in the window's first part-hour.
        (
            WINDOW_SQL,
            "sqlite_autoindex_sending_counts_1 (tenant_id=? AND hour>?)",
        ),
        (
            WINDOW_SQL,
            "events_tenant_kind_at (tenant_id=? AND kind=? AND at>? AND at<?)",
        ),
        (
            held_messages_sql(&store),
            "recipients_held (tenant_id=? AND message_id>?)",
        ),
        (SERVED_SQLITE, "recipients_leases (lease_until=?)"),
        (
            "DELETE FROM signing_keys WHERE signing_domain_id = $1",
            "signing_keys_domain (signing_domain_id=?)",
        ),
        (
            "DELETE FROM users WHERE tenant_id = $1",
            "users_tenant (tenant_id=?)",
        ),
        (
            "DELETE FROM contacts WHERE id = $1",
            "mailing_recipients_contact (contact_id=?)",
        ),
        (
            "DELETE FROM contacts WHERE id = $1",
            "mailings_sender (sender_contact_id=?)",
        ),
        // A deleted message's recipients are found through the index by message and state,
        // since migration 0041 dropped the one by message alone.
        (
            "DELETE FROM messages WHERE id = $1",
            "recipients_message_state (message_id=?",
        ),
        (
            "UPDATE mailings SET message_id = NULL WHERE message_id = $1",
            "mailings_message (message_id=?)",
        ),
        (
            "UPDATE checker_addresses SET message_id = NULL WHERE message_id = $1",
            "checker_addresses_message (message_id=?)",
        ),
    ] {
        let plan = sqlite_plan(&store, sql).await;
        assert!(plan.contains(index), "{sql}\n{plan}");
        // The rotation check reads the active keys, one per domain and algorithm, which are
        // what it looks for, a webhook round the endpoints, the claim's served place its one
        // row of claimed places, and a batch of marking a paused tenant's mail held the batch
        // it took; nothing else is read from its start to its end.
        let scans = plan.lines().filter(|step| step.starts_with("SCAN"));
        for scan in scans {
            assert!(
                [
                    "SCAN k USING INDEX signing_keys_one_active",
                    "SCAN e",
                    "SCAN tenants",
                    "SCAN claimed",
                    "SCAN fresh",
                    "SCAN retries",
                ]
                .contains(&scan),
                "{sql}\n{plan}"
            );
        }
    }
}

/// SQLite is built with its query planner stability guarantee (`.cargo/config.toml`): without
/// it, every statement that binds a `LIMIT` or a `LIKE` pattern, as every list does, is
/// compiled again at every run. It is built without the process-wide mutexes of memory counting
/// and of a page cache shared by all connections.
#[tokio::test]
async fn sqlite_is_built_without_replanning_or_shared_mutexes() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let Store::Sqlite(pools) = &store else {
        panic!("a SQLite store");
    };
    let pool = pools.readers();
    let used = |option: &'static str| async move {
        let (used,): (i64,) = sqlx::query_as("SELECT sqlite_compileoption_used($1)")
            .bind(option)
            .fetch_one(pool)
            .await
            .unwrap();
        used == 1
    };
    assert!(
        used("ENABLE_QPSG").await,
        "SQLite was built without SQLITE_ENABLE_QPSG"
    );
    // Nor does SQLite take a process-wide mutex to count memory, or to reach a page cache that
    // all connections would share.
    assert!(
        used("DEFAULT_MEMSTATUS=0").await,
        "SQLite counts its memory under a shared mutex"
    );
    assert!(
        !used("ENABLE_MEMORY_MANAGEMENT").await,
        "SQLite's connections share one page cache"
    );
}

/// PostgreSQL's plans of the claim: the one made for the values a claim binds, and the generic
/// one a connection may keep for the statement once it has run it several times.
async fn postgres_claim_plans(store: &Store) -> String {
    let Store::Postgres(pool) = store else {
        panic!("a PostgreSQL store");
    };
    let mut connection = pool.acquire().await.unwrap();
    let explain = format!("EXPLAIN {}", claim_sql(store));
    let custom: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(explain))
        .bind("node")
        .bind(NOW + 60)
        .bind("token")
        .bind(NOW)
        .bind(100i64)
        .fetch_all(&mut *connection)
        .await
        .unwrap();
    let prepare = format!(
        "PREPARE claim (text, bigint, text, bigint, bigint) AS {}",
        claim_sql(store)
    );
    for statement in [
        "SET plan_cache_mode = force_generic_plan".to_owned(),
        prepare,
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *connection)
            .await
            .unwrap();
    }
    let generic: Vec<(String,)> =
        sqlx::query_as("EXPLAIN EXECUTE claim ('node', 1, 'token', 1, 100)")
            .fetch_all(&mut *connection)
            .await
            .unwrap();
    connection.close().await.unwrap();
    custom
        .into_iter()
        .chain(generic)
        .map(|(step,)| step)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The steps of `plan` from the first that contains `from` to the next that contains `to`.
fn steps_between<'a>(plan: &'a str, from: &str, to: &str) -> Vec<&'a str> {
    plan.lines()
        .skip_while(|step| !step.contains(from))
        .take_while(|step| !step.contains(to))
        .collect()
}

/// A claim reads what it may take and no more: mail never tried from the front of its index in
/// place order, with no sort (behind a burst of 100,000 the claim read and sorted them all,
/// 54 ms on SQLite and 70 ms on PostgreSQL); retries by due time; expired leases by their end. No
/// step reads the whole table. The whole statement is explained, the update around the
/// selection too. On PostgreSQL the table holds a history and a backlog and is analysed, as
/// autovacuum analyses it in service, and both the plan made for a claim's values and the
/// generic plan a connection may keep are checked.
#[tokio::test]
async fn a_claim_reads_new_mail_in_order_and_retries_by_due_time() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        match &store {
            Store::Sqlite(_) => {
                let plan = sqlite_plan(&store, &claim_sql(&store)).await;
                for step in [
                    "SCAN recipients USING INDEX recipients_claim_new",
                    "SEARCH recipients USING INDEX recipients_claim_retry (<expr>",
                    "SEARCH recipients USING INDEX recipients_leases (lease_until<?)",
                ] {
                    assert!(plan.contains(step), "{step}\n{plan}");
                }
                let scans = plan
                    .lines()
                    .filter(|step| step.starts_with("SCAN recipients"));
                assert_eq!(scans.count(), 1, "{plan}");
                let fresh = steps_between(&plan, "recipients_claim_new", "recipients_claim_retry");
                assert!(!fresh.concat().contains("TEMP B-TREE"), "{plan}");
            }
            Store::Postgres(pool) => {
                // A history and a backlog behind one stored message: 20,000 recipients sent and
                // 20,000 waiting, each with its own place.
                let burst = message(tenant, &["someone@one.test"], None);
                store.insert_message(&burst).await.unwrap();
                sqlx::query(
                    "INSERT INTO recipients (id, message_id, tenant_id, position, address, \
                     domain, state, attempts, updated_at, fair_key, accepted_at) \
                     SELECT gen_random_uuid()::text, $1, $2, n, 'someone@one.test', 'one.test', \
                     CASE WHEN n % 2 = 0 THEN 'sent' ELSE 'queued' END, \
                     CASE WHEN n % 2 = 0 THEN 1 ELSE 0 END, $3, n, $3 \
                     FROM generate_series(1, 40000) AS n",
                )
                .bind(burst.id)
                .bind(tenant)
                .bind(NOW)
                .execute(pool)
                .await
                .unwrap();
                sqlx::query("ANALYZE recipients")
                    .execute(pool)
                    .await
                    .unwrap();
                let plans = postgres_claim_plans(&store).await;
                let plans: Vec<&str> = plans.split("Update on recipients").skip(1).collect();
                assert_eq!(plans.len(), 2, "a custom and a generic plan");
                for plan in plans {
                    assert!(plan.contains("recipients_claim_retry"), "{plan}");
                    assert!(!plan.contains("Seq Scan on recipients"), "{plan}");
                    let fresh = steps_between(plan, "Subquery Scan on fresh", "claim_new");
                    assert!(!fresh.is_empty(), "{plan}");
                    assert!(!fresh.concat().contains("Sort"), "{plan}");
                    let scan = plan.lines().find(|step| step.contains("claim_new"));
                    assert!(
                        scan.is_some_and(|step| step.contains("Index Scan")),
                        "{plan}"
                    );
                }
            }
        }
    }
}

/// The oldest waiting message is the first entry of each waiting state's range, however many
/// wait and however long the history: its value passes over older mail already sent, takes the
/// oldest of any waiting state, and on PostgreSQL each state is one step into the index (a limit
/// of one) rather than a read of the state. SQLite's plan names the index by state and
/// acceptance time (`scheduled_reads_and_deletions_never_read_a_growing_table_whole`) but does
/// not show its minimum taken from the front of the range, which its planner does for a
/// minimum over the column after the equal ones.
#[tokio::test]
async fn the_oldest_waiting_message_is_the_front_of_each_waiting_state() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let stored = message(tenant, &["someone@one.test"], None);
        store.insert_message(&stored).await.unwrap();
        // The message's own recipient is history; 3,000 more follow it, one a second: the
        // oldest thousand sent, then the three waiting states in turn.
        let oldest_waiting = NOW + 1_001;
        crate::with_writer!(&store, pool => {
            sqlx::query("UPDATE recipients SET state = 'sent'")
                .execute(pool)
                .await
                .unwrap();
            for n in 0..3_000i64 {
                let state = match n {
                    0..=1_000 => "sent",
                    _ => ["deferred", "queued", "sending"][usize::try_from(n % 3).unwrap()],
                };
                sqlx::query(
                    "INSERT INTO recipients (id, message_id, tenant_id, position, address, \
                     domain, state, attempts, updated_at, fair_key, accepted_at) \
                     VALUES ($1, $2, $3, $4, 'someone@one.test', 'one.test', $5, 0, $6, $4, $6)",
                )
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(stored.id)
                .bind(tenant)
                .bind(n + 1)
                .bind(state)
                .bind(NOW + n)
                .execute(pool)
                .await
                .unwrap();
            }
        });
        assert_eq!(
            store.oldest_waiting().await.unwrap(),
            Some(Timestamp(oldest_waiting))
        );
        // The oldest is "sending"; once it is sent, the oldest is the next, "deferred".
        crate::with_writer!(&store, pool => {
            sqlx::query("UPDATE recipients SET state = 'sent' WHERE accepted_at = $1")
                .bind(oldest_waiting)
                .execute(pool)
                .await
                .unwrap();
        });
        assert_eq!(
            store.oldest_waiting().await.unwrap(),
            Some(Timestamp(oldest_waiting + 1))
        );
        if let Store::Postgres(pool) = &store {
            sqlx::query("ANALYZE recipients")
                .execute(pool)
                .await
                .unwrap();
            let plan: Vec<(String,)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN {OLDEST_WAITING_SQL}")))
                    .fetch_all(pool)
                    .await
                    .unwrap();
            let plan: Vec<String> = plan.into_iter().map(|(step,)| step).collect();
            let plan = plan.join("\n");
            let steps = |text: &str| plan.lines().filter(|step| step.contains(text)).count();
            assert_eq!(steps("Limit"), 3, "{plan}");
            assert_eq!(
                steps("Index Only Scan using recipients_waiting"),
                3,
                "{plan}"
            );
            assert!(!plan.contains("Seq Scan"), "{plan}");
        }
    }
}

/// Deleting a tenant reads none of its tables whole: each of its rows is found through an index
/// by tenant or through its parent's (a webhook delivery through its endpoint, a stored source
/// through its message), where a delete by an unindexed tenant column read every tenant's rows.
#[tokio::test]
async fn the_tenant_purge_reads_no_table_whole() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    for statement in crate::tenant_deletion::PURGE {
        let plan = sqlite_plan(&store, statement).await;
        assert!(plan.contains("SEARCH"), "{statement}\n{plan}");
        assert!(!plan.contains("SCAN"), "{statement}\n{plan}");
    }
}
