//! A tenant's suppression list (SPEC S10.3): entries added one by one or many in one transaction,
//! read, looked up for a submission's recipients, and removed. Every query takes the tenant.

use sealpost_domain::{
    MessageId, SuppressedAddress, Suppression, SuppressionReason, TenantId, Timestamp,
};

use crate::paging::placeholders;
use crate::rows::corrupt;
use crate::{Store, StoreError, with_reader, with_writer};

#[derive(sqlx::FromRow)]
struct SuppressionRow {
    tenant_id: TenantId,
    address: String,
    reason: String,
    message_id: Option<MessageId>,
    detail: String,
    created_at: i64,
}

impl TryFrom<SuppressionRow> for Suppression {
    type Error = StoreError;

    fn try_from(row: SuppressionRow) -> Result<Self, StoreError> {
        Ok(Suppression {
            tenant_id: row.tenant_id,
            address: SuppressedAddress::parse(&row.address)
                .map_err(|_| corrupt("suppressed address", &row.address))?,
            reason: SuppressionReason::parse(&row.reason)
                .ok_or_else(|| corrupt("suppression reason", &row.reason))?,
            message_id: row.message_id,
            detail: row.detail,
            created_at: Timestamp(row.created_at),
        })
    }
}

/// The longest recipient list whose lookup stays prepared on a connection: submissions read
/// together ask for at most this many addresses at once.
pub const KEPT_LIST_LENGTH: usize = 8;

/// A row of [`Store::sending_version_and_suppressions`]: the tenant's sending version, and an
/// entry of its list or, where none of the addresses is on it, nothing.
#[derive(sqlx::FromRow)]
struct VersionedRow {
    version: i64,
    address: Option<String>,
    reason: Option<String>,
    message_id: Option<MessageId>,
    detail: Option<String>,
    created_at: Option<i64>,
}

impl VersionedRow {
    fn entry(self, tenant_id: TenantId) -> Option<SuppressionRow> {
        Some(SuppressionRow {
            tenant_id,
            address: self.address?,
            reason: self.reason?,
            message_id: self.message_id,
            detail: self.detail?,
            created_at: self.created_at?,
        })
    }
}

/// The columns read into a [`Suppression`], as a macro so that queries stay literals.
macro_rules! columns {
    () => {
        "tenant_id, address, reason, message_id, detail, created_at"
    };
}

/// Inserts one entry inside the caller's transaction, keeping an entry the tenant already has
/// for the address (its first cause stays the one shown). Evaluates to the number of rows
/// inserted (0 or 1). A macro because each backend's transaction is its own type.
macro_rules! insert_suppression {
    ($transaction:expr, $entry:expr) => {{
        let entry: &sealpost_domain::Suppression = $entry;
        sqlx::query(
            "INSERT INTO suppressions (tenant_id, address, reason, message_id, detail, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, address) DO NOTHING",
        )
        .bind(entry.tenant_id)
        .bind(entry.address.as_str())
        .bind(entry.reason.as_str())
        .bind(entry.message_id)
        .bind(&entry.detail)
        .bind(entry.created_at.0)
        .execute(&mut *$transaction)
        .await
        .map(|done| done.rows_affected())
    }};
}
pub(crate) use insert_suppression;

