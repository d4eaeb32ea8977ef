//! Starts the real listener on 127.0.0.1:0 with small limits and short timeouts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sealpost_smtpd::{CancellationToken, SmtpdConfig, TlsSettings, self_signed_tls, serve};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::backend::TestBackend;
use super::client::Client;

pub const HOSTNAME: &str = "mx.test";
pub const MAX_MESSAGE_SIZE: usize = 1024;
pub const MAX_RECIPIENTS: usize = 3;

pub struct TestServer {
    pub address: SocketAddr,
    pub backend: Arc<TestBackend>,
    pub tls: Option<TlsSettings>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

/// The configuration most tests use: no TLS, AUTH allowed on loopback.
pub fn config() -> SmtpdConfig {
    let mut config = SmtpdConfig::new(HOSTNAME);
    config.allow_plain_auth_on_loopback = true;
    config.limits.max_message_size = MAX_MESSAGE_SIZE;
    config.limits.max_recipients = MAX_RECIPIENTS;
    config.limits.max_connections = 16;
    config.timeouts.command = Duration::from_secs(10);
    config.timeouts.data = Duration::from_secs(10);
    config.timeouts.shutdown_grace = Duration::from_secs(5);
    config
}

/// The configuration with a self-signed certificate for `localhost`, AUTH only over TLS.
pub fn tls_config() -> SmtpdConfig {
    let mut config = config();
    config.allow_plain_auth_on_loopback = false;
    config.tls = Some(self_signed_tls("localhost").expect("self-signed certificate"));
    config
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(config()).await
    }

    pub async fn start_with(config: SmtpdConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        let backend = Arc::new(TestBackend::default());
        let shutdown = CancellationToken::new();
        let tls = config.tls.clone();
        let task = tokio::spawn(serve(
            listener,
            Arc::new(config),
            Arc::clone(&backend),
            shutdown.clone(),
        ));
        Self {
            address,
            backend,
            tls,
            shutdown,
            task: Some(task),
        }
    }

    /// A connected client that has read the greeting.
    pub async fn client(&self) -> Client {
        let mut client = Client::connect(self.address).await;
        assert_eq!(client.reply().await, "220 mx.test ESMTP ready\r\n");
        client
    }

    /// A client that has greeted and authenticated as `app-a` of `tenant-a`.
    pub async fn authenticated(&self) -> Client {
        let mut client = self.client().await;
        client.ehlo().await;
        // "\0app-a\0secret-a"
        assert_eq!(
            client.command("AUTH PLAIN AGFwcC1hAHNlY3JldC1h").await,
            "235 2.7.0 Authentication successful\r\n"
        );
        client
    }

    /// Signals shutdown without waiting.
    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Signals shutdown and waits until `serve` has returned, that is until every session
    /// has ended.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("serve returns after shutdown")
                .expect("serve does not panic");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
