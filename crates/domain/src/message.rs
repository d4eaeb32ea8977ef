//! Messages in the queue (SPEC S1, S6.2): how a message leaves, what was decided about signing,
//! and the delivery state of each recipient.

use crate::{MessageId, RecipientId, SigningRecord, TenantId, Timestamp};

/// How a tenant's mail leaves (SPEC S1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The platform's own MTA, direct to the recipients' MX hosts, retried for 24 hours.
    Native,
    /// The tenant's own mail server; a failed attempt is final.
    Relay,
}

impl Route {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Relay => "relay",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "native" => Some(Self::Native),
            "relay" => Some(Self::Relay),
            _ => None,
        }
    }
}

/// Where a recipient's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientState {
    Queued,
    /// Claimed by a worker that is delivering it now.
    Sending,
    /// A temporary failure; another attempt is due at `next_attempt_at`.
    Deferred,
    Sent,
    Failed,
    /// Temporary failures until the retry period ended.
    Expired,
    Cancelled,
    /// Never sent: the address is on the tenant's suppression list; the last reply says why.
    Suppressed,
    /// A bounce came back for it, possibly after it was `sent`; the last reply says why.
    Bounced,
    /// The recipient reported the message as spam.
    Complained,
}

impl RecipientState {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Deferred => "deferred",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::Suppressed => "suppressed",
            Self::Bounced => "bounced",
            Self::Complained => "complained",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "queued" => Self::Queued,
            "sending" => Self::Sending,
            "deferred" => Self::Deferred,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            "cancelled" => Self::Cancelled,
            "suppressed" => Self::Suppressed,
            "bounced" => Self::Bounced,
            "complained" => Self::Complained,
            _ => return None,
        })
    }

    /// What an attempt that left a recipient in this state is called in its delivery events and
    /// counters: `sent`, `deferred`, `expired`, or `failed` (for every other state).
    pub fn after_attempt_label(&self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Deferred => "deferred",
            Self::Expired => "expired",
            _ => "failed",
        }
    }

    /// Waiting for an attempt: not final, and not being delivered by a node right now. A paused
    /// tenant's waiting recipients are the ones it holds.
    pub fn is_waiting(&self) -> bool {
        matches!(self, Self::Queued | Self::Deferred)
    }

    /// A final state is never delivered again. Only what comes back after delivery (a bounce
    /// or a complaint) may still move a final recipient, and only by [`Self::after_feedback`].
    pub fn is_final(&self) -> bool {
        match self {
            Self::Queued | Self::Sending | Self::Deferred => false,
            Self::Sent
            | Self::Failed
            | Self::Expired
            | Self::Cancelled
            | Self::Suppressed
            | Self::Bounced
            | Self::Complained => true,
        }
    }

    /// The state a recipient moves to when feedback arrives about it, or `None` when the
    /// feedback changes nothing: a bounce is believed even after `sent` (the receiver accepted
    /// and failed later), a complaint is about mail that arrived, and a recipient that was never
    /// handed to anyone (suppressed, cancelled) cannot bounce. A soft bounce of a recipient that
    /// is still being retried changes nothing either, since the retries tell its story.
    pub fn after_feedback(&self, feedback: crate::Feedback) -> Option<Self> {
        use crate::Feedback;
        match (self, feedback) {
            (Self::Suppressed | Self::Cancelled, _) => None,
            (Self::Complained, _) => None,
            (_, Feedback::Complaint) => Some(Self::Complained),
            (_, Feedback::Unsubscribe) => None,
            (Self::Queued | Self::Sending | Self::Deferred, Feedback::SoftBounce) => None,
            (Self::Bounced, Feedback::SoftBounce) => None,
            (_, Feedback::HardBounce | Feedback::SoftBounce) => Some(Self::Bounced),
        }
    }
}

/// Where a message was submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmissionSource {
    /// The HTTP API.
    Http,
    /// SMTP submission.
    Smtp,
    /// A mailing or test mailing sent from the UI or the API.
    Mailing,
}

impl SubmissionSource {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Smtp => "smtp",
            Self::Mailing => "mailing",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "http" => Self::Http,
            "smtp" => Self::Smtp,
            "mailing" => Self::Mailing,
            _ => return None,
        })
    }
}

/// How one delivery attempt for a recipient ended, as the attempt history records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    Delivered,
    Temporary,
    Permanent,
}

impl AttemptResult {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Temporary => "temporary",
            Self::Permanent => "permanent",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "delivered" => Self::Delivered,
            "temporary" => Self::Temporary,
            "permanent" => Self::Permanent,
            _ => return None,
        })
    }
}

/// An `Idempotency-Key` with a fingerprint of the request that used it, so that a repeat of
/// the same request is answered with the first message and a different request under the same
/// key is refused instead of silently dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    key: String,
    request_hash: String,
}

