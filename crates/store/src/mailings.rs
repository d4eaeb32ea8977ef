//! Contacts and mailings (SPEC S6). A mailing is written with its recipients in one
//! transaction; each recipient records its own queued message at most once, and the mailing
//! is marked sent at most once, so a repeated "Send message" cannot queue a second copy.

use sealpost_domain::{Contact, ContactId, Mailing, MailingId, MessageId, TenantId, Timestamp};

use crate::mailing_lists::MailingFilter;
use crate::paging::PageRequest;
use crate::{Store, StoreError, with_reader, with_writer};

#[derive(sqlx::FromRow)]
pub(crate) struct ContactRow {
    id: ContactId,
    tenant_id: TenantId,
    name: String,
    email: String,
    created_at: i64,
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;

    fn try_from(row: ContactRow) -> Result<Self, StoreError> {
        Ok(Contact {
            id: row.id,
            tenant_id: row.tenant_id,
            name: row.name,
            email: row.email,
            created_at: Timestamp(row.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct MailingRow {
    sender_contact_id: ContactId,
    subject: String,
    body: String,
    message_id: Option<MessageId>,
    created_at: i64,
    sent_at: Option<i64>,
}

/// sqlx takes only static SQL, so column lists are macros that `concat!` can join.
macro_rules! contact_columns {
    () => {
        "id, tenant_id, name, email, created_at"
    };
}
pub(crate) use contact_columns;

impl Store {
    /// Adds a contact; `Duplicate` when the tenant already has one with this address and
    /// `NotFound` when the tenant does not exist.
    pub async fn insert_contact(&self, contact: &Contact) -> Result<(), StoreError> {
        let inserted = with_writer!(self, pool => {
            sqlx::query(
                "INSERT INTO contacts (id, tenant_id, name, email, created_at) \
                 SELECT $1, id, $2, $3, $4 FROM tenants WHERE id = $5",
            )
            .bind(contact.id)
            .bind(&contact.name)
            .bind(&contact.email)
            .bind(contact.created_at.0)
            .bind(contact.tenant_id)
            .execute(pool)
            .await
            .map_err(|error| StoreError::duplicate_as(error, "a contact with this address"))?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The tenant's contacts by name.
    pub async fn list_contacts(&self, tenant: TenantId) -> Result<Vec<Contact>, StoreError> {
        let sql = concat!(
            "SELECT ",
            contact_columns!(),
            " FROM contacts WHERE tenant_id = $1 ORDER BY name, email"
        );
        let rows: Vec<ContactRow> = with_reader!(self, pool => {
            sqlx::query_as(sql).bind(tenant).fetch_all(pool).await?
        });
        rows.into_iter().map(Contact::try_from).collect()
    }

    pub async fn contact(&self, tenant: TenantId, id: ContactId) -> Result<Contact, StoreError> {
        let sql = concat!(
            "SELECT ",
            contact_columns!(),
            " FROM contacts WHERE tenant_id = $1 AND id = $2"
        );
        let row: Option<ContactRow> = with_reader!(self, pool => {
            sqlx::query_as(sql)
                .bind(tenant)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Writes a mailing and its recipients together. The contacts must be the tenant's; the
    /// service has loaded them, so they are.
    pub async fn insert_mailing(&self, mailing: &Mailing) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            sqlx::query(
                "INSERT INTO mailings (id, tenant_id, sender_contact_id, subject, body, \
                 message_id, created_at, sent_at) VALUES ($1, $2, $3, $4, $5, NULL, $6, NULL)",
            )
            .bind(mailing.id)
            .bind(mailing.tenant_id)
            .bind(mailing.sender.id)
            .bind(&mailing.subject)
            .bind(&mailing.body)
            .bind(mailing.created_at.0)
            .execute(&mut *transaction)
            .await?;
            for (position, contact) in mailing.recipients.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO mailing_recipients (mailing_id, contact_id, position) \
                     VALUES ($1, $2, $3)",
                )
                .bind(mailing.id)
                .bind(contact.id)
                .bind(i64::try_from(position).unwrap_or(i64::MAX))
                .execute(&mut *transaction)
                .await?;
            }
            transaction.commit().await?;
        });
        Ok(())
    }

    /// The tenant's newest mailings, newest first.
    pub async fn list_mailings(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<Mailing>, StoreError> {
        let page = self
            .mailing_page(
                tenant,
                &MailingFilter::default(),
                &PageRequest::first(limit),
            )
            .await?;
        Ok(page.items)
    }

    pub async fn mailing(&self, tenant: TenantId, id: MailingId) -> Result<Mailing, StoreError> {
        let sql = "SELECT sender_contact_id, subject, body, message_id, created_at, sent_at \
                   FROM mailings WHERE tenant_id = $1 AND id = $2";
        let row: Option<MailingRow> = with_reader!(self, pool => {
            sqlx::query_as(sql)
                .bind(tenant)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        let row = row.ok_or(StoreError::NotFound)?;
        let recipients_sql = "SELECT c.id, c.tenant_id, c.name, c.email, c.created_at \
             FROM mailing_recipients r JOIN contacts c ON c.id = r.contact_id \
             WHERE r.mailing_id = $1 AND c.tenant_id = $2 ORDER BY r.position";
        let recipients: Vec<ContactRow> = with_reader!(self, pool => {
            sqlx::query_as(recipients_sql)
                .bind(id)
                .bind(tenant)
                .fetch_all(pool)
                .await?
        });
        Ok(Mailing {
            id,
            tenant_id: tenant,
            sender: self.contact(tenant, row.sender_contact_id).await?,
            recipients: recipients
                .into_iter()
                .map(Contact::try_from)
                .collect::<Result<_, _>>()?,
            subject: row.subject,
            body: row.body,
            message_id: row.message_id,
            created_at: Timestamp(row.created_at),
            sent_at: row.sent_at.map(Timestamp),
        })
    }

    /// Records the queued message of one recipient of a mailing; false when the recipient
    /// already had one (or the mailing is not the tenant's), so a repeated send is detected
    /// rather than recorded.
    pub async fn record_mailing_message(
        &self,
        tenant: TenantId,
        id: MailingId,
        contact: ContactId,
        message: MessageId,
    ) -> Result<bool, StoreError> {
        let updated = with_writer!(self, pool => {
            sqlx::query(
                "UPDATE mailing_recipients SET message_id = $1 \
                 WHERE mailing_id = $2 AND contact_id = $3 AND message_id IS NULL \
                 AND mailing_id IN (SELECT id FROM mailings WHERE tenant_id = $4)",
            )
            .bind(message)
            .bind(id)
            .bind(contact)
            .bind(tenant)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Each recipient contact of a mailing that has its queued message, with that message, in
    /// the mailing's order of recipients.
    pub async fn mailing_messages(
        &self,
        tenant: TenantId,
        id: MailingId,
    ) -> Result<Vec<(ContactId, MessageId)>, StoreError> {
        let sql = "SELECT r.contact_id, r.message_id FROM mailing_recipients r \
                   JOIN mailings m ON m.id = r.mailing_id \
                   WHERE m.tenant_id = $1 AND r.mailing_id = $2 AND r.message_id IS NOT NULL \
                   ORDER BY r.position";
        let rows: Vec<(ContactId, MessageId)> = with_reader!(self, pool => {
            sqlx::query_as(sql).bind(tenant).bind(id).fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// Records that a mailing was sent, with its first recipient's message; false when it was
    /// already marked, so a second send is detected rather than recorded.
    pub async fn mark_mailing_sent(
        &self,
        tenant: TenantId,
        id: MailingId,
        message: MessageId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let updated = with_writer!(self, pool => {
            sqlx::query(
                "UPDATE mailings SET message_id = $1, sent_at = $2 \
                 WHERE tenant_id = $3 AND id = $4 AND message_id IS NULL",
            )
            .bind(message)
            .bind(now.0)
            .bind(tenant)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated == 1)
    }
}
