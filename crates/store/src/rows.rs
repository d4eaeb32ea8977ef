//! Rows as the database holds them, and their conversion into domain types. A row that does not
//! convert is reported as corrupt rather than silently skipped.

use sealpost_domain::{
    DomainName, KeyId, KeyOrigin, Selector, SigningDomain, SigningDomainId, SigningKey, Tenant,
    TenantId, TenantName, Timestamp,
};

use crate::StoreError;

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

#[derive(sqlx::FromRow)]
pub(crate) struct TenantRow {
    id: TenantId,
    name: String,
    display_name: String,
    created_at: i64,
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

/// The columns of `signing_domains` that may be read into a [`SigningDomain`]. The sealed key
/// columns are deliberately absent; they are read only by [`crate::Store::sealed_key`].
/// A macro rather than a constant so that queries stay `&'static str` literals built by
/// `concat!`, which sqlx accepts as audited SQL.
macro_rules! signing_domain_columns {
    () => {
        "id, tenant_id, domain, selector, active, version, created_at, updated_at, key_id, \
         key_public_der, key_bits, key_origin, key_created_at"
    };
}
pub(crate) use signing_domain_columns;

#[derive(sqlx::FromRow)]
pub(crate) struct SigningDomainRow {
    id: SigningDomainId,
    tenant_id: TenantId,
    domain: String,
    selector: String,
    active: bool,
    version: i64,
    created_at: i64,
    updated_at: i64,
    key_id: Option<KeyId>,
    key_public_der: Option<Vec<u8>>,
    key_bits: Option<i64>,
    key_origin: Option<String>,
    key_created_at: Option<i64>,
}

impl TryFrom<SigningDomainRow> for SigningDomain {
    type Error = StoreError;

    fn try_from(row: SigningDomainRow) -> Result<Self, StoreError> {
        let key = match (
            row.key_id,
            row.key_public_der,
            row.key_bits,
            row.key_origin,
            row.key_created_at,
        ) {
            (None, None, None, None, None) => None,
            (Some(id), Some(public_key_der), Some(bits), Some(origin), Some(created_at)) => {
                Some(SigningKey {
                    id,
                    public_key_der,
                    bits: u32::try_from(bits)
                        .map_err(|_| corrupt("key bits", &bits.to_string()))?,
                    origin: KeyOrigin::parse(&origin)
                        .ok_or_else(|| corrupt("key origin", &origin))?,
                    created_at: Timestamp(created_at),
                })
            }
            _ => {
                return Err(corrupt(
                    "signing domain key columns of",
                    &row.id.to_string(),
                ));
            }
        };
        Ok(SigningDomain {
            id: row.id,
            tenant_id: row.tenant_id,
            domain: DomainName::parse(&row.domain).map_err(|_| corrupt("domain", &row.domain))?,
            selector: Selector::parse(&row.selector)
                .map_err(|_| corrupt("selector", &row.selector))?,
            active: row.active,
            key,
            version: row.version,
            created_at: Timestamp(row.created_at),
            updated_at: Timestamp(row.updated_at),
        })
    }
}
