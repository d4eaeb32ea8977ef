//! The live side of traffic shaping: for each destination (an MX host rolled up to its provider
//! by [`Shaping`]) the connections in use, the rate booked so far and the throttle state, shared
//! by every concurrent delivery of this node, together with the pool of open sessions. A
//! delivery asks [`Traffic::admit`] before it talks to a host; it waits for a free connection
//! for a short while, and is deferred (a temporary failure that names the destination and how
//! long it rests) when the destination is throttled or stays busy. The decisions themselves are
//! the pure [`Throttle`] and [`RateWindow`].
//!
//! Nodes that deliver from one database share each destination's limits and pauses: what the
//! others last published comes in as [`Peers`], and this node then takes its even part of every
//! destination's limits and rests wherever another node's receiver asked for a pause.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::pool::{PoolLimits, SessionPool};
use crate::shaping::{Backoff, Destination, Limits, RateWindow, Shaping, Throttle};

/// Recipient domains remembered per destination, for the operator's queue depth.
const DOMAINS_KEPT: usize = 100;

/// How long a delivery waits for a connection or a rate slot of its destination before it is
/// deferred instead: long enough to ride out a burst, short enough that one busy destination
/// does not hold the round's other deliveries.
const LONGEST_WAIT: Duration = Duration::from_secs(5);

/// Why a destination did not take a message now; the message waits for a later attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deferral {
    /// The receiver throttled this destination and it rests until the pause ends.
    Throttled {
        destination: String,
        rest: Duration,
        /// The reply that caused the pause.
        reply: String,
    },
    /// Every connection the destination allows stayed in use, or its rate was spent.
    Busy { destination: String, wait: Duration },
}

impl Deferral {
    /// How long the destination rests: the earliest a new attempt makes sense.
    pub fn rest(&self) -> Duration {
        match self {
            Self::Throttled { rest, .. } => *rest,
            Self::Busy { wait, .. } => *wait,
        }
    }
}

impl std::fmt::Display for Deferral {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Throttled {
                destination,
                rest,
                reply,
            } => write!(
                formatter,
                "not attempted: the receiver {destination} is throttled for {} s more after \
                 it answered: {reply}",
                rest.as_secs().max(1)
            ),
            Self::Busy { destination, wait } => write!(
                formatter,
                "not attempted: every connection to {destination} allowed at once was in use, \
                 or its rate was spent, for {} s",
                wait.as_secs().max(1)
            ),
        }
    }
}

/// What the other delivering nodes last published of their traffic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peers {
    /// How many other nodes deliver now; each destination's limits are split evenly between
    /// them and this node.
    pub nodes: u32,
    /// The destinations another node's receiver throttled, by name.
    pub pauses: HashMap<String, PeerPause>,
}

/// How far other nodes' receivers throttled a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerPause {
    /// The highest throttle level among the other nodes.
    pub level: u32,
    /// How long the longest of their pauses still runs; zero when none does.
    pub rest: Duration,
    /// The reply that caused that pause.
    pub reply: Option<String>,
}

/// One destination's live state.
#[derive(Debug)]
struct DestinationState {
    /// The destination as it is published, which is how other nodes' pauses name it.
    name: String,
    limits: Limits,
    throttle: Throttle,
    rate: RateWindow,
    in_use: u32,
    last_throttle_reply: Option<String>,
    freed: Arc<Notify>,
    domains: BTreeSet<String>,
    /// The pause another node's receiver asked for, until an instant of this node's clock. It
    /// is kept apart from this node's own throttle, which alone is published: a pause passed
    /// on would otherwise come back from the other nodes, a little later each time, for ever.
    peer: Option<(PeerPause, Instant)>,
}

impl DestinationState {
    /// The throttle in force: this node's own as quiet time left it, held as long and as far
    /// as another node's receiver asked.
    fn throttle_now(&self, now: Instant, backoff: &Backoff) -> Throttle {
        let own = self.throttle.settled(now, backoff);
        match &self.peer {
            Some((pause, until)) => own.adopt(pause.level, *until, now),
            None => own,
        }
    }

