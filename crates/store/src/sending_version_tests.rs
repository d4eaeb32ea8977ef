//! The sending version (migration 0029): every insert, update and delete of a row that a
//! submission reads of its tenant raises that tenant's number and no other's, whoever writes,
//! on both backends; on PostgreSQL two transactions that change one tenant's rows in different
//! orders do not deadlock over it.

use std::time::Duration;

use sqlx::{Connection as _, PgConnection};

use crate::{Store, StoreError, testing};

pub(crate) const ACME: &str = "018f0000-0000-7000-8000-000000000001";
const OTHER: &str = "018f0000-0000-7000-8000-000000000002";

/// Each table the version covers, with a statement that inserts one of the tenant's rows
/// (`{t}` is the tenant), one that changes it and one that deletes it. A domain's keys and
/// findings are deleted before the domain, as the foreign keys require.
pub(crate) const TABLES: [(&str, &str, &str, &str); 6] = [
    (
        "sending_domains",
        "INSERT INTO sending_domains (tenant_id, domain, token, created_at) \
         VALUES ('{t}', 'client.test', 'token', 1)",
        "UPDATE sending_domains SET proof_method = 'txt', proven_at = 2 WHERE tenant_id = '{t}'",
        "DELETE FROM sending_domains WHERE tenant_id = '{t}'",
    ),
    (
        "signing_domains",
        "INSERT INTO signing_domains (id, tenant_id, domain, selector, active, version, \
         created_at, updated_at) VALUES ('d-{t}', '{t}', 'client.test', 'workplace', FALSE, 1, 1, 1)",
        "UPDATE signing_domains SET dns_checked_at = 2 WHERE tenant_id = '{t}'",
        "DELETE FROM signing_domains WHERE tenant_id = '{t}'",
    ),
    (
        "signing_keys",
        "INSERT INTO signing_keys (id, tenant_id, signing_domain_id, selector, state, \
         state_since, forced, public_der, bits, origin, created_at, encrypted_pkcs8, \
         sealed_password) VALUES ('k-{t}', '{t}', 'd-{t}', 'workplace', 'pending', 1, FALSE, \
         {bytes}, 2048, 'generated', 1, 'sealed', {bytes})",
        "UPDATE signing_keys SET state = 'active' WHERE tenant_id = '{t}'",
        "DELETE FROM signing_keys WHERE tenant_id = '{t}'",
    ),
    (
        "signing_domain_records",
        "INSERT INTO signing_domain_records (tenant_id, signing_domain_id, kind, name, outcome, \
         detail, checked_at) VALUES ('{t}', 'd-{t}', 'spf', 'client.test', 'found', '', 1)",
        "UPDATE signing_domain_records SET outcome = 'missing' WHERE tenant_id = '{t}'",
        "DELETE FROM signing_domain_records WHERE tenant_id = '{t}'",
    ),
    (
        "return_paths",
        "INSERT INTO return_paths (tenant_id, domain, return_path, created_at) \
         VALUES ('{t}', 'client.test', 'bounces-{t}.client.test', 1)",
        "UPDATE return_paths SET verified_at = 2 WHERE tenant_id = '{t}'",
        "DELETE FROM return_paths WHERE tenant_id = '{t}'",
    ),
    (
        "delivery_settings",
        "INSERT INTO delivery_settings (tenant_id, mode, implicit_tls, tls_mode, updated_at) \
         VALUES ('{t}', 'native', FALSE, 'default', 1)",
        "UPDATE delivery_settings SET mode = 'relay', host = 'smtp.client.test', port = 587 \
         WHERE tenant_id = '{t}'",
        "DELETE FROM delivery_settings WHERE tenant_id = '{t}'",
    ),
];

async fn version(store: &Store, tenant: &str) -> i64 {
    store
        .sending_version(tenant.parse().unwrap())
        .await
        .unwrap()
}

/// Runs one statement of the table above for `tenant`, with the backend's byte literal.
pub(crate) async fn execute(
    store: &Store,
    statement: &str,
    tenant: &str,
) -> Result<(), sqlx::Error> {
    let bytes = match store {
        Store::Sqlite(_) => "X'AB'",
        Store::Postgres(_) => "'\\xab'::bytea",
    };
    let statement = statement.replace("{t}", tenant).replace("{bytes}", bytes);
    with_writer!(store, pool => {
        sqlx::query(sqlx::AssertSqlSafe(statement)).execute(pool).await?;
    });
    Ok(())
}

pub(crate) async fn create_tenants(store: &Store) {
    for (tenant, name) in [(ACME, "acme"), (OTHER, "other")] {
        let insert = "INSERT INTO tenants (id, name, display_name, created_at) \
                      VALUES ('{t}', '{name}', '', 1)"
            .replace("{name}", name);
        execute(store, &insert, tenant).await.unwrap();
    }
}

#[tokio::test]
async fn every_change_a_submission_reads_raises_its_tenants_version_and_no_other() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        create_tenants(&store).await;
        let other_before = version(&store, OTHER).await;
        // Inserts in the order of the foreign keys, then changes, then deletes in reverse.
        let inserts = TABLES.iter().map(|(table, insert, _, _)| (table, insert));
        let updates = TABLES.iter().map(|(table, _, update, _)| (table, update));
        let deletes = TABLES
            .iter()
            .rev()
            .map(|(table, _, _, delete)| (table, delete));
        for (table, statement) in inserts.chain(updates).chain(deletes) {
            let before = version(&store, ACME).await;
            execute(&store, statement, ACME)
                .await
                .unwrap_or_else(|error| panic!("{table}: {statement}: {error}"));
            assert!(
                version(&store, ACME).await > before,
                "{statement} left the sending version of {table}'s tenant as it was ({store:?})"
            );
        }
        assert_eq!(version(&store, OTHER).await, other_before);
    }
}

