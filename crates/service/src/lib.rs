//! The use cases the HTTP API and the CLI share: they validate what a person typed, call the
//! vault and the store, and take the time from an injected clock. Both interfaces are thin
//! translations of these calls, so they cannot drift apart in behaviour.

mod api_key_logins;
mod commit;
mod compose;
mod contacts;
mod destinations;
mod dkim_delegation;
mod dns_checks;
mod dns_handoff;
mod dns_recheck;
mod domain_changes;
mod error;
mod feedback;
mod key_rotation;
mod key_work;
pub mod lists;
mod mail_tester;
mod mailings;
mod master_key_rotation;
mod master_keys;
mod messages;
mod metrics;
mod nameserver_groups;
pub mod platform;
mod record_checks;
mod relay_settings;
mod reputation;
mod return_path;
mod sending_config;
mod sending_domains;
mod sign_in_limit;
mod signing;
mod signing_domains;
mod signing_keys;
mod submission_reads;
mod submit;
mod suppression;
mod tenants;
mod text;
mod troubleshoot;
mod unsubscribe;
mod user_admin;
mod users;
mod webhooks;
mod worker;
mod write_thread;

pub use api_key_logins::ApiKeyLogin;
pub use compose::{Attachment, ComposeError, Composition, compose};
pub use contacts::ContactStanding;
pub use destinations::{DestinationReport, DestinationStatus, PeerRest};
pub use dns_handoff::{DnsHandoff, HandoffPurpose, HandoffRecord};
pub use dns_recheck::{RECHECK_LEASE, RecheckLimits, RecheckSettings, RecheckSummary};
pub use domain_changes::Recheck;
pub use error::{ErrorKind, ServiceError};
pub use feedback::Intake;
pub use key_rotation::{RotationSettings, RotationSummary};
pub use mail_tester::{Arrival, CheckerReport, CheckerSettings, TestAddress};
pub use mailings::{ContactForm, MailingForm, MailingStatus};
pub use master_key_rotation::{RotationOptions, RotationProgress, RotationReport};
pub use master_keys::{MasterKeyRefusal, RotationStatus};
pub use messages::DeliveryFigures;
pub use relay_settings::RelayForm;
pub use reputation::Reputation;
pub use return_path::{ReturnPathCheck, ReturnPathRecord};
pub use sealpost_domain::{Clock, SystemClock};
pub use sending_domains::VerificationFailure;
pub use signing::SignedMessage;
pub use signing_keys::{DnsGate, KeyImport};
pub use submit::{
    Accepted, MAX_RECIPIENTS, Sender, Submission, SubmitOptions, UnsignedPolicy, idempotency_key,
};
pub use suppression::ImportSummary;
pub use tenants::NewApiKey;
pub use troubleshoot::{DomainStanding, Troubleshooting};
pub use users::{SessionUser, SignedIn};
pub use webhooks::{NewWebhook, WebhookPolicy};
pub use worker::{Delivery, DeliveryNode};

use std::ops::Deref;
use std::sync::Arc;

use sealpost_delivery::{HeloName, RelayOptions};
use sealpost_dns::Resolver;
use sealpost_dnsauth::report::PlatformSpf;
use sealpost_retry_policy::RetryPolicy;
use sealpost_store::Store;
use sealpost_vault::Vault;

use crate::api_key_logins::KnownApiKeys;
use crate::commit::CommitQueue;
use crate::key_work::KeyWorkLimit;
use crate::metrics::Metrics;
use crate::sending_config::SendingConfigCache;
use crate::sign_in_limit::SignInLimit;
use crate::signing::SignerCache;
use crate::submission_reads::SubmissionReads;
use crate::write_thread::WriteThread;

