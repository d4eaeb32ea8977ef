//! Which tenant each API key token belongs to, remembered on this node so that a submission made
//! with the key need not read it before its own read. A key is made for one tenant and is never
//! moved, only deleted, so what is kept is never wrong, only possibly outlived: whether the key
//! still exists is asked by every submission's own read
//! ([`sealpost_store::Store::sending_version_and_suppressions`]), so a revoked key sends nothing
//! more, through any node, from the moment its deletion commits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sealpost_domain::{Tenant, TenantId};

use crate::tenants::{TOKEN_PREFIX, token_hash};
use crate::{Accounts, ServiceError};

/// Past this many keys the kept tenants are dropped and read again as needed.
const MOST_KEPT: usize = 10_000;

/// A login with one of a tenant's API keys: the tenant the key was made for, and the key's hash,
/// by which each submission's read confirms the key. The hash is no secret (the database holds
/// it, and only the token opens anything), so the fields are open: whoever builds a login, the
/// read decides whether the key is the tenant's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyLogin {
    pub tenant: Tenant,
    pub key_hash: String,
}

/// The tenants of the keys this node has seen, by the keys' hashes.
#[derive(Debug, Default, Clone)]
pub(crate) struct KnownApiKeys {
    kept: Arc<Mutex<HashMap<String, Tenant>>>,
}

impl KnownApiKeys {
    fn get(&self, key_hash: &str) -> Option<Tenant> {
        let kept = self.kept.lock().expect("API key lock");
        kept.get(key_hash).cloned()
    }

    fn put(&self, key_hash: &str, tenant: &Tenant) {
        let mut kept = self.kept.lock().expect("API key lock");
        if kept.len() >= MOST_KEPT && !kept.contains_key(key_hash) {
            kept.clear();
        }
        kept.insert(key_hash.to_owned(), tenant.clone());
    }

    /// Drops a key a read found gone, so the next request with it is refused by the key's own
    /// read instead of after its message was prepared.
    pub(crate) fn forget(&self, key_hash: &str) {
        let mut kept = self.kept.lock().expect("API key lock");
        kept.remove(key_hash);
    }

    /// Drops the keys of a deleted tenant.
    pub(crate) fn forget_tenant(&self, tenant: TenantId) {
        let mut kept = self.kept.lock().expect("API key lock");
        kept.retain(|_, kept_tenant| kept_tenant.id != tenant);
    }
}

impl Accounts {
    /// The login a token makes for submissions; `None` for anything that is not an API key, or
    /// not one this node has seen and the store knows. Unlike [`Self::authenticate`], a key seen
    /// before is not read again: the submission's own read confirms it.
    pub async fn api_key_login(&self, token: &str) -> Result<Option<ApiKeyLogin>, ServiceError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let key_hash = token_hash(token);
        match self.api_keys.get(&key_hash) {
            Some(tenant) => Ok(Some(ApiKeyLogin { tenant, key_hash })),
            None => self.read_api_key(key_hash).await,
        }
    }

    /// [`Self::api_key_login`] from the store, whatever this node has seen: for a login that
    /// should be refused at once when its key is gone, such as SMTP's AUTH.
    pub async fn authenticate_api_key(
        &self,
        token: &str,
    ) -> Result<Option<ApiKeyLogin>, ServiceError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        self.read_api_key(token_hash(token)).await
    }

    async fn read_api_key(&self, key_hash: String) -> Result<Option<ApiKeyLogin>, ServiceError> {
        let Some(tenant) = self.store.tenant_for_api_key(&key_hash).await? else {
            self.api_keys.forget(&key_hash);
            return Ok(None);
        };
        self.api_keys.put(&key_hash, &tenant);
        Ok(Some(ApiKeyLogin { tenant, key_hash }))
    }
}
