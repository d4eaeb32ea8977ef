//! Accepting mail (SPEC S8.1, S8.2, S9.3): the envelope is checked, the message is completed and
//! signed, and the message with all its recipients is committed before the caller learns its id,
//! so an acknowledged message is never lost. An idempotency key makes a repeated submission
//! return the first message instead of sending twice.

use sealpost_dkim::Mailbox;
use sealpost_domain::ContentProblem;
use sealpost_domain::{
    IdempotencyKey, MessageId, QueuedMessage, Recipient, RecipientId, RecipientState,
    SigningRecord, SubmissionSource, TenantId, limits,
};
use sealpost_store::StoreError;

use crate::{ApiKeyLogin, ServiceError, Submissions};

/// The most recipients one message may have; more is a mailing-list job, not a notification.
pub const MAX_RECIPIENTS: usize = limits::message::MAX_RECIPIENTS;

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

/// Who submits a message.
#[derive(Debug, Clone)]
pub enum Sender {
    /// The platform, for a tenant it has authorised by its own means (a mailing, the mail
    /// tester, a signed-in user).
    Tenant(TenantId),
    /// An application with one of the tenant's API keys (by its hash), which the submission's
    /// read confirms: a key that is not, or no longer, the tenant's sends nothing.
    ApiKey { tenant: TenantId, key_hash: String },
}

impl Sender {
    pub fn tenant(&self) -> TenantId {
        match self {
            Self::Tenant(tenant) => *tenant,
            Self::ApiKey { tenant, .. } => *tenant,
        }
    }

    fn api_key(&self) -> Option<&str> {
        match self {
            Self::Tenant(_) => None,
            Self::ApiKey { key_hash, .. } => Some(key_hash),
        }
    }
}

impl From<TenantId> for Sender {
    fn from(tenant: TenantId) -> Self {
        Self::Tenant(tenant)
    }
}

impl From<ApiKeyLogin> for Sender {
    fn from(login: ApiKeyLogin) -> Self {
        Self::ApiKey {
            tenant: login.tenant.id,
            key_hash: login.key_hash,
        }
    }
}

/// A message to accept, as raw RFC 5322 bytes with its envelope.
#[derive(Debug, Clone)]
pub struct Submission {
    pub mail_from: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
    /// Made by [`idempotency_key`] from the client's key and its request.
    pub idempotency_key: Option<IdempotencyKey>,
    pub source: SubmissionSource,
}

/// What the application asked for beyond the message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubmitOptions {
    /// Add one-click unsubscribe headers (RFC 8058) whose link names the one recipient.
    pub one_click_unsubscribe: bool,
}

/// What the caller is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub id: MessageId,
    /// True when the idempotency key had been used before and nothing new was queued.
    pub replayed: bool,
}

/// An `Idempotency-Key` with the SHA-256 of the request it came with (`request`: whatever bytes
/// identify the request at its edge, such as the JSON body), so that a repeat of the same
/// request is answered with the first message and another request under the key is refused.
pub fn idempotency_key(key: &str, request: &[u8]) -> Result<IdempotencyKey, ServiceError> {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, request);
    IdempotencyKey::parse(key, hex::encode(digest.as_ref()))
        .map_err(|message| invalid("Idempotency-Key", message))
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field,
        message: message.into(),
    }
}

impl Submissions {
    /// Signs and commits a message for delivery; returns only once it is durable.
    pub async fn submit(
        &self,
        sender: impl Into<Sender>,
        submission: Submission,
    ) -> Result<Accepted, ServiceError> {
        self.submit_with(sender, submission, SubmitOptions::default())
            .await
    }

