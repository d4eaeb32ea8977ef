//! Delivering what is due (SPEC S1): claim recipients under a lease, deliver them per message
//! and destination domain (native) or per message (the tenant's own mail server), and record
//! each outcome as the queue's pure policy decides, fenced by the lease. Also the relay's
//! "Test connection" (S1.3).

mod record;
mod round;

use std::sync::Arc;

use sealpost_delivery::{
    ConnectionTest, HeloName, NativeOptions, Password, RelayConfig, RelayOptions,
    test_relay_connection,
};
use sealpost_domain::{RelaySettings, TenantId};
use zeroize::Zeroizing;

use crate::{Service, ServiceError};

/// How this node delivers: its EHLO name, the remote SMTP port (25; tests use a loopback port),
/// leases and batch sizes. This is the node's configuration; a tenant's own mail server is its
/// relay setting (`relay_settings`).
#[derive(Debug, Clone)]
pub struct DeliveryNode {
    pub native: NativeOptions,
    pub relay: RelayOptions,
    /// How long a claim lasts; a node that dies leaves its claims to others after this.
    pub lease_seconds: i64,
    /// Recipients claimed per round.
    pub batch: u32,
    /// Deliveries (SMTP transactions) in flight at once within a round.
    pub concurrency: usize,
}

impl DeliveryNode {
    pub fn new(helo_name: &str) -> Result<Self, ServiceError> {
        let helo = HeloName::new(helo_name).map_err(|error| ServiceError::Invalid {
            field: "helo_name",
            message: error.to_string(),
        })?;
        Ok(Self {
            native: NativeOptions::new(helo.clone()),
            relay: RelayOptions::new(helo),
            lease_seconds: 300,
            batch: 100,
            concurrency: 32,
        })
    }
}

/// This node's delivery: rounds of claim, deliver and record. The binary's delivery loop owns
/// it, and it is made with the node's settings, so a node that delivers cannot lack them.
#[derive(Debug, Clone)]
pub struct Delivery {
    service: Service,
    node: Arc<DeliveryNode>,
}

impl Delivery {
    pub fn new(service: Service, node: DeliveryNode) -> Self {
        Self {
            service,
            node: Arc::new(node),
        }
    }

    /// Waits until this node commits a message (or returns at once when one was committed since
    /// the last wait); the delivery loop sleeps on this, bounded by its poll interval.
    pub async fn new_work(&self) {
        self.service.new_work.notified().await;
    }
}

pub(crate) fn relay_config(relay: &RelaySettings, password: &Zeroizing<String>) -> RelayConfig {
    RelayConfig {
        host: relay.host.clone(),
        port: relay.port,
        username: relay.username.clone(),
        password: Password::new(password.as_str()),
        implicit_tls: relay.implicit_tls,
        tls_mode: relay.tls_mode,
    }
}

impl Service {
    /// The EHLO name and timeouts of relay connection tests; a node without them cannot test
    /// a tenant's own mail server.
    pub fn with_relay_test(mut self, options: RelayOptions) -> Self {
        self.relay_test = Some(options);
        self
    }

    /// Connects to the tenant's own mail server, negotiates TLS, authenticates and quits, with
    /// a transcript whose secrets are redacted (SPEC S1.3). No mail is sent.
    pub async fn test_relay(&self, tenant: TenantId) -> Result<ConnectionTest, ServiceError> {
        self.tenant(tenant).await?;
        let options = self.relay_test.as_ref().ok_or_else(|| {
            ServiceError::Internal("relay tests are not configured on this node".into())
        })?;
        let (relay, password) = self
            .relay_credentials(tenant)
            .await?
            // A state to change first (switch to the own mail server), not a bad request.
            .ok_or_else(|| {
                ServiceError::Conflict(
                    "mode: the tenant does not use its own mail server".to_owned(),
                )
            })?;
        Ok(test_relay_connection(&self.resolver, &relay_config(&relay, &password), options).await)
    }
}
