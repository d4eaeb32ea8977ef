//! What a submission needs of its tenant's settings, read once and kept while it is current: the
//! proven sending domains, the signing domains with their keys, the return paths and the route.
//! They are six statements; with the store's sending version (a number every change to those
//! rows raises, kept by triggers on both backends) a submission asks for one number and reads
//! the rest only after a change, whichever node or process made it. A table added here needs
//! its triggers in the store and its row in `sending_version_tests.rs`, or a change to it would
//! go unseen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sealpost_domain::{
    DeliveryMode, DomainName, ReturnPath, Route, SendingDomain, SigningDomain, TenantId,
};

use crate::{ServiceError, Submissions};

/// Past this many tenants the kept configurations are dropped and read again as needed, so a
/// platform with many tenants that each send now and then holds no more than this.
const MOST_KEPT: usize = 10_000;

/// A tenant's settings as one submission decides with them.
#[derive(Debug)]
pub(crate) struct SendingConfig {
    /// All of the tenant's sending domains, proven or not, so a refusal can name the record.
    pub(crate) sending_domains: Vec<SendingDomain>,
    pub(crate) signing_domains: Vec<SigningDomain>,
    pub(crate) return_paths: Vec<ReturnPath>,
    pub(crate) route: Route,
}

impl SendingConfig {
    /// The signing domain whose return path is `domain`, when the envelope uses one: for the
    /// signing decision (SPEC S4.1) a MAIL FROM there counts as one in the signing domain.
    pub(crate) fn signing_domain_of_return_path(&self, domain: &DomainName) -> Option<&DomainName> {
        self.return_paths
            .iter()
            .find(|entry| &entry.return_path == domain)
            .map(|entry| &entry.domain)
    }
}

/// A configuration with the sending version it was read under.
type Kept = (i64, Arc<SendingConfig>);

/// The configurations read, by tenant.
#[derive(Debug, Default, Clone)]
pub(crate) struct SendingConfigCache {
    kept: Arc<Mutex<HashMap<TenantId, Kept>>>,
}

impl SendingConfigCache {
    fn get(&self, tenant: TenantId, version: i64) -> Option<Arc<SendingConfig>> {
        let kept = self.kept.lock().expect("sending configuration lock");
        kept.get(&tenant)
            .filter(|(kept_version, _)| *kept_version == version)
            .map(|(_, config)| Arc::clone(config))
    }

    /// Keeps `config` unless a copy read under a later version is kept already: two
    /// submissions may read at once, and the slower one's copy may be the older.
    fn put(&self, tenant: TenantId, version: i64, config: Arc<SendingConfig>) {
        let mut kept = self.kept.lock().expect("sending configuration lock");
        if let Some((newer, _)) = kept.get(&tenant)
            && *newer > version
        {
            return;
        }
        if kept.len() >= MOST_KEPT && !kept.contains_key(&tenant) {
            kept.clear();
        }
        kept.insert(tenant, (version, config));
    }

    /// Drops what was kept of a deleted tenant.
    pub(crate) fn forget_tenant(&self, tenant: TenantId) {
        let mut kept = self.kept.lock().expect("sending configuration lock");
        kept.remove(&tenant);
    }
}

impl Submissions {
    /// The tenant's sending configuration as of now: the kept copy when the sending version
    /// has not moved since it was read, otherwise read anew. The version is read first, so a
    /// change committed while the rest is read raises it past the kept copy's and the next
    /// submission reads again.
    pub(crate) async fn sending_config(
        &self,
        tenant: TenantId,
    ) -> Result<Arc<SendingConfig>, ServiceError> {
        let version = match self.store.sending_version(tenant).await {
            Err(sealpost_store::StoreError::NotFound) => {
                return Err(ServiceError::NotFound("tenant"));
            }
            other => other?,
        };
        self.sending_config_at(tenant, version).await
    }

    /// The tenant's sending configuration under `version`, a sending version the caller has
    /// just read (a submission reads it with the suppression list): the kept copy when it was
    /// read under the same version, otherwise read anew, after the version.
    pub(crate) async fn sending_config_at(
        &self,
        tenant: TenantId,
        version: i64,
    ) -> Result<Arc<SendingConfig>, ServiceError> {
        if let Some(config) = self.sending_configs.get(tenant, version) {
            return Ok(config);
        }
        let config = Arc::new(SendingConfig {
            sending_domains: self.store.list_sending_domains(tenant).await?,
            signing_domains: self.store.list_signing_domains(tenant).await?,
            return_paths: self.store.list_return_paths(tenant).await?,
            route: match self.store.delivery_mode(tenant).await? {
                DeliveryMode::Native => Route::Native,
                DeliveryMode::Relay(_) => Route::Relay,
            },
        });
        self.sending_configs
            .put(tenant, version, Arc::clone(&config));
        Ok(config)
    }
}
