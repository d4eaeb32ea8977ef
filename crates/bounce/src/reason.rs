//! Why a message was not delivered, in the vocabulary of the sisimai bounce classifier (the
//! names of the bounce corpus), and which reasons make an address dead.

use std::fmt;

use crate::status::Class;

macro_rules! reasons {
    ($($variant:ident => $name:literal,)*) => {
        /// A bounce reason. The names are sisimai's, so reports compare with its corpus.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Reason {
            $($variant,)*
        }

        impl Reason {
            pub const ALL: &[Reason] = &[$(Reason::$variant,)*];

            /// The reason's name, as the corpus writes it.
            pub fn name(self) -> &'static str {
                match self {
                    $(Reason::$variant => $name,)*
                }
            }
        }
    };
}

reasons! {
    AuthFailure => "authfailure",
    BadReputation => "badreputation",
    Blocked => "blocked",
    ContentError => "contenterror",
    Delivered => "delivered",
    ExceedLimit => "exceedlimit",
    Expired => "expired",
    FailedStartTls => "failedstarttls",
    Feedback => "feedback",
    Filtered => "filtered",
    HasMoved => "hasmoved",
    HostUnknown => "hostunknown",
    MailboxFull => "mailboxfull",
    MailerError => "mailererror",
    MesgTooBig => "mesgtoobig",
    NetworkError => "networkerror",
    NoRelaying => "norelaying",
    NotAccept => "notaccept",
    NotCompliantRfc => "notcompliantrfc",
    OnHold => "onhold",
    PolicyViolation => "policyviolation",
    Rejected => "rejected",
    RequirePtr => "requireptr",
    SecurityError => "securityerror",
    SpamDetected => "spamdetected",
    Speeding => "speeding",
    Suspend => "suspend",
    SyntaxError => "syntaxerror",
    SystemError => "systemerror",
    SystemFull => "systemfull",
    TooManyConn => "toomanyconn",
    Undefined => "undefined",
    UserUnknown => "userunknown",
    Vacation => "vacation",
    VirusDetected => "virusdetected",
}

impl Reason {
    /// Whether the address itself is dead, so mailing it again is pointless: the mailbox or the
    /// domain does not exist or has moved, or the domain accepts no mail at all (permanently).
    /// Every other reason, even a permanent one such as a filter or a block, is about the message
    /// or the sender and may pass another time (sisimai's hard-bounce rule).
    pub fn is_hard(self, class: Class) -> bool {
        match self {
            Self::UserUnknown | Self::HostUnknown | Self::HasMoved => true,
            Self::NotAccept => class == Class::Permanent,
            _ => false,
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|reason| reason.name() == name)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for reason in Reason::ALL {
            assert_eq!(Reason::from_name(reason.name()), Some(*reason));
        }
        assert_eq!(Reason::from_name("nosuchreason"), None);
    }

    #[test]
    fn hard_follows_the_reason() {
        assert!(Reason::UserUnknown.is_hard(Class::Transient));
        assert!(Reason::NotAccept.is_hard(Class::Permanent));
        assert!(!Reason::NotAccept.is_hard(Class::Transient));
        assert!(!Reason::Suspend.is_hard(Class::Permanent));
        assert!(!Reason::Feedback.is_hard(Class::Permanent));
    }
}
