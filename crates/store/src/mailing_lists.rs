//! Mailings and contacts as lists show them: a page of mailings with their senders, recipients
//! and queued messages in a fixed number of queries whatever the page's size, filtered by the
//! mailing's progress (worked out in SQL from its recipients' states) and searched in the
//! database; a page of contacts by name; and the deletion of a draft.

use std::collections::HashMap;

use sealpost_domain::{
    Contact, ContactId, Mailing, MailingId, MailingProgress, MessageId, TenantId, Timestamp,
};

use crate::mailings::{ContactRow, contact_columns};
use crate::paging::{
    Cursor, Page, PageRequest, like_pattern, padded, placeholders, searched, sql_for,
};
use crate::{Store, StoreError, with_reader, with_writer};

/// Which of a tenant's mailings a list shows: those in `progress` whose subject, sender name
/// or sender address contains `search` (ignoring ASCII case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailingFilter {
    pub progress: Option<MailingProgress>,
    pub search: Option<String>,
}

/// What deleting a mailing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftDeletion {
    Deleted,
    /// The mailing was sent (or is being sent): its messages keep it.
    AlreadySent,
}

#[derive(sqlx::FromRow)]
struct ListedMailingRow {
    id: MailingId,
    sender_contact_id: ContactId,
    subject: String,
    body: String,
    message_id: Option<MessageId>,
    created_at: i64,
    sent_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct MailingContactRow {
    mailing_id: MailingId,
    #[sqlx(flatten)]
    contact: ContactRow,
}

/// The tenant's mailings (`$1`) searched by `$3`, each with its progress: the rule of
/// [`MailingProgress::of_sent`] over the state of each recipient contact in the message sent to
/// it (found by address, as mailings sent as one message for all recipients need). Queued,
/// sending and deferred are the states that are not final.
macro_rules! mailings_with_progress {
    ($backend:ident) => {
        concat!(
            "SELECT m.id, m.sender_contact_id, m.subject, m.body, m.message_id, m.created_at, \
         m.sent_at, CASE \
           WHEN m.message_id IS NULL AND COUNT(r.message_id) = 0 THEN 'draft' \
           WHEN COALESCE(SUM(CASE WHEN d.state IN ('queued', 'sending', 'deferred') \
                THEN 1 ELSE 0 END), 0) > 0 THEN 'in_progress' \
           WHEN COALESCE(SUM(CASE WHEN d.state = 'sent' THEN 1 ELSE 0 END), 0) = 0 \
                THEN 'failed' \
           WHEN SUM(CASE WHEN d.state = 'sent' THEN 1 ELSE 0 END) = COUNT(d.id) \
                THEN 'delivered' \
           ELSE 'partly_delivered' END AS progress \
         FROM mailings m \
         LEFT JOIN mailing_recipients r ON r.mailing_id = m.id \
         LEFT JOIN contacts c ON c.id = r.contact_id \
         LEFT JOIN recipients d ON d.message_id = r.message_id \
              AND lower(d.address) = lower(c.email) \
         WHERE m.tenant_id = $1 AND ($3 IS NULL OR ",
            searched!($backend, "m.subject", "$3"),
            " \
              OR EXISTS (SELECT 1 FROM contacts s WHERE s.id = m.sender_contact_id AND (",
            searched!($backend, "s.email", "$3"),
            " OR ",
            searched!($backend, "s.name", "$3"),
            "))) \
         GROUP BY m.id"
        )
    };
}

/// The tenant's contacts (`$1`) whose name or address contains the pattern `$2`, on
/// `$backend`.
macro_rules! contact_filter {
    ($backend:ident) => {
        concat!(
            "tenant_id = $1 AND ($2 IS NULL OR ",
            searched!($backend, "name", "$2"),
            " OR ",
            searched!($backend, "email", "$2"),
            ")"
        )
    };
}

/// A page of [`mailings_with_progress`] on `$backend` in progress `$2` (when given), newest
/// first, after the cursor `$4`, `$5`, at most `$6`.
macro_rules! mailing_page_sql {
    ($backend:ident) => {
        concat!(
            "SELECT id, sender_contact_id, subject, body, message_id, created_at, sent_at \
             FROM (",
            mailings_with_progress!($backend),
            ") p WHERE ($2 IS NULL OR p.progress = $2) \
             AND ($4 IS NULL OR p.created_at < $4 OR (p.created_at = $4 AND p.id < $5)) \
             ORDER BY p.created_at DESC, p.id DESC LIMIT $6"
        )
    };
}

/// How many mailings of [`mailings_with_progress`] on `$backend` are in progress `$2`.
macro_rules! mailing_count_sql {
    ($backend:ident) => {
        concat!(
            "SELECT COUNT(*) FROM (",
            mailings_with_progress!($backend),
            ") p WHERE ($2 IS NULL OR p.progress = $2)"
        )
    };
}

/// A page of [`contact_filter`]'s contacts on `$backend` by name, after the cursor `$3`, `$4`,
/// at most `$5`.
macro_rules! contact_page_sql {
    ($backend:ident) => {
        concat!(
            "SELECT ",
            contact_columns!(),
            " FROM contacts WHERE ",
            contact_filter!($backend),
            " AND ($3 IS NULL OR name > $3 OR (name = $3 AND email > $4)) \
             ORDER BY name, email LIMIT $5"
        )
    };
}

/// How many contacts pass [`contact_filter`] on `$backend`.
macro_rules! contact_count_sql {
    ($backend:ident) => {
        concat!(
            "SELECT COUNT(*) FROM contacts WHERE ",
            contact_filter!($backend)
        )
    };
}

impl Store {
    /// One page of the tenant's mailings that pass `filter`, newest first, with how many pass
    /// it in all.
    pub async fn mailing_page(
        &self,
        tenant: TenantId,
        filter: &MailingFilter,
        request: &PageRequest,
    ) -> Result<Page<Mailing>, StoreError> {
        let sql = sql_for!(self, mailing_page_sql);
        let count_sql = sql_for!(self, mailing_count_sql);
        let progress = filter.progress.map(MailingProgress::code);
        let pattern = like_pattern(filter.search.as_deref());
        let (after_at, after_id) = request.time_key();
        let (rows, total): (Vec<ListedMailingRow>, i64) = with_reader!(self, pool => {
            // The page and its count are independent reads: they run at once, on two of the
            // pool's connections, so a page waits for the slower of them only.
            let (rows, (total,)): (_, (i64,)) = tokio::try_join!(
                sqlx::query_as(sql)
                    .bind(tenant)
                    .bind(progress)
                    .bind(pattern.as_deref())
                    .bind(after_at)
                    .bind(after_id)
                    .bind(request.fetch())
                    .fetch_all(pool),
                sqlx::query_as(count_sql)
                    .bind(tenant)
                    .bind(progress)
                    .bind(pattern.as_deref())
                    .fetch_one(pool),
            )?;
            (rows, total)
        });
        let mailings = self.with_contacts(tenant, rows).await?;
        Ok(Page::cut(mailings, request, total, |mailing| {
            Cursor::Time {
                at: mailing.created_at.0,
                id: mailing.id.to_string(),
            }
        }))
    }

