//! Tenants and their API keys. A token is shown once, when it is made; the database keeps only
//! its SHA-256, so a leaked database does not give access to the API.

use sealpost_domain::{ApiKeyId, Tenant, TenantId, TenantName, limits};
use sealpost_store::ApiKeyInfo;

use crate::text::optional_line;
use crate::{Accounts, ServiceError};

/// Every token starts with this, so that secret scanners and people recognise it.
pub(crate) const TOKEN_PREFIX: &str = "sp_";

/// A freshly made API key: the only time its token exists outside the caller's hands.
#[derive(Debug)]
pub struct NewApiKey {
    pub info: ApiKeyInfo,
    pub token: String,
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        token.as_bytes(),
    ))
}

impl Accounts {
    pub async fn create_tenant(
        &self,
        name: &str,
        display_name: &str,
    ) -> Result<Tenant, ServiceError> {
        let name = TenantName::parse(name).map_err(|error| ServiceError::invalid("name", error))?;
        let display_name =
            optional_line("display_name", display_name, limits::text::MAX_LABEL_CHARS)?;
        let tenant = Tenant {
            id: TenantId::new(&self.clock),
            display_name: if display_name.is_empty() {
                name.as_str().to_owned()
            } else {
                display_name.to_owned()
            },
            name,
            created_at: self.clock.now(),
        };
        self.store.create_tenant(&tenant).await?;
        Ok(tenant)
    }

    pub async fn list_tenants(&self) -> Result<Vec<Tenant>, ServiceError> {
        Ok(self.store.list_tenants().await?)
    }

    pub async fn tenant(&self, tenant: TenantId) -> Result<Tenant, ServiceError> {
        self.store.tenant(tenant).await.map_err(not_found_tenant)
    }

    /// Finds a tenant by its short name or its id, as an operator types either.
    pub async fn find_tenant(&self, name_or_id: &str) -> Result<Tenant, ServiceError> {
        if let Ok(id) = name_or_id.parse::<TenantId>() {
            return self.tenant(id).await;
        }
        let name = TenantName::parse(name_or_id)
            .map_err(|error| ServiceError::invalid("tenant", error))?;
        self.store
            .tenant_by_name(&name)
            .await
            .map_err(not_found_tenant)
    }

    /// What deleting the tenant would take, as "3 messages, 1 UI account, ..." (kinds it has
    /// none of are left out), for the confirmation.
    pub async fn deletion_footprint(&self, tenant: &Tenant) -> Result<String, ServiceError> {
        let counts = self.store.tenant_footprint(tenant.id).await?;
        let held: Vec<String> = counts
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .map(|(text, _)| text)
            .collect();
        Ok(match held.is_empty() {
            true => "no data yet".to_owned(),
            false => held.join(", "),
        })
    }

    /// Deletes the tenant and all its data (SPEC S11.5); only an operator may ask. Its sealed
    /// keys and secrets are shredded in a first commit and its rows deleted in a second, so an
    /// interruption leaves nothing openable and is finished at the next start (`Service::open`)
    /// or by deleting again. Mail being delivered at this moment is sent, but its outcome finds
    /// no rows and records nothing. The audit line names the tenant, never its data.
    pub async fn delete_tenant(&self, tenant: &Tenant) -> Result<(), ServiceError> {
        self.store
            .delete_tenant(tenant.id, self.clock.now())
            .await
            .map_err(not_found_tenant)?;
        self.signers.forget_tenant(tenant.id);
        self.sending_configs.forget_tenant(tenant.id);
        self.api_keys.forget_tenant(tenant.id);
        tracing::info!(tenant = %tenant.id, name = %tenant.name.as_str(), "tenant deleted");
        Ok(())
    }

    pub async fn create_api_key(
        &self,
        tenant: TenantId,
        label: &str,
    ) -> Result<NewApiKey, ServiceError> {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret)
            .map_err(|_| ServiceError::Internal("the system random generator failed".into()))?;
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
        let info = ApiKeyInfo {
            id: ApiKeyId::new(&self.clock),
            label: optional_line("label", label, limits::text::MAX_LABEL_CHARS)?,
            created_at: self.clock.now(),
        };
        self.store
            .add_api_key(tenant, &info, &token_hash(&token))
            .await
            .map_err(not_found_tenant)?;
        Ok(NewApiKey { info, token })
    }

    pub async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKeyInfo>, ServiceError> {
        self.tenant(tenant).await?;
        Ok(self.store.list_api_keys(tenant).await?)
    }

    /// Revokes an API key (by its id, as listed); its token stops working at once.
    pub async fn revoke_api_key(&self, tenant: TenantId, key: &str) -> Result<(), ServiceError> {
        let key: ApiKeyId = key.parse().map_err(|_| ServiceError::NotFound("API key"))?;
        self.store
            .delete_api_key(tenant, key)
            .await
            .map_err(|error| match error {
                sealpost_store::StoreError::NotFound => ServiceError::NotFound("API key"),
                other => other.into(),
            })
    }

    /// The tenant a bearer token belongs to, read from the store; `None` for anything that is
    /// not a live API key.
    pub async fn authenticate(&self, token: &str) -> Result<Option<TenantId>, ServiceError> {
        let login = self.authenticate_api_key(token).await?;
        Ok(login.map(|login| login.tenant.id))
    }
}

fn not_found_tenant(error: sealpost_store::StoreError) -> ServiceError {
    match error {
        sealpost_store::StoreError::NotFound => ServiceError::NotFound("tenant"),
        other => other.into(),
    }
}
