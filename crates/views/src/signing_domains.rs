//! A signing domain, its key and the DKIM record to publish (SPEC S3.6). Domain types stay free
//! of serialisation; these views decide exactly which fields leave the server, and none has a
//! field for private key material.

use sealpost_domain::{DkimDnsRecord, SigningDomain, SigningKey};
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SigningDomainView {
    pub id: String,
    /// The domain in ASCII (punycode for internationalised names).
    pub domain: String,
    /// The domain as people read it (Unicode).
    pub domain_unicode: String,
    pub selector: String,
    /// Only active signing domains sign mail.
    pub active: bool,
    /// The key, absent until one is generated or imported.
    pub key: Option<KeyView>,
    /// Increases on every change.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Read-only facts about a signing key (SPEC S3.6).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeyView {
    pub id: String,
    /// Always `rsa`.
    pub algorithm: &'static str,
    /// Always `sha256`.
    pub hash_algorithm: &'static str,
    /// Modulus length; always 2048.
    pub bits: u32,
    /// The public key as a PEM document, derived from the private key.
    pub public_key_pem: String,
    /// `generated` or `imported`.
    pub origin: &'static str,
    pub created_at: i64,
}

impl From<&SigningKey> for KeyView {
    fn from(key: &SigningKey) -> Self {
        Self {
            id: key.id.to_string(),
            algorithm: "rsa",
            hash_algorithm: key.hash_algorithm().as_str(),
            bits: key.bits,
            public_key_pem: key.public_key_pem(),
            origin: key.origin.as_str(),
            created_at: key.created_at.0,
        }
    }
}

impl From<SigningDomain> for SigningDomainView {
    fn from(domain: SigningDomain) -> Self {
        Self {
            id: domain.id.to_string(),
            domain_unicode: domain.domain.to_unicode(),
            domain: domain.domain.as_str().to_owned(),
            selector: domain.selector.as_str().to_owned(),
            active: domain.active,
            key: domain.key.as_ref().map(KeyView::from),
            version: domain.version,
            created_at: domain.created_at.0,
            updated_at: domain.updated_at.0,
        }
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DnsRecordView {
    /// Owner name: `<selector>._domainkey.<domain>`.
    pub name: String,
    /// Always `TXT`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    pub value: String,
    /// The value split into strings of at most 255 characters.
    pub strings: Vec<String>,
    pub zone_line: String,
    pub advice: &'static str,
}

impl From<DkimDnsRecord> for DnsRecordView {
    fn from(record: DkimDnsRecord) -> Self {
        Self {
            name: record.name,
            record_type: record.record_type,
            value: record.value,
            strings: record.strings,
            zone_line: record.zone_line,
            advice: record.advice,
        }
    }
}