/// A row moved to another tenant changes both tenants' configurations.
#[tokio::test]
async fn a_row_moved_to_another_tenant_raises_both_versions() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        create_tenants(&store).await;
        execute(&store, TABLES[0].1, ACME).await.unwrap();
        let before = (version(&store, ACME).await, version(&store, OTHER).await);
        let moved =
            format!("UPDATE sending_domains SET tenant_id = '{OTHER}' WHERE tenant_id = '{{t}}'");
        execute(&store, &moved, ACME).await.unwrap();
        assert!(version(&store, ACME).await > before.0, "{store:?}");
        assert!(version(&store, OTHER).await > before.1, "{store:?}");
    }
}

/// A table rebuilt by a later migration loses its triggers; the catalogue must still list the
/// triggers of each table the version covers: three on SQLite, and on PostgreSQL one for all
/// three events, deferred to the commit.
#[tokio::test]
async fn each_covered_table_has_its_triggers() {
    let directory = tempfile::tempdir().unwrap();
    let stores = testing::fresh_stores(directory.path()).await;
    let Store::Sqlite(pools) = &stores[0] else {
        unreachable!("the first store is SQLite");
    };
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' \
         AND name LIKE '%sending_version' ORDER BY tbl_name, name",
    )
    .fetch_all(pools.readers())
    .await
    .unwrap();
    let mut expected: Vec<(String, String)> = TABLES
        .iter()
        .flat_map(|(table, _, _, _)| {
            ["delete", "insert", "update"].map(|event| {
                (
                    table.to_string(),
                    format!("{table}_{event}_sending_version"),
                )
            })
        })
        .collect();
    expected.sort();
    assert_eq!(triggers, expected);

    let Store::Postgres(pool) = &stores[1] else {
        unreachable!("the second store is PostgreSQL");
    };
    // tgtype's bit 1 is FOR EACH ROW, and its bits 4, 8 and 16 are INSERT, DELETE and UPDATE.
    let triggers: Vec<(String, String, bool, bool)> = sqlx::query_as(
        "SELECT class.relname::TEXT, trigger.tgname::TEXT, trigger.tgtype & 29 = 29, \
                trigger.tginitdeferred \
         FROM pg_trigger trigger JOIN pg_class class ON class.oid = trigger.tgrelid \
         WHERE class.relnamespace = current_schema()::regnamespace \
         AND trigger.tgname LIKE '%sending_version' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut expected: Vec<(String, String, bool, bool)> = TABLES
        .iter()
        .map(|(table, _, _, _)| {
            let name = format!("{table}_sending_version");
            (table.to_string(), name, true, true)
        })
        .collect();
    expected.sort();
    assert_eq!(triggers, expected);
}

/// A key changed and then its domain, beside a domain changed alone, as a key promotion runs
/// beside a DNS re-check. Were the number raised at once, the first transaction would hold it
/// while waiting for the domain's row and the second would hold the domain's row while waiting
/// for the number: a deadlock, which PostgreSQL ends by failing one of them. Raised at the
/// commit, both commit and the number counts every change.
#[tokio::test]
async fn on_postgres_two_changes_of_one_tenant_in_different_orders_both_commit() {
    let url = testing::fresh_postgres_url().await;
    let store = Store::connect(&url).await.unwrap();
    create_tenants(&store).await;
    for (_, insert, _, _) in &TABLES[1..3] {
        execute(&store, insert, ACME).await.unwrap();
    }
    let before = version(&store, ACME).await;
    let mut promotion = PgConnection::connect(&url).await.unwrap();
    let mut recheck = PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut promotion).await.unwrap();
    sqlx::query("UPDATE signing_keys SET state = 'active' WHERE tenant_id = $1")
        .bind(ACME)
        .execute(&mut promotion)
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut recheck).await.unwrap();
    let recheck_update =
        sqlx::query("UPDATE signing_domains SET dns_checked_at = 5 WHERE tenant_id = $1")
            .bind(ACME)
            .execute(&mut recheck);
    tokio::time::timeout(Duration::from_secs(5), recheck_update)
        .await
        .expect("the re-check's change does not wait for the promotion")
        .unwrap();
    let promotion_task = tokio::spawn(async move {
        sqlx::query("UPDATE signing_domains SET updated_at = 2 WHERE tenant_id = $1")
            .bind(ACME)
            .execute(&mut promotion)
            .await?;
        sqlx::query("COMMIT").execute(&mut promotion).await?;
        Ok::<_, sqlx::Error>(())
    });
    // The promotion now waits for the domain's row, which the re-check holds until it commits.
    tokio::time::sleep(Duration::from_millis(200)).await;
    sqlx::query("COMMIT").execute(&mut recheck).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), promotion_task)
        .await
        .expect("the promotion finishes once the re-check committed")
        .unwrap()
        .expect("the promotion commits");
    assert_eq!(version(&store, ACME).await, before + 3);
}

/// A tenant that does not exist is named as missing on both backends.
#[tokio::test]
async fn a_missing_tenant_is_not_found() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let missing = ACME.parse().unwrap();
        assert!(matches!(
            store.sending_version(missing).await,
            Err(StoreError::NotFound)
        ));
    }
}
