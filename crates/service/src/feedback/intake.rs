//! Reports that come back to the platform's inbound listener (SPEC S10.2, S10.3): a bounce sent
//! to a VERP return address, or a feedback-loop complaint sent to the complaints address or to
//! the return address. The report is read (`sealpost_bounce`), matched to the recipient it is
//! about through the signed return address (in the envelope, in the complaint's
//! Original-Mail-From, or in the Return-Path the receiver wrote into the quoted original), and
//! recorded with `record_feedback` before the listener answers, so an acknowledged report is
//! never lost.

use sealpost_bounce::{Action, Class, Complaint, DeliveryReport, FeedbackType, Report};
use sealpost_domain::{EmailAddress, Feedback, RecipientId, RecipientState, TenantId};

use crate::{FeedbackLoop, ServiceError};

/// What became of one received report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    /// The report named a recipient of ours: its state afterwards.
    Recorded {
        tenant: TenantId,
        recipient: RecipientId,
        feedback: Feedback,
        state: RecipientState,
    },
    /// A mail to a one-click unsubscribe address: the recipient it names is unsubscribed.
    Unsubscribed,
    /// Nothing to record, and why: a delay notice, an automatic reply, a report that names no
    /// message of ours.
    Ignored(&'static str),
}

impl FeedbackLoop {
    /// Whether the inbound listener takes mail for `address`: a valid return address of a
    /// tenant's return-path domain, or the platform's complaints address. Forged return
    /// addresses are refused at RCPT.
    pub async fn accepts_report_recipient(&self, address: &str) -> Result<bool, ServiceError> {
        let Ok(address) = EmailAddress::parse(address) else {
            return Ok(false);
        };
        if self.is_complaints_address(&address)
            || self.unsubscribe_address(&address).await?.is_some()
        {
            return Ok(true);
        }
        Ok(self.recipient_of_return_address(&address).await?.is_some())
    }

    fn is_complaints_address(&self, address: &EmailAddress) -> bool {
        self.complaints_address.as_ref().is_some_and(|complaints| {
            complaints.domain() == address.domain()
                && complaints
                    .local_part()
                    .eq_ignore_ascii_case(address.local_part())
        })
    }

    /// Reads a report received for `recipients` (the envelope's, already accepted by
    /// [`Self::accepts_report_recipient`]) and records what it says about the recipient it
    /// names.
    pub async fn receive_report(
        &self,
        recipients: &[String],
        message: &[u8],
    ) -> Result<Intake, ServiceError> {
        for recipient in recipients {
            let Ok(address) = EmailAddress::parse(recipient) else {
                continue;
            };
            if let Some(token) = self.unsubscribe_address(&address).await? {
                self.unsubscribe(&token).await?;
                return Ok(Intake::Unsubscribed);
            }
        }
        let report = match sealpost_bounce::parse(message) {
            Ok(report) => report,
            Err(_) => return Ok(Intake::Ignored("the message is empty or too large")),
        };
        let (feedback, detail, candidates) = match &report {
            Report::Delivery(delivery) => match failure(delivery) {
                Some((feedback, detail)) => (feedback, detail, recipients.to_vec()),
                None => return Ok(Intake::Ignored("a report of a delay or a success")),
            },
            Report::Complaint(complaint) => match complaint_feedback(complaint) {
                Some(feedback) => {
                    let detail = complaint_detail(complaint);
                    (feedback, detail, complaint_addresses(complaint, recipients))
                }
                None => return Ok(Intake::Ignored("a report that the mail is not spam")),
            },
            Report::AutoReply(_) => return Ok(Intake::Ignored("an automatic reply")),
            Report::NotABounce => return Ok(Intake::Ignored("not a report")),
        };
        let Some((tenant, recipient)) = self.first_return_address(&candidates).await? else {
            return Ok(Intake::Ignored(
                "the report names no message sent from here",
            ));
        };
        let state = match self
            .record_feedback(tenant, recipient, feedback, &detail)
            .await
        {
            // The tenant deleted the message meanwhile: there is nothing left to mark.
            Err(ServiceError::NotFound(_)) => {
                return Ok(Intake::Ignored("the message it is about is gone"));
            }
            other => other?,
        };
        Ok(Intake::Recorded {
            tenant,
            recipient,
            feedback,
            state,
        })
    }

    async fn first_return_address(
        &self,
        candidates: &[String],
    ) -> Result<Option<(TenantId, RecipientId)>, ServiceError> {
        for candidate in candidates {
            let Ok(address) = EmailAddress::parse(candidate.trim_matches(['<', '>', ' '])) else {
                continue;
            };
            if let Some(found) = self.recipient_of_return_address(&address).await? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

/// The failure a delivery report tells of, as feedback with its detail; `None` when it reports
/// only delays or successes, which change nothing (the retries or the 250 tell that story).
fn failure(report: &DeliveryReport) -> Option<(Feedback, String)> {
    let failed = report.recipients.iter().find(|recipient| {
        matches!(recipient.action, Some(Action::Failed) | None) && recipient.class != Class::Success
    })?;
    let feedback = match failed.is_hard() {
        true => Feedback::HardBounce,
        false => Feedback::SoftBounce,
    };
    let mut detail = String::new();
    if let Some(status) = failed.status {
        detail.push_str(&format!("{status} "));
    }
    if let Some(code) = failed.reply_code {
        detail.push_str(&format!("({code}) "));
    }
    detail.push_str(failed.reason.name());
    if !failed.diagnostic.is_empty() {
        detail.push_str(": ");
        detail.push_str(&failed.diagnostic);
    }
    if let Some(mta) = &failed.reporting_mta {
        detail.push_str(&format!(" (reported by {mta})"));
    }
    Some((feedback, detail))
}

/// A complaint is a complaint unless the receiver says the mail was not spam; an opt-out report
/// is an unsubscribe.
fn complaint_feedback(complaint: &Complaint) -> Option<Feedback> {
    match complaint.feedback_type {
        FeedbackType::NotSpam => None,
        FeedbackType::OptOut => Some(Feedback::Unsubscribe),
        _ => Some(Feedback::Complaint),
    }
}

fn complaint_detail(complaint: &Complaint) -> String {
    let mut detail = format!("{} report", complaint.feedback_type.name());
    if let Some(agent) = complaint
        .user_agent
        .as_ref()
        .or(complaint.reporting_mta.as_ref())
    {
        detail.push_str(&format!(" from {agent}"));
    }
    detail
}

/// Where a complaint may name our return address: the envelope (a provider that sends it to
/// the return path), Original-Mail-From, and the Return-Path of the quoted original.
fn complaint_addresses(complaint: &Complaint, envelope: &[String]) -> Vec<String> {
    let quoted = complaint
        .original
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Return-Path"))
        .map(|(_, value)| value.clone());
    envelope
        .iter()
        .cloned()
        .chain(complaint.original_mail_from.clone())
        .chain(quoted)
        .collect()
}
