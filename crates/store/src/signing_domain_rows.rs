//! A signing domain's row and its keys' rows, and their conversion into a [`SigningDomain`]. The
//! sealed key columns are absent here: only [`crate::Store::sealed_key`] reads them.

use std::collections::HashMap;

use sealpost_domain::{
    CheckOutcome, DnsState, DnsStatus, DomainName, KeyAlgorithm, KeyId, KeyOrigin, KeyState,
    LastCheck, RecordFinding, Selector, SigningDomain, SigningDomainId, SigningKey, TenantId,
    Timestamp,
};

use crate::StoreError;
use crate::domain_records::RecordRow;
use crate::rows::corrupt;

/// The columns of `signing_domains` read into a [`SigningDomain`]. A macro rather than a
/// constant so that queries stay `&'static str` literals built by `concat!`, which sqlx accepts
/// as audited SQL.
macro_rules! signing_domain_columns {
    () => {
        "id, tenant_id, domain, selector, active, version, created_at, updated_at, dns_state, \
         dns_state_since, dns_failing_since, dns_checked_at, dns_check_outcome, \
         dns_check_summary, dns_next_check_at"
    };
}
pub(crate) use signing_domain_columns;

/// The public columns of `signing_keys`, oldest key first.
macro_rules! signing_key_columns {
    () => {
        "id, signing_domain_id, selector, state, state_since, forced, public_der, bits, origin, \
         created_at, algorithm"
    };
}
pub(crate) use signing_key_columns;

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
    dns_state: String,
    dns_state_since: i64,
    dns_failing_since: Option<i64>,
    dns_checked_at: Option<i64>,
    dns_check_outcome: Option<String>,
    dns_check_summary: Option<String>,
    dns_next_check_at: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SigningKeyRow {
    id: KeyId,
    signing_domain_id: SigningDomainId,
    selector: String,
    state: String,
    state_since: i64,
    forced: bool,
    public_der: Vec<u8>,
    bits: i64,
    origin: String,
    created_at: i64,
    algorithm: String,
}

impl SigningKeyRow {
    pub(crate) fn domain_id(&self) -> SigningDomainId {
        self.signing_domain_id
    }
}

impl TryFrom<SigningKeyRow> for SigningKey {
    type Error = StoreError;

    fn try_from(row: SigningKeyRow) -> Result<Self, StoreError> {
        Ok(SigningKey {
            id: row.id,
            selector: Selector::parse(&row.selector)
                .map_err(|_| corrupt("key selector", &row.selector))?,
            state: KeyState::parse(&row.state).ok_or_else(|| corrupt("key state", &row.state))?,
            state_since: Timestamp(row.state_since),
            forced: row.forced,
            algorithm: KeyAlgorithm::parse(&row.algorithm)
                .ok_or_else(|| corrupt("key algorithm", &row.algorithm))?,
            public_key_der: row.public_der,
            bits: u32::try_from(row.bits)
                .map_err(|_| corrupt("key bits", &row.bits.to_string()))?,
            origin: KeyOrigin::parse(&row.origin)
                .ok_or_else(|| corrupt("key origin", &row.origin))?,
            created_at: Timestamp(row.created_at),
        })
    }
}

fn dns_status(row: &SigningDomainRow) -> Result<DnsStatus, StoreError> {
    let state =
        DnsState::parse(&row.dns_state).ok_or_else(|| corrupt("DNS state", &row.dns_state))?;
    let last_check = match (
        row.dns_checked_at,
        &row.dns_check_outcome,
        &row.dns_check_summary,
    ) {
        (None, None, None) => None,
        (Some(at), Some(outcome), Some(summary)) => Some(LastCheck {
            at: Timestamp(at),
            outcome: CheckOutcome::parse(outcome)
                .ok_or_else(|| corrupt("DNS check outcome", outcome))?,
            summary: summary.clone(),
        }),
        _ => return Err(corrupt("DNS check columns of", &row.id.to_string())),
    };
    Ok(DnsStatus {
        state,
        since: Timestamp(row.dns_state_since),
        failing_since: row.dns_failing_since.map(Timestamp),
        last_check,
        next_check_at: Timestamp(row.dns_next_check_at),
    })
}

/// Builds the domains of `rows` with their keys from `keys` (any order; each key goes to its
/// domain, oldest first) and their re-check findings from `records`.
pub(crate) fn assemble(
    rows: Vec<SigningDomainRow>,
    keys: Vec<SigningKeyRow>,
    records: Vec<RecordRow>,
) -> Result<Vec<SigningDomain>, StoreError> {
    let mut records_by_domain: HashMap<SigningDomainId, Vec<RecordFinding>> = HashMap::new();
    for row in records {
        let domain = row.domain_id();
        records_by_domain
            .entry(domain)
            .or_default()
            .push(RecordFinding::try_from(row)?);
    }
    let mut by_domain: HashMap<SigningDomainId, Vec<SigningKey>> = HashMap::new();
    for row in keys {
        let domain = row.domain_id();
        by_domain
            .entry(domain)
            .or_default()
            .push(SigningKey::try_from(row)?);
    }
    rows.into_iter()
        .map(|row| {
            let mut keys = by_domain.remove(&row.id).unwrap_or_default();
            keys.sort_by_key(|key| (key.created_at, key.id));
            let mut records = records_by_domain.remove(&row.id).unwrap_or_default();
            records.sort_by_key(|finding| finding.kind);
            Ok(SigningDomain {
                records,
                dns: dns_status(&row)?,
                id: row.id,
                tenant_id: row.tenant_id,
                domain: DomainName::parse(&row.domain)
                    .map_err(|_| corrupt("domain", &row.domain))?,
                selector: Selector::parse(&row.selector)
                    .map_err(|_| corrupt("selector", &row.selector))?,
                active: row.active,
                keys,
                version: row.version,
                created_at: Timestamp(row.created_at),
                updated_at: Timestamp(row.updated_at),
            })
        })
        .collect()
}
