//! Feedback about a delivered recipient (a bounce, a complaint) as one use case: the domain's
//! rules decide the recipient's next state and whether the address is suppressed, and the store
//! commits both with their event in one transaction (`Store::record_feedback`), the one place
//! where a recipient changes after its attempts. The inbound listener calls it once it has
//! matched a report to its recipient, before it answers.

mod intake;

pub use intake::Intake;

use sealpost_domain::{Feedback, RecipientId, RecipientState, SuppressedAddress, Suppression};
use sealpost_domain::{TenantId, limits::suppression_import::MAX_DETAIL_CHARS};
use sealpost_store::{FeedbackChange, StoreError};

use crate::{FeedbackLoop, ServiceError};

/// How often a change is tried again when another report or an attempt moved the recipient
/// between reading it and committing.
const ATTEMPTS: usize = 3;

fn event_of(feedback: Feedback) -> &'static str {
    match feedback {
        Feedback::HardBounce => "bounced",
        Feedback::SoftBounce => "soft_bounced",
        Feedback::Complaint => "complained",
        Feedback::Unsubscribe => "unsubscribed",
    }
}

impl FeedbackLoop {
    /// Records feedback about the tenant's recipient: its state moves as
    /// `RecipientState::after_feedback` says (a bounce even after `sent`), and a hard bounce, a
    /// complaint or an unsubscribe puts its address on the tenant's suppression list, naming the
    /// message. Returns the recipient's state afterwards.
    pub async fn record_feedback(
        &self,
        tenant: TenantId,
        recipient: RecipientId,
        feedback: Feedback,
        detail: &str,
    ) -> Result<RecipientState, ServiceError> {
        let detail: String = detail
            .chars()
            .map(|character| match character.is_control() {
                true => ' ',
                false => character,
            })
            .take(MAX_DETAIL_CHARS)
            .collect();
        for _ in 0..ATTEMPTS {
            let (message, current) = match self.store.recipient_by_id(tenant, recipient).await {
                Err(StoreError::NotFound) => return Err(ServiceError::NotFound("recipient")),
                other => other?,
            };
            let address = SuppressedAddress::parse(&current.address).map_err(|error| {
                ServiceError::Internal(format!("a stored recipient: {error}").into())
            })?;
            let now = self.clock.now();
            let change = FeedbackChange {
                tenant_id: tenant,
                message_id: message,
                recipient_id: recipient,
                from: current.state,
                to: current.state.after_feedback(feedback),
                event: event_of(feedback),
                detail: detail.clone(),
                suppression: feedback.suppression_reason().map(|reason| Suppression {
                    tenant_id: tenant,
                    address,
                    reason,
                    message_id: Some(message),
                    detail: detail.clone(),
                    created_at: now,
                }),
                at: now,
            };
            if self.store.record_feedback(&change).await? {
                self.metrics.count(
                    match feedback {
                        Feedback::HardBounce | Feedback::SoftBounce => "bounced",
                        Feedback::Complaint => "complained",
                        Feedback::Unsubscribe => "unsubscribed",
                    },
                    tenant,
                );
                if feedback != Feedback::Unsubscribe {
                    self.judge_reputation(tenant).await?;
                }
                return Ok(change.to.unwrap_or(change.from));
            }
        }
        Err(ServiceError::Conflict(
            "the recipient kept changing while the feedback was recorded; try again".to_owned(),
        ))
    }
}
