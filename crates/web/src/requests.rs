//! The request bodies of tenants, API keys and signing domains. `Debug` of a body with a secret
//! is written by hand.

use serde::Deserialize;
use utoipa::ToSchema;

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
    /// Switch signing on or off. On needs the key's DNS record published, unless `force`.
    pub active: Option<bool>,
    /// Switch signing on although DNS does not carry the key (recorded with a warning):
    /// receivers fail the signatures until the record is published.
    pub force: Option<bool>,
    /// A new DKIM selector, only while the domain has no key.
    #[schema(
        pattern = "^[a-z0-9]{1,20}(?:[-_][a-z0-9]{1,20})?(?:\\.[a-z0-9]{1,20})?$",
        max_length = 63
    )]
    pub selector: Option<String>,
}

/// A key's algorithm as requests name it.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyAlgorithmRequest {
    /// RSA-2048, the key every signing domain signs with.
    #[default]
    Rsa,
    /// Ed25519 (RFC 8463): a second signature beside the RSA one, under a selector of its own.
    Ed25519,
}

impl From<KeyAlgorithmRequest> for sealpost_domain::KeyAlgorithm {
    fn from(algorithm: KeyAlgorithmRequest) -> Self {
        match algorithm {
            KeyAlgorithmRequest::Rsa => Self::Rsa,
            KeyAlgorithmRequest::Ed25519 => Self::Ed25519,
        }
    }
}

/// The optional body of `generate-key`; without one an RSA key is made.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateKeyRequest {
    /// `rsa` (the default) or `ed25519`.
    #[serde(default)]
    pub algorithm: KeyAlgorithmRequest,
}

/// `Debug` is written by hand: the key and its password must not reach logs.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportKeyRequest {
    /// The private key as PEM: PKCS#8 (plain or encrypted) or PKCS#1 (plain or OpenSSL's
    /// legacy encrypted form); an Ed25519 key as PKCS#8 (plain or encrypted).
    pub pem: String,
    /// The password of an encrypted key; leave out or empty for a plain key.
    pub password: Option<String>,
    /// `rsa` (the default) or `ed25519`: a key of the other algorithm is refused.
    #[serde(default)]
    pub algorithm: KeyAlgorithmRequest,
}

impl std::fmt::Debug for ImportKeyRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ImportKeyRequest(..)")
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoteKeyRequest {
    /// Promote although DNS does not carry the key (recorded with a warning).
    #[serde(default)]
    pub force: bool,
}
