//! Messages as lists show them: a page in three queries (the rows, their count, all their
//! recipients), so a list never reads message sources (they are in `message_sources`) or asks
//! once per message, and its filters and search run in the database over every message.

use std::collections::HashMap;

use sealpost_domain::{
    DkimVerdict, MessageId, MessageSummary, Recipient, RecipientState, TenantId, Timestamp,
};

use crate::message_rows::{FactColumns, JoinedRecipientRow, MessageFacts, RecipientRow};
use crate::paging::{
    Cursor, LIST_CHUNK, Page, PageRequest, like_pattern, padded, placeholders, searched, sql_for,
};
use crate::queue::recipients_by_message;
use crate::{Store, StoreError, with_reader, with_writer};

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: MessageId,
    tenant_id: TenantId,
    mail_from: String,
    subject: String,
    size: i64,
    dkim_verdict: Option<String>,
    #[sqlx(flatten)]
    facts: FactColumns,
    accepted_at: i64,
    expires_at: i64,
}

/// A message of a page with one of its recipients (or none).
#[derive(sqlx::FromRow)]
struct PageRow {
    #[sqlx(flatten)]
    message: SummaryRow,
    #[sqlx(flatten)]
    recipient: JoinedRecipientRow,
}

#[derive(sqlx::FromRow)]
struct ListedRecipientRow {
    message_id: MessageId,
    #[sqlx(flatten)]
    recipient: RecipientRow,
}

/// Every column is the message's own, from `messages m`, but for its expiry, which counts its
/// tenant's pauses: the source is in `message_sources`, so none is read.
macro_rules! summary_columns {
    () => {
        concat!(
            "m.id, m.tenant_id, m.mail_from, COALESCE(m.subject, '') AS subject, m.size, \
             m.dkim_verdict, m.signed, m.signing_domain, m.signing_selector, m.unsigned_code, \
             m.unsigned_reason, m.route, m.source, m.accepted_at, ",
            $crate::message_rows::expiry_column!()
        )
    };
}

fn summary(row: SummaryRow, recipients: Vec<Recipient>) -> Result<MessageSummary, StoreError> {
    let facts = MessageFacts::try_from(row.facts)?;
    Ok(MessageSummary {
        id: row.id,
        tenant_id: row.tenant_id,
        mail_from: row.mail_from,
        subject: row.subject,
        size: usize::try_from(row.size).unwrap_or_default(),
        signing: facts.signing,
        dkim_verdict: match row.dkim_verdict.as_deref() {
            None => None,
            Some(text) => Some(
                DkimVerdict::parse(text)
                    .ok_or_else(|| StoreError::Corrupt(format!("DKIM verdict {text:?}")))?,
            ),
        },
        route: facts.route,
        source: facts.source,
        accepted_at: Timestamp(row.accepted_at),
        expires_at: Timestamp(row.expires_at),
        recipients,
    })
}

/// Which of a tenant's messages a list shows: those with a recipient in `state`, whose
/// Subject, MAIL FROM or a recipient's address contains `search` (ignoring ASCII case), and
/// accepted at or after `since`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFilter {
    pub state: Option<RecipientState>,
    pub search: Option<String>,
    pub since: Option<Timestamp>,
}

/// The filter of [`MessageFilter`] over `messages m` on `$backend`: `$2` state, `$3` LIKE
/// pattern, `$4` since; each is NULL when not asked for. The recipients' addresses are searched
/// once per query (the tenant's recipients through their index by tenant, migration 0021)
/// rather than once per message.
macro_rules! message_filter {
    ($backend:ident) => {
        concat!(
            "m.tenant_id = $1 \
             AND ($2 IS NULL OR EXISTS (SELECT 1 FROM recipients s \
                  WHERE s.message_id = m.id AND s.state = $2)) \
             AND ($3 IS NULL OR ",
            searched!($backend, "m.subject", "$3"),
            " OR ",
            searched!($backend, "m.mail_from", "$3"),
            " \
                  OR m.id IN (SELECT a.message_id FROM recipients a WHERE a.tenant_id = $1 \
                              AND ",
            searched!($backend, "a.address", "$3"),
            ")) \
             AND ($4 IS NULL OR m.accepted_at >= $4)"
        )
    };
}

