//! Open SMTP sessions kept between messages, per server (MX host name and address): a message
//! for a server with an idle session reuses it (RSET, then the next transaction) instead of
//! connecting, greeting, saying EHLO and negotiating TLS again. A session carries at most a
//! set number of transactions, waits idle for at most a set time, and is ended with QUIT when
//! it retires or the pool closes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::capabilities::Capabilities;
use crate::session::{Parked, Session};
use crate::transcript::Transcript;

/// How long sessions live and how much they carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLimits {
    /// Transactions on one connection before it is ended; 0 or 1 means no reuse at all.
    pub messages_per_connection: u32,
    /// How long a session may wait for its next message before it is ended.
    pub idle_timeout: Duration,
}

impl Default for PoolLimits {
    fn default() -> Self {
        Self {
            messages_per_connection: 100,
            idle_timeout: Duration::from_secs(30),
        }
    }
}

/// Which server a session talks to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ServerKey {
    host: String,
    address: SocketAddr,
}

/// A session waiting for its next message.
pub(crate) struct Idle {
    pub(crate) parked: Parked,
    pub(crate) capabilities: Capabilities,
    /// Transactions it has carried so far.
    pub(crate) transactions: u32,
    since: Instant,
}

/// The idle sessions of every server. Shared by concurrent deliveries; the lock is never held
/// across I/O.
pub struct SessionPool {
    idle: Mutex<HashMap<ServerKey, Vec<Idle>>>,
    limits: PoolLimits,
}

impl std::fmt::Debug for SessionPool {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SessionPool")
            .field("limits", &self.limits)
            .field("idle", &self.idle_count())
            .finish()
    }
}

impl SessionPool {
    pub fn new(limits: PoolLimits) -> Self {
        Self {
            idle: Mutex::new(HashMap::new()),
            limits,
        }
    }

    /// Idle sessions, over every server.
    pub fn idle_count(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    /// An idle session to `address` of `host` that has not waited too long, if there is one.
    /// Sessions found past their idle time are ended on the way.
    pub(crate) async fn checkout(&self, host: &str, address: SocketAddr) -> Option<Idle> {
        let key = ServerKey {
            host: host.to_owned(),
            address,
        };
        let now = Instant::now();
        let (fresh, stale) = {
            let mut idle = self.lock();
            let sessions = idle.get_mut(&key)?;
            let (fresh, stale): (Vec<Idle>, Vec<Idle>) = sessions
                .drain(..)
                .partition(|session| now.duration_since(session.since) < self.limits.idle_timeout);
            *sessions = fresh;
            (sessions.pop(), stale)
        };
        end_all(stale).await;
        fresh
    }

    /// An idle session to `host` at any of its addresses that has not waited too long (for a
    /// relay, whose key names the server and the credentials).
    pub(crate) async fn checkout_any(&self, host: &str) -> Option<Idle> {
        let now = Instant::now();
        let (fresh, stale) = {
            let mut idle = self.lock();
            let mut stale = Vec::new();
            let mut fresh = None;
            for (_, sessions) in idle.iter_mut().filter(|(key, _)| key.host == host) {
                let (keep, expired): (Vec<Idle>, Vec<Idle>) =
                    sessions.drain(..).partition(|session| {
                        now.duration_since(session.since) < self.limits.idle_timeout
                    });
                *sessions = keep;
                stale.extend(expired);
                if fresh.is_none() {
                    fresh = sessions.pop();
                }
            }
            idle.retain(|_, sessions| !sessions.is_empty());
            (fresh, stale)
        };
        end_all(stale).await;
        fresh
    }

    /// Puts a session that finished a transaction back, or ends it with QUIT when it has carried
    /// its share of transactions (the pool's, or `most` for its destination) or cannot be
    /// parked.
    pub(crate) async fn checkin(
        &self,
        host: &str,
        mut session: Session<'_>,
        capabilities: Capabilities,
        transactions: u32,
        most: u32,
    ) {
        let most = self.limits.messages_per_connection.min(most);
        if transactions >= most {
            if most > 1 {
                session.note(format!(
                    "closing after {transactions} messages, the most one connection carries"
                ));
            }
            session.quit().await;
            return;
        }
        let address = session.address();
        let Some(parked) = session.park() else {
            return;
        };
        let key = ServerKey {
            host: host.to_owned(),
            address,
        };
        self.lock().entry(key).or_default().push(Idle {
            parked,
            capabilities,
            transactions,
            since: Instant::now(),
        });
    }

    /// Idle sessions to hosts that `matches` accepts.
    pub(crate) fn idle_matching(&self, matches: impl Fn(&str) -> bool) -> usize {
        self.lock()
            .iter()
            .filter(|(key, _)| matches(&key.host))
            .map(|(_, sessions)| sessions.len())
            .sum()
    }

    /// Ends the longest-waiting idle session to a host that `matches` accepts, if there is one.
    pub(crate) async fn close_one_matching(&self, matches: impl Fn(&str) -> bool) -> bool {
        let oldest = {
            let mut idle = self.lock();
            let found = idle
                .iter()
                .filter(|(key, sessions)| matches(&key.host) && !sessions.is_empty())
                .min_by_key(|(_, sessions)| sessions[0].since)
                .map(|(key, _)| key.clone());
            found.map(|key| {
                let sessions = idle.get_mut(&key).expect("the key was just found");
                let oldest = sessions.remove(0);
                if sessions.is_empty() {
                    idle.remove(&key);
                }
                oldest
            })
        };
        match oldest {
            Some(session) => {
                end_all(vec![session]).await;
                true
            }
            None => false,
        }
    }

    /// Ends every idle session that waited past the idle time (call it now and then).
    pub async fn close_expired(&self) {
        let now = Instant::now();
        let stale: Vec<Idle> = {
            let mut idle = self.lock();
            let mut stale = Vec::new();
            for sessions in idle.values_mut() {
                let (fresh, expired): (Vec<Idle>, Vec<Idle>) =
                    sessions.drain(..).partition(|session| {
                        now.duration_since(session.since) < self.limits.idle_timeout
                    });
                *sessions = fresh;
                stale.extend(expired);
            }
            idle.retain(|_, sessions| !sessions.is_empty());
            stale
        };
        end_all(stale).await;
    }

    /// Ends every idle session with QUIT, as on shutdown.
    pub async fn close_all(&self) {
        let all: Vec<Idle> = self
            .lock()
            .drain()
            .flat_map(|(_, sessions)| sessions)
            .collect();
        end_all(all).await;
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ServerKey, Vec<Idle>>> {
        // Entries are inserted and removed whole, so a panic elsewhere leaves nothing half-done.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// QUIT on each session; nobody reads these transcripts, the sessions carry no message.
async fn end_all(sessions: Vec<Idle>) {
    for idle in sessions {
        let mut transcript = Transcript::default();
        Session::resume(idle.parked, &mut transcript).quit().await;
    }
}
