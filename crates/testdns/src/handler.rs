//! The request handler in front of hickory's catalog: it counts queries by transport, answers
//! SERVFAIL for the names a test asked to fail, leaves unanswered the queries a test asked to time
//! out, delays (and counts while they wait) the queries a test asked to be slow, and passes
//! everything else to the catalog.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::op::{Edns, Header, HeaderCounts, Metadata, ResponseCode};
use hickory_server::proto::rr::{LowerName, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::{Catalog, MessageResponseBuilder};

/// How many queries the server has received, shared between the handler and [`crate::TestDns`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    all: AtomicUsize,
    tcp: AtomicUsize,
}

impl Counters {
    pub(crate) fn all(&self) -> usize {
        self.all.load(Ordering::SeqCst)
    }

    pub(crate) fn tcp(&self) -> usize {
        self.tcp.load(Ordering::SeqCst)
    }

    fn count(&self, protocol: Protocol) {
        self.all.fetch_add(1, Ordering::SeqCst);
        if protocol == Protocol::Tcp {
            self.tcp.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The queries for slow names: how many of each group wait for their answers now, the most that
/// ever did, and the groups of all of them in the order they arrived.
#[derive(Debug, Default)]
pub(crate) struct InFlight(Mutex<Waiting>);

#[derive(Debug, Default)]
struct Waiting {
    now: HashMap<String, usize>,
    peak: HashMap<String, usize>,
    arrivals: Vec<String>,
}

impl InFlight {
    pub(crate) fn peak(&self, group: &str) -> usize {
        let waiting = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.peak.get(group).copied().unwrap_or(0)
    }

    pub(crate) fn arrivals(&self) -> Vec<String> {
        let waiting = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.arrivals.clone()
    }

    fn enter(&self, group: &str) {
        let mut waiting = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.arrivals.push(group.to_owned());
        let now = waiting.now.entry(group.to_owned()).or_default();
        *now += 1;
        let now = *now;
        let peak = waiting.peak.entry(group.to_owned()).or_default();
        *peak = (*peak).max(now);
    }

    fn leave(&self, group: &str) {
        let mut waiting = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(now) = waiting.now.get_mut(group) {
            *now -= 1;
        }
    }
}

/// What the server answers with at one moment: a zone compiled into hickory's catalog, with the
/// names that fail or hang.
pub(crate) struct Served {
    pub(crate) catalog: Catalog,
    pub(crate) servfail: HashSet<LowerName>,
    /// Names whose queries go unanswered...
    pub(crate) timeout: HashSet<LowerName>,
    /// ...unless the zone has records of the type asked for at that name.
    pub(crate) present: HashSet<(LowerName, RecordType)>,
    /// Names whose answers wait, with their group and delay.
    pub(crate) slow: HashMap<LowerName, (String, Duration)>,
}

/// The zone being served, which a test may replace while the server runs (a record published
/// or deleted later, as a tenant's IT department would do).
#[derive(Clone)]
pub(crate) struct Current(Arc<RwLock<Arc<Served>>>);

impl Current {
    pub(crate) fn new(served: Served) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(served))))
    }

    pub(crate) fn replace(&self, served: Served) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(served);
    }

    /// The zone as it is now; a query being answered keeps the zone it started with.
    fn get(&self) -> Arc<Served> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }
}

pub(crate) struct Handler {
    pub(crate) current: Current,
    pub(crate) counters: Arc<Counters>,
    pub(crate) in_flight: Arc<InFlight>,
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        // Counting before answering means a client that has its answer always sees it counted.
        self.counters.count(request.protocol());
        let served = self.current.get();
        let fails = request
            .queries
            .queries()
            .iter()
            .any(|query| served.servfail.contains(query.name()));
        if fails {
            return answer_servfail(request, response_handle).await;
        }
        let hangs = request.queries.queries().iter().any(|query| {
            served.timeout.contains(query.name())
                && !served
                    .present
                    .contains(&(query.name().clone(), query.query_type()))
        });
        if hangs {
            // Nothing is sent, so the client waits until its timeout. The server only logs what
            // the handler returns.
            return unanswered(request);
        }
        let slow = request
            .queries
            .queries()
            .iter()
            .find_map(|query| served.slow.get(query.name()));
        if let Some((group, delay)) = slow {
            // The query stops counting before its answer is sent, so that a client that sends
            // its next query on receiving this answer never sees both counted at once.
            self.in_flight.enter(group);
            tokio::time::sleep(*delay).await;
            self.in_flight.leave(group);
        }
        served
            .catalog
            .handle_request::<R, T>(request, response_handle)
            .await
    }
}

async fn answer_servfail<R: ResponseHandler>(
    request: &Request,
    mut response_handle: R,
) -> ResponseInfo {
    // A client that sent EDNS gets an OPT record back, as from any EDNS-aware server.
    let edns = request.edns.as_ref().map(|asked| {
        let mut edns = Edns::new();
        edns.set_max_payload(asked.max_payload().max(512));
        edns
    });
    let response = MessageResponseBuilder::new(&request.queries, edns.as_ref())
        .error_msg(&request.metadata, ResponseCode::ServFail);
    match response_handle.send_response(response).await {
        Ok(info) => info,
        // The server only logs what the handler returns, so describing the SERVFAIL that could
        // not be sent is enough.
        Err(_) => unanswered(request),
    }
}

/// A description of a SERVFAIL that was not sent, for the server's log.
fn unanswered(request: &Request) -> ResponseInfo {
    let mut metadata = Metadata::response_from_request(&request.metadata);
    metadata.response_code = ResponseCode::ServFail;
    ResponseInfo::from(Header {
        metadata,
        counts: HeaderCounts::default(),
    })
}
