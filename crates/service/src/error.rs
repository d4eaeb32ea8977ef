//! What can go wrong in a use case, split into what the caller did wrong (shown to them as is)
//! and what went wrong inside (logged, and shown only as an internal error).

use sealpost_domain::{NameError, UnprovenDomain};
use sealpost_store::StoreError;
use sealpost_vault::{ImportError, UnsealError, VaultError};

use crate::sending_domains::VerificationFailure;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("the signing domain has no key yet: generate a key pair or import a key first")]
    NoKey,
    /// A change that waits for DNS: the key's record is not published yet (it may be forced).
    #[error("{0}")]
    KeyNotPublished(String),
    #[error("{0}")]
    Import(#[from] ImportError),
    /// The message is larger than Sealpost accepts.
    #[error("{0}")]
    TooLarge(String),
    /// A message uses a domain in From or MAIL FROM that the tenant has not proven.
    #[error("{0}")]
    Unproven(UnprovenDomain),
    /// A verification found no proof in DNS.
    #[error("{0}")]
    NotProven(VerificationFailure),
    #[error("the e-mail address or the password is not right")]
    SignInRefused,
    /// A submission's API key was deleted after its request was authenticated.
    #[error("the API key is not valid")]
    ApiKeyRefused,
    #[error("too many wrong passwords: try again in {retry_after_seconds} seconds")]
    TooManyAttempts { retry_after_seconds: i64 },
    #[error(transparent)]
    WrongMasterKey(VaultError),
    #[error(transparent)]
    MasterKey(crate::master_keys::MasterKeyRefusal),
    /// A failure inside, with the error that caused it (its own causes included) for the log.
    /// The message shows it; `source()` starts below it, so a chain is not told twice.
    #[error("internal error: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

/// What kind of failure a [`ServiceError`] is, as the edges answer it: the HTTP status and the
/// API's stable error code of each kind are written here once, and the JSON API, the web pages
/// and the command line only render them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A value the caller gave does not follow its rules.
    Invalid,
    /// A private key that could not be imported.
    KeyRefused,
    NotFound,
    /// The thing exists already, or its state forbids the change.
    Conflict,
    /// The signing domain has no key yet.
    NoKey,
    /// A sending domain whose proof DNS does not show yet.
    DomainNotProven,
    /// A message that uses a sender domain the tenant has not proven.
    SenderNotProven,
    TooLarge,
    /// The sign-in was refused.
    Unauthorized,
    TooManyAttempts,
    /// A failure inside, which the caller cannot fix; its detail is logged, never shown.
    Internal,
}

impl ErrorKind {
    /// The HTTP status of the kind. The request is well formed when the tenant's standing
    /// refuses it: it may not send as a domain it has not proven (403), and a proof DNS does not
    /// show yet is a state to change before retrying, like a missing key (409).
    pub fn http_status(self) -> u16 {
        match self {
            Self::Invalid | Self::KeyRefused => 422,
            Self::NotFound => 404,
            Self::Conflict | Self::NoKey | Self::DomainNotProven => 409,
            Self::SenderNotProven => 403,
            Self::TooLarge => 413,
            Self::Unauthorized => 401,
            Self::TooManyAttempts => 429,
            Self::Internal => 500,
        }
    }

    /// The API's stable, machine-readable code of the kind.
    pub fn code(self) -> &'static str {
        match self {
            Self::Invalid => "invalid_input",
            Self::KeyRefused => "key_refused",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::NoKey => "no_key",
            Self::DomainNotProven => "domain_not_proven",
            Self::SenderNotProven => "sender_domain_not_proven",
            Self::TooLarge => "too_large",
            Self::Unauthorized => "unauthorized",
            Self::TooManyAttempts => "too_many_attempts",
            Self::Internal => "internal",
        }
    }
}

impl ServiceError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid { .. } => ErrorKind::Invalid,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Conflict(_) | Self::KeyNotPublished(_) => ErrorKind::Conflict,
            Self::NoKey => ErrorKind::NoKey,
            Self::Import(_) => ErrorKind::KeyRefused,
            Self::TooLarge(_) => ErrorKind::TooLarge,
            Self::Unproven(_) => ErrorKind::SenderNotProven,
            Self::NotProven(_) => ErrorKind::DomainNotProven,
            Self::SignInRefused | Self::ApiKeyRefused => ErrorKind::Unauthorized,
            Self::TooManyAttempts { .. } => ErrorKind::TooManyAttempts,
            Self::MasterKey(_) => ErrorKind::Conflict,
            Self::WrongMasterKey(_) | Self::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The error and every cause below it, as one line for the log ("a: b: c"). The edges log
    /// this for an internal error and never show it in a response.
    pub fn chain(&self) -> String {
        let mut line = self.to_string();
        let mut cause = match self {
            Self::Internal(inner) => inner.source(),
            other => std::error::Error::source(other),
        };
        while let Some(error) = cause {
            line.push_str(": ");
            line.push_str(&error.to_string());
            cause = error.source();
        }
        line
    }

    /// The sentence a caller may be shown. An internal error is logged here, once, with its
    /// whole chain of causes, and only a generic sentence is shown, so no edge can forget either.
    pub fn public_message(&self) -> String {
        match self.kind() {
            ErrorKind::Internal => {
                tracing::error!(error = %self.chain(), "internal error");
                "an internal error occurred; it has been logged".to_owned()
            }
            _ => self.to_string(),
        }
    }

    pub(crate) fn invalid(field: &'static str, error: NameError) -> Self {
        Self::Invalid {
            field,
            message: error.to_string(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Duplicate(what) => Self::Conflict(format!("{what} already exists")),
            StoreError::NotFound => Self::NotFound("the requested item"),
            StoreError::Changed(what) => Self::Conflict(what.to_owned()),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<VaultError> for ServiceError {
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::Import(import) => Self::Import(import),
            VaultError::WrongMasterKey => Self::WrongMasterKey(error),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<UnsealError> for ServiceError {
    fn from(error: UnsealError) -> Self {
        Self::Internal(error.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with a cause of its own, as a store error wrapping a driver error is.
    #[derive(Debug, thiserror::Error)]
    #[error("the query failed")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn an_internal_error_keeps_its_source_and_logs_the_whole_chain_once() {
        let io = std::io::Error::other("connection reset");
        let error = ServiceError::Internal(Outer(io).into());
        assert_eq!(error.to_string(), "internal error: the query failed");
        assert_eq!(
            error.chain(),
            "internal error: the query failed: connection reset"
        );
        let ServiceError::Internal(inner) = &error else {
            unreachable!("made as an internal error above");
        };
        assert!(inner.downcast_ref::<Outer>().is_some());
    }

    #[test]
    fn a_store_error_stays_the_source_of_an_internal_error() {
        let error = ServiceError::from(StoreError::Corrupt("state: \"lost\"".to_owned()));
        let ServiceError::Internal(inner) = &error else {
            panic!("a corrupt row is an internal error, not {error:?}");
        };
        assert!(inner.downcast_ref::<StoreError>().is_some());
        assert_eq!(error.kind(), ErrorKind::Internal);
    }
}
