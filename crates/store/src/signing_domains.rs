//! A tenant's signing domains and their sealed keys. The sealed key columns are written by
//! [`Store::set_signing_key`] and read only by [`Store::sealed_key`]; listing and showing never
//! select them.

use sealpost_domain::{
    KeyId, SealedKey, SigningDomain, SigningDomainId, SigningDomainUpdate, SigningKey, TenantId,
    Timestamp,
};

use crate::rows::{SigningDomainRow, signing_domain_columns};
use crate::{Store, StoreError, with_pool};

const DUPLICATE: &str = "a signing domain with this domain and selector";

impl Store {
    /// Adds a signing domain (without a key). Fails with `NotFound` when the tenant does not
    /// exist and with `Duplicate` when the tenant already has this domain and selector.
    pub async fn insert_signing_domain(
        &self,
        tenant: TenantId,
        domain: &SigningDomain,
    ) -> Result<(), StoreError> {
        let inserted = with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO signing_domains \
                 (id, tenant_id, domain, selector, active, version, created_at, updated_at) \
                 SELECT $1, id, $2, $3, $4, $5, $6, $7 FROM tenants WHERE id = $8",
            )
            .bind(domain.id)
            .bind(domain.domain.as_str())
            .bind(domain.selector.as_str())
            .bind(domain.active)
            .bind(domain.version)
            .bind(domain.created_at.0)
            .bind(domain.updated_at.0)
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
        let sql = concat!(
            "SELECT ",
            signing_domain_columns!(),
            " FROM signing_domains WHERE tenant_id = $1 \
             ORDER BY domain, selector"
        );
        let rows: Vec<SigningDomainRow> = with_pool!(self, pool => {
            sqlx::query_as(sql).bind(tenant).fetch_all(pool).await?
        });
        rows.into_iter().map(SigningDomain::try_from).collect()
    }

    pub async fn signing_domain(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<SigningDomain, StoreError> {
        let sql = concat!(
            "SELECT ",
            signing_domain_columns!(),
            " FROM signing_domains WHERE tenant_id = $1 AND id = $2"
        );
        let row: Option<SigningDomainRow> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(tenant)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Changes the editable fields, bumping the version. The caller has checked that activation
    /// is allowed (a key exists); the schema's CHECK constraint backs that rule.
    pub async fn update_signing_domain(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        update: &SigningDomainUpdate,
        now: Timestamp,
    ) -> Result<SigningDomain, StoreError> {
        let sql = concat!(
            "UPDATE signing_domains SET active = COALESCE($1, active), \
             selector = COALESCE($2, selector), version = version + 1, updated_at = $3 \
             WHERE tenant_id = $4 AND id = $5 RETURNING ",
            signing_domain_columns!(),
            ""
        );
        let row: Option<SigningDomainRow> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(update.active)
                .bind(update.selector.as_ref().map(|selector| selector.as_str()))
                .bind(now.0)
                .bind(tenant)
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(|error| StoreError::duplicate_as(error, DUPLICATE))?
        });
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Stores a new key for a signing domain, replacing any previous one. The domain becomes
    /// inactive: receivers cannot verify signatures by the new key until its DNS record is
    /// published, so the tenant reactivates it after publishing.
    pub async fn set_signing_key(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        key: &SigningKey,
        sealed: &SealedKey,
        now: Timestamp,
    ) -> Result<SigningDomain, StoreError> {
        let sql = concat!(
            "UPDATE signing_domains SET active = FALSE, key_id = $1, key_public_der = $2, \
             key_bits = $3, key_origin = $4, key_created_at = $5, key_encrypted_pkcs8 = $6, \
             key_sealed_password = $7, version = version + 1, updated_at = $8 \
             WHERE tenant_id = $9 AND id = $10 RETURNING ",
            signing_domain_columns!(),
            ""
        );
        let row: Option<SigningDomainRow> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(key.id)
                .bind(&key.public_key_der)
                .bind(i64::from(key.bits))
                .bind(key.origin.as_str())
                .bind(key.created_at.0)
                .bind(&sealed.encrypted_pkcs8_pem)
                .bind(&sealed.sealed_password)
                .bind(now.0)
                .bind(tenant)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// The sealed private key of a signing domain, for signing. `None` when it has no key.
    pub async fn sealed_key(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<Option<(KeyId, SealedKey)>, StoreError> {
        type Columns = (Option<KeyId>, Option<String>, Option<Vec<u8>>);
        let row: Option<Columns> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT key_id, key_encrypted_pkcs8, key_sealed_password FROM signing_domains \
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        match row.ok_or(StoreError::NotFound)? {
            (None, None, None) => Ok(None),
            (Some(key_id), Some(encrypted_pkcs8_pem), Some(sealed_password)) => Ok(Some((
                key_id,
                SealedKey {
                    encrypted_pkcs8_pem,
                    sealed_password,
                },
            ))),
            _ => Err(StoreError::Corrupt(format!("sealed key columns of {id}"))),
        }
    }

    pub async fn delete_signing_domain(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<(), StoreError> {
        let deleted = with_pool!(self, pool => {
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
}
