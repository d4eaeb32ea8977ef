//! The sending version (migration 0029 of SQLite): every insert, update and delete of a row that
//! a submission reads of its tenant raises that tenant's number and no other's, whoever writes.

use crate::{Store, StoreError, testing};

const ACME: &str = "018f0000-0000-7000-8000-000000000001";
const OTHER: &str = "018f0000-0000-7000-8000-000000000002";

/// Each table the version covers, with a statement that inserts one of the tenant's rows
/// (`{t}` is the tenant), one that changes it and one that deletes it. A domain's keys and
/// findings are deleted before the domain, as the foreign keys require.
const TABLES: [(&str, &str, &str, &str); 6] = [
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
         X'AB', 2048, 'generated', 1, 'sealed', X'01')",
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
        .expect("SQLite keeps a sending version")
}

#[tokio::test]
async fn every_change_a_submission_reads_raises_its_tenants_version_and_no_other() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let Store::Sqlite(pools) = &store else {
        unreachable!("a SQLite URL opens SQLite");
    };
    for (tenant, name) in [(ACME, "acme"), (OTHER, "other")] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO tenants (id, name, display_name, created_at) \
             VALUES ('{tenant}', '{name}', '', 1)"
        )))
        .execute(pools.writer())
        .await
        .unwrap();
    }
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
        sqlx::query(sqlx::AssertSqlSafe(statement.replace("{t}", ACME)))
            .execute(pools.writer())
            .await
            .unwrap_or_else(|error| panic!("{table}: {statement}: {error}"));
        assert!(
            version(&store, ACME).await > before,
            "{statement} left the sending version of {table}'s tenant as it was"
        );
    }
    assert_eq!(version(&store, OTHER).await, other_before);
}

/// A table rebuilt by a later migration loses its triggers; the catalogue must still list the
/// three of each table the version covers.
#[tokio::test]
async fn each_covered_table_has_its_three_triggers() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let Store::Sqlite(pools) = &store else {
        unreachable!("a SQLite URL opens SQLite");
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
}

/// A tenant that does not exist is named as missing; PostgreSQL keeps no number at all.
#[tokio::test]
async fn a_missing_tenant_is_not_found_and_postgres_keeps_no_version() {
    let directory = tempfile::tempdir().unwrap();
    let stores = testing::fresh_stores(directory.path()).await;
    let missing = ACME.parse().unwrap();
    assert!(matches!(
        stores[0].sending_version(missing).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(stores[1].sending_version(missing).await.unwrap(), None);
}
