//! Where a signing domain's states change (SPEC S11.1, S11.2): [`SigningDomains::commit`] is
//! the one call that writes key states, the active flag and the DNS status, each with its event
//! in the same transaction; [`SigningDomains::recheck_domain`] looks every key's record up, and
//! SPF, DMARC and the return path beside them, and turns what DNS shows into changes: a
//! published pending key is promoted, a drained retiring key retires, the records' findings are
//! replaced (each definite change an event), and the domain's DNS state follows the records
//! that must be published and those that were found once (`domain::overall_dns_outcome`).

use sealpost_dnsauth::dkim_record::{DkimPublication, DkimRecordCause, DkimRecordCheck};
use sealpost_domain::{
    CheckOutcome, DomainChanges, DomainEvent, KeyAlgorithm, KeyChange, KeyEvent, KeyState,
    Promotion, RecordFinding, RecordOutcome, RecordVerdict, ReturnPath, SigningDomain,
    SigningDomainId, TenantId, Timestamp, after_record_checks, overall_dns_outcome,
};
use sealpost_store::StoreError;

use crate::signing_domains::not_found_domain;
use crate::signing_keys::refused;
use crate::{ServiceError, SigningDomains};

/// How long after a key stopped signing a message signed with it may still be accepted: a
/// submission reads the domain, signs and commits within this time.
const SIGNING_SLACK: i64 = 300;

/// What one re-check of a domain found and changed.
#[derive(Debug, Clone)]
pub struct Recheck {
    /// The domain after the changes.
    pub domain: SigningDomain,
    pub outcome: CheckOutcome,
    /// The events committed, one per change.
    pub events: Vec<DomainEvent>,
}

fn verdict(check: &DkimRecordCheck) -> RecordVerdict {
    match check.cause {
        DkimRecordCause::Dns(_) => RecordVerdict::Unanswered,
        _ if check.usable() => RecordVerdict::CarriesKey,
        _ => RecordVerdict::Wrong,
    }
}

impl SigningDomains {
    /// Commits `changes` decided from `domain` as it was read, with one event per change. When
    /// the domain changed meanwhile nothing is written and the caller is told to try again.
    pub(crate) async fn commit(
        &self,
        domain: &SigningDomain,
        changes: &DomainChanges,
    ) -> Result<SigningDomain, ServiceError> {
        if changes.is_empty() {
            return Ok(domain.clone());
        }
        let event_ids: Vec<_> = changes
            .events()
            .iter()
            .map(|_| self.clock.new_uuid())
            .collect();
        self.store
            .apply_domain_changes(domain, changes, &event_ids, self.clock.now())
            .await
            .map_err(|error| match error {
                StoreError::Changed(what) => ServiceError::Conflict(format!(
                    "{what}; reload the signing domain and try again"
                )),
                other => not_found_domain(other),
            })
    }

