//! Native delivery: MX resolution, opportunistic STARTTLS, PIPELINING, per-recipient outcomes and
//! the temporary/permanent decision at each stage, against the scripted server.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use sealpost_delivery::{
    Cause, ConnectProblem, DeliveryReport, FailureKind, MessageError, NativeOptions,
    RecipientResult, Stage, Timeouts, deliver_native,
};
use sealpost_testdns::Zone;

use crate::certs;
use crate::server::{Action, DURING_DATA, END_OF_DATA, Received, Script, Server, reply};
use crate::{SIMPLE, assert_delivered, assert_failed, dns, envelope, helo, shown, timeouts};

const ALL: &[&str] = &["PIPELINING", "SIZE 1000000", "8BITMIME", "STARTTLS"];

/// A server offering every extension the client uses, with a self-signed certificate as MX
/// hosts commonly have.
fn mx_script() -> Script {
    Script::new(ALL).tls(certs::self_signed(&["mx.example.test"]))
}

fn options(port: u16) -> NativeOptions {
    let mut options = NativeOptions::new(helo());
    options.port = port;
    options.timeouts = timeouts();
    options
}

/// `example.test` with one MX host on 127.0.0.1.
fn one_mx() -> Zone {
    Zone::new()
        .mx("example.test", 10, "mx.example.test")
        .a("mx.example.test", Ipv4Addr::LOCALHOST)
}

/// Delivers `message` to `recipients` at example.test (one MX host) through a server playing
/// `script`, and returns the report and what the server received.
async fn deliver(
    script: Script,
    recipients: &[&str],
    message: &[u8],
) -> (DeliveryReport, Vec<Received>) {
    let server = Server::start(script).await;
    let (_dns, resolver) = dns(one_mx()).await;
    let report = deliver_native(
        &resolver,
        "example.test",
        &envelope(recipients),
        message,
        &options(server.port()),
    )
    .await;
    (report, server.received())
}

