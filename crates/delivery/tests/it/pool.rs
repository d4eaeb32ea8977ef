//! Connection reuse: a pool of open sessions per server, counted at the receiving server.

use std::net::Ipv4Addr;
use std::time::Duration;

use sealpost_delivery::shaping::{Backoff, Shaping};
use sealpost_delivery::{
    DeliveryReport, FailureKind, NativeOptions, PoolLimits, RecipientResult, Stage, Traffic,
    deliver_native_shaped,
};
use sealpost_dns::Resolver;
use sealpost_testdns::Zone;

use crate::certs;
use crate::server::{Received, Script, Server, reply};
use crate::{SIMPLE, assert_delivered, dns, envelope, helo, timeouts};

const ALL: &[&str] = &["PIPELINING", "SIZE 1000000", "8BITMIME", "STARTTLS"];
/// The same without STARTTLS, for servers without a certificate.
const PLAIN: &[&str] = &["PIPELINING", "SIZE 1000000", "8BITMIME"];

fn options(port: u16) -> NativeOptions {
    let mut options = NativeOptions::new(helo());
    options.port = port;
    options.timeouts = timeouts();
    options
}

fn zone() -> Zone {
    Zone::new()
        .mx("example.test", 10, "mx.example.test")
        .a("mx.example.test", Ipv4Addr::LOCALHOST)
}

/// How many times each connection received commands starting with `verb`.
fn per_connection(received: &[Received], verb: &str) -> Vec<usize> {
    received
        .iter()
        .map(|connection| {
            connection
                .commands
                .iter()
                .filter(|command| command.starts_with(verb))
                .count()
        })
        .collect()
}

#[tokio::test]
async fn messages_share_connections_up_to_the_cap() {
    let server =
        Server::start(Script::new(ALL).tls(certs::self_signed(&["mx.example.test"]))).await;
    let (_dns, resolver) = dns(zone()).await;
    let pool = shaped(PoolLimits {
        messages_per_connection: 4,
        idle_timeout: Duration::from_secs(30),
    });
    for _ in 0..10 {
        let report = send_simple(&resolver, &pool, server.port()).await;
        assert_delivered(&report);
        assert!(report.tls.is_some(), "reused sessions keep their TLS");
    }
    let received = server.received();
    // 10 messages at 4 per connection: 3 connections, each message a transaction of its own.
    assert_eq!(per_connection(&received, "MAIL"), [4, 4, 2]);
    assert_eq!(per_connection(&received, "RSET"), [3, 3, 1]);
    assert_eq!(per_connection(&received, "EHLO"), [2, 2, 2]);
    assert_eq!(per_connection(&received, "QUIT"), [1, 1, 0]);
    assert_eq!(pool.idle_sessions(), 1);

    pool.close_all().await;
    assert_eq!(pool.idle_sessions(), 0);
    assert_eq!(per_connection(&server.received(), "QUIT"), [1, 1, 1]);
}

#[tokio::test]
async fn a_refused_recipient_leaves_the_others_and_the_connection_alone() {
    let script = Script::new(PLAIN).on("RCPT TO:<b@", reply("550 5.1.1 No such user"));
    let server = Server::start(script).await;
    let (_dns, resolver) = dns(zone()).await;
    let pool = shaped(PoolLimits::default());
    assert_delivered(&send(&resolver, &pool, server.port(), &["a@example.test"]).await);
    let mixed = send(
        &resolver,
        &pool,
        server.port(),
        &["a@example.test", "b@example.test", "c@example.test"],
    )
    .await;
    let results: Vec<String> = mixed
        .outcomes
        .iter()
        .map(|outcome| match &outcome.result {
            RecipientResult::Delivered { reply } => {
                format!("{} delivered {}", outcome.recipient, reply.code)
            }
            RecipientResult::Failed { failure } => format!(
                "{} {:?} at {} ({})",
                outcome.recipient,
                failure.kind(),
                failure.stage,
                failure.reply().map_or(0, |reply| reply.code)
            ),
        })
        .collect();
    assert_eq!(
        results,
        [
            "a@example.test delivered 250".to_owned(),
            format!(
                "b@example.test {:?} at {} (550)",
                FailureKind::Permanent,
                Stage::RcptTo
            ),
            "c@example.test delivered 250".to_owned(),
        ]
    );
    // Every recipient refused: no message, and the connection still serves the next one.
    let refused = send(&resolver, &pool, server.port(), &["b@example.test"]).await;
    assert_eq!(
        refused.outcomes[0].failure().map(|failure| failure.kind()),
        Some(FailureKind::Permanent)
    );
    assert_delivered(&send(&resolver, &pool, server.port(), &["c@example.test"]).await);
    let received = server.received();
    assert_eq!(per_connection(&received, "MAIL"), [4]);
    assert_eq!(per_connection(&received, "DATA"), [4]);
    assert_eq!(per_connection(&received, "RSET"), [3]);
    // On the reused connection RSET went out with the transaction, not a round trip ahead.
    let pipelined_mail = received[0]
        .pipelined
        .iter()
        .filter(|command| command.starts_with("MAIL"))
        .count();
    assert_eq!(pipelined_mail, 3, "{:?}", received[0].pipelined);
    assert_eq!(received[0].message.as_deref(), Some(SIMPLE));
}

