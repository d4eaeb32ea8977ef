//! Serves a router over HTTP/1.1 with a deadline for every phase of a connection and a bound
//! on the connections of each client address, which `axum::serve` does not offer.
//!
//! The head of each request must arrive within [`ServeLimits::request_head`], counted from the
//! moment the server waits for it, so the same deadline closes an idle keep-alive connection;
//! each request's body must arrive within [`ServeLimits::request_body`] of its head. HTTP/2 is
//! not served: cleartext HTTP/2 has no such deadline in hyper, and the API's clients speak
//! HTTP/1.1 (a TLS-terminating proxy in front may still speak HTTP/2 to them).

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use sealpost_domain::limits::connection;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;

use sealpost_domain::ClientConnections;

/// How long to pause after a failed accept (out of file descriptors, for example), so that
/// the loop does not spin while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The deadlines and bounds of [`serve`]; the defaults are those of
/// [`sealpost_domain::limits::connection`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeLimits {
    /// The head of one request, from the moment the server waits for it; also the longest an
    /// idle keep-alive connection stays open.
    pub request_head: Duration,
    /// The whole body of one request, from its head to its last byte.
    pub request_body: Duration,
    /// Connections from one client address (IPv6: one /64) at once; more are closed.
    pub connections_per_client: usize,
    /// After shutdown, how long requests in progress may take before they are cut off.
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            request_head: connection::HTTP_REQUEST_HEAD,
            request_body: connection::HTTP_REQUEST_BODY,
            connections_per_client: connection::HTTP_CONNECTIONS_PER_CLIENT,
            shutdown_grace: connection::HTTP_SHUTDOWN_GRACE,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets the
/// requests in progress finish within the grace period (closing idle connections at once), and
/// returns. Handlers can extract `ConnectInfo<SocketAddr>` (the client's address).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.request_head)
        .keep_alive(true);
    let clients = ClientConnections::new(limits.connections_per_client);
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        let Some(slot) = clients.try_acquire(peer.ip()) else {
            tracing::warn!(%peer, "connection closed: too many connections from this address");
            continue;
        };
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, %peer, "cannot set TCP_NODELAY");
        }
        let service = request_service(app.clone(), peer, limits.request_body);
        let connection = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
        connections.spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "HTTP connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!(connections = connections.len(), "HTTP shutting down");
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("cutting off HTTP requests still running after the grace period");
    }
    connections.shutdown().await;
}

/// The hyper service for one connection: each request gets the client's address and a body
/// that fails once its deadline has passed.
fn request_service(
    app: Router,
    peer: SocketAddr,
    body_deadline: Duration,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Body>, Infallible>> + Send,
> {
    hyper::service::service_fn(move |request: Request<Incoming>| {
        let mut request = request.map(|body| Body::new(DeadlineBody::new(body, body_deadline)));
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(request)
    })
}

/// A request body whose whole arrival is bounded: once the deadline passes, the next read fails
/// with [`BodyDeadlinePassed`], however steadily the client trickles bytes.
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<Sleep>>,
    /// The time the body was given, for the error.
    allowed: Duration,
}

impl DeadlineBody {
    fn new(inner: Incoming, allowed: Duration) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep_until(Instant::now() + allowed)),
            allowed,
        }
    }
}

/// The request body did not arrive within its deadline.
#[derive(Debug)]
pub(crate) struct BodyDeadlinePassed(Duration);

impl fmt::Display for BodyDeadlinePassed {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "the request body did not arrive within {} seconds",
            self.0.as_secs_f64()
        )
    }
}

impl std::error::Error for BodyDeadlinePassed {}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.deadline.as_mut().poll(context).is_ready() {
            let passed = BodyDeadlinePassed(this.allowed);
            return Poll::Ready(Some(Err(Box::new(passed))));
        }
        Pin::new(&mut this.inner)
            .poll_frame(context)
            .map_err(axum::BoxError::from)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