fn commands(received: &Received) -> Vec<&str> {
    received
        .commands
        .iter()
        .map(|command| command.split(' ').next().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn starttls_pipelining_and_the_exact_bytes() {
    let message = "From: sender@tenant.test\r\nSubject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\n\
                   Gr\u{fc}\u{df}e aus K\u{f6}ln\r\nlast line without dot.\r\n"
        .as_bytes();
    let (report, received) =
        deliver(mx_script(), &["a@example.test", "b@example.test"], message).await;

    assert_delivered(&report);
    assert_eq!(report.host.as_deref(), Some("mx.example.test"));
    let tls = report.tls.as_ref().expect("TLS was used");
    assert_eq!(tls.version, "TLSv1.3");
    assert!(!tls.certificate_verified);
    let [session] = &received[..] else {
        panic!("{received:?}")
    };
    assert_eq!(
        commands(session),
        [
            "EHLO", "STARTTLS", "<TLS>", "EHLO", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"
        ]
    );
    assert_eq!(
        session.commands[4],
        format!(
            "MAIL FROM:<sender@tenant.test> SIZE={} BODY=8BITMIME",
            message.len()
        )
    );
    // MAIL FROM, both RCPT TO and DATA went out in one write.
    assert_eq!(
        session.pipelined,
        [
            "RCPT TO:<a@example.test>",
            "RCPT TO:<b@example.test>",
            "DATA"
        ]
    );
    assert_eq!(session.message.as_deref(), Some(message));
    let wire = String::from_utf8_lossy(&session.wire);
    assert!(
        wire.contains("\r\n..leading dot\r\n...two\r\n..\r\nGr"),
        "{wire}"
    );
    assert!(wire.ends_with("dot.\r\n.\r\n"), "{wire}");
}

#[tokio::test]
async fn a_server_without_extensions_gets_plain_sequential_smtp() {
    let (report, received) = deliver(
        Script::new(&[]),
        &["a@example.test", "b@example.test"],
        SIMPLE,
    )
    .await;

    assert_delivered(&report);
    assert_eq!(report.tls, None);
    let [session] = &received[..] else {
        panic!("{received:?}")
    };
    assert_eq!(
        session.commands,
        [
            "EHLO out.platform.test",
            "MAIL FROM:<sender@tenant.test>",
            "RCPT TO:<a@example.test>",
            "RCPT TO:<b@example.test>",
            "DATA",
            "QUIT"
        ]
    );
    assert!(session.pipelined.is_empty(), "{:?}", session.pipelined);
    assert_eq!(session.message.as_deref(), Some(SIMPLE));
}

#[tokio::test]
async fn helo_after_a_refused_ehlo() {
    let script = mx_script().on("EHLO", reply("502 5.5.1 command not implemented"));
    let (report, received) = deliver(script, &["a@example.test"], SIMPLE).await;

    assert_delivered(&report);
    assert_eq!(
        commands(&received[0]),
        ["EHLO", "HELO", "MAIL", "RCPT", "DATA", "QUIT"]
    );
}

#[tokio::test]
async fn mx_hosts_are_tried_by_preference_and_the_next_takes_over() {
    // Both hosts are 127.0.0.1 on one port, so "the first host is down" is the server closing
    // the first connection before greeting.
    let server = Server::start(Script::new(&[]).drop_first(1)).await;
    let zone = Zone::new()
        .mx("example.test", 20, "backup.example.test")
        .mx("example.test", 10, "primary.example.test")
        .a("primary.example.test", Ipv4Addr::LOCALHOST)
        .a("backup.example.test", Ipv4Addr::LOCALHOST);
    let (_dns, resolver) = dns(zone).await;
    let report = deliver_native(
        &resolver,
        "example.test",
        &envelope(&["a@example.test"]),
        SIMPLE,
        &options(server.port()),
    )
    .await;

    assert_delivered(&report);
    assert_eq!(report.host.as_deref(), Some("backup.example.test"));
    let text = shown(&report);
    let primary = text
        .find("connecting to primary.example.test")
        .expect(&text);
    let backup = text.find("connecting to backup.example.test").expect(&text);
    assert!(primary < backup, "{text}");
    assert!(text.contains("the server closed the connection"), "{text}");
    assert_eq!(server.received().len(), 2);
}

#[tokio::test]
async fn a_refused_connection_is_temporary() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let (_dns, resolver) = dns(one_mx()).await;
    let report = deliver_native(
        &resolver,
        "example.test",
        &envelope(&["a@example.test"]),
        SIMPLE,
        &options(port),
    )
    .await;

    let failure = assert_failed(&report, Stage::Connect, FailureKind::Temporary);
    assert!(
        matches!(
            failure.cause,
            Cause::Connect {
                problem: ConnectProblem::Refused,
                ..
            }
        ),
        "{failure:?}"
    );
    assert_eq!(
        failure.to_string(),
        format!(
            "Nothing accepts connections at 127.0.0.1 port {port} (connection refused): check \
             the host, the port and the firewall"
        )
    );
    assert_eq!(report.host.as_deref(), Some("mx.example.test"));
}

#[tokio::test]
async fn implicit_mx_when_the_domain_has_only_an_address() {
    let server = Server::start(mx_script()).await;
    let (_dns, resolver) = dns(Zone::new().a("example.test", Ipv4Addr::LOCALHOST)).await;
    let report = deliver_native(
        &resolver,
        "example.test",
        &envelope(&["a@example.test"]),
        SIMPLE,
        &options(server.port()),
    )
    .await;

    assert_delivered(&report);
    assert_eq!(report.host.as_deref(), Some("example.test"));
    assert!(shown(&report).contains("implicit MX"), "{}", shown(&report));
}

#[track_caller]
fn check_dns_failure(report: &DeliveryReport, cause: Cause, kind: FailureKind) {
    let failure = assert_failed(report, Stage::Dns, kind);
    assert_eq!(failure.cause, cause);
    assert_eq!(report.host, None);
}

#[tokio::test]
async fn domains_that_take_no_mail_fail_permanently() {
    let zone = Zone::new()
        .mx("nullmx.test", 0, ".")
        .a("nullmx.test", Ipv4Addr::LOCALHOST)
        .txt("nomail.test", &["v=spf1 -all"])
        .servfail("broken.test");
    let (_dns, resolver) = dns(zone).await;
    let deliver = |domain: &'static str| {
        let resolver = resolver.clone();
        async move {
            deliver_native(
                &resolver,
                domain,
                &envelope(&["a@x.test"]),
                SIMPLE,
                &options(9),
            )
            .await
        }
    };

    let report = deliver("nullmx.test").await;
    check_dns_failure(&report, Cause::NullMx, FailureKind::Permanent);
    check_dns_failure(
        &deliver("missing.test").await,
        Cause::NoSuchDomain,
        FailureKind::Permanent,
    );
    check_dns_failure(
        &deliver("nomail.test").await,
        Cause::NoMailHost,
        FailureKind::Permanent,
    );
    let report = deliver("broken.test").await;
    let failure = assert_failed(&report, Stage::Dns, FailureKind::Temporary);
    assert!(
        matches!(failure.cause, Cause::DnsTemporary(_)),
        "{failure:?}"
    );
}