    /// Reads the senders and recipients of all these mailings in two queries.
    async fn with_contacts(
        &self,
        tenant: TenantId,
        rows: Vec<ListedMailingRow>,
    ) -> Result<Vec<Mailing>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let list = placeholders(2, rows.len().next_power_of_two());
        let recipients_sql = format!(
            concat!(
                "SELECT r.mailing_id, c.id, c.tenant_id, c.name, c.email, c.created_at \
                 FROM mailing_recipients r JOIN contacts c ON c.id = r.contact_id \
                 WHERE c.tenant_id = $1 AND r.mailing_id IN ({}) ORDER BY r.mailing_id, r.position"
            ),
            list
        );
        let senders_sql = format!(
            concat!(
                "SELECT ",
                contact_columns!(),
                " FROM contacts WHERE tenant_id = $1 AND id IN ({})"
            ),
            list
        );
        let mailing_ids: Vec<MailingId> = rows.iter().map(|row| row.id).collect();
        let sender_ids: Vec<ContactId> = rows.iter().map(|row| row.sender_contact_id).collect();
        let (listed, senders): (Vec<MailingContactRow>, Vec<ContactRow>) = with_reader!(self, pool => {
            let mut recipients = sqlx::query_as(sqlx::AssertSqlSafe(recipients_sql.clone()))
                .bind(tenant);
            let mut senders = sqlx::query_as(sqlx::AssertSqlSafe(senders_sql.clone())).bind(tenant);
            for mailing in padded(&mailing_ids) {
                recipients = recipients.bind(mailing);
            }
            for sender in padded(&sender_ids) {
                senders = senders.bind(sender);
            }
            (recipients.fetch_all(pool).await?, senders.fetch_all(pool).await?)
        });
        let mut by_mailing: HashMap<MailingId, Vec<Contact>> = HashMap::new();
        for row in listed {
            by_mailing
                .entry(row.mailing_id)
                .or_default()
                .push(Contact::try_from(row.contact)?);
        }
        let senders: HashMap<ContactId, Contact> = senders
            .into_iter()
            .map(|row| Contact::try_from(row).map(|contact| (contact.id, contact)))
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|row| {
                let sender = senders
                    .get(&row.sender_contact_id)
                    .cloned()
                    .ok_or_else(|| StoreError::Corrupt(format!("sender of mailing {}", row.id)))?;
                Ok(Mailing {
                    id: row.id,
                    tenant_id: tenant,
                    sender,
                    recipients: by_mailing.remove(&row.id).unwrap_or_default(),
                    subject: row.subject,
                    body: row.body,
                    message_id: row.message_id,
                    created_at: Timestamp(row.created_at),
                    sent_at: row.sent_at.map(Timestamp),
                })
            })
            .collect()
    }

    /// Each recipient contact of these mailings that has its queued message, with that message,
    /// in each mailing's order of recipients: one query for the whole list.
    pub async fn mailings_messages(
        &self,
        tenant: TenantId,
        ids: &[MailingId],
    ) -> Result<Vec<(MailingId, ContactId, MessageId)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT r.mailing_id, r.contact_id, r.message_id FROM mailing_recipients r \
             JOIN mailings m ON m.id = r.mailing_id \
             WHERE m.tenant_id = $1 AND r.message_id IS NOT NULL AND r.mailing_id IN ({}) \
             ORDER BY r.mailing_id, r.position",
            placeholders(2, ids.len().next_power_of_two())
        );
        Ok(with_reader!(self, pool => {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(tenant);
            for id in padded(ids) {
                query = query.bind(id);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// Deletes a mailing that was never sent, with its list of recipients (the contacts stay);
    /// `NotFound` when the tenant has no such mailing.
    pub async fn delete_draft_mailing(
        &self,
        tenant: TenantId,
        id: MailingId,
    ) -> Result<DraftDeletion, StoreError> {
        let deleted = with_writer!(self, pool => {
            sqlx::query(
                "DELETE FROM mailings WHERE tenant_id = $1 AND id = $2 AND message_id IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM mailing_recipients r \
                      WHERE r.mailing_id = $2 AND r.message_id IS NOT NULL)",
            )
            .bind(tenant)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if deleted == 1 {
            return Ok(DraftDeletion::Deleted);
        }
        let exists: Option<(MailingId,)> = with_reader!(self, pool => {
            sqlx::query_as("SELECT id FROM mailings WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        match exists {
            Some(_) => Ok(DraftDeletion::AlreadySent),
            None => Err(StoreError::NotFound),
        }
    }

    /// One page of the tenant's contacts by name and address, those whose name or address
    /// contains `search` (ignoring ASCII case), with how many match in all.
    pub async fn contact_page(
        &self,
        tenant: TenantId,
        search: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<Contact>, StoreError> {
        let sql = sql_for!(self, contact_page_sql);
        let count_sql = sql_for!(self, contact_count_sql);
        let pattern = like_pattern(search);
        let (after_name, after_email) = match request.after.as_ref().and_then(Cursor::name_key) {
            Some((name, email)) => (Some(name), Some(email)),
            None => (None, None),
        };
        let (rows, total): (Vec<ContactRow>, i64) = with_reader!(self, pool => {
            // The page and its count are independent reads: they run at once, on two of the
            // pool's connections, so a page waits for the slower of them only.
            let (rows, (total,)): (_, (i64,)) = tokio::try_join!(
                sqlx::query_as(sql)
                    .bind(tenant)
                    .bind(pattern.as_deref())
                    .bind(after_name)
                    .bind(after_email)
                    .bind(request.fetch())
                    .fetch_all(pool),
                sqlx::query_as(count_sql)
                    .bind(tenant)
                    .bind(pattern.as_deref())
                    .fetch_one(pool),
            )?;
            (rows, total)
        });
        let contacts = rows
            .into_iter()
            .map(Contact::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::cut(contacts, request, total, |contact| {
            Cursor::Name {
                name: contact.name.clone(),
                email: contact.email.clone(),
            }
        }))
    }
}