impl IdempotencyKey {
    /// A key of 1 to [`limits::text::MAX_IDEMPOTENCY_KEY`](crate::limits::text) visible ASCII
    /// characters (no space, TAB or control character), with the hex fingerprint of its request.
    pub fn parse(key: &str, request_hash: String) -> Result<Self, String> {
        let max = crate::limits::text::MAX_IDEMPOTENCY_KEY;
        if key.is_empty() || key.len() > max {
            return Err(format!("use 1 to {max} characters"));
        }
        if !key.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(
                "use visible ASCII characters only (no spaces, tabs or control characters)"
                    .to_owned(),
            );
        }
        Ok(Self {
            key: key.to_owned(),
            request_hash,
        })
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn request_hash(&self) -> &str {
        &self.request_hash
    }
}

/// A message as accepted: exactly the bytes that will be sent, and its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub mail_from: String,
    pub raw: Vec<u8>,
    pub signing: SigningRecord,
    pub route: Route,
    pub source: SubmissionSource,
    pub idempotency_key: Option<IdempotencyKey>,
    pub accepted_at: Timestamp,
    /// Native delivery gives up on temporary failures at this time.
    pub expires_at: Timestamp,
    pub recipients: Vec<Recipient>,
}

/// A message as lists show it: everything but the body, with its decoded Subject (kept beside
/// the source when the message is accepted) so a list reads no source at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSummary {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub mail_from: String,
    /// Unfolded, RFC 2047 words decoded; empty when the message has none.
    pub subject: String,
    /// The size of the whole source in bytes.
    pub size: usize,
    pub signing: SigningRecord,
    /// What the last verification of the stored source found, if it was ever verified.
    pub dkim_verdict: Option<DkimVerdict>,
    pub route: Route,
    pub source: SubmissionSource,
    pub accepted_at: Timestamp,
    pub expires_at: Timestamp,
    pub recipients: Vec<Recipient>,
}

impl MessageSummary {
    /// How much of a source is read for its Subject: the header is at the start.
    pub const HEAD_BYTES: usize = 8 * 1024;

    /// The summary of a whole message, given its decoded Subject and its last verdict.
    pub fn of(message: &QueuedMessage, subject: String, dkim_verdict: Option<DkimVerdict>) -> Self {
        Self {
            id: message.id,
            tenant_id: message.tenant_id,
            mail_from: message.mail_from.clone(),
            subject,
            size: message.raw.len(),
            signing: message.signing.clone(),
            dkim_verdict,
            route: message.route,
            source: message.source,
            accepted_at: message.accepted_at,
            expires_at: message.expires_at,
            recipients: message.recipients.clone(),
        }
    }
}

/// Whether a stored message's DKIM signature verified when it was last checked against DNS.
/// A temporary DNS error is no verdict, and neither is a message that was not signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DkimVerdict {
    Pass,
    Fail,
}

impl DkimVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pass" => Some(Self::Pass),
            "fail" => Some(Self::Fail),
            _ => None,
        }
    }
}

/// One recipient of a message and its delivery state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: RecipientId,
    pub address: String,
    /// The domain part, lowercase: recipients are delivered per destination domain.
    pub domain: String,
    pub state: RecipientState,
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    /// The last reply of a remote server, or the error, as shown to people.
    pub last_reply: Option<String>,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::RecipientState::{self, *};
    use crate::Feedback::{self, *};

    #[track_caller]
    fn check(state: RecipientState, feedback: Feedback, expect: Option<RecipientState>) {
        assert_eq!(state.after_feedback(feedback), expect);
    }

    #[test]
    fn feedback_moves_a_recipient_even_after_it_was_sent() {
        check(Sent, HardBounce, Some(Bounced));
        check(Sent, SoftBounce, Some(Bounced));
        check(Sent, Complaint, Some(Complained));
        check(Failed, HardBounce, Some(Bounced));
        check(Expired, SoftBounce, Some(Bounced));
        check(Deferred, HardBounce, Some(Bounced));
        check(Deferred, SoftBounce, None);
        check(Queued, SoftBounce, None);
        check(Bounced, HardBounce, Some(Bounced));
        check(Bounced, SoftBounce, None);
        check(Bounced, Complaint, Some(Complained));
        check(Complained, HardBounce, None);
        check(Suppressed, HardBounce, None);
        check(Cancelled, Complaint, None);
        check(Sent, Unsubscribe, None);
    }

    #[test]
    fn states_read_back_what_they_write() {
        for state in [
            Queued, Sending, Deferred, Sent, Failed, Expired, Cancelled, Suppressed, Bounced,
            Complained,
        ] {
            assert_eq!(RecipientState::parse(state.as_str()), Some(state));
        }
        assert!(Suppressed.is_final() && Bounced.is_final() && Complained.is_final());
        assert!(!Deferred.is_final());
    }
}
