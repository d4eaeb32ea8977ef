//! An in-process authoritative DNS server for tests: it serves a [`Zone`] over UDP and TCP on one
//! port of 127.0.0.1, so that Sealpost's resolver, and programs a test launches (dnspython,
//! unbound, OpenDKIM), can query the same records. Names can also be made to fail (SERVFAIL) or
//! to time out (no answer at all).
//!
//! Every record lives in a single zone for the root name `.`. Hickory's catalog answers REFUSED
//! for a name outside all of its zones, which resolvers treat as a server failure; with the root
//! zone every name is inside, so a missing name answers NXDOMAIN and a missing type NODATA, both
//! authoritatively and with the root SOA for negative caching.

mod handler;
mod zone;

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::{LowerName, Name, RecordType};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use tokio::net::{TcpListener, UdpSocket};

use handler::{Counters, Current, Handler, Served};
pub use zone::Zone;

/// How long the server keeps an idle TCP connection open.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// How many responses may wait to be written on one TCP connection.
const TCP_RESPONSE_BUFFER: usize = 32;

/// How many ports to try before giving up on finding one free for both UDP and TCP.
const BIND_ATTEMPTS: usize = 20;

/// A running test DNS server. Dropping it stops the server: the listener tasks belong to the
/// hickory [`Server`] held here, whose task set aborts them when dropped.
pub struct TestDns {
    addr: SocketAddr,
    counters: Arc<Counters>,
    current: Current,
    // Held only so that the server lives as long as this value.
    _server: Server<Handler>,
}

impl TestDns {
    /// Starts serving `zone` on 127.0.0.1, on a port free for both UDP and TCP. Must be called
    /// within a Tokio runtime, which then runs the server: a test that blocks its thread while
    /// an external program queries the server (`std::process::Command::output`) needs the
    /// multi-thread runtime (`#[tokio::test(flavor = "multi_thread")]`) or `spawn_blocking`,
    /// or the server never gets to answer.
    ///
    /// # Errors
    /// `InvalidInput` when the zone has a mistake (the message names the record), or the error
    /// of binding the sockets.
    pub async fn start(zone: Zone) -> io::Result<TestDns> {
        let current = Current::new(serve(zone)?);
        let counters = Arc::new(Counters::default());
        let handler = Handler {
            current: current.clone(),
            counters: Arc::clone(&counters),
        };
        let (udp, tcp) = bind_udp_and_tcp().await?;
        let addr = udp.local_addr()?;
        let mut server = Server::new(handler);
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        Ok(TestDns {
            addr,
            counters,
            current,
            _server: server,
        })
    }

    /// Serves `zone` from now on instead of the zone served so far, as when records are
    /// published or deleted while a test runs. Queries already being answered finish with the
    /// old zone.
    ///
    /// # Errors
    /// `InvalidInput` when the zone has a mistake; the old zone is then still served.
    pub fn replace(&self, zone: Zone) -> io::Result<()> {
        self.current.replace(serve(zone)?);
        Ok(())
    }

    /// The address to send queries to, over UDP or TCP.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many queries the server has received so far, over both transports. A query is
    /// counted before it is answered, so every answer a client holds is already counted.
    pub fn queries(&self) -> usize {
        self.counters.all()
    }

    /// How many of [`queries`](Self::queries) came over TCP, to prove that a resolver fell back
    /// to TCP after a truncated UDP answer.
    pub fn tcp_queries(&self) -> usize {
        self.counters.tcp()
    }
}

impl fmt::Debug for TestDns {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TestDns")
            .field("addr", &self.addr)
            .field("queries", &self.queries())
            .field("tcp_queries", &self.tcp_queries())
            .finish_non_exhaustive()
    }
}

/// Compiles `zone` into what the handler answers with.
fn serve(zone: Zone) -> io::Result<Served> {
    let compiled = zone
        .compile()
        .map_err(|message| io::Error::new(io::ErrorKind::InvalidInput, message))?;
    let mut root = InMemoryZoneHandler::<TokioRuntimeProvider>::empty(
        Name::root(),
        ZoneType::Primary,
        AxfrPolicy::Deny,
    );
    let present: HashSet<(LowerName, RecordType)> = compiled
        .records
        .iter()
        .map(|record| (LowerName::from(&record.name), record.record_type()))
        .collect();
    for record in compiled.records {
        let description = format!("{} {}", record.name, record.record_type());
        // Hickory refuses a duplicate record and a CNAME sharing its name with other data.
        if !root.upsert_mut(record, 1) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the zone cannot hold {description} (a duplicate, or a CNAME beside other data)"
                ),
            ));
        }
    }
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::from(Name::root()), vec![Arc::new(root)]);
    Ok(Served {
        catalog,
        servfail: compiled.servfail.iter().map(LowerName::from).collect(),
        timeout: compiled.timeout.iter().map(LowerName::from).collect(),
        present,
    })
}

/// Binds a UDP socket on an ephemeral port of 127.0.0.1 and a TCP listener on the same port.
/// Another program may hold that port for TCP, so a few ports are tried.
async fn bind_udp_and_tcp() -> io::Result<(UdpSocket, TcpListener)> {
    let mut last_error = None;
    for _ in 0..BIND_ATTEMPTS {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        match TcpListener::bind(udp.local_addr()?).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(error) if error.kind() == io::ErrorKind::AddrInUse => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrInUse)))
}
