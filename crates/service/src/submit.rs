//! Accepting mail (SPEC S8.1, S8.2, S9.3): the envelope is checked, the message is completed and
//! signed, and the message with all its recipients is committed before the caller learns its id,
//! so an acknowledged message is never lost. An idempotency key makes a repeated submission
//! return the first message instead of sending twice.

use sealpost_dkim::Mailbox;
use sealpost_domain::{
    DeliveryMode, MessageId, QueuedMessage, Recipient, RecipientId, RecipientState, Route,
    SigningRecord, TenantId,
};
use sealpost_store::StoreError;

use crate::signing::SigningOutcome;
use crate::{Service, ServiceError};

/// The most recipients one message may have; more is a mailing-list job, not a notification.
pub const MAX_RECIPIENTS: usize = 1000;

/// What happens to mail a tenant cannot sign (its From or MAIL FROM domain is not one of its
/// active signing domains).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnsignedPolicy {
    /// Send it unsigned by the tenant and record why (SPEC S4.1).
    #[default]
    Send,
    /// Refuse it at submission, naming the domain at fault.
    Refuse,
}

/// A message to accept, as raw RFC 5322 bytes with its envelope.
#[derive(Debug, Clone)]
pub struct Submission {
    pub mail_from: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
    pub idempotency_key: Option<String>,
    /// `http`, `smtp` or `mailing`.
    pub source: &'static str,
}

/// What the caller is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub id: MessageId,
    /// True when the idempotency key had been used before and nothing new was queued.
    pub replayed: bool,
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field,
        message: message.into(),
    }
}

impl Service {
    /// Signs and commits a message for delivery; returns only once it is durable.
    pub async fn submit(
        &self,
        tenant: TenantId,
        submission: Submission,
    ) -> Result<Accepted, ServiceError> {
        if let Some(key) = &submission.idempotency_key {
            if key.is_empty() || key.len() > 200 {
                return Err(invalid("idempotency_key", "use 1 to 200 characters"));
            }
            if let Some(id) = self.store.message_by_idempotency_key(tenant, key).await? {
                return Ok(Accepted { id, replayed: true });
            }
        }
        if submission.recipients.is_empty() {
            return Err(invalid(
                "recipients",
                "the message needs at least one recipient",
            ));
        }
        if submission.recipients.len() > MAX_RECIPIENTS {
            return Err(invalid(
                "recipients",
                format!("at most {MAX_RECIPIENTS} recipients per message"),
            ));
        }
        let now = self.clock.now();
        let mut recipients = Vec::with_capacity(submission.recipients.len());
        for address in &submission.recipients {
            let mailbox = Mailbox::parse(address)
                .map_err(|error| invalid("recipients", error.to_string()))?;
            recipients.push(Recipient {
                id: RecipientId::new(),
                address: mailbox.to_string(),
                domain: mailbox.domain.as_str().to_owned(),
                state: RecipientState::Queued,
                attempts: 0,
                next_attempt_at: None,
                last_reply: None,
                updated_at: now,
            });
        }
        let signed = self
            .sign_outgoing(tenant, &submission.raw, &submission.mail_from)
            .await?;
        let signing = match signed.signing {
            SigningOutcome::Signed {
                domain, selector, ..
            } => SigningRecord::Signed {
                domain: domain.as_str().to_owned(),
                selector: selector.as_str().to_owned(),
            },
            SigningOutcome::Unsigned { reason, .. }
                if self.unsigned_policy == UnsignedPolicy::Refuse =>
            {
                return Err(invalid(
                    "from",
                    format!("{reason}; this platform refuses mail it cannot sign for the tenant"),
                ));
            }
            SigningOutcome::Unsigned { code, reason } => SigningRecord::Unsigned {
                code: code.to_owned(),
                reason,
            },
        };
        let mail_from = Mailbox::parse(&submission.mail_from)
            .map_err(|error| invalid("mail_from", error.to_string()))?
            .to_string();
        let message = QueuedMessage {
            id: MessageId::new(),
            tenant_id: tenant,
            mail_from,
            raw: signed.message,
            signing,
            route: match self.store.delivery_mode(tenant).await? {
                DeliveryMode::Native => Route::Native,
                DeliveryMode::Relay(_) => Route::Relay,
            },
            source: submission.source,
            idempotency_key: submission.idempotency_key.clone(),
            accepted_at: now,
            expires_at: self.retry_policy.expires_at(now),
            recipients,
        };
        let id = message.id;
        let signed = matches!(message.signing, SigningRecord::Signed { .. });
        match self.commits.commit(message).await {
            Ok(()) => {
                // This node's delivery loop starts on it now instead of at its next poll.
                self.new_work.notify_one();
                self.metrics.count("accepted", tenant);
                self.metrics
                    .count(if signed { "signed" } else { "unsigned" }, tenant);
                Ok(Accepted {
                    id,
                    replayed: false,
                })
            }
            // Two submissions with one key raced; the first one won and is the answer.
            Err(StoreError::Duplicate(_)) => {
                let key = submission.idempotency_key.unwrap_or_default();
                let id = self
                    .store
                    .message_by_idempotency_key(tenant, &key)
                    .await?
                    .ok_or(ServiceError::NotFound("message"))?;
                Ok(Accepted { id, replayed: true })
            }
            Err(other) => Err(other.into()),
        }
    }
}