#[tokio::test]
async fn greeting_421_is_temporary() {
    let script = mx_script().greeting(reply("421 4.3.2 mx.test busy, try later"));
    let (report, _) = deliver(script, &["a@example.test"], SIMPLE).await;

    let failure = assert_failed(&report, Stage::Greeting, FailureKind::Temporary);
    let reply = failure.reply().expect("a reply");
    assert_eq!(
        (reply.code, reply.text().as_str()),
        (421, "mx.test busy, try later")
    );
}

#[tokio::test]
async fn each_recipient_gets_its_own_outcome() {
    let script = mx_script().on(
        "RCPT TO:<gone@",
        reply("550 5.1.1 <gone@example.test>: no such user"),
    );
    let (report, received) =
        deliver(script, &["gone@example.test", "here@example.test"], SIMPLE).await;

    let [gone, here] = &report.outcomes[..] else {
        panic!("{report:?}")
    };
    assert_eq!(gone.recipient, "gone@example.test");
    let failure = gone.failure().expect("gone failed");
    assert_eq!(
        (failure.stage, failure.kind()),
        (Stage::RcptTo, FailureKind::Permanent)
    );
    let refusal = failure.reply().expect("a reply");
    assert_eq!(
        refusal.enhanced.map(|status| status.to_string()).as_deref(),
        Some("5.1.1")
    );
    assert!(
        matches!(&here.result, RecipientResult::Delivered { reply } if reply.text() == "queued as 4711"),
        "{here:?}"
    );
    assert_eq!(received[0].message.as_deref(), Some(SIMPLE));
}

#[tokio::test]
async fn no_message_when_every_recipient_is_refused() {
    let script = mx_script()
        .on("RCPT", reply("550 5.7.1 relaying denied"))
        .on("DATA", reply("554 5.5.1 no valid recipients"));
    let (report, received) = deliver(script, &["a@example.test", "b@example.test"], SIMPLE).await;

    assert_failed(&report, Stage::RcptTo, FailureKind::Permanent);
    // DATA went out with the recipients, before their refusals were known (RFC 2920).
    assert_eq!(
        commands(&received[0]),
        [
            "EHLO", "STARTTLS", "<TLS>", "EHLO", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"
        ]
    );
    assert_eq!(received[0].message, None);
}

/// RFC 2920 section 3.1: a server may answer DATA with 354 although it refused every
/// recipient; the client then ends the data with a lone dot, and the message is not sent.
#[tokio::test]
async fn data_accepted_without_recipients_is_ended_with_a_lone_dot() {
    let script = mx_script().on("RCPT", reply("550 5.7.1 relaying denied"));
    let (report, received) = deliver(script, &["a@example.test", "b@example.test"], SIMPLE).await;

    assert_failed(&report, Stage::RcptTo, FailureKind::Permanent);
    assert_eq!(
        commands(&received[0]),
        [
            "EHLO", "STARTTLS", "<TLS>", "EHLO", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"
        ]
    );
    assert_eq!(received[0].message.as_deref(), Some(&b""[..]));
    assert_eq!(received[0].wire, b".\r\n");
}

#[tokio::test]
async fn without_pipelining_no_data_when_every_recipient_is_refused() {
    let script = Script::new(&[]).on("RCPT", reply("550 5.7.1 relaying denied"));
    let (report, received) = deliver(script, &["a@example.test", "b@example.test"], SIMPLE).await;

    assert_failed(&report, Stage::RcptTo, FailureKind::Permanent);
    assert_eq!(
        commands(&received[0]),
        ["EHLO", "MAIL", "RCPT", "RCPT", "QUIT"]
    );
    assert!(
        received[0].pipelined.is_empty(),
        "{:?}",
        received[0].pipelined
    );
}

/// A refused MAIL FROM fails the transaction; the replies to the recipients and DATA sent with
/// it are read before QUIT, and a DATA the server accepted regardless is ended with a lone dot,
/// so that QUIT is not taken for the message and the session ends in step.
#[tokio::test]
async fn a_refused_mail_from_is_answered_in_step_before_quit() {
    let script = mx_script()
        .on("MAIL", reply("550 5.7.1 sender refused"))
        .on("RCPT", reply("503 5.5.1 need MAIL first"));
    let (report, received) = deliver(script, &["a@example.test"], SIMPLE).await;

    assert_failed(&report, Stage::MailFrom, FailureKind::Permanent);
    assert_eq!(
        commands(&received[0]),
        [
            "EHLO", "STARTTLS", "<TLS>", "EHLO", "MAIL", "RCPT", "DATA", "QUIT"
        ]
    );
    assert_eq!(received[0].wire, b".\r\n");
    let lines: Vec<String> = report.transcript.iter().map(ToString::to_string).collect();
    let position = |text: &str| lines.iter().position(|line| line == text);
    let (dot, quit, bye) = (
        position("C: ."),
        position("C: QUIT"),
        position("S: 221 2.0.0 bye"),
    );
    assert!(dot.is_some() && dot < quit && quit < bye, "{lines:#?}");
}

