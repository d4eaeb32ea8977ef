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
    #[error("too many wrong passwords: try again in {retry_after_seconds} seconds")]
    TooManyAttempts { retry_after_seconds: i64 },
    #[error(transparent)]
    WrongMasterKey(VaultError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
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
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<VaultError> for ServiceError {
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::Import(import) => Self::Import(import),
            VaultError::WrongMasterKey => Self::WrongMasterKey(error),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<UnsealError> for ServiceError {
    fn from(error: UnsealError) -> Self {
        Self::Internal(error.to_string())
    }
}
