//! What the re-check found of the records beside DKIM (migration 0024): one row per record of a
//! signing domain, replaced as a whole by the re-check's commit and read with the domain.

use sealpost_domain::{RecordFinding, RecordKind, RecordOutcome, SigningDomainId, Timestamp};

use crate::StoreError;
use crate::rows::corrupt;

/// The columns of `signing_domain_records`, as [`RecordRow`] reads them.
macro_rules! domain_record_columns {
    () => {
        "signing_domain_id, kind, name, outcome, detail, checked_at, settled, settled_since, \
         found_at"
    };
}
pub(crate) use domain_record_columns;

/// Replaces the rows of the domain with `$findings` inside `$transaction`.
macro_rules! replace_domain_records {
    ($transaction:expr, $tenant:expr, $domain:expr, $findings:expr) => {{
        let result: Result<(), sqlx::Error> = async {
            sqlx::query(
                "DELETE FROM signing_domain_records WHERE tenant_id = $1 AND signing_domain_id = $2",
            )
            .bind($tenant)
            .bind($domain)
            .execute(&mut *$transaction)
            .await?;
            for finding in $findings {
                let finding: &sealpost_domain::RecordFinding = finding;
                sqlx::query(
                    "INSERT INTO signing_domain_records (tenant_id, signing_domain_id, kind, name, \
                     outcome, detail, checked_at, settled, settled_since, found_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind($tenant)
                .bind($domain)
                .bind(finding.kind.as_str())
                .bind(&finding.name)
                .bind(finding.outcome.as_str())
                .bind(&finding.detail)
                .bind(finding.checked_at.0)
                .bind(finding.settled.map(|settled| settled.as_str()))
                .bind(finding.settled_since.map(|at| at.0))
                .bind(finding.found_at.map(|at| at.0))
                .execute(&mut *$transaction)
                .await?;
            }
            Ok(())
        }
        .await;
        result
    }};
}
pub(crate) use replace_domain_records;

#[derive(sqlx::FromRow)]
pub(crate) struct RecordRow {
    signing_domain_id: SigningDomainId,
    kind: String,
    name: String,
    outcome: String,
    detail: String,
    checked_at: i64,
    settled: Option<String>,
    settled_since: Option<i64>,
    found_at: Option<i64>,
}

impl RecordRow {
    pub(crate) fn domain_id(&self) -> SigningDomainId {
        self.signing_domain_id
    }
}

impl TryFrom<RecordRow> for RecordFinding {
    type Error = StoreError;

    fn try_from(row: RecordRow) -> Result<Self, StoreError> {
        let outcome = |text: &str| {
            RecordOutcome::parse(text).ok_or_else(|| corrupt("record check outcome", text))
        };
        Ok(RecordFinding {
            kind: RecordKind::parse(&row.kind).ok_or_else(|| corrupt("record kind", &row.kind))?,
            name: row.name,
            outcome: outcome(&row.outcome)?,
            detail: row.detail,
            checked_at: Timestamp(row.checked_at),
            settled: row.settled.as_deref().map(outcome).transpose()?,
            settled_since: row.settled_since.map(Timestamp),
            found_at: row.found_at.map(Timestamp),
        })
    }
}