/// A page of [`message_filter`]'s messages on `$backend`, newest first, after the cursor
/// `$5`, `$6`, at most `$7`, each with its recipients in order: one query, so a page waits for
/// one hand-off of rows from the database rather than two in turn.
macro_rules! message_page_sql {
    ($backend:ident) => {
        concat!(
            "SELECT p.*, r.id AS r_id, r.address AS r_address, r.domain AS r_domain, \
             r.state AS r_state, r.attempts AS r_attempts, \
             r.next_attempt_at AS r_next_attempt_at, r.last_reply AS r_last_reply, \
             r.updated_at AS r_updated_at FROM (SELECT ",
            summary_columns!(),
            " FROM messages m WHERE ",
            message_filter!($backend),
            " AND ($5 IS NULL OR m.accepted_at < $5 OR (m.accepted_at = $5 AND m.id < $6)) \
             ORDER BY m.accepted_at DESC, m.id DESC LIMIT $7) p \
             LEFT JOIN ",
            $crate::queue::recipients_by_message!($backend, "r"),
            " ON r.tenant_id = $1 AND r.message_id = p.id \
             ORDER BY p.accepted_at DESC, p.id DESC, r.position"
        )
    };
}

/// The text of [`message_page_sql`] for `store`'s backend.
#[cfg(test)]
pub(crate) fn page_sql(store: &Store) -> &'static str {
    sql_for!(store, message_page_sql)
}

/// How many messages pass [`message_filter`] on `$backend`.
macro_rules! message_count_sql {
    ($backend:ident) => {
        concat!(
            "SELECT COUNT(*) FROM messages m WHERE ",
            message_filter!($backend)
        )
    };
}

/// The recipients of `count` messages (`$2`...) on `store`'s backend, read through the index by
/// message ([`recipients_by_message`]) rather than all of the tenant's recipients.
pub(crate) fn listed_recipients_sql(store: &Store, count: usize) -> String {
    let recipients = match store {
        Store::Sqlite(_) => recipients_by_message!(sqlite, ""),
        Store::Postgres(_) => recipients_by_message!(postgres, ""),
    };
    format!(
        "SELECT message_id, id, address, domain, state, attempts, next_attempt_at, \
         last_reply, updated_at FROM {} WHERE tenant_id = $1 AND message_id IN ({}) \
         ORDER BY message_id, position",
        recipients,
        placeholders(2, count)
    )
}

/// The summaries of a page's joined rows, which come message by message in the page's order.
fn joined_summaries(rows: Vec<PageRow>) -> Result<Vec<MessageSummary>, StoreError> {
    let mut messages: Vec<(SummaryRow, Vec<Recipient>)> = Vec::new();
    for row in rows {
        let recipient = row
            .recipient
            .recipient()
            .map(Recipient::try_from)
            .transpose()?;
        match messages.last_mut() {
            Some((message, recipients)) if message.id == row.message.id => {
                recipients.extend(recipient);
            }
            _ => messages.push((row.message, recipient.into_iter().collect())),
        }
    }
    messages
        .into_iter()
        .map(|(message, recipients)| summary(message, recipients))
        .collect()
}

impl Store {
    /// The tenant's newest messages, newest first, without their bodies.
    pub async fn recent_messages(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<MessageSummary>, StoreError> {
        let page = self
            .message_page(
                tenant,
                &MessageFilter::default(),
                &PageRequest::first(limit),
            )
            .await?;
        Ok(page.items)
    }

    /// The distinct envelope senders of the tenant's newest `limit` messages, newest first:
    /// one read of the index that pages the messages, without the messages themselves.
    pub async fn recent_senders(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT mail_from FROM messages WHERE tenant_id = $1 \
                 ORDER BY accepted_at DESC, id DESC LIMIT $2",
            )
            .bind(tenant)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        let mut senders: Vec<String> = Vec::new();
        for (sender,) in rows {
            if !sender.is_empty() && !senders.contains(&sender) {
                senders.push(sender);
            }
        }
        Ok(senders)
    }