#[tokio::test]
async fn the_reply_to_the_end_of_data_decides() {
    let cases = [
        ("451 4.3.0 local error, try later", FailureKind::Temporary),
        ("452 4.3.1 insufficient storage", FailureKind::Temporary),
        (
            "552 5.3.4 message too big for policy",
            FailureKind::Permanent,
        ),
        ("554 5.7.1 rejected as spam", FailureKind::Permanent),
    ];
    for (answer, kind) in cases {
        let script = mx_script().on(END_OF_DATA, reply(answer));
        let (report, _) = deliver(script, &["a@example.test", "b@example.test"], SIMPLE).await;
        let failure = assert_failed(&report, Stage::Data, kind);
        assert_eq!(
            failure.reply().map(|reply| reply.code.to_string()),
            Some(answer[..3].to_owned())
        );
    }
}

#[tokio::test]
async fn a_refused_data_command_fails_the_accepted_recipients() {
    let script = mx_script().on("DATA", reply("421 4.3.2 shutting down"));
    let (report, received) = deliver(script, &["a@example.test"], SIMPLE).await;

    assert_failed(&report, Stage::Data, FailureKind::Temporary);
    assert_eq!(received[0].message, None);
}

#[tokio::test]
async fn a_connection_reset_during_data_is_temporary() {
    let script = mx_script().on(DURING_DATA, Action::Close);
    let (report, _) = deliver(script, &["a@example.test"], SIMPLE).await;

    let failure = assert_failed(&report, Stage::Data, FailureKind::Temporary);
    assert!(matches!(failure.cause, Cause::Connection(_)), "{failure:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_temporarily() {
    let server = Server::start(mx_script().greeting(Action::Silent)).await;
    let (_dns, resolver) = dns(one_mx()).await;
    let mut options = options(server.port());
    options.timeouts = Timeouts {
        command: Duration::from_millis(300),
        ..timeouts()
    };
    let started = Instant::now();
    let report = deliver_native(
        &resolver,
        "example.test",
        &envelope(&["a@example.test"]),
        SIMPLE,
        &options,
    )
    .await;

    let failure = assert_failed(&report, Stage::Greeting, FailureKind::Temporary);
    assert_eq!(failure.cause, Cause::Timeout(Duration::from_millis(300)));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_failed_handshake_is_retried_without_tls() {
    // STARTTLS is offered, but what follows its 220 is not TLS.
    let script = Script::new(ALL);
    let (report, received) = deliver(script, &["a@example.test"], SIMPLE).await;

    assert_delivered(&report);
    assert_eq!(report.tls, None);
    assert_eq!(commands(&received[0]), ["EHLO", "STARTTLS"]);
    assert_eq!(
        commands(&received[1]),
        ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]
    );
    assert!(
        shown(&report).contains("retrying the same server without TLS"),
        "{}",
        shown(&report)
    );
}

#[tokio::test]
async fn a_message_over_the_size_limit_is_not_offered() {
    let script = Script::new(&["SIZE 10"]);
    let (report, received) = deliver(script, &["a@example.test"], SIMPLE).await;

    let failure = assert_failed(&report, Stage::MailFrom, FailureKind::Permanent);
    assert_eq!(
        failure.cause,
        Cause::MessageTooLarge {
            size: SIMPLE.len(),
            limit: 10
        }
    );
    assert_eq!(commands(&received[0]), ["EHLO", "QUIT"]);
}

#[tokio::test]
async fn bare_line_feeds_are_refused_before_connecting() {
    let (report, received) = deliver(
        Script::new(ALL),
        &["a@example.test"],
        b"Subject: x\n\nbody\n",
    )
    .await;

    let failure = assert_failed(&report, Stage::Data, FailureKind::Permanent);
    assert_eq!(
        failure.cause,
        Cause::InvalidMessage(MessageError::BareLineEnding(10))
    );
    assert!(received.is_empty());
}