/// What every capability shares: the store, the vault, the clock, the resolver and this node's
/// settings. It is made once by [`Service::open`] and its builders, then shared behind an `Arc`.
#[derive(Debug, Clone)]
pub struct Context {
    store: Store,
    vault: Arc<Vault>,
    /// Bounds how many key generations and derivations run at once.
    key_work: KeyWorkLimit,
    clock: Arc<dyn Clock>,
    resolver: Resolver,
    signers: SignerCache,
    /// Each tenant's sending configuration as last read, with the version it was read under.
    sending_configs: SendingConfigCache,
    /// The tenants of the API keys this node has seen.
    api_keys: KnownApiKeys,
    /// The platform's SPF facts; without them the SPF check says the platform is not set up.
    platform: Option<PlatformSpf>,
    retry_policy: RetryPolicy,
    /// The EHLO name and timeouts of relay connection tests, from the node's settings (until
    /// they are given, `localhost` and the default timeouts).
    relay_test: RelayOptions,
    metrics: Metrics,
    unsigned_policy: UnsignedPolicy,
    /// Where the hot path's writes run.
    writes: WriteThread,
    commits: CommitQueue,
    /// What submissions read of their tenant before signing, read together.
    submission_reads: SubmissionReads,
    sign_in_limit: SignInLimit,
    /// The mail tester; without it test addresses cannot be issued.
    checker: Option<CheckerSettings>,
    /// The host name of the platform's inbound listener, where return-path domains point their
    /// MX; without it no return-path domain can be set up.
    inbound_host: Option<sealpost_domain::DomainName>,
    /// When a tenant's bounce and complaint rates warn and pause its sending.
    reputation_policy: sealpost_domain::ReputationPolicy,
    /// The platform's public https base URL, for unsubscribe links.
    public_url: Option<String>,
    /// Where feedback loops send complaints; the inbound listener takes mail for it.
    complaints_address: Option<sealpost_domain::EmailAddress>,
    /// How long a retiring key's record stays published after its last message.
    key_policy: sealpost_domain::KeyPolicy,
    /// The grace period of a failing domain and how often domains are re-checked.
    dns_policy: sealpost_domain::DnsPolicy,
    /// What the platform's own checks compare with (`sealpost doctor`).
    platform_settings: platform::PlatformSettings,
    /// The zone this platform serves DKIM key records from (SPEC S11.4); without it no domain
    /// is offered delegation.
    dkim_zone: Option<sealpost_domain::DkimZone>,
    /// What webhooks may reach and how hard they are tried.
    webhook_policy: webhooks::WebhookPolicy,
    webhook_client: sealpost_webhooks::Client,
    /// Signalled when a webhook event is queued by hand, so the sender need not wait for its
    /// next poll.
    webhook_work: Arc<tokio::sync::Notify>,
    /// Signalled when this node commits a message, so its delivery loop need not wait for its
    /// next poll; other nodes find the work when they poll.
    new_work: Arc<tokio::sync::Notify>,
}

/// The use cases, one capability each, over one shared [`Context`]. It is cheap to clone, and
/// each accessor is cheap too, so the API, the UI and the CLI call one method per use case:
/// `service.accounts().create_tenant(..)`. Delivery is apart ([`Delivery`]): the binary's
/// delivery loop owns it.
#[derive(Debug, Clone)]
pub struct Service {
    context: Arc<Context>,
}

