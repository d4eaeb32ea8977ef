//! The accept loop: one task per connection, bounds on connections in all and per client,
//! graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::backend::SubmissionBackend;
use crate::config::SmtpdConfig;
use crate::connection::{Shared, serve_connection};
use crate::limiter::AuthLimiter;
use crate::reply::Reply;
use sealpost_domain::ClientConnections;

/// How long to pause after a failed accept (out of file descriptors, for example), so that
/// the loop does not spin while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Serves SMTP submission on `listener` until `shutdown` is cancelled.
///
/// On shutdown the listener stops accepting, sessions waiting for a command are answered
/// `421 4.3.2` and closed, and sessions receiving or submitting a message may finish within
/// `config.timeouts.shutdown_grace`; whatever is still running then is cut off without a
/// reply, and a message cut off that way was not acknowledged. Returns when every session has
/// ended.
pub async fn serve<B: SubmissionBackend>(
    listener: TcpListener,
    config: Arc<SmtpdConfig>,
    backend: Arc<B>,
    shutdown: CancellationToken,
) {
    let shared = Arc::new(Shared {
        limiter: AuthLimiter::new(
            config.limits.max_auth_failures_per_ip,
            config.limits.auth_failure_window,
        ),
        acceptor: config
            .tls
            .as_ref()
            .map(|tls| TlsAcceptor::from(tls.server_config())),
        config: Arc::clone(&config),
        backend,
        shutdown: shutdown.clone(),
    });
    let slots = Arc::new(Semaphore::new(config.limits.max_connections));
    let clients = ClientConnections::new(config.limits.max_connections_per_client);
    let mut sessions = JoinSet::new();
    let mut next_session_id: u64 = 0;
    tracing::info!(address = ?listener.local_addr().ok(), "SMTP submission listening");

    loop {
        let accepted = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(joined) = sessions.join_next(), if !sessions.is_empty() => {
                if let Err(error) = joined {
                    tracing::error!(%error, "SMTP session task failed");
                }
                continue;
            }
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
        let Some(client_slot) = clients.try_acquire(peer.ip()) else {
            refuse(&tcp, peer, &config, Crowded::ByClient);
            continue;
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            refuse(&tcp, peer, &config, Crowded::Listener);
            continue;
        };
        // Replies are small and the client waits for each one, so Nagle's algorithm would only
        // delay them.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, %peer, "cannot set TCP_NODELAY");
        }
        next_session_id += 1;
        let span = tracing::info_span!(
            "smtp",
            session = next_session_id,
            %peer,
            tenant = tracing::field::Empty,
        );
        let shared = Arc::clone(&shared);
        sessions.spawn(
            async move {
                tracing::debug!("connection accepted");
                serve_connection(shared, tcp, peer).await;
                drop(permit);
                drop(client_slot);
            }
            .instrument(span),
        );
    }

    drop(listener);
    let grace = config.timeouts.shutdown_grace;
    tracing::info!(
        sessions = sessions.len(),
        ?grace,
        "SMTP submission shutting down"
    );
    let drained = timeout(grace, async {
        while sessions.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            sessions = sessions.len(),
            "cutting off sessions still running after the grace period"
        );
        sessions.shutdown().await;
    }
    tracing::info!("SMTP submission stopped");
}

/// Which bound on connections a refused one was over.
#[derive(Debug, Clone, Copy)]
enum Crowded {
    /// Every slot of the listener is taken.
    Listener,
    /// The client's address has all the connections one address may have.
    ByClient,
}

/// Turns away a connection over a limit with `421 4.7.0`. The write does not wait: a fresh
/// socket's send buffer takes these few bytes, and a client that cannot take them loses
/// nothing it was owed.
fn refuse(tcp: &TcpStream, peer: SocketAddr, config: &SmtpdConfig, crowded: Crowded) {
    let text = match crowded {
        Crowded::Listener => "Too many connections, try again later",
        Crowded::ByClient => "Too many connections from your address, try again later",
    };
    tracing::warn!(%peer, ?crowded, "connection refused: too many connections");
    let reply = Reply::new(421, [4, 7, 0], format!("{} {text}", config.hostname));
    if let Err(error) = tcp.try_write(&reply.to_bytes()) {
        tracing::debug!(%error, %peer, "could not send the refusal");
    }
}
