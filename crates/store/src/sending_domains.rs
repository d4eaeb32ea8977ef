//! A tenant's sending identities: the domains it asked to send as, with their verification
//! tokens, and the proof once DNS showed it.

use sealpost_domain::{
    DomainName, Proof, ProofMethod, SendingDomain, TenantId, Timestamp, VerificationToken,
};

use crate::{Store, StoreError, with_reader, with_writer};

#[derive(sqlx::FromRow)]
struct SendingDomainRow {
    tenant_id: TenantId,
    domain: String,
    token: String,
    proof_method: Option<String>,
    proven_at: Option<i64>,
    created_at: i64,
}

impl TryFrom<SendingDomainRow> for SendingDomain {
    type Error = StoreError;

    fn try_from(row: SendingDomainRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("{what} {value:?}"));
        let proof = match (row.proof_method, row.proven_at) {
            (Some(method), Some(at)) => Some(Proof {
                method: ProofMethod::parse(&method)
                    .ok_or_else(|| corrupt("proof method", &method))?,
                proven_at: Timestamp(at),
            }),
            (None, None) => None,
            _ => return Err(corrupt("proof of", &row.domain)),
        };
        Ok(SendingDomain {
            tenant_id: row.tenant_id,
            domain: DomainName::parse(&row.domain)
                .map_err(|_| corrupt("sending domain", &row.domain))?,
            token: VerificationToken::parse(&row.token)
                .ok_or_else(|| corrupt("verification token", &row.token))?,
            proof,
            created_at: Timestamp(row.created_at),
        })
    }
}

/// The columns read into a [`SendingDomain`], as a macro so that queries stay `&'static str`
/// literals built by `concat!`, which sqlx accepts as audited SQL.
macro_rules! columns {
    () => {
        "tenant_id, domain, token, proof_method, proven_at, created_at"
    };
}

impl Store {
    /// The tenant's sending domain `domain`, created with `candidate`'s token when the tenant has
    /// none yet; an existing one (and its token) is kept. `NotFound` when the tenant does not
    /// exist.
    pub async fn ensure_sending_domain(
        &self,
        tenant: TenantId,
        candidate: &SendingDomain,
    ) -> Result<SendingDomain, StoreError> {
        with_writer!(self, pool => {
            sqlx::query(
                "INSERT INTO sending_domains (tenant_id, domain, token, created_at) \
                 SELECT id, $1, $2, $3 FROM tenants WHERE id = $4 \
                 ON CONFLICT (tenant_id, domain) DO NOTHING",
            )
            .bind(candidate.domain.as_str())
            .bind(candidate.token.as_str())
            .bind(candidate.created_at.0)
            .bind(tenant)
            .execute(pool)
            .await?;
        });
        self.sending_domain(tenant, &candidate.domain)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn sending_domain(
        &self,
        tenant: TenantId,
        domain: &DomainName,
    ) -> Result<Option<SendingDomain>, StoreError> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM sending_domains WHERE tenant_id = $1 AND domain = $2"
        );
        let row: Option<SendingDomainRow> = with_reader!(self, pool => {
            sqlx::query_as(sql)
                .bind(tenant)
                .bind(domain.as_str())
                .fetch_optional(pool)
                .await?
        });
        row.map(SendingDomain::try_from).transpose()
    }

    /// Every sending domain of the tenant, proven or not, by name.
    pub async fn list_sending_domains(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<SendingDomain>, StoreError> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM sending_domains WHERE tenant_id = $1 ORDER BY domain"
        );
        let rows: Vec<SendingDomainRow> = with_reader!(self, pool => {
            sqlx::query_as(sql)
                .bind(tenant)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(SendingDomain::try_from).collect()
    }

    /// Records that DNS proved the domain now (a later proof replaces an earlier one).
    pub async fn record_proof(
        &self,
        tenant: TenantId,
        domain: &DomainName,
        proof: Proof,
    ) -> Result<(), StoreError> {
        let updated = with_writer!(self, pool => {
            sqlx::query(
                "UPDATE sending_domains SET proof_method = $1, proven_at = $2 \
                 WHERE tenant_id = $3 AND domain = $4",
            )
            .bind(proof.method.as_str())
            .bind(proof.proven_at.0)
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

    /// Removes a sending domain; mail from it is refused from then on.
    pub async fn delete_sending_domain(
        &self,
        tenant: TenantId,
        domain: &DomainName,
    ) -> Result<(), StoreError> {
        let deleted = with_writer!(self, pool => {
            sqlx::query("DELETE FROM sending_domains WHERE tenant_id = $1 AND domain = $2")
                .bind(tenant)
                .bind(domain.as_str())
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
