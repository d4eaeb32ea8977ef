//! Message size, recipients, connections and timeouts.

use std::time::Duration;

use crate::support::server::{MAX_MESSAGE_SIZE, TestServer, config};

#[tokio::test]
async fn declared_size_over_the_limit_is_refused_at_mail() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    let command = format!(
        "MAIL FROM:<facilities@client.example> SIZE={}",
        MAX_MESSAGE_SIZE + 1
    );
    assert_eq!(
        client.command(&command).await,
        "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
    );
}

#[tokio::test]
async fn content_over_the_limit_is_read_and_refused() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    client
        .command("MAIL FROM:<facilities@client.example>")
        .await;
    client.command("RCPT TO:<tech@contractor.example>").await;
    client.command("DATA").await;
    let line = format!("{}\r\n", "x".repeat(98));
    for _ in 0..=(MAX_MESSAGE_SIZE / line.len()) {
        client.send(&line).await;
    }
    client.send(".\r\n").await;
    assert_eq!(
        client.reply().await,
        "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
    );
    assert!(server.backend.submissions().is_empty());

    // The content was consumed to its end, so the session goes on in step.
    assert_eq!(client.command("NOOP").await, "250 2.0.0 Ok\r\n");
    client
        .command("MAIL FROM:<facilities@client.example>")
        .await;
    client.command("RCPT TO:<tech@contractor.example>").await;
    client.command("DATA").await;
    let fits = "x".repeat(MAX_MESSAGE_SIZE - 2);
    client.send(&format!("{fits}\r\n.\r\n")).await;
    assert_eq!(client.reply().await, "250 2.0.0 Ok: queued as msg-1\r\n");
}

#[tokio::test]
async fn too_many_recipients() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    client
        .command("MAIL FROM:<facilities@client.example>")
        .await;
    for index in 1..=3 {
        assert_eq!(
            client
                .command(&format!("RCPT TO:<r{index}@contractor.example>"))
                .await,
            "250 2.1.5 Recipient ok\r\n"
        );
    }
    assert_eq!(
        client.command("RCPT TO:<r4@contractor.example>").await,
        "452 4.5.3 Too many recipients\r\n"
    );
    client.command("DATA").await;
    client.send("Subject: x\r\n\r\nx\r\n.\r\n").await;
    assert_eq!(client.reply().await, "250 2.0.0 Ok: queued as msg-1\r\n");
    assert_eq!(server.backend.submissions()[0].envelope.rcpt_to.len(), 3);
}

#[tokio::test]
async fn connections_over_the_limit_are_turned_away() {
    let mut config = config();
    config.limits.max_connections = 1;
    let server = TestServer::start_with(config).await;
    let mut first = server.client().await;

    let mut second = crate::support::client::Client::connect(server.address).await;
    assert_eq!(
        second.reply().await,
        "421 4.7.0 mx.test Too many connections, try again later\r\n"
    );
    second.expect_closed().await;

    // The slot is free again once the first client has gone.
    first.command("QUIT").await;
    first.expect_closed().await;
    let mut attempts = 0;
    loop {
        let mut third = crate::support::client::Client::connect(server.address).await;
        let greeting = third.reply().await;
        if greeting == "220 mx.test ESMTP ready\r\n" {
            break;
        }
        attempts += 1;
        assert!(attempts < 50, "the slot was never released: {greeting:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_idle_client_is_timed_out() {
    let mut config = config();
    config.timeouts.command = Duration::from_millis(300);
    let server = TestServer::start_with(config).await;
    let mut client = server.client().await;
    assert_eq!(
        client.reply().await,
        "421 4.4.2 mx.test Timeout, closing connection\r\n"
    );
    client.expect_closed().await;
}

#[tokio::test]
async fn a_stalled_data_transfer_is_timed_out() {
    let mut config = config();
    config.timeouts.data = Duration::from_millis(300);
    let server = TestServer::start_with(config).await;
    let mut client = server.authenticated().await;
    client
        .command("MAIL FROM:<facilities@client.example>")
        .await;
    client.command("RCPT TO:<tech@contractor.example>").await;
    client.command("DATA").await;
    client.send("Subject: stalled\r\n").await;
    assert_eq!(
        client.reply().await,
        "421 4.4.2 mx.test Timeout, closing connection\r\n"
    );
    client.expect_closed().await;
    assert!(server.backend.submissions().is_empty());
}
