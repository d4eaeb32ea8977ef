//! Slowloris: clients that trickle bytes are cut off at each phase's total deadline, and one
//! address cannot take every connection.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use crate::support::client::Client;
use crate::support::server::{TestServer, config};

/// The deadline the tests give each phase, and the interval at which the slow client sends a
/// byte: far shorter than the deadline, so a timeout per read would never fire.
const DEADLINE: Duration = Duration::from_millis(800);
const TRICKLE: Duration = Duration::from_millis(100);

/// Sends `prefix` at once, then one byte of `trickle` every [`TRICKLE`] on a raw socket, and
/// returns the first line the server answers after the prefix with the time it took.
async fn trickle_until_answered(
    server: &TestServer,
    prefix: &str,
    skip_replies: usize,
    trickle: &'static [u8],
) -> (String, Duration) {
    let stream = TcpStream::connect(server.address).await.expect("connect");
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(prefix.as_bytes()).await.expect("prefix");
    // The greeting and the replies to the prefix's commands.
    for _ in 0..=skip_replies {
        let mut line = String::new();
        read.read_line(&mut line).await.expect("a reply");
        while line.as_bytes().get(3) == Some(&b'-') {
            line.clear();
            read.read_line(&mut line).await.expect("a reply");
        }
    }
    let started = Instant::now();
    let writer = tokio::spawn(async move {
        for byte in trickle {
            tokio::time::sleep(TRICKLE).await;
            if write.write_all(&[*byte]).await.is_err() {
                return;
            }
        }
    });
    let mut line = String::new();
    timeout(Duration::from_secs(10), read.read_line(&mut line))
        .await
        .expect("an answer while trickling")
        .expect("read");
    writer.abort();
    (line, started.elapsed())
}

#[track_caller]
fn assert_cut_off_at_deadline(answer: &(String, Duration)) {
    assert_eq!(
        answer.0,
        "421 4.4.2 mx.test Timeout, closing connection\r\n"
    );
    assert!(
        answer.1 >= DEADLINE / 2 && answer.1 < DEADLINE * 2,
        "cut off after {:?}, the deadline is {DEADLINE:?}",
        answer.1
    );
}

/// Forty bytes at one per 100 ms last four seconds, five deadlines.
const ENDLESS_LINE: &[u8] = b"NOOP and then a very long time of nothing";

#[tokio::test]
async fn a_command_line_trickled_byte_by_byte_is_cut_off_at_its_deadline() {
    let mut config = config();
    config.timeouts.command = DEADLINE;
    let server = TestServer::start_with(config).await;
    let answer = trickle_until_answered(&server, "", 0, ENDLESS_LINE).await;
    assert_cut_off_at_deadline(&answer);
}

#[tokio::test]
async fn message_content_trickled_byte_by_byte_is_cut_off_at_its_deadline() {
    let mut config = config();
    config.timeouts.data = DEADLINE;
    let server = TestServer::start_with(config).await;
    // "\0app-a\0secret-a"
    let prefix = "EHLO client.example\r\nAUTH PLAIN AGFwcC1hAHNlY3JldC1h\r\n\
                  MAIL FROM:<facilities@client.example>\r\nRCPT TO:<tech@contractor.example>\r\n\
                  DATA\r\n";
    let answer = trickle_until_answered(&server, prefix, 5, ENDLESS_LINE).await;
    assert_cut_off_at_deadline(&answer);
    assert!(server.backend.submissions().is_empty());
}

#[tokio::test]
async fn a_tls_handshake_that_never_finishes_is_cut_off() {
    let mut config = crate::support::server::tls_config();
    config.timeouts.tls_handshake = DEADLINE;
    let server = TestServer::start_with(config).await;
    let mut client = server.client().await;
    client.ehlo().await;
    assert_eq!(
        client.command("STARTTLS").await,
        "220 2.0.0 Ready to start TLS\r\n"
    );
    // The start of a ClientHello record header, and then nothing.
    client.send_bytes(&[0x16, 0x03, 0x01]).await;
    let started = Instant::now();
    client.expect_closed().await;
    let waited = started.elapsed();
    assert!(waited < DEADLINE * 2, "closed after {waited:?}");
}

#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let mut config = config();
    config.limits.max_connections_per_client = 2;
    let server = TestServer::start_with(config).await;
    let _first = server.client().await;
    let mut second = server.client().await;

    let mut third = Client::connect(server.address).await;
    assert_eq!(
        third.reply().await,
        "421 4.7.0 mx.test Too many connections from your address, try again later\r\n"
    );
    third.expect_closed().await;

    // The address gets its slot back when one of its sessions ends.
    second.command("QUIT").await;
    second.expect_closed().await;
    let mut attempts = 0;
    loop {
        let mut fourth = Client::connect(server.address).await;
        if fourth.reply().await == "220 mx.test ESMTP ready\r\n" {
            break;
        }
        attempts += 1;
        assert!(attempts < 50, "the address's slot was never released");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