impl Store {
    /// Adds entries to the tenant's list in one transaction: all are stored or none is. An
    /// address already on the list keeps its entry. Returns how many were new. Every entry must
    /// be the tenant's; one that is not is refused before anything is written.
    pub async fn add_suppressions(
        &self,
        tenant: TenantId,
        entries: &[Suppression],
    ) -> Result<u64, StoreError> {
        if let Some(foreign) = entries.iter().find(|entry| entry.tenant_id != tenant) {
            return Err(StoreError::Corrupt(format!(
                "a suppression of another tenant for {}",
                foreign.address
            )));
        }
        let added = with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            let mut added = 0;
            for entry in entries {
                added += insert_suppression!(transaction, entry)?;
            }
            transaction.commit().await?;
            added
        });
        Ok(added)
    }

    /// The tenant's entry for the address, if it has one.
    pub async fn suppression(
        &self,
        tenant: TenantId,
        address: &SuppressedAddress,
    ) -> Result<Option<Suppression>, StoreError> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM suppressions WHERE tenant_id = $1 AND address = $2"
        );
        let row: Option<SuppressionRow> = with_reader!(self, pool => {
            sqlx::query_as(sql)
                .bind(tenant)
                .bind(address.as_str())
                .fetch_optional(pool)
                .await?
        });
        row.map(Suppression::try_from).transpose()
    }

    /// What a submission reads of its tenant, in one statement: its sending version (as
    /// [`Store::sending_version`] reads it) and its entries for those of `addresses` that are on
    /// its list. With `api_key` (the hash of the token the submission came with) the same
    /// statement confirms that the key is still one of the tenant's, so a node that remembers
    /// which tenant a token belongs to need not read the key apart. `NotFound` when the tenant
    /// does not exist or the key is not one of its keys.
    pub async fn sending_version_and_suppressions(
        &self,
        tenant: TenantId,
        api_key: Option<&str>,
        addresses: &[SuppressedAddress],
    ) -> Result<(i64, Vec<Suppression>), StoreError> {
        // The tenant's row, once with each entry found or once with none (the left join). An
        // empty list is `IN (NULL)`, which matches nothing, as `IN ()` is not PostgreSQL.
        let list = match addresses.len() {
            0 => "NULL".to_owned(),
            count => placeholders(3, count),
        };
        let (version, versions) = self.sending_version_source();
        let sql = format!(
            "SELECT {version} AS version, suppressions.address, suppressions.reason, \
             suppressions.message_id, suppressions.detail, suppressions.created_at \
             FROM tenants{versions} LEFT JOIN suppressions \
             ON suppressions.tenant_id = tenants.id AND suppressions.address IN ({list}) \
             WHERE tenants.id = $1 AND ($2 IS NULL OR EXISTS (SELECT 1 FROM api_keys \
             WHERE api_keys.token_hash = $2 AND api_keys.tenant_id = tenants.id))"
        );
        // Messages to a few recipients, the usual case, reuse a prepared statement per count;
        // a longer list is prepared for its one use, rather than pushing the statements that
        // every request runs out of the connection's cache.
        let kept = addresses.len() <= KEPT_LIST_LENGTH;
        let rows: Vec<VersionedRow> = with_reader!(self, pool => {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .persistent(kept)
                .bind(tenant)
                .bind(api_key);
            for address in addresses {
                query = query.bind(address.as_str());
            }
            query.fetch_all(pool).await?
        });
        let version = rows.first().ok_or(StoreError::NotFound)?.version;
        let entries = rows
            .into_iter()
            .filter_map(|row| row.entry(tenant))
            .map(Suppression::try_from)
            .collect::<Result<_, _>>()?;
        Ok((version, entries))
    }

    /// The tenant's whole list, by address.
    pub async fn list_suppressions(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<Suppression>, StoreError> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM suppressions WHERE tenant_id = $1 ORDER BY address"
        );
        let rows: Vec<SuppressionRow> = with_reader!(self, pool => {
            sqlx::query_as(sql).bind(tenant).fetch_all(pool).await?
        });
        rows.into_iter().map(Suppression::try_from).collect()
    }

    /// Takes an address off the tenant's list; `NotFound` when it is not on it.
    pub async fn remove_suppression(
        &self,
        tenant: TenantId,
        address: &SuppressedAddress,
    ) -> Result<(), StoreError> {
        let removed = with_writer!(self, pool => {
            sqlx::query("DELETE FROM suppressions WHERE tenant_id = $1 AND address = $2")
                .bind(tenant)
                .bind(address.as_str())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if removed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
