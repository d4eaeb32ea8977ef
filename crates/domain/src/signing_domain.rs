//! Signing domains (SPEC S3): a domain a tenant sends from, its DKIM selector, and the facts about
//! its key that may be shown to anyone. Private key material is not represented here at all;
//! only its sealed form, which is opaque without the operator's master key.

use crate::{DomainName, KeyId, Selector, SigningDomainId, TenantId, Timestamp};

/// The only RSA modulus size Sealpost accepts for DKIM keys (SPEC S3.4, S3.6).
pub const REQUIRED_KEY_BITS: u32 = 2048;

/// DKIM's hash algorithm. SHA-256 is the only one allowed (RFC 8301 forbids SHA-1 for signing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha256,
}

impl HashAlgorithm {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
        }
    }
}

/// Where a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    Generated,
    Imported,
}

impl KeyOrigin {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Generated => "generated",
            Self::Imported => "imported",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "generated" => Some(Self::Generated),
            "imported" => Some(Self::Imported),
            _ => None,
        }
    }
}

/// A private key as it rests in storage: an encrypted PKCS#8 document and the password that
/// opens it, sealed with the master key. Neither part reveals the key without the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedKey {
    pub encrypted_pkcs8_pem: String,
    pub sealed_password: Vec<u8>,
}

impl std::fmt::Debug for SealedKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SealedKey(..)")
    }
}

/// The public facts about a signing domain's key (SPEC S3.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub id: KeyId,
    /// SubjectPublicKeyInfo DER: what DKIM's `p=` carries, base64-encoded.
    pub public_key_der: Vec<u8>,
    pub bits: u32,
    pub origin: KeyOrigin,
    pub created_at: Timestamp,
}

impl SigningKey {
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        HashAlgorithm::Sha256
    }

    /// The public key as a PEM document (`-----BEGIN PUBLIC KEY-----`), derived from the DER,
    /// never stored or edited separately.
    pub fn public_key_pem(&self) -> String {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&self.public_key_der);
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        pem
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningDomain {
    pub id: SigningDomainId,
    pub tenant_id: TenantId,
    pub domain: DomainName,
    pub selector: Selector,
    /// Only active signing domains sign mail (SPEC S3.1).
    pub active: bool,
    pub key: Option<SigningKey>,
    /// Incremented on every change, so that caches on any node can tell a stale copy.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewSigningDomain {
    pub domain: DomainName,
    pub selector: Selector,
}

/// A change to a signing domain's editable fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SigningDomainUpdate {
    pub active: Option<bool>,
    pub selector: Option<Selector>,
}
