//! The use cases the HTTP API and the CLI share: they validate what a person typed, call the
//! vault and the store, and take the time from an injected clock. Both interfaces are thin
//! translations of these calls, so they cannot drift apart in behaviour.

mod checker;
mod commit;
mod compose;
mod delivery_settings;
mod dns_checks;
mod error;
mod key_work;
mod mailings;
mod messages;
mod metrics;
mod sending_domains;
mod sign_in_limit;
mod signing;
mod signing_domains;
mod submit;
mod tenants;
mod text;
mod troubleshoot;
mod users;
mod worker;

pub use checker::{Arrival, CheckerReport, CheckerSettings, TestAddress};
pub use compose::{Attachment, ComposeError, Composition, compose};
pub use delivery_settings::RelayForm;
pub use error::{ErrorKind, ServiceError};
pub use mailings::{ContactForm, MailingForm, MailingStatus};
pub use sealpost_domain::{Clock, SystemClock};
pub use sealpost_store::{ApiKeyInfo, AttemptInfo, Store};
pub use sending_domains::VerificationFailure;
pub use signing::SignedMessage;
pub use signing_domains::KeyImport;
pub use submit::{Accepted, MAX_RECIPIENTS, Submission, UnsignedPolicy, idempotency_key};
pub use tenants::NewApiKey;
pub use troubleshoot::{DomainStanding, Troubleshooting};
pub use users::{SessionUser, SignedIn};
pub use worker::{Delivery, DeliveryNode};

use std::sync::Arc;

use sealpost_delivery::RelayOptions;
use sealpost_dns::Resolver;
use sealpost_dnsauth::report::PlatformSpf;
use sealpost_queue::RetryPolicy;
use sealpost_vault::Vault;

use crate::commit::CommitQueue;
use crate::key_work::KeyWorkLimit;
use crate::metrics::Metrics;
use crate::sign_in_limit::SignInLimit;
use crate::signing::SignerCache;

/// The meta key under which the master key's check value is kept.
const MASTER_KEY_CHECK: &str = "master_key_check";

#[derive(Debug, Clone)]
pub struct Service {
    store: Store,
    vault: Arc<Vault>,
    /// Bounds how many key generations and derivations run at once.
    key_work: KeyWorkLimit,
    clock: Arc<dyn Clock>,
    resolver: Resolver,
    signers: SignerCache,
    /// The platform's SPF facts; without them the SPF check says the platform is not set up.
    platform: Option<PlatformSpf>,
    retry_policy: RetryPolicy,
    /// The EHLO name and timeouts of relay connection tests, from the node's settings.
    relay_test: Option<RelayOptions>,
    metrics: Metrics,
    unsigned_policy: UnsignedPolicy,
    commits: CommitQueue,
    sign_in_limit: SignInLimit,
    /// The mail tester; without it test addresses cannot be issued.
    checker: Option<CheckerSettings>,
    /// Signalled when this node commits a message, so its delivery loop need not wait for its
    /// next poll; other nodes find the work when they poll.
    new_work: Arc<tokio::sync::Notify>,
}

impl Service {
    /// Binds the vault to the database. The first start records a check value sealed with the
    /// master key; every later start verifies it, so a node with another master key refuses to
    /// run before it touches any data. Every DNS lookup goes through `resolver`.
    pub async fn open(
        store: Store,
        vault: Vault,
        clock: Arc<dyn Clock>,
        resolver: Resolver,
    ) -> Result<Self, ServiceError> {
        let stored = store
            .meta_insert_if_absent(MASTER_KEY_CHECK, &vault.new_check_value())
            .await?;
        vault.verify_check_value(&stored)?;
        Ok(Self {
            commits: CommitQueue::start(store.clone()),
            store,
            vault: Arc::new(vault),
            key_work: KeyWorkLimit::for_this_machine(),
            clock,
            resolver,
            signers: SignerCache::default(),
            platform: None,
            retry_policy: RetryPolicy::default(),
            relay_test: None,
            metrics: Metrics::default(),
            unsigned_policy: UnsignedPolicy::default(),
            sign_in_limit: SignInLimit::default(),
            checker: None,
            new_work: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// Sends every later DNS lookup to `resolver`; the demo starts its DNS server only once
    /// the demo tenant's key exists.
    pub fn with_resolver(mut self, resolver: Resolver) -> Self {
        self.resolver = resolver;
        self
    }

    /// Whether mail the tenant cannot sign is sent unsigned or refused.
    pub fn with_unsigned_policy(mut self, policy: UnsignedPolicy) -> Self {
        self.unsigned_policy = policy;
        self
    }

    /// The native delivery retry schedule (SPEC S1.1); the default fits 24 hours.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// The platform's SPF include host and sending networks, from the operator's configuration.
    pub fn with_platform(mut self, platform: Option<PlatformSpf>) -> Self {
        self.platform = platform;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}
