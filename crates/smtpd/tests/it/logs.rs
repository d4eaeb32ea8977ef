//! The logs name the session, tenant and message id, and never a password or AUTH payload.

use std::io;
use std::sync::{Arc, Mutex};

use crate::support::server::TestServer;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

// The default test runtime runs every task on this thread, so the thread's subscriber sees
// the listener's logs too.
#[tokio::test]
async fn logs_name_tenant_and_message_but_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::start().await;
    let mut client = server.client().await;
    client.ehlo().await;
    // "\0app-a\0wrong-password"
    client
        .command("AUTH PLAIN AGFwcC1hAHdyb25nLXBhc3N3b3Jk")
        .await;
    // "app-a", then "secret-a"
    client.command("AUTH LOGIN YXBwLWE=").await;
    client.command("c2VjcmV0LWE=").await;
    assert_eq!(
        client.send_message_from("facilities@client.example").await,
        "250 2.0.0 Ok: queued as msg-1\r\n"
    );
    client.command("QUIT").await;
    server.stop().await;

    let logs = captured.text();
    for expected in [
        "session=1",
        "peer=127.0.0.1",
        "tenant=tenant-a",
        "msg-1",
        "app-a",
    ] {
        assert!(
            logs.contains(expected),
            "{expected:?} missing from the logs:\n{logs}"
        );
    }
    for secret in [
        "wrong-password",
        "secret-a",
        "AGFwcC1h",
        "YXBwLWE",
        "c2VjcmV0LWE",
    ] {
        assert!(!logs.contains(secret), "{secret:?} in the logs:\n{logs}");
    }
}
