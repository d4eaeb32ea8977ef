//! Sealpost's own DKIM zone (SPEC S11.4): an authoritative DNS server, over UDP and TCP, for
//! `dkim.<platform domain>`, serving the key record of every pending, active and retiring key
//! under its delegated name ([`sealpost_domain::DkimZone::served_name`]). A tenant who publishes
//! the CNAME once never touches DNS again: the served records follow the key states in the
//! database, which every node reads, so every node answers alike.

mod handler;
mod records;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use sealpost_domain::Timestamp;
use sealpost_store::{ServedKey, Store};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;

use handler::{Current, Handler};
pub use records::{RECORD_TTL, ZoneSettings};

/// How often the served records are read again from the database: a key's new state is served
/// within this time.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(2);

/// How long the server keeps an idle TCP connection open.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// How many responses may wait to be written on one TCP connection.
const TCP_RESPONSE_BUFFER: usize = 32;

/// The running zone server. Dropping it stops both the listeners and the refresher.
pub struct DkimZoneServer {
    udp: SocketAddr,
    tcp: SocketAddr,
    refresher: JoinHandle<()>,
    // Held only so that the listeners live as long as this value.
    _server: Server<Handler>,
}

impl DkimZoneServer {
    /// Reads the served keys once, then serves them on `listen` over UDP and TCP (port 0 picks
    /// one port for both), re-reading them every [`REFRESH_INTERVAL`].
    ///
    /// # Errors
    /// The first read of the keys, a zone name that is not a DNS name, or binding the sockets.
    pub async fn start(
        settings: ZoneSettings,
        store: Store,
        listen: SocketAddr,
    ) -> io::Result<Self> {
        // The number first: a change committed while the keys are read raises it past what is
        // kept here, and the next round reads them again.
        let version = store.dkim_zone_version().await.map_err(io::Error::other)?;
        let keys = sorted(store.served_dkim_keys().await.map_err(io::Error::other)?);
        let newest = store
            .dkim_zone_newest_change()
            .await
            .map_err(io::Error::other)?;
        let serial = next_serial(None, newest);
        let built = records::build(&settings, &keys, serial).map_err(io::Error::other)?;
        tracing::info!(zone = %settings.zone, records = built.records, "DKIM zone loaded");
        let current = Current::new(built.catalog);
        let (udp, tcp) = bind_udp_and_tcp(listen).await?;
        let (udp_addr, tcp_addr) = (udp.local_addr()?, tcp.local_addr()?);
        let mut server = Server::new(Handler {
            current: current.clone(),
        });
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        let served = Served {
            version,
            keys,
            newest,
            serial,
        };
        let refresher = tokio::spawn(refresh(Arc::new(settings), store, current, served));
        Ok(Self {
            udp: udp_addr,
            tcp: tcp_addr,
            refresher,
            _server: server,
        })
    }

    /// The address answering over UDP.
    pub fn udp_addr(&self) -> SocketAddr {
        self.udp
    }

    /// The address answering over TCP.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp
    }
}

impl Drop for DkimZoneServer {
    fn drop(&mut self) {
        self.refresher.abort();
    }
}

impl std::fmt::Debug for DkimZoneServer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DkimZoneServer")
            .field("udp", &self.udp)
            .field("tcp", &self.tcp)
            .finish_non_exhaustive()
    }
}

/// The keys in one order, so that an unchanged set compares equal and the zone is not rebuilt.
fn sorted(mut keys: Vec<ServedKey>) -> Vec<ServedKey> {
    keys.sort_by(|a, b| {
        (a.tenant_id, &a.domain, &a.selector).cmp(&(b.tenant_id, &b.domain, &b.selector))
    });
    keys
}

/// What the zone serves now, and the zone version (`Store::dkim_zone_version`) read before it.
struct Served {
    version: i64,
    keys: Vec<ServedKey>,
    newest: Timestamp,
    serial: u32,
}

