//! The JSON shapes of the API. Domain types stay free of serialisation; these views decide
//! exactly which fields leave the server, and no view has a field for private key material.

use sealpost_domain::{DkimDnsRecord, SigningDomain, SigningKey, Tenant};
use sealpost_service::{ApiKeyInfo, NewApiKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    pub id: String,
    /// Short name used on the command line, such as `acme`.
    pub name: String,
    pub display_name: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
}

impl From<Tenant> for TenantView {
    fn from(tenant: Tenant) -> Self {
        Self {
            id: tenant.id.to_string(),
            name: tenant.name.as_str().to_owned(),
            display_name: tenant.display_name,
            created_at: tenant.created_at.0,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenantRequest {
    /// 1 to 63 lowercase letters, digits and hyphens, not starting with a hyphen.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$", max_length = 63)]
    pub name: String,
    /// One line of at most 200 characters; the name when left out or empty.
    #[serde(default)]
    #[schema(pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$", max_length = 200)]
    pub display_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyRequest {
    /// One line of at most 200 characters, shown in key lists.
    #[serde(default)]
    #[schema(pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$", max_length = 200)]
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: String,
    pub label: String,
    pub created_at: i64,
}

impl From<ApiKeyInfo> for ApiKeyView {
    fn from(info: ApiKeyInfo) -> Self {
        Self {
            id: info.id.to_string(),
            label: info.label,
            created_at: info.created_at.0,
        }
    }
}

/// `Debug` is written by hand: the token must not reach logs.
#[derive(Serialize, ToSchema)]
pub struct NewApiKeyView {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The bearer token. Shown only in this response; Sealpost keeps only its hash.
    pub token: String,
}

impl From<NewApiKey> for NewApiKeyView {
    fn from(new: NewApiKey) -> Self {
        Self {
            key: new.info.into(),
            token: new.token,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
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
#[derive(Debug, Serialize, ToSchema)]
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSigningDomainRequest {
    /// The sending domain, such as `client.example`. The pattern is the canonical form; Unicode
    /// names and upper case are accepted as well and normalised.
    #[schema(
        pattern = "^(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}$",
        max_length = 253
    )]
    pub domain: String,
    /// The DKIM selector, such as `workplace`: DNS labels of letters, digits, hyphens and
    /// underscores.
    #[schema(
        pattern = "^[a-z0-9]{1,20}(?:[-_][a-z0-9]{1,20})?(?:\\.[a-z0-9]{1,20})?$",
        max_length = 63
    )]
    pub selector: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSigningDomainRequest {
    pub active: Option<bool>,
    /// A new DKIM selector (the key stays; publish its record under the new name).
    #[schema(
        pattern = "^[a-z0-9]{1,20}(?:[-_][a-z0-9]{1,20})?(?:\\.[a-z0-9]{1,20})?$",
        max_length = 63
    )]
    pub selector: Option<String>,
}

/// `Debug` is written by hand: the key and its password must not reach logs.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportKeyRequest {
    /// The private key as PEM: PKCS#8 (plain or encrypted) or PKCS#1 (plain or OpenSSL's
    /// legacy encrypted form).
    pub pem: String,
    /// The password of an encrypted key; leave out or empty for a plain key.
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
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

impl std::fmt::Debug for NewApiKeyView {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NewApiKeyView")
            .field("key", &self.key)
            .field("token", &"redacted")
            .finish()
    }
}

impl std::fmt::Debug for ImportKeyRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ImportKeyRequest(..)")
    }
}
