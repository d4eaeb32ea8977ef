//! Deleting a tenant, on both backends: one row of the tenant in every table of the schema, the
//! whole schema scanned afterwards (tables listed from the database's own catalogue, so a table
//! added later is covered), and the crash between the two phases.

use std::collections::BTreeMap;

use sealpost_domain::{TenantId, Timestamp};

use crate::tests::{for_each_backend, tenant};
use crate::{Store, StoreError};

/// Tables that belong to the installation, not to any tenant.
const INSTALLATION_TABLES: &[&str] = &["_sqlx_migrations", "cluster_leases", "meta"];

/// One value bound into a fixture row.
enum Value {
    Text(String),
    Int(i64),
    Int32(i32),
    Real(f32),
    Bytes(Vec<u8>),
}

use Value::{Bytes, Int, Int32, Real, Text};

async fn execute(store: &Store, sql: &str, values: Vec<Value>) {
    with_pool!(store, pool => {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
        for value in values {
            query = match value {
                Text(text) => query.bind(text),
                Int(number) => query.bind(number),
                Int32(number) => query.bind(number),
                Real(number) => query.bind(number),
                Bytes(bytes) => query.bind(bytes),
            };
        }
        query.execute(pool).await.unwrap_or_else(|error| panic!("{sql}: {error}"));
    });
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The ids of a filled tenant's rows; none may remain anywhere once the tenant is deleted.
struct Filled {
    tenant: TenantId,
    ids: Vec<String>,
    recipient: String,
}

/// Creates a tenant with one row in every table that holds tenants' data. It is one long list
/// on purpose: one insert per table, read as a table, grows with the schema.
async fn fill(store: &Store, name: &str) -> Filled {
    let owner = tenant(name);
    store.create_tenant(&owner).await.unwrap();
    let t = owner.id.to_string();
    let [
        key,
        domain,
        signing_key,
        message,
        recipient,
        contact,
        mailing,
        token,
        user,
        endpoint,
    ] = std::array::from_fn(|_| new_id());
    let session = format!("session-{}", new_id());
    let rows: Vec<(&str, Vec<Value>)> = vec![
        (
            "INSERT INTO api_keys (id, tenant_id, label, token_hash, created_at) VALUES ($1, $2, 'k', $3, 1)",
            vec![
                Text(key.clone()),
                Text(t.clone()),
                Text(format!("hash-{key}")),
            ],
        ),
        (
            "INSERT INTO signing_domains (id, tenant_id, domain, selector, active, version, created_at, updated_at) \
          VALUES ($1, $2, $3, 's1', FALSE, 1, 1, 1)",
            vec![
                Text(domain.clone()),
                Text(t.clone()),
                Text(format!("{name}.example")),
            ],
        ),
        (
            "INSERT INTO signing_keys (id, tenant_id, signing_domain_id, selector, state, state_since, forced, \
          public_der, bits, origin, created_at, encrypted_pkcs8, sealed_password) \
          VALUES ($1, $2, $3, 's1', 'pending', 1, FALSE, $4, 2048, 'generated', 1, 'ENCRYPTED PEM', $5)",
            vec![
                Text(signing_key.clone()),
                Text(t.clone()),
                Text(domain.clone()),
                Bytes(vec![1, 2]),
                Bytes(vec![9; 40]),
            ],
        ),
        (
            "INSERT INTO signing_domain_events (id, tenant_id, signing_domain_id, kind, warning, detail, at) \
          VALUES ($1, $2, $3, 'key_added', FALSE, 'added', 1)",
            vec![Text(new_id()), Text(t.clone()), Text(domain.clone())],
        ),
        (
            "INSERT INTO messages (id, tenant_id, mail_from, raw, size, signed, route, source, accepted_at, expires_at) \
          VALUES ($1, $2, 'a@b.example', $3, 3, FALSE, 'direct', 'api', 1, 9999999999)",
            vec![
                Text(message.clone()),
                Text(t.clone()),
                Bytes(b"raw".to_vec()),
            ],
        ),
        (
            "INSERT INTO recipients (id, message_id, tenant_id, position, address, domain, state, attempts, updated_at) \
          VALUES ($1, $2, $3, 0, 'r@c.example', 'c.example', 'queued', 0, 1)",
            vec![
                Text(recipient.clone()),
                Text(message.clone()),
                Text(t.clone()),
            ],
        ),
        (
            "INSERT INTO attempts (id, recipient_id, message_id, tenant_id, started_at, finished_at, outcome, reply) \
          VALUES ($1, $2, $3, $4, 1, 1, 'deferred', '451 later')",
            vec![
                Text(new_id()),
                Text(recipient.clone()),
                Text(message.clone()),
                Text(t.clone()),
            ],
        ),
        (
            "INSERT INTO events (tenant_id, message_id, recipient_id, kind, detail, at) VALUES ($1, $2, $3, 'queued', '', 1)",
            vec![
                Text(t.clone()),
                Text(message.clone()),
                Text(recipient.clone()),
            ],
        ),
        (
            "INSERT INTO delivery_settings (tenant_id, mode, host, port, username, sealed_password, implicit_tls, tls_mode, updated_at) \
          VALUES ($1, 'relay', 'smtp.example', 587, 'user', $2, FALSE, 'required', 1)",
            vec![Text(t.clone()), Bytes(vec![7; 40])],
        ),
        (
            "INSERT INTO contacts (id, tenant_id, name, email, created_at) VALUES ($1, $2, 'C', $3, 1)",
            vec![
                Text(contact.clone()),
                Text(t.clone()),
                Text(format!("c@{name}.example")),
            ],
        ),
        (
            "INSERT INTO mailings (id, tenant_id, sender_contact_id, subject, body, message_id, created_at) \
          VALUES ($1, $2, $3, 'S', 'B', $4, 1)",
            vec![
                Text(mailing.clone()),
                Text(t.clone()),
                Text(contact.clone()),
                Text(message.clone()),
            ],
        ),
        (
            "INSERT INTO mailing_recipients (mailing_id, contact_id, position, message_id) VALUES ($1, $2, 0, $3)",
            vec![
                Text(mailing.clone()),
                Text(contact.clone()),
                Text(message.clone()),
            ],
        ),
        (
            "INSERT INTO checker_addresses (token, tenant_id, message_id, created_at) VALUES ($1, $2, $3, 1)",
            vec![Text(token.clone()), Text(t.clone()), Text(message.clone())],
        ),
        (
            "INSERT INTO checker_reports (id, token, tenant_id, received_at, client_ip, helo, mail_from, raw, score, report) \
          VALUES ($1, $2, $3, 1, '127.0.0.1', 'h', 'a@b.example', $4, $5, '{}')",
            vec![
                Text(new_id()),
                Text(token.clone()),
                Text(t.clone()),
                Bytes(b"raw".to_vec()),
                Real(9.5),
            ],
        ),
        (
            "INSERT INTO users (id, email, password_hash, role, tenant_id, created_at) VALUES ($1, $2, 'h', 'tenant_admin', $3, 1)",
            vec![
                Text(user.clone()),
                Text(format!("admin@{name}.example")),
                Text(t.clone()),
            ],
        ),
        (
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, 1, 9999999999)",
            vec![Text(session.clone()), Text(user.clone())],
        ),
        (
            "INSERT INTO sending_domains (tenant_id, domain, token, created_at) VALUES ($1, $2, 'tok', 1)",
            vec![Text(t.clone()), Text(format!("send.{name}.example"))],
        ),
        (
            "INSERT INTO suppressions (tenant_id, address, reason, detail, created_at) VALUES ($1, 'x@y.example', 'manual', '', 1)",
            vec![Text(t.clone())],
        ),
        (
            "INSERT INTO return_paths (tenant_id, domain, return_path, created_at) VALUES ($1, $2, $3, 1)",
            vec![
                Text(t.clone()),
                Text(format!("{name}.example")),
                Text(format!("rp.{name}.example")),
            ],
        ),
        (
            "INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret_sealed, previous_secret_sealed, \
          previous_until, enabled, created_at) VALUES ($1, $2, 'https://hook.example/', '*', $3, $4, 99, TRUE, 1)",
            vec![
                Text(endpoint.clone()),
                Text(t.clone()),
                Bytes(vec![5; 40]),
                Bytes(vec![6; 40]),
            ],
        ),
        (
            "INSERT INTO webhook_outbox (endpoint_id, tenant_id, event_type, stream, message_id, detail, event_at, \
          state, attempts, next_attempt_at, created_at) \
          VALUES ($1, $2, 'message.delivered', $3, $3, '{}', 1, 'pending', $4, 0, 1)",
            vec![
                Text(endpoint.clone()),
                Text(t.clone()),
                Text(message.clone()),
                Int32(0),
            ],
        ),
    ];
    for (sql, values) in rows {
        execute(store, sql, values).await;
    }
    let outbox: i64 = with_pool!(store, pool => {
        sqlx::query_scalar("SELECT id FROM webhook_outbox WHERE endpoint_id = $1")
            .bind(&endpoint)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    execute(
        store,
        "INSERT INTO webhook_attempts (id, outbox_id, endpoint_id, tenant_id, at, latency_ms, response) \
         VALUES ($1, $2, $3, $4, 1, 5, 'ok')",
        vec![Text(new_id()), Int(outbox), Text(endpoint.clone()), Text(t.clone())],
    )
    .await;
    let ids = vec![
        t,
        key,
        domain,
        signing_key,
        message,
        recipient.clone(),
        contact,
        mailing,
        token,
        user,
        endpoint,
        session,
    ];
    Filled {
        tenant: owner.id,
        ids,
        recipient,
    }
}

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
    with_pool!(store, pool => {
        sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
    })
}

/// Every row of every table, each row as one text holding all its values.
async fn dump(store: &Store) -> BTreeMap<String, Vec<String>> {
    let mut rows = BTreeMap::new();
    for table in tables(store).await {
        let sql = match store {
            Store::Sqlite(pool) => {
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
        let values: Vec<String> = with_pool!(store, pool => {
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
    with_pool!(store, pool => {
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
            store.tenant_for_api_key(&kept_hash).await.unwrap(),
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
