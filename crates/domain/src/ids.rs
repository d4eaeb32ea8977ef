//! Typed identifiers, so that a tenant id can never be passed where a key id is expected.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::Clock;

/// An id is a TEXT column holding the hyphenated UUID, in SQLite and PostgreSQL alike; a value
/// that is not a UUID fails to decode, which the store reports as a corrupt row.
#[cfg(feature = "sqlx")]
macro_rules! sqlx_text_column {
    ($name:ident) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            String: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buffer: &mut DB::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <String as sqlx::Encode<DB>>::encode(self.0.hyphenated().to_string(), buffer)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&str as sqlx::Decode<DB>>::decode(value)?;
                let uuid =
                    Uuid::parse_str(text).map_err(|_| format!("{} {text:?}", stringify!($name)))?;
                Ok(Self(uuid))
            }
        }
    };
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh identifier from the clock, so identifiers sort by creation time.
            pub fn new(clock: &(impl Clock + ?Sized)) -> Self {
                Self(clock.new_uuid())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
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

        #[cfg(feature = "sqlx")]
        sqlx_text_column!($name);
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
    /// One delivery attempt for one recipient, in the attempt history.
    AttemptId
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
id_type!(
    /// One webhook endpoint of a tenant.
    WebhookEndpointId
);
