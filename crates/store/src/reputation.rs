//! The facts of the reputation guard (SPEC S10.5): a tenant's sending figures over a window,
//! read from its hourly counts (`sending_counts.rs`), and its standing: paused (with the
//! reason) or warned. A paused tenant's recipients are not claimed (`claims.rs`): pausing
//! marks its waiting mail held and resuming releases it (`held_mail.rs`). Resuming records the
//! pause it ends, and a message's expiry is read with the paused time after its acceptance added
//! (migration 0039), so that a pause loses no mail. A tenant being deleted is neither paused nor
//! resumed: its mail goes with it.

use sealpost_domain::{SendingFigures, TenantId, Timestamp};

use crate::held_mail::PAUSE_LOCK_SQL;
use crate::sending_counts;
use crate::write_transaction::BeginWrite;
use crate::{Store, StoreError, with_reader, with_writer};

/// A tenant's standing as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default, sqlx::FromRow)]
pub struct TenantStanding {
    pub sending_paused_at: Option<i64>,
    pub paused_reason: Option<String>,
    pub reputation_warning: Option<String>,
}

/// Records the pause of tenant `$1` from `$2` that a resume ends at `$3`, from no earlier than
/// the end of the pause recorded last, so that recorded pauses never overlap, which the reading
/// of an expiry relies on (`expiry_column!`): a pause is stamped with the time its node read
/// before judging the tenant, which a resume may have passed meanwhile, and nodes' clocks
/// differ. What is left of a pause that lasted no time, or no longer than one recorded already
/// covers, is not recorded and moves no expiry. Resumes of one tenant take their turns (the
/// pause lock, SQLite's writer), so the last end read is the last one recorded.
const RECORD_PAUSE_SQL: &str = "INSERT INTO tenant_pauses (tenant_id, paused_at, resumed_at) \
     SELECT $1, began, $3 FROM (SELECT CASE WHEN last IS NOT NULL AND last > $2 THEN last \
     ELSE $2 END AS began FROM (SELECT MAX(resumed_at) AS last FROM tenant_pauses \
     WHERE tenant_id = $1) AS recorded) AS pause WHERE began < $3";

impl Store {
    /// Recipients sent, bounced and complained about since `since`.
    pub async fn sending_figures(
        &self,
        tenant: TenantId,
        since: Timestamp,
    ) -> Result<SendingFigures, StoreError> {
        let (since, first_whole_hour, first_hour) = sending_counts::window_bounds(since);
        let (sent, bounced, complained): (i64, i64, i64) = with_reader!(self, pool => {
            sqlx::query_as(sending_counts::WINDOW_SQL)
            .bind(tenant)
            .bind(since)
            .bind(first_whole_hour)
            .bind(first_hour)
            .fetch_one(pool)
            .await?
        });
        let count = |count: i64| u64::try_from(count).unwrap_or(0);
        Ok(SendingFigures {
            sent: count(sent),
            bounced: count(bounced),
            complained: count(complained),
        })
    }

    pub async fn tenant_standing(&self, tenant: TenantId) -> Result<TenantStanding, StoreError> {
        let row: Option<TenantStanding> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT sending_paused_at, paused_reason, reputation_warning FROM tenants \
                 WHERE id = $1",
            )
            .bind(tenant)
            .fetch_optional(pool)
            .await?
        });
        row.ok_or(StoreError::NotFound)
    }

    /// Records the warning (or its end); a paused tenant stays paused.
    pub async fn set_reputation_warning(
        &self,
        tenant: TenantId,
        warning: Option<&str>,
    ) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            sqlx::query("UPDATE tenants SET reputation_warning = $1 WHERE id = $2")
                .bind(warning)
                .bind(tenant)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Pauses the tenant's sending with the reason; returns false when it already was paused or
    /// is being deleted. The caller then marks its waiting mail held
    /// ([`Store::hold_waiting_mail`]); a pause cut short before the end of that is finished at
    /// the next start.
    pub async fn pause_sending(
        &self,
        tenant: TenantId,
        at: Timestamp,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let paused = with_writer!(self, pool => {
            sqlx::query(
                "UPDATE tenants SET sending_paused_at = $1, paused_reason = $2, \
                 reputation_warning = NULL \
                 WHERE id = $3 AND sending_paused_at IS NULL AND deleting_since IS NULL",
            )
            .bind(at.0)
            .bind(reason)
            .bind(tenant)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(paused > 0)
    }

    /// Resumes a paused tenant: its held mail is claimable again, and each of its messages
    /// expires later by as much of the pause as came after its acceptance. Returns false when
    /// it was not paused or is being deleted. On PostgreSQL the tenant's pause lock is taken
    /// first (`held_mail.rs`).
    pub async fn resume_sending(
        &self,
        tenant: TenantId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let postgres = matches!(self, Store::Postgres(_));
        let resumed = with_writer!(self, pool => {
            let mut transaction = pool.begin_write().await?;
            if postgres {
                sqlx::query(PAUSE_LOCK_SQL)
                    .bind(tenant)
                    .execute(&mut *transaction)
                    .await?;
            }
            let paused: Option<(Option<i64>,)> =
                sqlx::query_as(
                    "SELECT sending_paused_at FROM tenants WHERE id = $1 AND deleting_since IS NULL",
                )
                    .bind(tenant)
                    .fetch_optional(&mut *transaction)
                    .await?;
            let Some((Some(paused_at),)) = paused else {
                return Ok(false);
            };
            // Only the resume that clears this very pause records it: a second resume at the
            // same moment waits for the pause lock (on SQLite the write lock), then finds the
            // pause gone and changes nothing.
            let cleared = sqlx::query(
                "UPDATE tenants SET sending_paused_at = NULL, paused_reason = NULL \
                 WHERE id = $1 AND sending_paused_at = $2 AND deleting_since IS NULL",
            )
            .bind(tenant)
            .bind(paused_at)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if cleared != 1 {
                return Ok(false);
            }
            crate::held_mail::release_held!(transaction, self, tenant);
            // One row, however much mail waits: each message's expiry counts the paused time
            // after its acceptance when it is read (migration 0039).
            sqlx::query(RECORD_PAUSE_SQL)
                .bind(tenant)
                .bind(paused_at)
                .bind(now.0)
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
            true
        });
        Ok(resumed)
    }
}
