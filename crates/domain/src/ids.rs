//! Typed identifiers, so that a tenant id can never be passed where a key id is expected.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh identifier; UUIDv7, so identifiers sort by creation time.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(formatter)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(formatter, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

id_type!(
    /// A tenant (a client organisation of the platform).
    TenantId
);
id_type!(
    /// A signing domain of one tenant.
    SigningDomainId
);
id_type!(
    /// One DKIM private key. A new key gets a new id, so caches keyed by it never serve a
    /// replaced key.
    KeyId
);
id_type!(
    /// One API key of a tenant.
    ApiKeyId
);
id_type!(
    /// One accepted message in the queue.
    MessageId
);
id_type!(
    /// One recipient of a queued message, with its own delivery state.
    RecipientId
);
id_type!(
    /// A person who signs in to the web UI: an operator or a tenant administrator.
    UserId
);
id_type!(
    /// One contact (a name and an e-mail address) in a tenant's address book.
    ContactId
);
id_type!(
    /// One mailing: a sender contact, recipient contacts, a subject and a body.
    MailingId
);
id_type!(
    /// One mail-tester report of a message that arrived at a test address.
    CheckerReportId
);
