//! The suppression list (SPEC S10.3): addresses a tenant no longer mails, why, and the rules that
//! put an address on it. What came back after delivery decides alone whether an address is
//! suppressed; a temporary failure never is, and the list is always one tenant's.

use std::fmt;

use crate::{EmailAddress, MessageId, TenantId, Timestamp};

/// Why an address is on a tenant's suppression list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuppressionReason {
    /// A permanent failure reported after delivery (or at it): the mailbox or domain does not
    /// exist, or the receiver refuses the sender for good.
    HardBounce,
    /// The recipient reported the mail as spam (a feedback-loop report).
    Complaint,
    /// The recipient asked for no more mail (one-click unsubscribe).
    Unsubscribe,
    /// An operator or the tenant added the address.
    Manual,
}

impl SuppressionReason {
    pub const ALL: [Self; 4] = [
        Self::HardBounce,
        Self::Complaint,
        Self::Unsubscribe,
        Self::Manual,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::HardBounce => "hard_bounce",
            Self::Complaint => "complaint",
            Self::Unsubscribe => "unsubscribe",
            Self::Manual => "manual",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == text)
    }

    /// The reason in words, as a recipient's last reply and the pages show it.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::HardBounce => "a hard bounce",
            Self::Complaint => "a spam complaint",
            Self::Unsubscribe => "an unsubscribe request",
            Self::Manual => "an entry added by hand",
        }
    }
}

impl fmt::Display for SuppressionReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The form in which an address is kept on and looked up in a suppression list: the whole
/// address in lowercase. Receivers treat local parts without regard to case in practice, so
/// `Jane@client.example` and `jane@client.example` are one entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SuppressedAddress(String);

impl SuppressedAddress {
    pub fn of(address: &EmailAddress) -> Self {
        Self(address.to_string().to_ascii_lowercase())
    }

    /// Reads an address by the one address rule.
    pub fn parse(text: &str) -> Result<Self, crate::AddressError> {
        EmailAddress::parse(text).map(|address| Self::of(&address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SuppressedAddress {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// One entry of a tenant's suppression list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub tenant_id: TenantId,
    pub address: SuppressedAddress,
    pub reason: SuppressionReason,
    /// The message whose bounce, complaint or unsubscribe caused the entry.
    pub message_id: Option<MessageId>,
    /// What was reported (a bounce's status and diagnostic), or the note of whoever added it.
    pub detail: String,
    pub created_at: Timestamp,
}

impl Suppression {
    /// What a recipient that was not sent because of this entry shows as its last reply.
    pub fn recipient_reply(&self) -> String {
        let mut reply = format!(
            "suppressed: {} is on this tenant's suppression list because of {}",
            self.address,
            self.reason.describe()
        );
        if let Some(message) = self.message_id {
            reply.push_str(&format!(" (message {message})"));
        }
        reply
    }
}

/// What came back about a delivered (or attempted) recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feedback {
    /// A permanent failure: unknown user or domain, a refusal for good.
    HardBounce,
    /// A temporary failure: mailbox full, greylisting, a receiver that was down.
    SoftBounce,
    /// A spam complaint.
    Complaint,
    /// An unsubscribe request.
    Unsubscribe,
}

impl Feedback {
    /// The words for it in replies and messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::HardBounce => "hard bounce",
            Self::SoftBounce => "soft bounce",
            Self::Complaint => "complaint",
            Self::Unsubscribe => "unsubscribe",
        }
    }

    /// Whether this feedback puts the address on the tenant's list, and with which reason. A
    /// temporary failure never does: the address may well work tomorrow.
    pub fn suppression_reason(&self) -> Option<SuppressionReason> {
        match self {
            Self::HardBounce => Some(SuppressionReason::HardBounce),
            Self::SoftBounce => None,
            Self::Complaint => Some(SuppressionReason::Complaint),
            Self::Unsubscribe => Some(SuppressionReason::Unsubscribe),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(feedback: Feedback, expect: Option<SuppressionReason>) {
        assert_eq!(feedback.suppression_reason(), expect);
    }

    #[test]
    fn only_permanent_feedback_suppresses() {
        check(Feedback::HardBounce, Some(SuppressionReason::HardBounce));
        check(Feedback::SoftBounce, None);
        check(Feedback::Complaint, Some(SuppressionReason::Complaint));
        check(Feedback::Unsubscribe, Some(SuppressionReason::Unsubscribe));
    }

    #[test]
    fn reasons_read_back_what_they_write() {
        for reason in SuppressionReason::ALL {
            assert_eq!(SuppressionReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(SuppressionReason::parse("Manual"), None);
        assert_eq!(SuppressionReason::parse(""), None);
    }

    #[test]
    fn addresses_are_one_entry_whatever_their_case() {
        let upper = SuppressedAddress::parse("<Jane.Doe@Client.EXAMPLE>").unwrap();
        let lower = SuppressedAddress::parse("jane.doe@client.example").unwrap();
        assert_eq!(upper, lower);
        assert_eq!(upper.as_str(), "jane.doe@client.example");
        assert!(SuppressedAddress::parse("jane").is_err());
        assert!(SuppressedAddress::parse("jane@localhost").is_err());
    }

    #[test]
    fn a_suppressed_recipient_says_why_and_which_message_caused_it() {
        let entry = Suppression {
            tenant_id: TenantId::from(crate::Uuid::nil()),
            address: SuppressedAddress::parse("gone@client.example").unwrap(),
            reason: SuppressionReason::HardBounce,
            message_id: None,
            detail: "5.1.1 user unknown".to_owned(),
            created_at: Timestamp(0),
        };
        assert_eq!(
            entry.recipient_reply(),
            "suppressed: gone@client.example is on this tenant's suppression list because of a \
             hard bounce"
        );
    }
}
