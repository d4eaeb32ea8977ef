//! A queued message as its rows hold it: the columns that say how it was signed, where it came
//! from and how it leaves, written and read by one pair of conversions, so what is stored is what
//! is read back. A value that does not read back is reported as corrupt.

use sealpost_domain::{
    DomainName, IdempotencyKey, MessageId, QueuedMessage, Recipient, RecipientId, RecipientState,
    Route, Selector, SigningRecord, SubmissionSource, TenantId, Timestamp, UnsignedReason,
};

use crate::StoreError;
use crate::rows::corrupt;

/// The signing record as five columns: `signed`, with the domain and selector of a signed
/// message or the code and text of the reason an unsigned one was not signed.
#[derive(sqlx::FromRow)]
pub(crate) struct SigningColumns {
    pub(crate) signed: bool,
    pub(crate) signing_domain: Option<String>,
    pub(crate) signing_selector: Option<String>,
    pub(crate) unsigned_code: Option<String>,
    pub(crate) unsigned_reason: Option<String>,
}

impl From<&SigningRecord> for SigningColumns {
    fn from(record: &SigningRecord) -> Self {
        match record {
            SigningRecord::Signed { domain, selector } => Self {
                signed: true,
                signing_domain: Some(domain.as_str().to_owned()),
                signing_selector: Some(selector.as_str().to_owned()),
                unsigned_code: None,
                unsigned_reason: None,
            },
            SigningRecord::Unsigned(reason) => Self {
                signed: false,
                signing_domain: None,
                signing_selector: None,
                unsigned_code: Some(reason.code().to_owned()),
                unsigned_reason: Some(reason.to_string()),
            },
        }
    }
}

impl TryFrom<SigningColumns> for SigningRecord {
    type Error = StoreError;

    fn try_from(columns: SigningColumns) -> Result<Self, StoreError> {
        let missing = || StoreError::Corrupt("signing columns of a message".to_owned());
        if columns.signed {
            let domain = columns.signing_domain.ok_or_else(missing)?;
            let selector = columns.signing_selector.ok_or_else(missing)?;
            return Ok(SigningRecord::Signed {
                domain: DomainName::parse(&domain)
                    .map_err(|_| corrupt("signing domain", &domain))?,
                selector: Selector::parse(&selector)
                    .map_err(|_| corrupt("signing selector", &selector))?,
            });
        }
        let code = columns.unsigned_code.ok_or_else(missing)?;
        let reason = columns.unsigned_reason.ok_or_else(missing)?;
        UnsignedReason::parse(&code, &reason)
            .map(SigningRecord::Unsigned)
            .ok_or_else(|| corrupt("unsigned reason", &format!("{code}: {reason}")))
    }
}

/// The facts of a message that whole messages and summaries share.
#[derive(sqlx::FromRow)]
pub(crate) struct FactColumns {
    #[sqlx(flatten)]
    signing: SigningColumns,
    route: String,
    source: String,
}

/// The facts of a message row, read.
pub(crate) struct MessageFacts {
    pub(crate) signing: SigningRecord,
    pub(crate) route: Route,
    pub(crate) source: SubmissionSource,
}

impl TryFrom<FactColumns> for MessageFacts {
    type Error = StoreError;

