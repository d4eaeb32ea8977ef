//! A batch of acceptances is stored exactly as the same messages accepted one after another:
//! the same places in the fair queue, the same events in the same order, the same webhook
//! deliveries.

use sealpost_domain::{
    EventType, EventTypes, QueuedMessage, RecipientState, SystemClock, Tenant, TenantId,
    TenantName, Timestamp, WebhookEndpoint, WebhookEndpointId,
};

use crate::queue_tests::{NOW, message, stores_with_tenant};
use crate::{Store, testing};

/// What acceptance wrote, table by table, in the order it wrote it.
async fn written(store: &Store) -> Vec<Vec<String>> {
    let queries = [
        "SELECT CAST(tenant_id AS TEXT) || ' ' || CAST(message_id AS TEXT) || ' ' \
         || CAST(position AS TEXT) || ' ' || CAST(fair_key AS TEXT) || ' ' || state \
         FROM recipients ORDER BY tenant_id, fair_key",
        "SELECT CAST(message_id AS TEXT) || ' ' || COALESCE(CAST(recipient_id AS TEXT), '-') \
         || ' ' || kind || ' ' || detail FROM events ORDER BY id",
        "SELECT event_type || ' ' || stream || ' ' || COALESCE(CAST(recipient_id AS TEXT), '-') \
         || ' ' || detail FROM webhook_outbox ORDER BY id",
        "SELECT CAST(id AS TEXT) || ' ' || subject FROM messages ORDER BY id",
        "SELECT CAST(message_id AS TEXT) || ' ' || CAST(LENGTH(raw) AS TEXT) \
         FROM message_sources ORDER BY message_id",
    ];
    let mut tables = Vec::new();
    for sql in queries {
        let rows: Vec<String> = with_reader!(store, pool => {
            sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
        });
        tables.push(rows);
    }
    tables
}

/// What one message after another writes to the recipients, events and webhook deliveries: each
/// tenant's recipients take the next places in the fair queue, past `served`, and each message's
/// suppressed recipients' events come before its `accepted`; every tenant has an endpoint for
/// every event.
fn expected(messages: &[&QueuedMessage], served: i64) -> [Vec<String>; 3] {
    let mut recipients = Vec::new();
    let mut events = Vec::new();
    let mut deliveries = Vec::new();
    let mut last_places: Vec<(TenantId, i64)> = Vec::new();
    for message in messages {
        let tenant = message.tenant_id;
        if !last_places.iter().any(|(known, _)| *known == tenant) {
            last_places.push((tenant, served));
        }
        let last = &mut last_places
            .iter_mut()
            .find(|(known, _)| *known == tenant)
            .unwrap()
            .1;
        let mut message_events = Vec::new();
        for (position, recipient) in message.recipients.iter().enumerate() {
            *last += 1;
            let state = recipient.state.as_str();
            recipients.push((
                tenant.to_string(),
                *last,
                format!("{tenant} {} {position} {last} {state}", message.id),
            ));
            if recipient.state == RecipientState::Suppressed {
                let detail = recipient.last_reply.clone().unwrap_or_default();
                message_events.push(("suppressed", recipient.id.to_string(), detail));
            }
        }
        message_events.push(("accepted", "-".to_owned(), String::new()));
        for (kind, recipient, detail) in message_events {
            events.push(format!("{} {recipient} {kind} {detail}", message.id));
            if let Some(webhook) = EventType::of_message_event(kind) {
                deliveries.push(format!(
                    "{} {} {recipient} {detail}",
                    webhook.name(),
                    message.id
                ));
            }
        }
    }
    recipients.sort();
    [
        recipients.into_iter().map(|(_, _, line)| line).collect(),
        events,
        deliveries,
    ]
}

