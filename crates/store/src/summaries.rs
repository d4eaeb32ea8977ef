//! Messages as lists show them: two queries for a whole page (the messages without their bodies,
//! then all their recipients), so a list never reads message sources or asks once per message.

use std::collections::HashMap;

use sealpost_domain::{MessageId, MessageSummary, Recipient, TenantId, Timestamp};

use crate::message_rows::{FactColumns, MessageFacts, RecipientRow};
use crate::{Store, StoreError, with_pool};

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: MessageId,
    tenant_id: TenantId,
    mail_from: String,
    head: Vec<u8>,
    size: i64,
    #[sqlx(flatten)]
    facts: FactColumns,
    accepted_at: i64,
    expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct ListedRecipientRow {
    message_id: MessageId,
    #[sqlx(flatten)]
    recipient: RecipientRow,
}

/// `substr` and `length` count bytes of a BLOB in SQLite and of a bytea in PostgreSQL alike;
/// the cast makes the length the same integer type in both. 8192 is
/// `MessageSummary::HEAD_BYTES`, which a test holds them to.
macro_rules! summary_columns {
    () => {
        "id, tenant_id, mail_from, substr(raw, 1, 8192) AS head, \
         CAST(length(raw) AS BIGINT) AS size, signed, \
         signing_domain, signing_selector, unsigned_code, unsigned_reason, route, source, \
         accepted_at, expires_at"
    };
}

fn summary(row: SummaryRow, recipients: Vec<Recipient>) -> Result<MessageSummary, StoreError> {
    let facts = MessageFacts::try_from(row.facts)?;
    Ok(MessageSummary {
        id: row.id,
        tenant_id: row.tenant_id,
        mail_from: row.mail_from,
        head: row.head,
        size: usize::try_from(row.size).unwrap_or_default(),
        signing: facts.signing,
        route: facts.route,
        source: facts.source,
        accepted_at: Timestamp(row.accepted_at),
        expires_at: Timestamp(row.expires_at),
        recipients,
    })
}

impl Store {
    /// The tenant's newest messages, newest first, without their bodies.
    pub async fn recent_messages(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<MessageSummary>, StoreError> {
        let sql = concat!(
            "SELECT ",
            summary_columns!(),
            " FROM messages WHERE tenant_id = $1 ORDER BY accepted_at DESC, id DESC LIMIT $2"
        );
        let rows: Vec<SummaryRow> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(tenant)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        let recipients_sql = "SELECT message_id, id, address, domain, state, attempts, \
             next_attempt_at, last_reply, updated_at FROM recipients \
             WHERE tenant_id = $1 AND message_id IN (SELECT id FROM messages WHERE tenant_id = $1 \
             ORDER BY accepted_at DESC, id DESC LIMIT $2) ORDER BY message_id, position";
        let listed: Vec<ListedRecipientRow> = with_pool!(self, pool => {
            sqlx::query_as(recipients_sql)
                .bind(tenant)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        let mut by_message: HashMap<MessageId, Vec<Recipient>> = HashMap::new();
        for row in listed {
            by_message
                .entry(row.message_id)
                .or_default()
                .push(Recipient::try_from(row.recipient)?);
        }
        rows.into_iter()
            .map(|row| {
                let recipients = by_message.remove(&row.id).unwrap_or_default();
                summary(row, recipients)
            })
            .collect()
    }

    /// One message without its body.
    pub async fn message_summary(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<MessageSummary, StoreError> {
        let sql = concat!(
            "SELECT ",
            summary_columns!(),
            " FROM messages WHERE tenant_id = $1 AND id = $2"
        );
        let row: Option<SummaryRow> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(tenant)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        let row = row.ok_or(StoreError::NotFound)?;
        let recipients = self.recipients(tenant, id).await?;
        summary(row, recipients)
    }
}
