//! Return-path domains: set per tenant and signing domain, found by the domain (the inbound
//! listener learns the tenant from it), marked verified by a DNS check, and removed.

use sealpost_domain::{DomainName, ReturnPath, TenantId, Timestamp};

use crate::paging::{LIST_CHUNK, padded, placeholders};
use crate::rows::corrupt;
use crate::{Store, StoreError, with_reader, with_writer};

#[derive(sqlx::FromRow)]
struct ReturnPathRow {
    tenant_id: TenantId,
    domain: String,
    return_path: String,
    created_at: i64,
    verified_at: Option<i64>,
}

impl TryFrom<ReturnPathRow> for ReturnPath {
    type Error = StoreError;

    fn try_from(row: ReturnPathRow) -> Result<Self, StoreError> {
        Ok(ReturnPath {
            tenant_id: row.tenant_id,
            domain: DomainName::parse(&row.domain).map_err(|_| corrupt("domain", &row.domain))?,
            return_path: DomainName::parse(&row.return_path)
                .map_err(|_| corrupt("return-path domain", &row.return_path))?,
            created_at: Timestamp(row.created_at),
            verified_at: row.verified_at.map(Timestamp),
        })
    }
}

macro_rules! columns {
    () => {
        "tenant_id, domain, return_path, created_at, verified_at"
    };
}

impl Store {
    /// Sets the return path of the tenant's signing domain, replacing one it had (a new one is
    /// unverified). A return-path domain another tenant uses is [`StoreError::Duplicate`].
    pub async fn set_return_path(&self, entry: &ReturnPath) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            sqlx::query("DELETE FROM return_paths WHERE tenant_id = $1 AND domain = $2")
                .bind(entry.tenant_id)
                .bind(entry.domain.as_str())
                .execute(&mut *transaction)
                .await?;
            sqlx::query(
                "INSERT INTO return_paths (tenant_id, domain, return_path, created_at, \
                 verified_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(entry.tenant_id)
            .bind(entry.domain.as_str())
            .bind(entry.return_path.as_str())
            .bind(entry.created_at.0)
            .bind(entry.verified_at.map(|at| at.0))
            .execute(&mut *transaction)
            .await
            .map_err(|error| StoreError::duplicate_as(error, "that return-path domain"))?;
            transaction.commit().await?;
        });
        Ok(())
    }

    /// The return path of the tenant's signing domain `domain`.
    pub async fn return_path(
        &self,
        tenant: TenantId,
        domain: &DomainName,
    ) -> Result<Option<ReturnPath>, StoreError> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM return_paths WHERE tenant_id = $1 AND domain = $2"
        );
        let row: Option<ReturnPathRow> = with_reader!(self, pool => {
            sqlx::query_as(sql)
                .bind(tenant)
                .bind(domain.as_str())
                .fetch_optional(pool)
                .await?
        });
        row.map(ReturnPath::try_from).transpose()
    }

    /// Every return path of the tenant, by signing domain.
    pub async fn list_return_paths(&self, tenant: TenantId) -> Result<Vec<ReturnPath>, StoreError> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM return_paths WHERE tenant_id = $1 ORDER BY domain"
        );
        let rows: Vec<ReturnPathRow> = with_reader!(self, pool => {
            sqlx::query_as(sql).bind(tenant).fetch_all(pool).await?
        });
        rows.into_iter().map(ReturnPath::try_from).collect()
    }

    /// The verified return paths of `tenants`, in one statement per 512 tenants: what a
    /// delivery round sends their native signed mail with.
    pub async fn verified_return_paths(
        &self,
        tenants: &[TenantId],
    ) -> Result<Vec<ReturnPath>, StoreError> {
        let mut entries = Vec::new();
        for chunk in tenants.chunks(LIST_CHUNK) {
            let sql = format!(
                concat!(
                    "SELECT ",
                    columns!(),
                    " FROM return_paths WHERE verified_at IS NOT NULL AND tenant_id IN ({})"
                ),
                placeholders(1, chunk.len().next_power_of_two())
            );
            let rows: Vec<ReturnPathRow> = with_reader!(self, pool => {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                for tenant in padded(chunk) {
                    query = query.bind(tenant);
                }
                query.fetch_all(pool).await?
            });
            for row in rows {
                entries.push(ReturnPath::try_from(row)?);
            }
        }
        Ok(entries)
    }

    /// The entry of whichever tenant uses the return-path domain: the one lookup across
    /// tenants, because mail arriving for the domain names no tenant but by it.
    pub async fn return_path_by_domain(
        &self,
        return_path: &DomainName,
    ) -> Result<Option<ReturnPath>, StoreError> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM return_paths WHERE return_path = $1"
        );
        let row: Option<ReturnPathRow> = with_reader!(self, pool => {
            sqlx::query_as(sql)
                .bind(return_path.as_str())
                .fetch_optional(pool)
                .await?
        });
        row.map(ReturnPath::try_from).transpose()
    }

    /// Records the outcome of a DNS check: verified now, or not (`None`).
    pub async fn mark_return_path(
        &self,
        tenant: TenantId,
        domain: &DomainName,
        verified_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let updated = with_writer!(self, pool => {
            sqlx::query(
                "UPDATE return_paths SET verified_at = $1 WHERE tenant_id = $2 AND domain = $3",
            )
            .bind(verified_at.map(|at| at.0))
            .bind(tenant)
            .bind(domain.as_str())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn remove_return_path(
        &self,
        tenant: TenantId,
        domain: &DomainName,
    ) -> Result<(), StoreError> {
        let removed = with_writer!(self, pool => {
            sqlx::query("DELETE FROM return_paths WHERE tenant_id = $1 AND domain = $2")
                .bind(tenant)
                .bind(domain.as_str())
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
