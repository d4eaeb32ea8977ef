//! Tenants and their API keys. Creating and listing tenants is the operator's business; an API
//! key resolves to exactly one tenant, which then scopes every other call.

use sealpost_domain::{ApiKeyId, Tenant, TenantId, TenantName, Timestamp};

use crate::rows::TenantRow;
use crate::{Store, StoreError, with_reader, with_writer};

/// An API key as listed: never the token itself, which is shown once at creation and stored
/// only as a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    pub id: ApiKeyId,
    pub label: String,
    pub created_at: Timestamp,
}

impl Store {
    pub async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            sqlx::query(
                "INSERT INTO tenants (id, name, display_name, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(tenant.id)
            .bind(tenant.name.as_str())
            .bind(&tenant.display_name)
            .bind(tenant.created_at.0)
            .execute(pool)
            .await
            .map_err(|error| StoreError::duplicate_as(error, "a tenant with this name"))?;
        });
        Ok(())
    }

    pub async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows: Vec<TenantRow> = with_reader!(self, pool => {
            sqlx::query_as("SELECT id, name, display_name, created_at FROM tenants ORDER BY name")
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(Tenant::try_from).collect()
    }

    pub async fn tenant(&self, tenant: TenantId) -> Result<Tenant, StoreError> {
        let row: Option<TenantRow> = with_reader!(self, pool => {
            sqlx::query_as("SELECT id, name, display_name, created_at FROM tenants WHERE id = $1")
                .bind(tenant)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// The number every change to the tenant's sending configuration raises (its sending
    /// domains, signing domains with their keys and findings, return paths and delivery
    /// settings: the tables of migration 0029's triggers), so that a copy of that configuration
    /// read after the number is current while the number is unchanged. `NotFound` when the
    /// tenant does not exist.
    pub async fn sending_version(&self, tenant: TenantId) -> Result<i64, StoreError> {
        let (version, join) = self.sending_version_source();
        let sql = format!("SELECT {version} FROM tenants{join} WHERE tenants.id = $1");
        let version: Option<i64> = with_reader!(self, pool => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                .bind(tenant)
                .fetch_optional(pool)
                .await?
        });
        version.ok_or(StoreError::NotFound)
    }

    /// Where a tenant's sending version is read beside its row in `tenants`: the expression,
    /// and the join it needs. SQLite keeps the number on the tenant's row; PostgreSQL in a
    /// table of its own, which has no row until the first change (PostgreSQL's migration 0029
    /// says why). Constant text, so the statements built with it hold no input.
    pub(crate) fn sending_version_source(&self) -> (&'static str, &'static str) {
        match self {
            Store::Sqlite(_) => ("tenants.sending_version", ""),
            Store::Postgres(_) => (
                "COALESCE(sending_versions.version, 0)",
                " LEFT JOIN sending_versions ON sending_versions.tenant_id = tenants.id",
            ),
        }
    }

    pub async fn tenant_by_name(&self, name: &TenantName) -> Result<Tenant, StoreError> {
        let row: Option<TenantRow> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT id, name, display_name, created_at FROM tenants WHERE name = $1",
            )
            .bind(name.as_str())
            .fetch_optional(pool)
            .await?
        });
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Records a tenant's API key by the hash of its token.
    pub async fn add_api_key(
        &self,
        tenant: TenantId,
        key: &ApiKeyInfo,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        let inserted = with_writer!(self, pool => {
            sqlx::query(
                "INSERT INTO api_keys (id, tenant_id, label, token_hash, created_at) \
                 SELECT $1, id, $2, $3, $4 FROM tenants WHERE id = $5",
            )
            .bind(key.id)
            .bind(&key.label)
            .bind(token_hash)
            .bind(key.created_at.0)
            .bind(tenant)
            .execute(pool)
            .await
            .map_err(|error| StoreError::duplicate_as(error, "an API key with this token"))?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKeyInfo>, StoreError> {
        let rows: Vec<(ApiKeyId, String, i64)> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT id, label, created_at FROM api_keys WHERE tenant_id = $1 ORDER BY id",
            )
            .bind(tenant)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, label, created_at)| ApiKeyInfo {
                id,
                label,
                created_at: Timestamp(created_at),
            })
            .collect())
    }

    /// Revokes one of the tenant's API keys; its token stops working at once.
    pub async fn delete_api_key(&self, tenant: TenantId, key: ApiKeyId) -> Result<(), StoreError> {
        let deleted = with_writer!(self, pool => {
            sqlx::query("DELETE FROM api_keys WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(key)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The tenant an API key token (given as its hash) belongs to, if any, read with the key in
    /// one statement: every API request but a submission reads it, as do SMTP's AUTH, a node's
    /// first submission with the key, and a replayed Idempotency-Key.
    pub async fn tenant_for_api_key(&self, token_hash: &str) -> Result<Option<Tenant>, StoreError> {
        let row: Option<TenantRow> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT t.id, t.name, t.display_name, t.created_at \
                 FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        });
        row.map(Tenant::try_from).transpose()
    }
}
