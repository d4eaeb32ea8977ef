//! One row of a tenant in every table that holds tenants' data, for the deletion tests.

use sealpost_domain::TenantId;

use crate::Store;
use crate::tests::tenant;

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
    with_writer!(store, pool => {
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
pub(crate) struct Filled {
    pub tenant: TenantId,
    pub ids: Vec<String>,
    pub recipient: String,
}

/// Creates a tenant with one row in every table that holds tenants' data. It is one long list
/// on purpose: one insert per table, read as a table, grows with the schema.
pub(crate) async fn fill(store: &Store, name: &str) -> Filled {
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
            "INSERT INTO signing_domain_records (tenant_id, signing_domain_id, kind, name, outcome, \
          detail, checked_at) VALUES ($1, $2, 'spf', $3, 'found', 'found', 1)",
            vec![
                Text(t.clone()),
                Text(domain.clone()),
                Text(format!("{name}.example")),
            ],
        ),
        (
            "INSERT INTO messages (id, tenant_id, mail_from, size, signed, route, source, accepted_at, expires_at) \
          VALUES ($1, $2, 'a@b.example', 3, FALSE, 'direct', 'api', 1, 9999999999)",
            vec![Text(message.clone()), Text(t.clone())],
        ),
        (
            "INSERT INTO message_sources (message_id, tenant_id, raw) VALUES ($1, $2, $3)",
            vec![
                Text(message.clone()),
                Text(t.clone()),
                Bytes(b"raw".to_vec()),
            ],
        ),
        (
            "INSERT INTO recipients (id, message_id, tenant_id, position, address, domain, state, attempts, updated_at, accepted_at) \
          VALUES ($1, $2, $3, 0, 'r@c.example', 'c.example', 'queued', 0, 1, 1)",
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
            "INSERT INTO sending_counts (tenant_id, hour, sent, bounced, complained) \
          VALUES ($1, 0, 1, 0, 0)",
            vec![Text(t.clone())],
        ),
        (
            "INSERT INTO tenant_pauses (tenant_id, paused_at, resumed_at) VALUES ($1, 1, 2)",
            vec![Text(t.clone())],
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
    let outbox: i64 = with_reader!(store, pool => {
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