#[tokio::test]
async fn idle_sessions_past_their_time_are_ended_and_replaced() {
    let server = Server::start(Script::new(PLAIN)).await;
    let (_dns, resolver) = dns(zone()).await;
    let pool = shaped(PoolLimits {
        messages_per_connection: 100,
        idle_timeout: Duration::from_millis(50),
    });
    for _ in 0..2 {
        let report = send_simple(&resolver, &pool, server.port()).await;
        assert_delivered(&report);
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    let received = server.received();
    assert_eq!(per_connection(&received, "MAIL"), [1, 1]);
    // The first session was ended with QUIT when it was found stale, not left to time out.
    assert_eq!(per_connection(&received, "QUIT"), [1, 0]);
    pool.close_expired().await;
    assert_eq!(pool.idle_sessions(), 0);
    assert_eq!(per_connection(&server.received(), "QUIT"), [1, 1]);
}

#[tokio::test]
async fn a_connection_the_server_closed_is_replaced_without_failing_the_message() {
    // The server hangs up on RSET, as one that timed the idle connection out would.
    let script = Script::new(PLAIN).on("RSET", crate::server::Action::Close);
    let server = Server::start(script).await;
    let (_dns, resolver) = dns(zone()).await;
    let pool = shaped(PoolLimits::default());
    for _ in 0..2 {
        let report = send_simple(&resolver, &pool, server.port()).await;
        assert_delivered(&report);
    }
    assert_eq!(per_connection(&server.received(), "MAIL"), [1, 1]);
}

/// A live server that refuses RSET on a pooled session has MAIL FROM, RCPT TO and DATA in hand
/// already, and may be waiting for a message after its 354: the session is dropped without
/// QUIT (which would be taken for the message) and without the message, and the message goes
/// out once, on a new connection.
#[tokio::test]
async fn a_refused_rset_sends_the_message_once_on_a_new_connection() {
    let script = Script::new(PLAIN).on("RSET", reply("451 4.3.0 try again later"));
    let server = Server::start(script).await;
    let (_dns, resolver) = dns(zone()).await;
    let pool = shaped(PoolLimits::default());
    for _ in 0..2 {
        let report = send_simple(&resolver, &pool, server.port()).await;
        assert_delivered(&report);
    }
    let received = server.received();
    assert_eq!(per_connection(&received, "RSET"), [1, 0]);
    assert_eq!(per_connection(&received, "QUIT"), [0, 0]);
    let ends = |wire: &[u8]| {
        wire.windows(5)
            .filter(|window| window == b"\r\n.\r\n")
            .count()
    };
    assert_eq!(ends(&received[0].wire), 1, "the first message only");
    let wire = String::from_utf8_lossy(&received[0].wire);
    assert!(
        !wire.contains("QUIT"),
        "QUIT was sent as message text: {wire}"
    );
    assert_eq!(received[1].message.as_deref(), Some(SIMPLE));
}

/// Without PIPELINING a reused session waits for RSET's reply, then for each command's.
#[tokio::test]
async fn without_pipelining_a_reused_session_resets_in_lockstep() {
    let server = Server::start(Script::new(&["SIZE 1000000"])).await;
    let (_dns, resolver) = dns(zone()).await;
    let pool = shaped(PoolLimits::default());
    for _ in 0..2 {
        let report = send_simple(&resolver, &pool, server.port()).await;
        assert_delivered(&report);
    }
    let [session] = &server.received()[..] else {
        panic!("one connection for both messages")
    };
    let verbs: Vec<&str> = session
        .commands
        .iter()
        .map(|command| command.split([' ', ':']).next().unwrap_or_default())
        .collect();
    assert_eq!(
        verbs,
        [
            "EHLO", "MAIL", "RCPT", "DATA", "RSET", "MAIL", "RCPT", "DATA"
        ]
    );
    assert!(session.pipelined.is_empty(), "{:?}", session.pipelined);
}

/// [`SIMPLE`] to `recipients` at example.test, through the receiving server on `port`.
async fn send(
    resolver: &Resolver,
    pool: &Traffic,
    port: u16,
    recipients: &[&str],
) -> DeliveryReport {
    deliver_native_shaped(
        resolver,
        "example.test",
        &envelope(recipients),
        SIMPLE,
        &options(port),
        pool,
    )
    .await
}

/// [`SIMPLE`] to a@example.test, through the receiving server on `port`.
async fn send_simple(resolver: &Resolver, pool: &Traffic, port: u16) -> DeliveryReport {
    send(resolver, pool, port, &["a@example.test"]).await
}

/// The traffic of these tests: the built-in profiles and default limits, with `pool`'s reuse.
fn shaped(pool: PoolLimits) -> Traffic {
    Traffic::new(Shaping::default(), Backoff::default(), pool)
}