    /// Checks the records of every key that may be looked up (pending, active, retiring) and
    /// commits what follows, in one commit.
    pub async fn recheck_domain(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<Recheck, ServiceError> {
        let domain = self.signing_domain(tenant, id).await?;
        let key_checks = async {
            let mut checks = Vec::new();
            for key in domain.keys.iter().filter(|key| key.state.record_needed()) {
                checks.push((key.id, self.check_key_record(&domain, key).await));
            }
            checks
        };
        let (checks, record_checks) = tokio::join!(key_checks, self.record_checks(&domain));
        let record_checks = record_checks?;
        let now = self.clock.now();
        let mut changes = DomainChanges {
            keys: self.promotion(&domain, &checks, now)?,
            ..DomainChanges::default()
        };
        changes.keys.extend(self.retirements(&domain, now).await?);
        let state_after = |key: &sealpost_domain::SigningKey| {
            changes
                .keys
                .iter()
                .find(|change| change.key == key.id)
                .map_or(key.state, |change| change.to)
        };
        let mut required: Vec<&DkimRecordCheck> = domain
            .keys
            .iter()
            .filter(|key| matches!(state_after(key), KeyState::Active | KeyState::Retiring))
            .filter_map(|key| checks.iter().find(|(id, _)| *id == key.id))
            .map(|(_, check)| check)
            .collect();
        if required.is_empty()
            && let Some(pending) = domain.pending_key()
        {
            required.extend(
                checks
                    .iter()
                    .filter(|(id, _)| *id == pending.id)
                    .map(|(_, check)| check),
            );
        }
        let verdicts: Vec<RecordVerdict> = required.iter().map(|check| verdict(check)).collect();
        let dkim = CheckOutcome::of(&verdicts);
        let return_path_usable = ReturnPath::usable_after(&record_checks);
        let (findings, record_changes) = after_record_checks(&domain.records, record_checks, now);
        let outcome = overall_dns_outcome(domain.dns.state, dkim, &findings);
        let summary = match outcome == dkim {
            true => summarize(dkim, &required),
            false => summarize_records(outcome, &findings),
        };
        let (status, change) =
            sealpost_domain::after_dns_check(&domain.dns, outcome, &summary, now, &self.dns_policy);
        changes.dns = Some((status, change));
        changes.records = Some((findings, record_changes));
        let events = changes.events();
        let domain = self.commit(&domain, &changes).await?;
        if let Some(usable) = return_path_usable {
            self.service()
                .feedback()
                .follow_recheck(tenant, &domain.domain, usable)
                .await?;
        }
        Ok(Recheck {
            domain,
            outcome,
            events,
        })
    }

    /// The promotion of the newest pending key of each algorithm whose record carries it: an
    /// Ed25519 key is promoted beside the RSA keys, never in place of one.
    fn promotion(
        &self,
        domain: &SigningDomain,
        checks: &[(sealpost_domain::KeyId, DkimRecordCheck)],
        now: Timestamp,
    ) -> Result<Vec<KeyChange>, ServiceError> {
        let mut changes = Vec::new();
        for algorithm in KeyAlgorithm::ALL {
            let published = domain
                .keys
                .iter()
                .filter(|key| key.state == KeyState::Pending && key.algorithm == algorithm)
                .filter(|key| {
                    checks.iter().any(|(id, check)| {
                        *id == key.id && verdict(check) == RecordVerdict::CarriesKey
                    })
                })
                .max_by_key(|key| (key.created_at, key.id));
            if let Some(key) = published {
                changes.extend(
                    sealpost_domain::promote(
                        &domain.keys,
                        key.id,
                        Promotion::Published,
                        now,
                        &self.key_policy,
                    )
                    .map_err(refused)?,
                );
            }
        }
        Ok(changes)
    }

    /// The retiring keys whose messages are all delivered or expired, plus the margin.
    async fn retirements(
        &self,
        domain: &SigningDomain,
        now: Timestamp,
    ) -> Result<Vec<KeyChange>, ServiceError> {
        let mut changes = Vec::new();
        for key in domain
            .keys
            .iter()
            .filter(|key| key.state == KeyState::Retiring)
        {
            // Every message signed with the key was accepted before it started retiring, and
            // none outlives the queue's maximum age, so older messages need not be counted.
            let accepted_since = Timestamp(key.state_since.0 - self.retry_policy.max_age);
            // Messages name their RSA selector only: an Ed25519 key signed every message of
            // the domain while it was active, up to a submission that read the domain just
            // before the key started retiring.
            let (selector, accepted_until) = match key.algorithm {
                KeyAlgorithm::Rsa => (Some(&key.selector), Timestamp(i64::MAX)),
                KeyAlgorithm::Ed25519 => (None, Timestamp(key.state_since.0 + SIGNING_SLACK)),
            };
            let (unfinished, last_finished_at) = self
                .store
                .key_drain(
                    domain.tenant_id,
                    &domain.domain,
                    selector,
                    accepted_since,
                    accepted_until,
                )
                .await?;
            let event = KeyEvent::Drain {
                unfinished,
                last_finished_at,
            };
            let next = sealpost_domain::next_key_state(
                key.state,
                key.state_since,
                event,
                now,
                &self.key_policy,
            );
            if let Some(to) = next {
                changes.push(KeyChange {
                    key: key.id,
                    selector: key.selector.clone(),
                    from: key.state,
                    to,
                    forced: false,
                });
            }
        }
        Ok(changes)
    }
}

/// The one line the badge shows for a check.
fn summarize(outcome: CheckOutcome, required: &[&DkimRecordCheck]) -> String {
    let first = |wanted: RecordVerdict| {
        required
            .iter()
            .find(|check| verdict(check) == wanted)
            .map(|check| format!("{}: {}", check.name, check.describe().trim_end_matches('.')))
            .unwrap_or_default()
    };
    match outcome {
        CheckOutcome::Found => {
            let names: Vec<&str> = required.iter().map(|check| check.name.as_str()).collect();
            // The stored line keeps the mode, so the domain's page says it between checks too.
            let delegated = !required.is_empty()
                && required
                    .iter()
                    .all(|check| check.publication == DkimPublication::Delegated);
            let mode = match delegated {
                true => " by CNAME delegation: Sealpost serves them",
                false => "",
            };
            format!(
                "The DKIM records carry their keys{mode} ({}).",
                names.join(", ")
            )
        }
        CheckOutcome::Missing => format!("{}.", first(RecordVerdict::Wrong)),
        CheckOutcome::Temporary => format!(
            "DNS did not answer ({}); this is not counted as a failure.",
            first(RecordVerdict::Unanswered)
        ),
        CheckOutcome::NoKey => "The domain has no key yet.".to_owned(),
    }
}

/// The badge's line when the records beside DKIM decided the check: the first watched record
/// that is lost, or the first that DNS did not answer for.
fn summarize_records(outcome: CheckOutcome, findings: &[RecordFinding]) -> String {
    let first = |lost: bool| {
        findings
            .iter()
            .filter(|finding| finding.watched())
            .find(|finding| match lost {
                true => finding.is_lost(),
                false => finding.outcome == RecordOutcome::Temporary,
            })
            .map(|finding| {
                format!(
                    "{} at {}: {}",
                    finding.kind.label(),
                    finding.name,
                    finding.detail.trim_end_matches('.')
                )
            })
            .unwrap_or_default()
    };
    match outcome {
        CheckOutcome::Temporary => format!(
            "DNS did not answer ({}); this is not counted as a failure.",
            first(false)
        ),
        _ => format!("{}.", first(true)),
    }
}