    /// Until when nothing may start, and the reply that asked for the longest pause.
    fn paused(&self, now: Instant) -> Option<(Instant, Option<&String>)> {
        let own = self
            .throttle
            .paused_until(now)
            .map(|until| (until, self.last_throttle_reply.as_ref()));
        let peer = self
            .peer
            .as_ref()
            .filter(|(_, until)| now < *until)
            .map(|(pause, until)| (*until, pause.reply.as_ref()));
        match (own, peer) {
            (Some(own), Some(peer)) => Some(if peer.0 > own.0 { peer } else { own }),
            (own, peer) => own.or(peer),
        }
    }

    /// The limits in force: backed off by the throttle, then this node's part of them.
    fn allowed(&self, nodes: u32, now: Instant, backoff: &Backoff) -> Limits {
        self.throttle_now(now, backoff)
            .limits(self.limits)
            .shared(nodes)
    }
}

/// The pauses of other nodes, each until an instant of this node's clock.
type PeerPauses = HashMap<String, (PeerPause, Instant)>;

/// What the operator sees of one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationView {
    pub destination: String,
    /// The limits configured for it.
    pub limits: Limits,
    /// The limits in force now on this node: backed off, and its part of what the delivering
    /// nodes share.
    pub limits_now: Limits,
    /// Connections carrying a transaction now.
    pub connections_in_use: u32,
    /// 0 when not throttled; each throttle without recovery adds one. This and the two below
    /// are this node's own, which is what it publishes; a pause another node's receiver asked
    /// for shows in `limits_now` and in the deferrals it causes.
    pub throttle_level: u32,
    /// How long it still rests, when it is paused.
    pub paused_for: Option<Duration>,
    /// The reply that last throttled it.
    pub last_throttle_reply: Option<String>,
    /// Recipient domains sent to through it (the first hundred).
    pub domains: Vec<String>,
}

/// The right to use one connection of a destination; dropping it frees the connection.
#[derive(Debug)]
pub struct Admission {
    traffic: Arc<TrafficState>,
    destination: Destination,
    /// Transactions one connection of this destination carries.
    pub messages_per_connection: u32,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut live = self.traffic.lock();
        if let Some(state) = live.destinations.get_mut(&self.destination) {
            state.in_use = state.in_use.saturating_sub(1);
            state.freed.notify_one();
        }
    }
}

#[derive(Debug)]
struct TrafficState {
    shaping: Shaping,
    backoff: Backoff,
    live: Mutex<Live>,
}

/// The destinations and what other nodes published, under one lock.
#[derive(Debug, Default)]
struct Live {
    destinations: HashMap<Destination, DestinationState>,
    /// Nodes this node shares every destination with, itself included.
    nodes: u32,
    pauses: PeerPauses,
}

impl TrafficState {
    fn lock(&self) -> MutexGuard<'_, Live> {
        // Every update is a whole assignment under the lock, so a panic leaves nothing half-done.
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Shaping state and open sessions of this node's native delivery.
#[derive(Debug)]
pub struct Traffic {
    state: Arc<TrafficState>,
    pool: SessionPool,
}

/// What admission found for a destination at one moment.
enum Gate {
    Admitted(u32),
    /// Wait for a freed connection (`None`) or for the rate's next slot.
    Wait(Option<Duration>, Arc<Notify>),
    Deferred(Deferral),
}

impl Traffic {
    pub fn new(shaping: Shaping, backoff: Backoff, pool: PoolLimits) -> Self {
        Self {
            state: Arc::new(TrafficState {
                shaping,
                backoff,
                live: Mutex::new(Live {
                    nodes: 1,
                    ..Live::default()
                }),
            }),
            pool: SessionPool::new(pool),
        }
    }