    fn try_from(columns: FactColumns) -> Result<Self, StoreError> {
        Ok(MessageFacts {
            signing: SigningRecord::try_from(columns.signing)?,
            route: Route::parse(&columns.route).ok_or_else(|| corrupt("route", &columns.route))?,
            source: SubmissionSource::parse(&columns.source)
                .ok_or_else(|| corrupt("submission source", &columns.source))?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    id: MessageId,
    tenant_id: TenantId,
    mail_from: String,
    raw: Vec<u8>,
    #[sqlx(flatten)]
    facts: FactColumns,
    idempotency_key: Option<String>,
    idempotency_hash: Option<String>,
    accepted_at: i64,
    expires_at: i64,
}

/// A message's expiry from `messages m`, as the column `expires_at`: the expiry it was given at
/// acceptance, moved on by the part after its acceptance of each of its tenant's pauses that
/// began before the message expired (migration 0039), so that mail held by a pause does not
/// expire for it, and mail that had expired, or would have, before a pause began keeps its
/// expiry (a message whose mail was all sent before a pause that began before its expiry shows
/// that expiry moved too, as a bound its retries would have had). Recorded pauses never overlap
/// (`resume_sending` sees to it), so those that count are the first ones after the acceptance:
/// a pause counts when it began before the expiry as moved by all the pauses before it (`q`),
/// and once one does not, none after it does, since it began after the expiry as moved by
/// those before it and ended later by its own length. The pauses are read
/// through their covering index by tenant and end, only those that ended after the acceptance:
/// none for a tenant never paused since, and never more than its operator's resumes since.
macro_rules! expiry_column {
    () => {
        "m.expires_at + (SELECT CAST(COALESCE(SUM(p.resumed_at - CASE \
         WHEN p.paused_at > m.accepted_at THEN p.paused_at ELSE m.accepted_at END), 0) \
         AS BIGINT) FROM tenant_pauses p WHERE p.tenant_id = m.tenant_id \
         AND p.resumed_at > m.accepted_at AND p.paused_at < m.expires_at + (SELECT \
         COALESCE(SUM(q.resumed_at - CASE WHEN q.paused_at > m.accepted_at THEN q.paused_at \
         ELSE m.accepted_at END), 0) FROM tenant_pauses q WHERE q.tenant_id = m.tenant_id \
         AND q.resumed_at > m.accepted_at AND q.paused_at < p.paused_at)) AS expires_at"
    };
}
pub(crate) use expiry_column;

/// The columns of a [`MessageRow`] from `messages m JOIN message_sources s`, in a macro so
/// that queries stay `concat!`ed literals.
macro_rules! message_columns {
    () => {
        concat!(
            "m.id, m.tenant_id, m.mail_from, s.raw, m.signed, m.signing_domain, \
             m.signing_selector, m.unsigned_code, m.unsigned_reason, m.route, m.source, \
             m.idempotency_key, m.idempotency_hash, m.accepted_at, ",
            $crate::message_rows::expiry_column!()
        )
    };
}
pub(crate) use message_columns;

#[derive(sqlx::FromRow)]
pub(crate) struct RecipientRow {
    id: RecipientId,
    address: String,
    domain: String,
    state: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    last_reply: Option<String>,
    updated_at: i64,
}

/// A [`RecipientRow`] read beside its message through a left join (columns prefixed `r_`):
/// every column is NULL for a message without recipients.
#[derive(sqlx::FromRow)]
pub(crate) struct JoinedRecipientRow {
    r_id: Option<RecipientId>,
    r_address: Option<String>,
    r_domain: Option<String>,
    r_state: Option<String>,
    r_attempts: Option<i64>,
    r_next_attempt_at: Option<i64>,
    r_last_reply: Option<String>,
    r_updated_at: Option<i64>,
}

impl JoinedRecipientRow {
    /// The recipient, or `None` when the join found none.
    pub(crate) fn recipient(self) -> Option<RecipientRow> {
        Some(RecipientRow {
            id: self.r_id?,
            address: self.r_address?,
            domain: self.r_domain?,
            state: self.r_state?,
            attempts: self.r_attempts?,
            next_attempt_at: self.r_next_attempt_at,
            last_reply: self.r_last_reply,
            updated_at: self.r_updated_at?,
        })
    }
}

impl TryFrom<RecipientRow> for Recipient {
    type Error = StoreError;

    fn try_from(row: RecipientRow) -> Result<Self, StoreError> {
        Ok(Recipient {
            id: row.id,
            state: RecipientState::parse(&row.state)
                .ok_or_else(|| corrupt("recipient state", &row.state))?,
            address: row.address,
            domain: row.domain,
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            next_attempt_at: row.next_attempt_at.map(Timestamp),
            last_reply: row.last_reply,
            updated_at: Timestamp(row.updated_at),
        })
    }
}

pub(crate) fn message_from_rows(
    row: MessageRow,
    recipients: Vec<Recipient>,
) -> Result<QueuedMessage, StoreError> {
    let facts = MessageFacts::try_from(row.facts)?;
    Ok(QueuedMessage {
        id: row.id,
        tenant_id: row.tenant_id,
        mail_from: row.mail_from,
        raw: row.raw,
        signing: facts.signing,
        route: facts.route,
        source: facts.source,
        idempotency_key: match (row.idempotency_key, row.idempotency_hash) {
            (Some(key), hash) => Some(
                IdempotencyKey::parse(&key, hash.unwrap_or_default())
                    .map_err(|_| corrupt("idempotency key", &key))?,
            ),
            (None, _) => None,
        },
        accepted_at: Timestamp(row.accepted_at),
        expires_at: Timestamp(row.expires_at),
        recipients,
    })
}
