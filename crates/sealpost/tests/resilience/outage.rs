//! PostgreSQL going away while a node runs (issue "scale-out"): the node accepts nothing it
//! cannot commit (no 202 during the outage), keeps running, and accepts and delivers again once
//! the database is back. The outage is a TCP proxy between the node and PostgreSQL that the test
//! cuts and restores; the shared PostgreSQL itself is never touched.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::support::{Harness, missing, submit};

/// Forwards connections from a loopback port to PostgreSQL until it is cut.
struct Proxy {
    port: u16,
    accept: Option<JoinHandle<()>>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let tracked = connections.clone();
        let accept = tokio::spawn(async move {
            let upstream: SocketAddr = "127.0.0.1:5432".parse().unwrap();
            while let Ok((mut client, _)) = listener.accept().await {
                let forward = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tracked.lock().unwrap().push(forward);
            }
        });
        Self {
            port,
            accept: Some(accept),
            connections,
        }
    }

    /// Drops the listener and every forwarded connection, as a network failure would.
    fn cut(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_accepts_nothing_while_postgres_is_away_and_recovers() {
    let direct = sealpost_store::testing::fresh_postgres_url().await;
    let mut proxy = Proxy::start(0).await;
    let through_proxy = direct.replacen("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port), 1);
    assert_ne!(through_proxy, direct, "the test URL names 127.0.0.1:5432");
    let harness = Harness::start(
        Some(&through_proxy),
        &[("SEALPOST_DATABASE_STATEMENT_TIMEOUT", "2".to_owned())],
    )
    .await;
    let (mut node, address) = harness.node();
    let token = harness.token.clone();
    let submit_one = |sequence: usize| {
        let address = address.clone();
        let token = token.clone();
        tokio::task::spawn_blocking(move || submit(&address, &token, sequence))
    };
    assert!(submit_one(0).await.unwrap(), "accepted before the outage");

    proxy.cut();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !submit_one(1).await.unwrap(),
        "nothing may be acknowledged that cannot be committed"
    );
    assert!(node.try_wait().unwrap().is_none(), "the node keeps running");

    let port = proxy.port;
    let _restored = Proxy::start(port).await;
    let mut accepted = vec![0];
    for sequence in 2..5 {
        // The pool reconnects on its own; the first requests may still meet broken connections.
        for _ in 0..20 {
            if submit_one(sequence).await.unwrap() {
                accepted.push(sequence);
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    assert_eq!(
        accepted,
        [0, 2, 3, 4],
        "the node accepts again after the outage"
    );
    let counts = harness
        .wait_for_delivery(&accepted, Duration::from_secs(30))
        .await;
    node.kill().unwrap();
    node.wait().unwrap();
    assert!(missing(&accepted, &counts).is_empty(), "{counts:?}");
    assert!(!counts.contains_key(&1), "the refused message was not sent");
}