    /// [`Self::submit`] with what the application asked for beyond the message itself.
    pub async fn submit_with(
        &self,
        sender: impl Into<Sender>,
        submission: Submission,
        options: SubmitOptions,
    ) -> Result<Accepted, ServiceError> {
        let sender = sender.into();
        let tenant = sender.tenant();
        if let Some(id) = self
            .replay(&sender, submission.idempotency_key.as_ref())
            .await?
        {
            return Ok(Accepted { id, replayed: true });
        }
        if let Err(problem) = sealpost_domain::check_content(&submission.raw) {
            return Err(match problem {
                ContentProblem::TooLarge { .. } => ServiceError::TooLarge(problem.to_string()),
                _ => invalid("message", problem.to_string()),
            });
        }
        let mut recipients = self.recipients(&submission.recipients)?;
        let id = MessageId::new(&self.clock);
        let raw = match options.one_click_unsubscribe {
            true => self.with_unsubscribe(tenant, id, &submission.raw, recipients.len())?,
            false => submission.raw.clone(),
        };
        let version = crate::suppression::mark_suppressed(
            &self.submission_reads,
            tenant,
            sender.api_key(),
            &mut recipients,
        )
        .await
        .map_err(|error| self.refused_key(&sender, error))?;
        let config = self
            .sending_config_at(tenant, version)
            .await
            .map_err(|error| self.refused_key(&sender, error))?;
        let signed = self
            .sign_under(&config, &raw, &submission.mail_from)
            .await?;
        if let SigningRecord::Unsigned(reason) = &signed.signing
            && self.unsigned_policy == UnsignedPolicy::Refuse
        {
            return Err(invalid(
                "from",
                format!("{reason}; this platform refuses mail it cannot sign for the tenant"),
            ));
        }
        let mail_from = Mailbox::parse(&submission.mail_from)
            .map_err(|error| invalid("mail_from", error.to_string()))?
            .to_string();
        let now = self.clock.now();
        self.commit_accepted(QueuedMessage {
            id,
            tenant_id: tenant,
            mail_from,
            raw: signed.message,
            signing: signed.signing,
            route: config.route,
            source: submission.source,
            idempotency_key: submission.idempotency_key,
            accepted_at: now,
            expires_at: self.retry_policy.expires_at(now),
            recipients,
        })
        .await
    }

    /// The message an earlier request with the same Idempotency-Key made, if any. Its answer (a
    /// replay, or a refusal naming the message) comes before the suppression list is read, so
    /// an API key is confirmed on its own first; a key's first use reads nothing more.
    async fn replay(
        &self,
        sender: &Sender,
        key: Option<&IdempotencyKey>,
    ) -> Result<Option<MessageId>, ServiceError> {
        let Some(key) = key else {
            return Ok(None);
        };
        let replayed = self.replayed(sender.tenant(), key).await;
        if !matches!(replayed, Ok(None)) {
            self.confirm_api_key(sender).await?;
        }
        replayed
    }

