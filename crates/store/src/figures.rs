//! Counts for the dashboard: how the recipients of a tenant's recent messages fared.

use sealpost_domain::{TenantId, Timestamp};

use crate::{Store, StoreError, with_reader};

/// Read through `recipients_tenant_accepted_state` alone (migration 0028): the recipients carry
/// their message's acceptance time, so no message and no recipient row is read.
pub(crate) const RECIPIENT_STATES_SQL: &str = "SELECT state, COUNT(*) FROM recipients \
     WHERE tenant_id = $1 AND accepted_at >= $2 GROUP BY state ORDER BY state";

impl Store {
    /// The number of recipients in each state (`sent`, `deferred`, ...) among the tenant's
    /// messages accepted at or after `since`.
    pub async fn recipient_states_since(
        &self,
        tenant: TenantId,
        since: Timestamp,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(with_reader!(self, pool => {
            sqlx::query_as(RECIPIENT_STATES_SQL)
            .bind(tenant)
            .bind(since.0)
            .fetch_all(pool)
            .await?
        }))
    }
}