    /// One page of the tenant's messages that pass `filter`, newest first, without their
    /// bodies, with how many pass it in all: two queries at once whatever the page's size (the
    /// rows with their recipients, their count).
    pub async fn message_page(
        &self,
        tenant: TenantId,
        filter: &MessageFilter,
        request: &PageRequest,
    ) -> Result<Page<MessageSummary>, StoreError> {
        let sql = sql_for!(self, message_page_sql);
        let count_sql = sql_for!(self, message_count_sql);
        let state = filter.state.map(|state| state.as_str());
        let pattern = like_pattern(filter.search.as_deref());
        let since = filter.since.map(|since| since.0);
        let (after_at, after_id) = request.time_key();
        let (rows, total): (Vec<PageRow>, i64) = with_reader!(self, pool => {
            // The page and its count are independent reads: they run at once, on two of the
            // pool's connections, so a page waits for the slower of them only.
            let (rows, (total,)): (_, (i64,)) = tokio::try_join!(
                sqlx::query_as(sql)
                    .bind(tenant)
                    .bind(state)
                    .bind(pattern.as_deref())
                    .bind(since)
                    .bind(after_at)
                    .bind(after_id)
                    .bind(request.fetch())
                    .fetch_all(pool),
                sqlx::query_as(count_sql)
                    .bind(tenant)
                    .bind(state)
                    .bind(pattern.as_deref())
                    .bind(since)
                    .fetch_one(pool),
            )?;
            (rows, total)
        });
        let summaries = joined_summaries(rows)?;
        Ok(Page::cut(summaries, request, total, |message| {
            Cursor::Time {
                at: message.accepted_at.0,
                id: message.id.to_string(),
            }
        }))
    }

    /// The tenant's messages with these ids, without their bodies, in no particular order;
    /// ids of other tenants' messages are not found.
    pub async fn message_summaries(
        &self,
        tenant: TenantId,
        ids: &[MessageId],
    ) -> Result<Vec<MessageSummary>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows: Vec<SummaryRow> = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(LIST_CHUNK) {
            let sql = format!(
                concat!(
                    "SELECT ",
                    summary_columns!(),
                    " FROM messages m WHERE m.tenant_id = $1 AND m.id IN ({})"
                ),
                placeholders(2, chunk.len().next_power_of_two())
            );
            let chunk_rows: Vec<SummaryRow> = with_reader!(self, pool => {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(tenant);
                for id in padded(chunk) {
                    query = query.bind(id);
                }
                query.fetch_all(pool).await?
            });
            rows.extend(chunk_rows);
        }
        self.with_recipients(tenant, rows).await
    }

    /// Reads the recipients of all these rows, in one query per 512 rows, and makes each a
    /// summary.
    async fn with_recipients(
        &self,
        tenant: TenantId,
        rows: Vec<SummaryRow>,
    ) -> Result<Vec<MessageSummary>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<MessageId> = rows.iter().map(|row| row.id).collect();
        let mut by_message: HashMap<MessageId, Vec<Recipient>> = HashMap::new();
        for chunk in ids.chunks(LIST_CHUNK) {
            let sql = listed_recipients_sql(self, chunk.len().next_power_of_two());
            let listed: Vec<ListedRecipientRow> = with_reader!(self, pool => {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(tenant);
                for id in padded(chunk) {
                    query = query.bind(id);
                }
                query.fetch_all(pool).await?
            });
            for row in listed {
                by_message
                    .entry(row.message_id)
                    .or_default()
                    .push(Recipient::try_from(row.recipient)?);
            }
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
            " FROM messages m WHERE m.tenant_id = $1 AND m.id = $2"
        );
        let row: Option<SummaryRow> = with_reader!(self, pool => {
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

    /// Keeps what a verification of the message's stored source found, for the lists. Only a
    /// changed verdict is written, and the stored one is read first, so looking at a message
    /// again neither writes nor waits for the writer behind delivery's writes.
    pub async fn record_dkim_verdict(
        &self,
        tenant: TenantId,
        id: MessageId,
        verdict: DkimVerdict,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let stored: Option<Option<String>> = with_reader!(self, pool => {
            sqlx::query_scalar("SELECT dkim_verdict FROM messages WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        if stored.flatten().as_deref() == Some(verdict.as_str()) {
            return Ok(());
        }
        with_writer!(self, pool => {
            sqlx::query(
                "UPDATE messages SET dkim_verdict = $3, dkim_verdict_at = $4 \
                 WHERE tenant_id = $1 AND id = $2 \
                 AND (dkim_verdict IS NULL OR dkim_verdict <> $3)",
            )
            .bind(tenant)
            .bind(id)
            .bind(verdict.as_str())
            .bind(at.0)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