/// The SOA serial of a zone built now: the newest change's time in seconds, so that every node
/// reading the same database serves the same serial (a secondary may transfer from any of
/// them), but always past the serial served before, since removing a domain with its keys
/// leaves no newer time behind.
fn next_serial(served: Option<u32>, newest_change: Timestamp) -> u32 {
    let newest = u32::try_from(newest_change.0.max(1)).unwrap_or(u32::MAX);
    match served {
        Some(served) if newest <= served => served.wrapping_add(1),
        _ => newest,
    }
}

/// Asks for the zone version every [`REFRESH_INTERVAL`] and, when it moved, re-reads the keys
/// and serves a new zone if they (or the time of the newest change) changed. A failed read
/// keeps the zone served so far: the database may be back at the next round.
async fn refresh(settings: Arc<ZoneSettings>, store: Store, current: Current, mut served: Served) {
    loop {
        tokio::time::sleep(REFRESH_INTERVAL).await;
        let read = async {
            let version = store.dkim_zone_version().await?;
            if version == served.version {
                return Ok(None);
            }
            let keys = store.served_dkim_keys().await?;
            let newest = store.dkim_zone_newest_change().await?;
            Ok::<_, sealpost_store::StoreError>(Some((version, sorted(keys), newest)))
        };
        let (version, keys, newest) = match read.await {
            Ok(Some(read)) => read,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(%error, "the DKIM zone could not read the keys; serving the last");
                continue;
            }
        };
        // A change that leaves the records as they were (a key promoted) still moves the
        // serial, so that a node started later, which reads the newer time, serves the same one.
        if keys == served.keys && newest == served.newest {
            served.version = version;
            continue;
        }
        let serial = next_serial(Some(served.serial), newest);
        match records::build(&settings, &keys, serial) {
            Ok(built) => {
                tracing::info!(records = built.records, serial, "DKIM zone changed");
                current.replace(built.catalog);
                served = Served {
                    version,
                    keys,
                    newest,
                    serial,
                };
            }
            Err(error) => tracing::error!(%error, "the DKIM zone could not be built"),
        }
    }
}

/// How many ports are tried for port 0 before giving up.
const BIND_ATTEMPTS: usize = 8;

/// A UDP socket on `listen` and a TCP listener on the port UDP got, so that port 0 gives one
/// address for both, as resolvers expect. Another program may hold that port for TCP; for port
/// 0 a few ports are tried, a port given is tried once.
async fn bind_udp_and_tcp(listen: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
    let attempts = if listen.port() == 0 { BIND_ATTEMPTS } else { 1 };
    let mut last_error = None;
    for _ in 0..attempts {
        let udp = UdpSocket::bind(listen).await?;
        match TcpListener::bind(udp.local_addr()?).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(error) if error.kind() == io::ErrorKind::AddrInUse => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrInUse)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port given is tried once, and refused with the reason when its TCP side is taken; port
    /// 0 gives one address for both.
    #[tokio::test]
    async fn a_given_port_taken_for_tcp_is_refused_and_port_zero_binds_both() {
        let loopback = std::net::Ipv4Addr::LOCALHOST;
        let taken = std::net::TcpListener::bind((loopback, 0)).unwrap();
        let refused = bind_udp_and_tcp(taken.local_addr().unwrap()).await;
        assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::AddrInUse);
        let (udp, tcp) = bind_udp_and_tcp((loopback, 0).into()).await.unwrap();
        assert_eq!(udp.local_addr().unwrap(), tcp.local_addr().unwrap());
    }

    #[test]
    fn the_serial_is_the_newest_change_and_never_goes_back() {
        assert_eq!(next_serial(None, Timestamp(1_800_000_000)), 1_800_000_000);
        assert_eq!(next_serial(None, Timestamp(0)), 1);
        assert_eq!(
            next_serial(Some(5), Timestamp(1_800_000_000)),
            1_800_000_000
        );
        // A domain deleted with its keys: the newest remaining change is older.
        assert_eq!(
            next_serial(Some(1_800_000_000), Timestamp(1_700_000_000)),
            1_800_000_001
        );
        assert_eq!(
            next_serial(Some(1_800_000_000), Timestamp(1_800_000_000)),
            1_800_000_001
        );
        assert_eq!(next_serial(None, Timestamp(i64::MAX)), u32::MAX);
    }
}