#[tokio::test]
async fn a_batch_is_stored_as_its_messages_one_after_another() {
    let tenants: Vec<Tenant> = ["acme", "globex"]
        .into_iter()
        .map(|name| Tenant {
            id: sealpost_domain::TenantId::new(&SystemClock),
            name: TenantName::parse(name).unwrap(),
            display_name: name.into(),
            created_at: Timestamp(NOW),
        })
        .collect();
    let (acme, globex) = (tenants[0].id, tenants[1].id);
    let endpoints: Vec<WebhookEndpoint> = tenants
        .iter()
        .map(|tenant| WebhookEndpoint {
            id: WebhookEndpointId::new(&SystemClock),
            tenant_id: tenant.id,
            url: format!("https://hooks.{}.test/mail", tenant.id),
            event_types: EventTypes::from_stored("*"),
            enabled: true,
            disabled_reason: None,
            previous_until: None,
            created_at: Timestamp(NOW),
        })
        .collect();
    let earlier = message(acme, &["first@receiver.test"], None);
    let mut suppressed = message(
        acme,
        &["one@receiver.test", "gone@receiver.test"],
        Some("k1"),
    );
    suppressed.recipients[1].state = RecipientState::Suppressed;
    suppressed.recipients[1].last_reply = Some("on the suppression list".into());
    // Past one statement's 64 rows, with the tenants taking turns.
    let mut batch = vec![suppressed];
    for index in 0..70 {
        let tenant = if index % 3 == 0 { acme } else { globex };
        batch.push(message(
            tenant,
            &["to@receiver.test", "cc@other.test"],
            None,
        ));
    }
    let all: Vec<&QueuedMessage> = std::iter::once(&earlier).chain(&batch).collect();
    // Places start past what the queue has served, as after earlier deliveries.
    let served = 40;
    let [recipients, events, deliveries] = expected(&all, served);
    assert_eq!(recipients.len(), 143);
    let directory = tempfile::tempdir().unwrap();
    for one_by_one in [true, false] {
        let path = directory.path().join(one_by_one.to_string());
        std::fs::create_dir(&path).unwrap();
        for store in testing::fresh_stores(&path).await {
            for tenant in &tenants {
                store.create_tenant(tenant).await.unwrap();
            }
            for endpoint in &endpoints {
                store
                    .insert_webhook_endpoint(endpoint, b"sealed")
                    .await
                    .unwrap();
            }
            with_writer!(&store, pool => {
                sqlx::query("UPDATE queue_clock SET served = $1 WHERE id = 1")
                    .bind(served)
                    .execute(pool)
                    .await
                    .unwrap();
            });
            store.insert_message(&earlier).await.unwrap();
            if one_by_one {
                for message in &batch {
                    store.insert_message(message).await.unwrap();
                }
            } else {
                store.insert_messages(&batch).await.unwrap();
            }
            let written = written(&store).await;
            let context = (store.backend(), one_by_one, globex);
            assert_eq!(written[0], recipients, "{context:?}");
            assert_eq!(written[1], events, "{context:?}");
            assert_eq!(written[2], deliveries, "{context:?}");
            assert_eq!(written[3].len(), 72, "{context:?}");
            assert_eq!(written[4].len(), 72, "{context:?}");
        }
    }
}

#[tokio::test]
async fn a_batch_with_a_repeated_key_stores_nothing() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let first = message(tenant, &["a@receiver.test"], Some("same"));
        store.insert_message(&first).await.unwrap();
        let batch = vec![
            message(tenant, &["b@receiver.test"], None),
            message(tenant, &["c@receiver.test"], Some("same")),
        ];
        let refused = store.insert_messages(&batch).await;
        assert!(
            matches!(refused, Err(crate::StoreError::Duplicate(_))),
            "{refused:?}"
        );
        let written = written(&store).await;
        assert_eq!(
            written.iter().map(Vec::len).collect::<Vec<_>>(),
            [1, 1, 0, 1, 1]
        );
        assert!(store.message(tenant, batch[0].id).await.is_err());
    }
}

/// Sources too large together for one statement are written one per statement, more of them
/// than one query gathers on PostgreSQL, and one too large to share a query at all: every
/// source is stored whole, in the one transaction.
#[tokio::test]
async fn a_batch_of_large_sources_is_stored_whole() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let mut batch = Vec::new();
        for index in 0..40 {
            let mut large = message(tenant, &["to@receiver.test"], None);
            let size = if index == 20 { 5 << 20 } else { 120 << 10 };
            large.raw = format!("Subject: {index}\r\n\r\n{}", "x".repeat(size)).into_bytes();
            batch.push(large);
        }
        store.insert_messages(&batch).await.unwrap();
        let written = written(&store).await;
        let mut expected: Vec<String> = batch
            .iter()
            .map(|message| format!("{} {}", message.id, message.raw.len()))
            .collect();
        expected.sort();
        assert_eq!(written[4], expected, "{:?}", store.backend());
        assert_eq!(written[1].len(), 40, "{:?}", store.backend());
        let stored = store.message(tenant, batch[20].id).await.unwrap();
        assert_eq!(stored.raw, batch[20].raw, "{:?}", store.backend());
    }
}

/// A batch whose rows bind more values than one PostgreSQL statement takes (65,535): its
/// statements are gathered into several queries there, and every row is stored.
#[tokio::test]
async fn a_batch_past_one_statements_bound_values_is_stored_whole() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let addresses: Vec<String> = (0..30).map(|at| format!("r{at}@receiver.test")).collect();
        let addresses: Vec<&str> = addresses.iter().map(String::as_str).collect();
        // 6,000 recipients of 13 columns: 78,000 values.
        let batch: Vec<QueuedMessage> = (0..200)
            .map(|_| message(tenant, &addresses, None))
            .collect();
        store.insert_messages(&batch).await.unwrap();
        let written = written(&store).await;
        let counts: Vec<usize> = written.iter().map(Vec::len).collect();
        assert_eq!(counts, [6000, 200, 0, 200, 200], "{:?}", store.backend());
    }
}
