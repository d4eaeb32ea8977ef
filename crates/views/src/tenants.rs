//! A tenant and its API keys. No view has a field for a secret other than the new key's token,
//! which is shown once.

use sealpost_domain::Tenant;
use sealpost_service::NewApiKey;
use sealpost_store::ApiKeyInfo;
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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

impl std::fmt::Debug for NewApiKeyView {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NewApiKeyView")
            .field("key", &self.key)
            .field("token", &"redacted")
            .finish()
    }
}
