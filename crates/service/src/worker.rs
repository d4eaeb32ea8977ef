//! Delivering what is due (SPEC S1): claim recipients under a lease, deliver them per message
//! and destination domain (native) or per message (the tenant's own mail server), and record
//! each outcome as the queue's pure policy decides, fenced by the lease. Also the relay's
//! "Test connection" (S1.3).

mod record;
mod round;

use std::sync::Arc;

use std::ops::Deref;

use sealpost_delivery::shaping::{Backoff, Shaping};
use sealpost_delivery::{
    DestinationView, HeloName, NativeOptions, Password, Peers, PoolLimits, RelayConfig,
    RelayOptions, Traffic,
};
use sealpost_domain::RelaySettings;
use zeroize::Zeroizing;

use crate::{Context, Service, ServiceError};

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
    /// Destinations (MX hosts rolled up to providers) and their limits.
    pub shaping: Shaping,
    /// How a throttled destination backs off.
    pub backoff: Backoff,
    /// How long open connections are kept for the next message, and how much they carry.
    pub pool: PoolLimits,
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
            shaping: Shaping::default(),
            backoff: Backoff::default(),
            pool: PoolLimits::default(),
        })
    }
}

/// This node's delivery: rounds of claim, deliver and record. The binary's delivery loop owns
/// it, and it is made with the node's settings, so a node that delivers cannot lack them.
#[derive(Debug, Clone)]
pub struct Delivery {
    context: Arc<Context>,
    node: Arc<DeliveryNode>,
    /// Open connections and each destination's limits, shared by the round's deliveries.
    traffic: Arc<Traffic>,
}

impl Deref for Delivery {
    type Target = Context;

    fn deref(&self) -> &Context {
        &self.context
    }
}

impl Delivery {
    pub fn new(service: Service, node: DeliveryNode) -> Self {
        let traffic = Traffic::new(node.shaping.clone(), node.backoff, node.pool);
        Self {
            context: service.context,
            node: Arc::new(node),
            traffic: Arc::new(traffic),
        }
    }

    /// The destinations this node has sent to: connections in use, limits, throttle state.
    pub fn destinations(&self) -> Vec<DestinationView> {
        self.traffic.destinations()
    }

    /// Shares limits and pauses with the other delivering nodes (what they published); the
    /// idle connections beyond this node's new part end at the next
    /// [`Self::close_idle_connections`], so that reading the others never waits on a receiver.
    pub(crate) fn heed_peers_now(&self, peers: Peers) {
        self.traffic.heed_peers(peers);
    }

    /// Connections kept open for the next message.
    pub fn idle_connections(&self) -> usize {
        self.traffic.idle_sessions()
    }

    /// Ends the open connections that waited too long for a message, and those beyond what
    /// each destination now allows this node (call it now and then).
    pub async fn close_idle_connections(&self) {
        self.traffic.close_expired().await;
        self.traffic.trim_idle().await;
    }

    /// Ends every open connection with QUIT, as on shutdown.
    pub async fn close_connections(&self) {
        self.traffic.close_all().await;
    }

    /// The bundle, for the tenant's relay settings.
    fn service(&self) -> Service {
        Service {
            context: Arc::clone(&self.context),
        }
    }

    /// Waits until this node commits a message (or returns at once when one was committed since
    /// the last wait); the delivery loop sleeps on this, bounded by its poll interval.
    pub async fn new_work(&self) {
        self.new_work.notified().await;
    }

    /// Says that another node committed new mail (PostgreSQL's notification), so an idle
    /// delivery loop starts a round at once.
    pub fn wake(&self) {
        self.new_work.notify_one();
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