/// Declares the capabilities: each holds the shared context, reads it as its own fields, and
/// reaches the others through `service()` when a use case spans two.
macro_rules! capabilities {
    ($($(#[$doc:meta])* $name:ident => $accessor:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone)]
            pub struct $name {
                context: Arc<Context>,
            }

            impl Deref for $name {
                type Target = Context;

                fn deref(&self) -> &Context {
                    &self.context
                }
            }

            impl $name {
                /// The bundle, for a use case that calls another capability.
                #[allow(dead_code)]
                fn service(&self) -> Service {
                    Service {
                        context: Arc::clone(&self.context),
                    }
                }
            }
        )*

        impl Service {
            $(
                pub fn $accessor(&self) -> $name {
                    $name {
                        context: Arc::clone(&self.context),
                    }
                }
            )*
        }
    };
}

capabilities! {
    /// Accepting mail: signing it as the tenant may, and committing it to the queue.
    Submissions => submissions;
    /// Signing domains with their keys and DNS checks, and sending domains with their proof.
    SigningDomains => signing_domains;
    /// Tenants, API keys, web accounts and sessions.
    Accounts => accounts;
    /// Contacts and mailings.
    Mailings => mailings;
    /// The built-in mail tester: test addresses and their reports.
    MailTester => mail_tester;
    /// Queued messages, their attempts, the support path and the metrics.
    Messages => messages;
    /// The tenant's own mail server: its settings and the connection test.
    Relays => relays;
    /// What comes back after delivery: the suppression list, bounces and complaints.
    FeedbackLoop => feedback;
    /// The platform's own health: its DNS, certificate, database and master key.
    Platform => platform;
    /// Webhook endpoints and the delivery of their events.
    Webhooks => webhooks;
    /// The master key's standing and its rotation.
    MasterKeys => master_keys;
}

impl Service {
    /// Binds the vault to the database. The first start records a check value sealed with the
    /// master key; every later start verifies it (and, during a master key rotation, learns the
    /// rotation's other key), so a node with another master key refuses to run before it
    /// touches any data. Every DNS lookup goes through `resolver`.
    pub async fn open(
        store: Store,
        vault: Vault,
        clock: Arc<dyn Clock>,
        resolver: Resolver,
    ) -> Result<Self, ServiceError> {
        master_keys::bind(&store, &vault).await?;
        // A deletion interrupted between its two phases (SPEC S11.5) is finished here, at every
        // start, so a tenant whose keys were shredded does not linger.
        for tenant in store.finish_tenant_deletions().await? {
            tracing::info!(%tenant, "finished deleting a tenant whose deletion was interrupted");
        }
        // Held mail of a tenant that is not paused would never go (migration 0037); nothing in
        // the service leaves any, and each start makes sure. A paused tenant's mail left unmarked
        // (by a pause cut short, or before the upgrade) is marked.
        let released = store.release_stray_holds().await?;
        if released > 0 {
            tracing::warn!(
                released,
                "released held mail of tenants that are not paused"
            );
        }
        if let Err(error) = store.hold_paused_mail().await {
            // Only a saving for the claims: the mail stays held by the pause itself.
            tracing::warn!(%error, "marking paused tenants' mail held failed");
        }
        let writes = WriteThread::start(store.backend())
            .map_err(|error| ServiceError::Internal(Box::new(error)))?;
        let context = Context {
            commits: CommitQueue::start(store.clone(), &writes),
            writes,
            submission_reads: SubmissionReads::start(store.clone()),
            store,
            vault: Arc::new(vault),
            key_work: KeyWorkLimit::for_this_machine(),
            clock,
            resolver,
            signers: SignerCache::default(),
            sending_configs: SendingConfigCache::default(),
            api_keys: KnownApiKeys::default(),
            platform: None,
            retry_policy: RetryPolicy::default(),
            relay_test: RelayOptions::new(
                HeloName::new("localhost").expect("localhost is a valid EHLO name"),
            ),
            metrics: Metrics::default(),
            unsigned_policy: UnsignedPolicy::default(),
            sign_in_limit: SignInLimit::default(),
            checker: None,
            inbound_host: None,
            complaints_address: None,
            public_url: None,
            reputation_policy: sealpost_domain::ReputationPolicy::default(),
            key_policy: sealpost_domain::KeyPolicy::default(),
            dns_policy: sealpost_domain::DnsPolicy::default(),
            platform_settings: platform::PlatformSettings::default(),
            dkim_zone: None,
            new_work: Arc::new(tokio::sync::Notify::new()),
            webhook_policy: webhooks::WebhookPolicy::default(),
            webhook_client: sealpost_webhooks::Client::new(),
            webhook_work: Arc::new(tokio::sync::Notify::new()),
        };
        Ok(Self {
            context: Arc::new(context),
        })
    }

    /// The context to configure; a clone made earlier keeps the settings it was made with.
    fn configure(&mut self) -> &mut Context {
        Arc::make_mut(&mut self.context)
    }

    /// Offers DKIM by CNAME delegation into `zone`, which the platform's nodes serve.
    pub fn with_dkim_zone(mut self, zone: Option<sealpost_domain::DkimZone>) -> Self {
        self.configure().dkim_zone = zone;
        self
    }

    /// Sends every later DNS lookup to `resolver`; the demo starts its DNS server only once
    /// the demo tenant's key exists.
    pub fn with_resolver(mut self, resolver: Resolver) -> Self {
        self.configure().resolver = resolver;
        self
    }

    /// Whether mail the tenant cannot sign is sent unsigned or refused.
    pub fn with_unsigned_policy(mut self, policy: UnsignedPolicy) -> Self {
        self.configure().unsigned_policy = policy;
        self
    }

    /// The native delivery retry schedule (SPEC S1.1); the default fits 24 hours.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.configure().retry_policy = policy;
        self
    }

    /// What `platform().health()` checks the platform against.
    pub fn with_platform_settings(mut self, settings: platform::PlatformSettings) -> Self {
        self.configure().platform_settings = settings;
        self
    }

    /// The platform's SPF include host and sending networks, from the operator's configuration.
    pub fn with_platform(mut self, platform: Option<PlatformSpf>) -> Self {
        self.configure().platform = platform;
        self
    }

    /// How keys retire and how domains are re-checked (SPEC S11.1, S11.2).
    pub fn with_domain_policies(
        mut self,
        keys: sealpost_domain::KeyPolicy,
        dns: sealpost_domain::DnsPolicy,
    ) -> Self {
        let context = self.configure();
        context.key_policy = keys;
        context.dns_policy = dns;
        self
    }

    /// The mail tester's domain and spam filter; without them test addresses cannot be issued.
    pub fn with_checker(mut self, checker: Option<CheckerSettings>) -> Self {
        self.configure().checker = checker;
        self
    }

    /// The host name of the inbound listener, the MX target of return-path domains.
    pub fn with_inbound_host(mut self, host: Option<sealpost_domain::DomainName>) -> Self {
        self.configure().inbound_host = host;
        self
    }

    /// When a tenant's bounce and complaint rates warn and pause its sending.
    pub fn with_reputation_policy(mut self, policy: sealpost_domain::ReputationPolicy) -> Self {
        self.configure().reputation_policy = policy;
        self
    }

    /// The platform's public base URL (such as `https://mail.platform.example`), where
    /// one-click unsubscribe links point.
    pub fn with_public_url(mut self, url: Option<String>) -> Self {
        self.configure().public_url = url;
        self
    }

    /// The address feedback loops send complaints to, taken by the inbound listener.
    pub fn with_complaints_address(
        mut self,
        address: Option<sealpost_domain::EmailAddress>,
    ) -> Self {
        self.configure().complaints_address = address;
        self
    }

    /// What webhooks may reach and how hard they are tried.
    pub fn with_webhook_policy(mut self, policy: webhooks::WebhookPolicy) -> Self {
        self.configure().webhook_policy = policy;
        self
    }

    /// The EHLO name and timeouts of relay connection tests, from the node's settings.
    pub fn with_relay_test(mut self, options: RelayOptions) -> Self {
        self.configure().relay_test = options;
        self
    }

    pub fn store(&self) -> &Store {
        &self.context.store
    }
}