    /// Commits an accepted message and answers with its id once it is durable; a race with
    /// another submission under the same Idempotency-Key is answered with the winner's id.
    async fn commit_accepted(&self, message: QueuedMessage) -> Result<Accepted, ServiceError> {
        let (id, tenant) = (message.id, message.tenant_id);
        let signed = message.signing.is_signed();
        let key = message.idempotency_key.clone();
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
                let key = key.as_ref().ok_or(ServiceError::NotFound("message"))?;
                let id = self
                    .replayed(tenant, key)
                    .await?
                    .ok_or(ServiceError::NotFound("message"))?;
                Ok(Accepted { id, replayed: true })
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Refuses a submission whose API key is no longer one of its tenant's.
    async fn confirm_api_key(&self, sender: &Sender) -> Result<(), ServiceError> {
        let Some(key_hash) = sender.api_key() else {
            return Ok(());
        };
        match self.store.tenant_for_api_key(key_hash).await? {
            Some(tenant) if tenant.id == sender.tenant() => Ok(()),
            _ => Err(self.refused_key(sender, ServiceError::NotFound("tenant"))),
        }
    }

    /// What a submission is told when its read found no tenant: a sender with an API key
    /// learns that the key is not valid (a deleted tenant has no keys), and this node forgets
    /// the key.
    fn refused_key(&self, sender: &Sender, error: ServiceError) -> ServiceError {
        match (sender, error) {
            (Sender::ApiKey { key_hash, .. }, ServiceError::NotFound("tenant")) => {
                self.api_keys.forget(key_hash);
                ServiceError::ApiKeyRefused
            }
            (_, error) => error,
        }
    }

    /// The message with the one-click unsubscribe headers on top, which the signature then
    /// covers; refused when the link could not name one recipient or the message has its own.
    fn with_unsubscribe(
        &self,
        tenant: TenantId,
        id: MessageId,
        raw: &[u8],
        recipients: usize,
    ) -> Result<Vec<u8>, ServiceError> {
        if recipients != 1 {
            return Err(invalid(
                "one_click_unsubscribe",
                "a one-click unsubscribe link names its recipient, so the message may have only \
                 one recipient: send one message per recipient"
                    .to_owned(),
            ));
        }
        let head_end = raw
            .windows(2)
            .position(|pair| pair == b"\n\n")
            .or_else(|| raw.windows(4).position(|four| four == b"\r\n\r\n"))
            .unwrap_or(raw.len());
        let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
        if head.starts_with("list-unsubscribe") || head.contains("\nlist-unsubscribe") {
            return Err(invalid(
                "one_click_unsubscribe",
                "the message has List-Unsubscribe headers of its own: remove them or do not \
                 ask for one-click unsubscribe"
                    .to_owned(),
            ));
        }
        let headers = self.service().feedback().unsubscribe_headers(tenant, id)?;
        let mut with = headers.into_bytes();
        with.extend_from_slice(raw);
        Ok(with)
    }

    /// The message a repeated key was first used for; a different request under the same key
    /// is refused, because answering with the first message would silently drop this one.
    async fn replayed(
        &self,
        tenant: TenantId,
        key: &IdempotencyKey,
    ) -> Result<Option<MessageId>, ServiceError> {
        let Some((id, request_hash)) = self
            .store
            .message_by_idempotency_key(tenant, key.key())
            .await?
        else {
            return Ok(None);
        };
        // Messages accepted before fingerprints were kept have none; they replay as before.
        if !request_hash.is_empty() && request_hash != key.request_hash() {
            return Err(ServiceError::Conflict(format!(
                "the Idempotency-Key {:?} was used for a different request (message {id}); \
                 use a new key for a new message",
                key.key()
            )));
        }
        Ok(Some(id))
    }

    /// The recipients as queued: each address checked by the one address rule, and an address
    /// given twice queued once, since the receiver would deliver it twice in one transaction.
    fn recipients(&self, addresses: &[String]) -> Result<Vec<Recipient>, ServiceError> {
        if addresses.is_empty() {
            return Err(invalid(
                "recipients",
                "the message needs at least one recipient",
            ));
        }
        if addresses.len() > MAX_RECIPIENTS {
            return Err(invalid(
                "recipients",
                format!("at most {MAX_RECIPIENTS} recipients per message"),
            ));
        }
        let now = self.clock.now();
        let mut seen = std::collections::HashSet::with_capacity(addresses.len());
        let mut recipients = Vec::with_capacity(addresses.len());
        for address in addresses {
            let mailbox = Mailbox::parse(address)
                .map_err(|error| invalid("recipients", error.to_string()))?;
            let address = mailbox.to_string();
            if !seen.insert(address.clone()) {
                continue;
            }
            recipients.push(Recipient {
                id: RecipientId::new(&self.clock),
                address,
                domain: mailbox.domain.as_str().to_owned(),
                state: RecipientState::Queued,
                attempts: 0,
                next_attempt_at: None,
                last_reply: None,
                updated_at: now,
            });
        }
        Ok(recipients)
    }
}
