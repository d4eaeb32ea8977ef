//! The key records Sealpost serves in its own DKIM zone (SPEC S11.4): every pending, active and
//! retiring key of every tenant, so mail signed with any of them verifies and a pending key's
//! record can be checked before it is promoted. Retired keys and the keys of a tenant being
//! deleted are not served. This spans tenants by design: the zone is the platform's, and each
//! row carries its tenant, which the served name includes.

use sealpost_domain::{DomainName, KeyAlgorithm, Selector, TenantId, Timestamp};

use crate::{Store, StoreError, with_reader};

/// One key record to serve: whose, under which domain and selector, and the public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedKey {
    pub tenant_id: TenantId,
    pub domain: DomainName,
    pub selector: Selector,
    pub algorithm: KeyAlgorithm,
    /// SubjectPublicKeyInfo DER.
    pub public_der: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct Row {
    tenant_id: TenantId,
    domain: String,
    selector: String,
    algorithm: String,
    public_der: Vec<u8>,
}

impl Store {
    /// Every key whose record the DKIM zone serves now, in no particular order.
    pub async fn served_dkim_keys(&self) -> Result<Vec<ServedKey>, StoreError> {
        let rows: Vec<Row> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT k.tenant_id, d.domain, k.selector, k.algorithm, k.public_der \
                 FROM signing_keys k \
                 JOIN signing_domains d ON d.id = k.signing_domain_id AND d.tenant_id = k.tenant_id \
                 JOIN tenants t ON t.id = k.tenant_id \
                 WHERE k.state IN ('pending', 'active', 'retiring') \
                   AND t.deleting_since IS NULL",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(served_key).collect()
    }

    /// The number that every change to what the zone serves raises (migration 0035), so that
    /// the zone reads its keys again only when it moved: one row, where the keys are every key
    /// of every tenant.
    pub async fn dkim_zone_version(&self) -> Result<i64, StoreError> {
        Ok(with_reader!(self, pool => {
            sqlx::query_scalar("SELECT version FROM dkim_zone_version WHERE id = 1")
                .fetch_one(pool)
                .await?
        }))
    }

    /// The time of the newest change to what the zone serves: the newest state change of any
    /// key (retired ones too, since retiring removes a record) or start of a tenant's deletion.
    /// Every node reads the same time from the same database, so it serves as the zone's serial.
    pub async fn dkim_zone_newest_change(&self) -> Result<Timestamp, StoreError> {
        let newest: Option<i64> = with_reader!(self, pool => {
            sqlx::query_scalar(
                "SELECT max(changed) FROM ( \
                   SELECT max(state_since) AS changed FROM signing_keys \
                   UNION ALL SELECT max(deleting_since) FROM tenants \
                 ) AS changes",
            )
            .fetch_one(pool)
            .await?
        });
        Ok(Timestamp(newest.unwrap_or(0)))
    }
}

fn served_key(row: Row) -> Result<ServedKey, StoreError> {
    let corrupt = |what: &str, value: &str| {
        StoreError::Corrupt(format!("{what} {value:?} of a served DKIM key"))
    };
    Ok(ServedKey {
        tenant_id: row.tenant_id,
        domain: DomainName::parse(&row.domain).map_err(|_| corrupt("domain", &row.domain))?,
        selector: Selector::parse(&row.selector).map_err(|_| corrupt("selector", &row.selector))?,
        algorithm: KeyAlgorithm::parse(&row.algorithm)
            .ok_or_else(|| corrupt("algorithm", &row.algorithm))?,
        public_der: row.public_der,
    })
}
