//! A message's status (SPEC S6.2, S8.1): its recipients, attempts and signing.

use sealpost_domain::{MessageSummary, Recipient, SigningRecord};
use sealpost_store::{AttemptInfo, TenantStanding};
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AcceptedView {
    pub id: String,
    /// True when the Idempotency-Key was used before: nothing new was queued.
    pub replayed: bool,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MessageView {
    pub id: String,
    pub mail_from: String,
    /// The decoded Subject; empty when the message has none.
    pub subject: String,
    /// native (the platform's MTA) or relay (the tenant's own mail server).
    pub route: &'static str,
    pub source: &'static str,
    pub size: usize,
    pub signing: SigningView,
    pub accepted_at: i64,
    /// Temporary failures stop being retried at this time.
    pub expires_at: i64,
    pub recipients: Vec<RecipientView>,
    pub attempts: Vec<AttemptView>,
    /// Present while the tenant's sending is paused and the message has recipients waiting
    /// (queued or deferred): they are held, accepted but not sent, until an operator resumes
    /// the tenant, and their expiry then moves on by the pause.
    pub held: Option<HeldView>,
}

/// Why a message's waiting recipients are not being sent.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HeldView {
    /// Since when the tenant's sending is paused (seconds since the Unix epoch).
    pub since: i64,
    /// Why it was paused, in the reputation guard's words, as the tenant's dashboard shows them.
    pub reason: String,
}

impl HeldView {
    /// The hold on a message's waiting `recipients` under the tenant's `standing`, if any.
    pub fn of(recipients: &[Recipient], standing: &TenantStanding) -> Option<Self> {
        let since = standing.sending_paused_at?;
        let waiting = recipients
            .iter()
            .any(|recipient| recipient.state.is_waiting());
        waiting.then(|| Self {
            since,
            reason: standing.paused_reason.clone().unwrap_or_default(),
        })
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SigningView {
    pub signed: bool,
    pub domain: Option<String>,
    pub selector: Option<String>,
    /// Why the tenant did not sign, with a stable code.
    pub unsigned_code: Option<String>,
    pub unsigned_reason: Option<String>,
    /// pass or fail: what the last verification of the stored source against DNS found (the
    /// verify endpoint and the message page verify); absent until it is first verified.
    pub dkim_verdict: Option<&'static str>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecipientView {
    pub id: String,
    pub address: String,
    /// queued, sending, deferred, sent, failed, expired, cancelled, suppressed (never sent: on
    /// the tenant's suppression list), bounced (a bounce came back, possibly after sent) or
    /// complained (the recipient reported it as spam).
    pub state: &'static str,
    pub attempts: u32,
    pub next_attempt_at: Option<i64>,
    /// The remote server's last reply, or the error.
    pub last_reply: Option<String>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AttemptView {
    pub recipient_id: String,
    pub started_at: i64,
    pub finished_at: i64,
    /// delivered, temporary or permanent.
    pub outcome: String,
    pub reply: String,
    pub host: Option<String>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ChangedView {
    /// How many recipients changed.
    pub changed: u64,
}

impl From<&Recipient> for RecipientView {
    fn from(recipient: &Recipient) -> Self {
        Self {
            id: recipient.id.to_string(),
            address: recipient.address.clone(),
            state: recipient.state.as_str(),
            attempts: recipient.attempts,
            next_attempt_at: recipient.next_attempt_at.map(|at| at.0),
            last_reply: recipient.last_reply.clone(),
        }
    }
}

impl MessageView {
    /// The view of `message` with its `attempts`, held when its tenant's `standing` says its
    /// sending is paused.
    pub fn new(
        message: &MessageSummary,
        attempts: &[AttemptInfo],
        standing: &TenantStanding,
    ) -> Self {
        let signing = match &message.signing {
            SigningRecord::Signed { domain, selector } => SigningView {
                signed: true,
                domain: Some(domain.to_string()),
                selector: Some(selector.to_string()),
                unsigned_code: None,
                unsigned_reason: None,
                dkim_verdict: message.dkim_verdict.map(|verdict| verdict.as_str()),
            },
            SigningRecord::Unsigned(reason) => SigningView {
                signed: false,
                domain: None,
                selector: None,
                unsigned_code: Some(reason.code().to_owned()),
                unsigned_reason: Some(reason.to_string()),
                dkim_verdict: None,
            },
        };
        Self {
            id: message.id.to_string(),
            mail_from: message.mail_from.clone(),
            subject: message.subject.clone(),
            route: message.route.as_str(),
            source: message.source.as_str(),
            size: message.size,
            signing,
            accepted_at: message.accepted_at.0,
            expires_at: message.expires_at.0,
            recipients: message.recipients.iter().map(RecipientView::from).collect(),
            attempts: attempts
                .iter()
                .map(|attempt| AttemptView {
                    recipient_id: attempt.recipient_id.to_string(),
                    started_at: attempt.started_at.0,
                    finished_at: attempt.finished_at.0,
                    outcome: attempt.outcome.as_str().to_owned(),
                    reply: attempt.reply.clone(),
                    host: attempt.host.clone(),
                })
                .collect(),
            held: HeldView::of(&message.recipients, standing),
        }
    }
}

#[cfg(test)]
mod tests {
    use sealpost_domain::RecipientState;

    use super::*;

    fn recipients(states: &[RecipientState]) -> Vec<Recipient> {
        let tenant = sealpost_store::testing::tenant("acme", "Acme").id;
        let addresses = vec!["someone@receiver.test"; states.len()];
        let mut message = sealpost_store::testing::message(tenant, &addresses, None);
        for (recipient, state) in message.recipients.iter_mut().zip(states) {
            recipient.state = *state;
        }
        message.recipients
    }

    /// A paused tenant's message is held while a recipient waits for an attempt (queued or
    /// deferred), not while its recipients are all being delivered or final, and no message is
    /// held while the tenant is not paused.
    #[test]
    fn a_message_is_held_while_its_paused_tenant_has_a_recipient_waiting() {
        use RecipientState::*;
        let paused = TenantStanding {
            sending_paused_at: Some(1_800_000_000),
            paused_reason: Some("bounce rate 12.50 %".to_owned()),
            reputation_warning: None,
        };
        for (states, held) in [
            (&[Queued][..], true),
            (&[Sent, Deferred][..], true),
            (&[Sending][..], false),
            (&[Sent, Cancelled, Suppressed][..], false),
        ] {
            let view = HeldView::of(&recipients(states), &paused);
            assert_eq!(view.is_some(), held, "{states:?}");
            if let Some(view) = view {
                assert_eq!(
                    (view.since, view.reason.as_str()),
                    (1_800_000_000, "bounce rate 12.50 %")
                );
            }
        }
        let standing = TenantStanding::default();
        assert!(HeldView::of(&recipients(&[Queued]), &standing).is_none());
    }
}
