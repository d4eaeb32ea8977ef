//! What verification concludes: RFC 8601 result values, the stable cause codes that name why,
//! and warnings that do not change the result. Codes are part of the API and the CLI's JSON, so
//! they never change meaning; every cause maps to exactly one result here and nowhere else.

use std::fmt;

/// A DKIM result as Authentication-Results reports it (RFC 8601 section 2.7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DkimResult {
    Pass,
    /// No signature at all.
    None,
    Neutral,
    Policy,
    TempError,
    PermError,
    Fail,
}

impl DkimResult {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::None => "none",
            Self::Neutral => "neutral",
            Self::Policy => "policy",
            Self::TempError => "temperror",
            Self::PermError => "permerror",
            Self::Fail => "fail",
        }
    }
}

impl fmt::Display for DkimResult {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Why a signature got its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The signature verified.
    Verified,
    /// The body hash differs: the body was changed after signing.
    BodyModified,
    /// The body hash matches but the signature does not: a signed header was changed.
    SignatureMismatch,
    KeyNotFound,
    KeyRevoked,
    KeySyntax,
    /// The key's `k=` is not the algorithm the signature uses.
    KeyTypeMismatch,
    /// The key's `h=` does not allow the signature's hash algorithm.
    HashNotAllowed,
    /// RSA keys under 1024 bits are not accepted (RFC 8301).
    KeyTooSmall,
    SignatureExpired,
    TimestampInFuture,
    FromNotSigned,
    UnsupportedAlgorithm,
    UnsupportedCanonicalization,
    UnsupportedVersion,
    /// The `DKIM-Signature` field itself is malformed.
    SignatureSyntax,
    /// `i=` is not in `d=`'s domain, or `l=` exceeds the body.
    SignatureInconsistent,
    DnsTemporary,
}

impl Cause {
    pub fn result(&self) -> DkimResult {
        match self {
            Self::Verified => DkimResult::Pass,
            Self::BodyModified
            | Self::SignatureMismatch
            | Self::SignatureExpired
            | Self::KeyTooSmall => DkimResult::Fail,
            Self::TimestampInFuture => DkimResult::Policy,
            Self::DnsTemporary => DkimResult::TempError,
            Self::KeyNotFound
            | Self::KeyRevoked
            | Self::KeySyntax
            | Self::KeyTypeMismatch
            | Self::HashNotAllowed
            | Self::FromNotSigned
            | Self::UnsupportedAlgorithm
            | Self::UnsupportedCanonicalization
            | Self::UnsupportedVersion
            | Self::SignatureSyntax
            | Self::SignatureInconsistent => DkimResult::PermError,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::BodyModified => "body_modified",
            Self::SignatureMismatch => "signature_mismatch",
            Self::KeyNotFound => "key_not_found",
            Self::KeyRevoked => "key_revoked",
            Self::KeySyntax => "key_syntax",
            Self::KeyTypeMismatch => "key_type_mismatch",
            Self::HashNotAllowed => "hash_not_allowed",
            Self::KeyTooSmall => "key_too_small",
            Self::SignatureExpired => "signature_expired",
            Self::TimestampInFuture => "timestamp_in_future",
            Self::FromNotSigned => "from_not_signed",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::UnsupportedCanonicalization => "unsupported_canonicalization",
            Self::UnsupportedVersion => "unsupported_version",
            Self::SignatureSyntax => "signature_syntax",
            Self::SignatureInconsistent => "signature_inconsistent",
            Self::DnsTemporary => "dns_temporary",
        }
    }

    /// The sentence a person reads first; the report's detail adds the specifics.
    pub fn sentence(&self) -> &'static str {
        match self {
            Self::Verified => "The signature is valid.",
            Self::BodyModified => {
                "The body hash does not match: the message body was modified after signing."
            }
            Self::SignatureMismatch => {
                "The signature does not match: a signed header was modified after signing, or \
                 the key in DNS is not the one that signed."
            }
            Self::KeyNotFound => "No DKIM key record was found in DNS for this selector.",
            Self::KeyRevoked => "The key has been revoked: its DNS record has an empty p=.",
            Self::KeySyntax => "The DKIM key record in DNS is malformed.",
            Self::KeyTypeMismatch => "The key type in DNS (k=) does not match the signature.",
            Self::HashNotAllowed => "The key's h= does not allow the signature's hash algorithm.",
            Self::KeyTooSmall => "The key is shorter than 1024 bits and is not accepted.",
            Self::SignatureExpired => "The signature has expired (x= is in the past).",
            Self::TimestampInFuture => "The signature's timestamp (t=) is in the future.",
            Self::FromNotSigned => "The From header is not signed (missing from h=).",
            Self::UnsupportedAlgorithm => "The signing algorithm is not supported.",
            Self::UnsupportedCanonicalization => "The canonicalization is not supported.",
            Self::UnsupportedVersion => "The signature version is not supported.",
            Self::SignatureSyntax => "The DKIM-Signature header is malformed.",
            Self::SignatureInconsistent => "The DKIM-Signature tags contradict each other.",
            Self::DnsTemporary => "The DNS lookup of the key failed temporarily; try again.",
        }
    }
}

/// Something worth knowing that does not change the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

impl Warning {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
