//! A tenant's signing domains: adding, reading (each with its keys), the selector, deleting, and
//! the domains due for their scheduled DNS re-check. Keys and every change of state are in
//! [`crate::signing_keys`].

use sealpost_domain::{DomainName, Selector, SigningDomain, SigningDomainId, TenantId, Timestamp};

use crate::domain_records::{RecordRow, domain_record_columns};
use crate::rows::corrupt;
use crate::signing_domain_rows::{
    SigningDomainRow, SigningKeyRow, assemble, signing_domain_columns, signing_key_columns,
};
use crate::{Store, StoreError, with_reader, with_writer};

const DUPLICATE: &str = "a signing domain with this domain and selector";

impl Store {
    /// Adds a signing domain (without a key). Fails with `NotFound` when the tenant does not
    /// exist and with `Duplicate` when the tenant already has this domain and selector.
    pub async fn insert_signing_domain(
        &self,
        tenant: TenantId,
        domain: &SigningDomain,
    ) -> Result<(), StoreError> {
        let inserted = with_writer!(self, pool => {
            sqlx::query(
                "INSERT INTO signing_domains \
                 (id, tenant_id, domain, selector, active, version, created_at, updated_at, \
                  dns_state, dns_state_since, dns_next_check_at) \
                 SELECT $1, id, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM tenants WHERE id = $11",
            )
            .bind(domain.id)
            .bind(domain.domain.as_str())
            .bind(domain.selector.as_str())
            .bind(domain.active)
            .bind(domain.version)
            .bind(domain.created_at.0)
            .bind(domain.updated_at.0)
            .bind(domain.dns.state.as_str())
            .bind(domain.dns.since.0)
            .bind(domain.dns.next_check_at.0)
            .bind(tenant)
            .execute(pool)
            .await
            .map_err(|error| StoreError::duplicate_as(error, DUPLICATE))?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn list_signing_domains(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<SigningDomain>, StoreError> {
        let domains_sql = concat!(
            "SELECT ",
            signing_domain_columns!(),
            " FROM signing_domains WHERE tenant_id = $1 ORDER BY domain, selector"
        );
        let keys_sql = concat!(
            "SELECT ",
            signing_key_columns!(),
            " FROM signing_keys WHERE tenant_id = $1"
        );
        let records_sql = concat!(
            "SELECT ",
            domain_record_columns!(),
            " FROM signing_domain_records WHERE tenant_id = $1"
        );
        let (rows, keys, records): (Vec<SigningDomainRow>, Vec<SigningKeyRow>, Vec<RecordRow>) = with_reader!(self, pool => {
            let rows = sqlx::query_as(domains_sql).bind(tenant).fetch_all(pool).await?;
            let keys = sqlx::query_as(keys_sql).bind(tenant).fetch_all(pool).await?;
            let records = sqlx::query_as(records_sql).bind(tenant).fetch_all(pool).await?;
            (rows, keys, records)
        });
        assemble(rows, keys, records)
    }

    pub async fn signing_domain(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<SigningDomain, StoreError> {
        let domain_sql = concat!(
            "SELECT ",
            signing_domain_columns!(),
            " FROM signing_domains WHERE tenant_id = $1 AND id = $2"
        );
        let keys_sql = concat!(
            "SELECT ",
            signing_key_columns!(),
            " FROM signing_keys WHERE tenant_id = $1 AND signing_domain_id = $2"
        );
        let records_sql = concat!(
            "SELECT ",
            domain_record_columns!(),
            " FROM signing_domain_records WHERE tenant_id = $1 AND signing_domain_id = $2"
        );
        type Rows = (Option<SigningDomainRow>, Vec<SigningKeyRow>, Vec<RecordRow>);
        // The three reads need only the ids the caller has: they run at once, on three of the
        // pool's connections, so a domain's page waits for the slowest of them only.
        let (row, keys, records): Rows = with_reader!(self, pool => {
            tokio::try_join!(
                sqlx::query_as(domain_sql)
                    .bind(tenant)
                    .bind(id)
                    .fetch_optional(pool),
                sqlx::query_as(keys_sql)
                    .bind(tenant)
                    .bind(id)
                    .fetch_all(pool),
                sqlx::query_as(records_sql)
                    .bind(tenant)
                    .bind(id)
                    .fetch_all(pool),
            )?
        });
        let row = row.ok_or(StoreError::NotFound)?;
        Ok(assemble(vec![row], keys, records)?.remove(0))
    }

    /// Changes the selector of a domain that has no key yet, bumping the version. A domain that
    /// has a key (of any state) keeps its selector, because the key's record is published under
    /// it: `Changed` then.
    pub async fn set_signing_domain_selector(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        selector: &Selector,
        now: Timestamp,
    ) -> Result<SigningDomain, StoreError> {
        let updated = with_writer!(self, pool => {
            sqlx::query(
                "UPDATE signing_domains SET selector = $1, version = version + 1, updated_at = $2 \
                 WHERE tenant_id = $3 AND id = $4 AND NOT EXISTS \
                 (SELECT 1 FROM signing_keys WHERE signing_domain_id = $4)",
            )
            .bind(selector.as_str())
            .bind(now.0)
            .bind(tenant)
            .bind(id)
            .execute(pool)
            .await
            .map_err(|error| StoreError::duplicate_as(error, DUPLICATE))?
            .rows_affected()
        });
        let domain = self.signing_domain(tenant, id).await?;
        if updated == 0 {
            return Err(StoreError::Changed("the domain has a key"));
        }
        Ok(domain)
    }

    pub async fn delete_signing_domain(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<(), StoreError> {
        let deleted = with_writer!(self, pool => {
            sqlx::query("DELETE FROM signing_domains WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// How many recipients still wait for delivery of messages of `tenant` signed by `domain`
    /// under any of `selectors`.
    pub async fn unfinished_signed_with(
        &self,
        tenant: TenantId,
        domain: &DomainName,
        selectors: &[Selector],
    ) -> Result<u64, StoreError> {
        let mut total = 0;
        for selector in selectors {
            total += self
                .key_drain(
                    tenant,
                    domain,
                    Some(selector),
                    Timestamp(i64::MIN),
                    Timestamp(i64::MAX),
                )
                .await?
                .0;
        }
        Ok(total)
    }

    /// The signing domains of every tenant whose scheduled DNS re-check is due at `now`, the
    /// most overdue first: the platform's own work, so it spans tenants, and each row carries its
    /// tenant for what follows.
    pub async fn due_signing_domains(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<(TenantId, SigningDomainId, DomainName)>, StoreError> {
        let rows: Vec<(TenantId, SigningDomainId, String)> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT tenant_id, id, domain FROM signing_domains WHERE dns_next_check_at <= $1 \
                 ORDER BY dns_next_check_at, id LIMIT $2",
            )
            .bind(now.0)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(recheck_targets(rows))
    }

    /// Every signing domain of one tenant, or of all tenants, for a re-check run by hand.
    pub async fn signing_domain_ids(
        &self,
        tenant: Option<TenantId>,
    ) -> Result<Vec<(TenantId, SigningDomainId, DomainName)>, StoreError> {
        let rows: Vec<(TenantId, SigningDomainId, String)> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT tenant_id, id, domain FROM signing_domains \
                 WHERE $1 IS NULL OR tenant_id = $1 ORDER BY tenant_id, domain, id",
            )
            .bind(tenant)
            .fetch_all(pool)
            .await?
        });
        Ok(recheck_targets(rows))
    }
}

/// The domains to re-check, each with its name, which says whose name servers it asks. A
/// stored name that is not a domain is logged and left out: one corrupt row must not stop the
/// re-check of every other domain of every tenant.
fn recheck_targets(
    rows: Vec<(TenantId, SigningDomainId, String)>,
) -> Vec<(TenantId, SigningDomainId, DomainName)> {
    rows.into_iter()
        .filter_map(|(tenant, id, domain)| match DomainName::parse(&domain) {
            Ok(name) => Some((tenant, id, name)),
            Err(_) => {
                tracing::error!(
                    %tenant, signing_domain = %id, error = %corrupt("domain", &domain),
                    "a signing domain is left out of the DNS re-check"
                );
                None
            }
        })
        .collect()
}
