//! Graceful shutdown: idle sessions get 421, a message in flight is finished first.

use std::time::{Duration, Instant};

use crate::support::server::{TestServer, config};

#[tokio::test]
async fn idle_sessions_are_told_and_a_message_in_flight_is_finished() {
    let server = TestServer::start().await;
    let mut idle = server.client().await;
    let mut sending = server.authenticated().await;
    sending
        .command("MAIL FROM:<facilities@client.example>")
        .await;
    sending.command("RCPT TO:<tech@contractor.example>").await;
    sending.command("DATA").await;
    sending.send("Subject: in flight\r\n\r\n").await;

    server.begin_shutdown();
    assert_eq!(
        idle.reply().await,
        "421 4.3.2 mx.test Service shutting down, try again later\r\n"
    );
    idle.expect_closed().await;

    sending.send("still arriving\r\n.\r\n").await;
    assert_eq!(sending.reply().await, "250 2.0.0 Ok: queued as msg-1\r\n");
    assert_eq!(
        sending.reply().await,
        "421 4.3.2 mx.test Service shutting down, try again later\r\n"
    );
    sending.expect_closed().await;

    let backend = std::sync::Arc::clone(&server.backend);
    server.stop().await;
    assert_eq!(
        backend.submissions()[0].message,
        b"Subject: in flight\r\n\r\nstill arriving\r\n"
    );
}

#[tokio::test]
async fn a_message_still_arriving_after_the_grace_period_is_cut_off() {
    let mut config = config();
    config.timeouts.shutdown_grace = Duration::from_millis(200);
    let server = TestServer::start_with(config).await;
    let mut client = server.authenticated().await;
    client
        .command("MAIL FROM:<facilities@client.example>")
        .await;
    client.command("RCPT TO:<tech@contractor.example>").await;
    client.command("DATA").await;
    client.send("Subject: never finished\r\n\r\n").await;

    let backend = std::sync::Arc::clone(&server.backend);
    let started = Instant::now();
    server.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Cut off without a reply: nothing was acknowledged and nothing submitted.
    client.expect_closed().await;
    assert!(backend.submissions().is_empty());
}
