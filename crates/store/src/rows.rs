//! Rows as the database holds them, and their conversion into domain types. A row that does not
//! convert is reported as corrupt rather than silently skipped.

use sealpost_domain::{Tenant, TenantId, TenantName, Timestamp};

use crate::StoreError;

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

#[derive(sqlx::FromRow)]
pub(crate) struct TenantRow {
    pub(crate) id: TenantId,
    pub(crate) name: String,
    pub(crate) display_name: String,
    pub(crate) created_at: i64,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;

    fn try_from(row: TenantRow) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: row.id,
            name: TenantName::parse(&row.name).map_err(|_| corrupt("tenant name", &row.name))?,
            display_name: row.display_name,
            created_at: Timestamp(row.created_at),
        })
    }
}
