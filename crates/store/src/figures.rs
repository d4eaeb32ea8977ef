//! Counts for the dashboard: how the recipients of a tenant's recent messages fared.

use sealpost_domain::{TenantId, Timestamp};

use crate::{Store, StoreError, with_pool};

impl Store {
    /// The number of recipients in each state (`sent`, `deferred`, ...) among the tenant's
    /// messages accepted at or after `since`.
    pub async fn recipient_states_since(
        &self,
        tenant: TenantId,
        since: Timestamp,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT recipients.state, COUNT(*) FROM recipients \
                 JOIN messages ON messages.id = recipients.message_id \
                 WHERE messages.tenant_id = $1 AND recipients.tenant_id = $1 \
                 AND messages.accepted_at >= $2 \
                 GROUP BY recipients.state ORDER BY recipients.state",
            )
            .bind(tenant)
            .bind(since.0)
            .fetch_all(pool)
            .await?
        }))
    }
}