    /// No limits worth the name and no reuse: every message on a connection of its own.
    pub fn unshaped() -> Self {
        let unlimited = Limits {
            connections: u32::MAX,
            messages_per_connection: 1,
            messages_per_minute: u32::MAX,
        };
        Self::new(
            Shaping::uniform(unlimited),
            Backoff::default(),
            PoolLimits {
                messages_per_connection: 1,
                idle_timeout: Duration::ZERO,
            },
        )
    }

    pub(crate) fn pool(&self) -> &SessionPool {
        &self.pool
    }

    /// The destination of `mx_host`.
    pub fn destination(&self, mx_host: &str) -> Destination {
        self.state.shaping.destination(mx_host).0
    }

    /// Waits (briefly) for a connection of `mx_host`'s destination for mail to `domain`, or
    /// defers.
    pub async fn admit(&self, mx_host: &str, domain: &str) -> Result<Admission, Deferral> {
        let (destination, limits) = self.state.shaping.destination(mx_host);
        let started = Instant::now();
        loop {
            match self.gate(&destination, limits, domain, Instant::now()) {
                Gate::Admitted(messages_per_connection) => {
                    return Ok(Admission {
                        traffic: Arc::clone(&self.state),
                        destination,
                        messages_per_connection,
                    });
                }
                Gate::Deferred(deferral) => return Err(deferral),
                Gate::Wait(slot, freed) => {
                    let left = LONGEST_WAIT.saturating_sub(started.elapsed());
                    let wait = slot.unwrap_or(left);
                    if left.is_zero() || wait > left {
                        return Err(Deferral::Busy {
                            destination: destination.to_string(),
                            wait: slot.unwrap_or(LONGEST_WAIT),
                        });
                    }
                    // A freed connection wakes one waiter; a rate slot comes with time.
                    let _ = tokio::time::timeout(wait, freed.notified()).await;
                }
            }
        }
    }

    fn gate(&self, destination: &Destination, limits: Limits, domain: &str, now: Instant) -> Gate {
        let mut live = self.state.lock();
        let Live {
            destinations,
            nodes,
            pauses,
        } = &mut *live;
        let state = destinations.entry(destination.clone()).or_insert_with(|| {
            let mut state = DestinationState {
                name: destination.to_string(),
                limits,
                throttle: Throttle::default(),
                rate: RateWindow::default(),
                in_use: 0,
                last_throttle_reply: None,
                freed: Arc::new(Notify::new()),
                domains: BTreeSet::new(),
                peer: None,
            };
            // Another node's pause of a destination this node had not sent to yet.
            state.peer = pauses.get(&state.name).cloned();
            state
        });
        state.limits = limits;
        if state.domains.len() < DOMAINS_KEPT && !state.domains.contains(domain) {
            state.domains.insert(domain.to_owned());
        }
        if let Some((until, reply)) = state.paused(now) {
            return Gate::Deferred(Deferral::Throttled {
                destination: destination.to_string(),
                rest: until - now,
                reply: reply.cloned().unwrap_or_default(),
            });
        }
        let allowed = state.allowed(*nodes, now, &self.state.backoff);
        if state.in_use >= allowed.connections {
            return Gate::Wait(None, Arc::clone(&state.freed));
        }
        if let Err(wait) = state.rate.book(now, allowed.messages_per_minute) {
            return Gate::Wait(Some(wait), Arc::clone(&state.freed));
        }
        state.in_use += 1;
        Gate::Admitted(allowed.messages_per_connection)
    }

    /// Before a new connection for `admission`: idle sessions to the destination's other hosts
    /// count against its connections too, so the oldest are ended until the new one fits.
    pub(crate) async fn make_room(&self, admission: &Admission) {
        let same = |host: &str| self.destination(host) == admission.destination;
        loop {
            let (in_use, allowed) = {
                let live = self.state.lock();
                match live.destinations.get(&admission.destination) {
                    Some(state) => (
                        state.in_use,
                        state
                            .allowed(live.nodes, Instant::now(), &self.state.backoff)
                            .connections,
                    ),
                    None => return,
                }
            };
            let open = u32::try_from(self.pool.idle_matching(same)).unwrap_or(u32::MAX);
            if in_use.saturating_add(open) <= allowed || !self.pool.close_one_matching(same).await {
                return;
            }
        }
    }

