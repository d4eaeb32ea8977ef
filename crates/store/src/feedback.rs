//! What comes back after delivery (bounces, complaints), recorded: the one place where a
//! recipient's state changes after its attempts, in one transaction with its event and the
//! suppression it causes, so that whatever reads events (the pages, later webhooks) sees each
//! change exactly when it is committed.

use sealpost_domain::{
    MessageId, Recipient, RecipientId, RecipientState, Suppression, TenantId, Timestamp,
};

use crate::message_rows::RecipientRow;
use crate::queue::insert_event;
use crate::suppressions::insert_suppression;
use crate::{Store, StoreError, with_reader, with_writer};

/// One piece of feedback about one recipient, as it is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackChange {
    pub tenant_id: TenantId,
    pub message_id: MessageId,
    pub recipient_id: RecipientId,
    /// The state the recipient was read in; the change applies only if it still is.
    pub from: RecipientState,
    /// The state it moves to, or `None` when the feedback leaves it as it is.
    pub to: Option<RecipientState>,
    /// The event's kind, such as `bounced` or `complained`.
    pub event: &'static str,
    /// What was reported, as the recipient's last reply and the event's detail.
    pub detail: String,
    /// The entry the feedback puts on the tenant's suppression list.
    pub suppression: Option<Suppression>,
    pub at: Timestamp,
}

impl Store {
    /// The tenant of a message, for a link that names only the message (and proves itself by
    /// a tag bound to the tenant, checked by the caller).
    pub async fn message_tenant(&self, message: MessageId) -> Result<Option<TenantId>, StoreError> {
        let found: Option<(TenantId,)> = with_reader!(self, pool => {
            sqlx::query_as("SELECT tenant_id FROM messages WHERE id = $1")
                .bind(message)
                .fetch_optional(pool)
                .await?
        });
        Ok(found.map(|(tenant,)| tenant))
    }

    /// A recipient of the tenant by its id, with its message.
    pub async fn recipient_by_id(
        &self,
        tenant: TenantId,
        recipient: RecipientId,
    ) -> Result<(MessageId, Recipient), StoreError> {
        let found: Option<(MessageId,)> = with_reader!(self, pool => {
            sqlx::query_as("SELECT message_id FROM recipients WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(recipient)
                .fetch_optional(pool)
                .await?
        });
        let (message,) = found.ok_or(StoreError::NotFound)?;
        let row: RecipientRow = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT id, address, domain, state, attempts, next_attempt_at, last_reply, \
                 updated_at FROM recipients WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant)
            .bind(recipient)
            .fetch_one(pool)
            .await?
        });
        Ok((message, Recipient::try_from(row)?))
    }

    /// Commits the change, its event and its suppression in one transaction. Returns false,
    /// committing nothing, when the recipient is no longer in the state it was read in (another
    /// report or an attempt moved it meanwhile); the caller reads it again.
    pub async fn record_feedback(&self, change: &FeedbackChange) -> Result<bool, StoreError> {
        let recorded = with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            let state = change.to.unwrap_or(change.from);
            let updated = sqlx::query(
                "UPDATE recipients SET state = $1, \
                 last_reply = CASE WHEN $2 THEN $3 ELSE last_reply END, updated_at = $4 \
                 WHERE tenant_id = $5 AND id = $6 AND state = $7",
            )
            .bind(state.as_str())
            .bind(change.to.is_some())
            .bind(&change.detail)
            .bind(change.at.0)
            .bind(change.tenant_id)
            .bind(change.recipient_id)
            .bind(change.from.as_str())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if updated == 0 {
                false
            } else {
                insert_event!(transaction, change.tenant_id, change.message_id, Some(change.recipient_id), change.event, &change.detail, change.at)?;
                if let Some(entry) = &change.suppression {
                    insert_suppression!(transaction, entry)?;
                }
                transaction.commit().await?;
                true
            }
        });
        Ok(recorded)
    }
}
