//! An in-process authoritative DNS server for tests: it serves a [`Zone`] over UDP and TCP on one
//! port of 127.0.0.1, so that Sealpost's resolver, and programs a test launches (dnspython,
//! unbound, OpenDKIM), can query the same records. Names can also be made to fail (SERVFAIL) or
//! to time out (no answer at all).
//!
//! Every record lives in a zone for the root name `.`, or in the zone of the nearest name above it
//! that has NS records ([`Zone::ns`]). Hickory's catalog answers REFUSED for a name outside all of
//! its zones, which resolvers treat as a server failure; with the root zone every name is inside,
//! so a missing name answers NXDOMAIN and a missing type NODATA, both authoritatively and with
//! the zone's SOA for negative caching.

mod handler;
mod zone;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::{LowerName, Name, Record, RecordType};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use tokio::net::{TcpListener, UdpSocket};

use handler::{Counters, Current, Handler, InFlight, Served};
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
    in_flight: Arc<InFlight>,
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
        let in_flight = Arc::new(InFlight::default());
        let handler = Handler {
            current: current.clone(),
            counters: Arc::clone(&counters),
            in_flight: Arc::clone(&in_flight),
        };
        let (udp, tcp) = bind_udp_and_tcp().await?;
        let addr = udp.local_addr()?;
        let mut server = Server::new(handler);
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        Ok(TestDns {
            addr,
            counters,
            in_flight,
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

    /// The most queries for the slow names of `group` ([`Zone::slow`]) that were waiting for
    /// their answers at one moment, so far.
    pub fn peak_in_flight(&self, group: &str) -> usize {
        self.in_flight.peak(group)
    }

    /// The groups of the queries for slow names, in the order the queries arrived, to show
    /// which group a client served first.
    pub fn slow_arrivals(&self) -> Vec<String> {
        self.in_flight.arrivals()
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
    let compiled = zone.compile().map_err(invalid)?;
    let present: HashSet<(LowerName, RecordType)> = compiled
        .records
        .iter()
        .map(|record| (LowerName::from(&record.name), record.record_type()))
        .collect();
    // The root zone holds every record that no zone below it (a name with NS records) holds.
    let mut root = zone_handler(Name::root());
    let mut apexes: HashMap<LowerName, InMemoryZoneHandler<TokioRuntimeProvider>> = HashMap::new();
    for record in &compiled.records {
        let owner = LowerName::from(&record.name);
        if record.record_type() == RecordType::NS
            && !owner.is_root()
            && !apexes.contains_key(&owner)
        {
            let mut apex = zone_handler(record.name.clone());
            apex.upsert_mut(zone::soa(record.name.clone()).map_err(invalid)?, 1);
            apexes.insert(owner, apex);
        }
    }
    for record in compiled.records {
        let owner = LowerName::from(&record.name);
        // The zone above a zone's apex holds its NS records too, as the delegation, so that the
        // names between the two exist there (a query for `example.` beside the zone
        // `client.example.` is NODATA, not NXDOMAIN).
        if record.record_type() == RecordType::NS && apexes.contains_key(&owner) {
            let above = owner.base_name();
            insert(zone_of(&mut apexes, &mut root, above), record.clone())?;
        }
        insert(zone_of(&mut apexes, &mut root, owner), record)?;
    }
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::from(Name::root()), vec![Arc::new(root)]);
    for (origin, zone) in apexes {
        catalog.upsert(origin, vec![Arc::new(zone)]);
    }
    Ok(Served {
        catalog,
        servfail: compiled.servfail.iter().map(LowerName::from).collect(),
        timeout: compiled.timeout.iter().map(LowerName::from).collect(),
        present,
        slow: compiled
            .slow
            .into_iter()
            .map(|(name, group, delay)| (LowerName::from(name), (group, delay)))
            .collect(),
    })
}

fn zone_handler(origin: Name) -> InMemoryZoneHandler<TokioRuntimeProvider> {
    InMemoryZoneHandler::empty(origin, ZoneType::Primary, AxfrPolicy::Deny)
}

/// The zone that holds the records of `name`: that of the nearest name at or above it that is a
/// zone's apex, or the root zone.
fn zone_of<'a>(
    apexes: &'a mut HashMap<LowerName, InMemoryZoneHandler<TokioRuntimeProvider>>,
    root: &'a mut InMemoryZoneHandler<TokioRuntimeProvider>,
    name: LowerName,
) -> &'a mut InMemoryZoneHandler<TokioRuntimeProvider> {
    let origin = std::iter::successors(Some(name), |name| {
        (!name.is_root()).then(|| name.base_name())
    })
    .find(|name| apexes.contains_key(name));
    match origin {
        Some(origin) => apexes.get_mut(&origin).unwrap_or(root),
        None => root,
    }
}

fn insert(zone: &mut InMemoryZoneHandler<TokioRuntimeProvider>, record: Record) -> io::Result<()> {
    let description = format!("{} {}", record.name, record.record_type());
    // Hickory refuses a duplicate record and a CNAME sharing its name with other data.
    if zone.upsert_mut(record, 1) {
        Ok(())
    } else {
        Err(invalid(format!(
            "the zone cannot hold {description} (a duplicate, or a CNAME beside other data)"
        )))
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
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