    /// The receiver behind `admission` throttled with `reply`: the destination backs off.
    pub fn throttled(&self, admission: &Admission, reply: String) {
        let mut live = self.state.lock();
        if let Some(state) = live.destinations.get_mut(&admission.destination) {
            state.throttle = state
                .throttle
                .throttled(Instant::now(), &self.state.backoff);
            state.last_throttle_reply = Some(reply);
        }
    }

    /// The receiver behind `admission` took a transaction: a step towards recovery.
    pub fn delivered(&self, admission: &Admission) {
        let mut live = self.state.lock();
        if let Some(state) = live.destinations.get_mut(&admission.destination) {
            state.throttle = state
                .throttle
                .delivered(Instant::now(), &self.state.backoff);
        }
    }

    /// Takes in what the other delivering nodes published: from now on this node uses its part
    /// of every destination's limits, and rests wherever one of them was asked to pause.
    pub fn heed_peers(&self, peers: Peers) {
        let now = Instant::now();
        let mut live = self.state.lock();
        live.nodes = peers.nodes.saturating_add(1);
        live.pauses = peers
            .pauses
            .into_iter()
            .map(|(name, pause)| {
                let until = now + pause.rest;
                (name, (pause, until))
            })
            .collect();
        let Live {
            destinations,
            pauses,
            ..
        } = &mut *live;
        for state in destinations.values_mut() {
            state.peer = pauses.get(&state.name).cloned();
            // A larger part (a node stopped) admits deliveries that wait for a connection.
            state.freed.notify_waiters();
        }
    }

    /// Ends idle sessions beyond what each destination now allows this node, so that its
    /// connections in use and idle stay within its part once other nodes share the limits or a
    /// pause lowered them (otherwise the extra sessions would stay until their idle timeout).
    pub async fn trim_idle(&self) {
        let now = Instant::now();
        let rooms: Vec<(Destination, u32)> = {
            let live = self.state.lock();
            live.destinations
                .iter()
                .map(|(destination, state)| {
                    let allowed = state
                        .allowed(live.nodes, now, &self.state.backoff)
                        .connections;
                    (destination.clone(), allowed.saturating_sub(state.in_use))
                })
                .collect()
        };
        for (destination, room) in rooms {
            let same = |host: &str| self.destination(host) == destination;
            while u32::try_from(self.pool.idle_matching(same)).unwrap_or(u32::MAX) > room {
                if !self.pool.close_one_matching(same).await {
                    break;
                }
            }
        }
    }

    /// Every destination this node has sent to, by name.
    pub fn destinations(&self) -> Vec<DestinationView> {
        let now = Instant::now();
        let live = self.state.lock();
        let mut views: Vec<DestinationView> = live
            .destinations
            .values()
            .map(|state| DestinationView {
                destination: state.name.clone(),
                limits: state.limits,
                limits_now: state.allowed(live.nodes, now, &self.state.backoff),
                connections_in_use: state.in_use,
                throttle_level: state.throttle.settled(now, &self.state.backoff).level(),
                paused_for: state.throttle.paused_until(now).map(|until| until - now),
                last_throttle_reply: state.last_throttle_reply.clone(),
                domains: state.domains.iter().cloned().collect(),
            })
            .collect();
        views.sort_by(|a, b| a.destination.cmp(&b.destination));
        views
    }

    /// Idle sessions kept open.
    pub fn idle_sessions(&self) -> usize {
        self.pool.idle_count()
    }

    /// Ends the sessions that waited too long (call it now and then).
    pub async fn close_expired(&self) {
        self.pool.close_expired().await;
    }

    /// Ends every idle session with QUIT, as on shutdown.
    pub async fn close_all(&self) {
        self.pool.close_all().await;
    }
}

#[cfg(test)]
mod tests;
