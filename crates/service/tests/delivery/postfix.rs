//! Delivery to Postfix: a private instance of Debian's Postfix, started by the test on a loopback
//! port (`tests/interop/postfix.sh`), is the receiving server for the happy path. A message
//! accepted through the service is signed, committed, looked up by MX in a real DNS server and
//! delivered; it lands in the instance's Maildir with Postfix's trace headers on top of exactly
//! the bytes Sealpost stored, and dkimpy passes its signature there. A recipient in a domain
//! this Postfix does not serve is refused as relaying (554 5.7.1) and fails for good. SQLite
//! only: the backends are covered by `delivery.rs`, this is about the peer.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sealpost_domain::RecipientState;
use sealpost_store::{Store, testing};

use crate::support;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/postfix.sh")
}

/// A private Postfix instance on a free loopback port, everything under its own temporary
/// directory; stopped (and waited for) when dropped, also when the test panics.
pub(crate) struct Postfix {
    directory: tempfile::TempDir,
    pub(crate) port: u16,
}

impl Postfix {
    fn start() -> Self {
        Self::start_with_bounces(None)
    }

    /// Started with `bounce_port`, the instance also fails mail to gone@receiver.test after
    /// accepting it and sends the DSN to that port (`tests/interop/postfix.sh`).
    pub(crate) fn start_with_bounces(bounce_port: Option<u16>) -> Self {
        // In /tmp, whatever TMPDIR says: Postfix's unprivileged processes must be able to reach
        // the queue, so every directory above it has to be searchable by the postfix user.
        let directory = tempfile::Builder::new()
            .prefix("sealpost-postfix-")
            .tempdir_in("/tmp")
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Returns once the master has bound its listeners (`postfix start` waits for that).
        let output = Command::new("sh")
            .arg(script())
            .arg("start")
            .arg(directory.path())
            .arg(port.to_string())
            .args(bounce_port.map(|port| port.to_string()))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let postfix = Self { directory, port };
        assert!(
            output.status.success(),
            "Postfix did not start: {}\n{}",
            describe(&output),
            postfix.log()
        );
        postfix
    }

    /// Postfix's own log, for failure messages.
    pub(crate) fn log(&self) -> String {
        let log = std::fs::read_to_string(self.directory.path().join("maillog"))
            .unwrap_or_else(|error| format!("(no maillog: {error})"));
        format!("--- Postfix maillog ---\n{log}")
    }

    /// The one message in `mailbox`'s Maildir, waiting for the asynchronous local delivery.
    pub(crate) async fn wait_for_message(&self, mailbox: &str) -> Vec<u8> {
        let new = self.directory.path().join("mail").join(mailbox).join("new");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&new)
                .map(|entries| entries.map(|entry| entry.unwrap().path()).collect())
                .unwrap_or_default();
            if let Some(file) = files.pop() {
                assert!(files.is_empty(), "more than one message in {mailbox}");
                return std::fs::read(file).unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "nothing arrived in the {mailbox} mailbox within 20 s\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let stopped = Command::new("sh")
            .arg(script())
            .arg("stop")
            .arg(self.directory.path())
            .stdin(Stdio::null())
            .output();
        match stopped {
            Ok(output) if output.status.success() => {}
            Ok(output) if !std::thread::panicking() => {
                panic!("Postfix did not stop: {}", describe(&output))
            }
            Ok(_) => {}
            Err(error) if !std::thread::panicking() => panic!("Postfix did not stop: {error}"),
            Err(_) => {}
        }
    }
}

fn describe(output: &Output) -> String {
    format!(
        "{}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The header field `name` of a CRLF message, folded lines and final CRLF included.
fn header_field<'a>(message: &'a [u8], name: &str) -> &'a [u8] {
    let mut start = 0;
    while start < message.len() && !message[start..].starts_with(b"\r\n") {
        let mut end = start;
        loop {
            end += message[end..]
                .windows(2)
                .position(|pair| pair == b"\r\n")
                .unwrap()
                + 2;
            if !matches!(message.get(end), Some(b' ' | b'\t')) {
                break;
            }
        }
        let field = &message[start..end];
        let colon = field.iter().position(|&byte| byte == b':').unwrap();
        if field[..colon].eq_ignore_ascii_case(name.as_bytes()) {
            return field;
        }
        start = end;
    }
    panic!("no {name} field in the message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_delivered_to_postfix_arrives_in_its_mailbox_and_passes_dkimpy() {
    // elsewhere.test is served by the same Postfix, which does not accept mail for it.
    let dns = support::dns(&["receiver.test", "elsewhere.test"]).await;
    let postfix = Postfix::start();

    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let (service, delivery, tenant) = support::signing_service(store, &dns, postfix.port).await;
    let accepted = service
        .submissions()
        .submit(
            tenant,
            support::work_order(&["ok@receiver.test", "unknown@elsewhere.test"]),
        )
        .await
        .unwrap();
    assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 2);
    assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 0);

    let message = service
        .messages()
        .message(tenant, accepted.id)
        .await
        .unwrap();
    let by_address = |address: &str| {
        message
            .recipients
            .iter()
            .find(|recipient| recipient.address == address)
            .unwrap()
            .clone()
    };
    let sent = by_address("ok@receiver.test");
    assert_eq!(
        sent.state,
        RecipientState::Sent,
        "{sent:?}\n{}",
        postfix.log()
    );
    assert!(
        sent.last_reply
            .as_deref()
            .unwrap()
            .contains("250 2.0.0 Ok: queued as "),
        "{sent:?}\n{}",
        postfix.log()
    );
    let refused = by_address("unknown@elsewhere.test");
    assert_eq!(
        refused.state,
        RecipientState::Failed,
        "{refused:?}\n{}",
        postfix.log()
    );
    let reply = refused.last_reply.as_deref().unwrap();
    assert!(
        reply.contains("554 5.7.1") && reply.contains("Relay access denied"),
        "{refused:?}\n{}",
        postfix.log()
    );

    // Postfix stores the message with LF line ends and its trace fields on top; below them is
    // exactly what Sealpost stored: the same DKIM-Signature, headers and body.
    let delivered = postfix.wait_for_message("ok").await;
    assert!(
        !delivered.contains(&b'\r'),
        "Maildir files have LF line ends"
    );
    let delivered_crlf = String::from_utf8(delivered.clone())
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    let signature = header_field(&message.raw, "DKIM-Signature");
    assert!(
        delivered_crlf
            .windows(signature.len())
            .any(|window| window == signature),
        "the DKIM-Signature did not arrive unchanged:\n{}",
        String::from_utf8_lossy(&delivered)
    );
    assert!(
        delivered_crlf.ends_with(&message.raw),
        "what arrived is not the stored message below Postfix's trace fields:\n{}\n--- stored ---\n{}",
        String::from_utf8_lossy(&delivered),
        String::from_utf8_lossy(&message.raw)
    );
    let added =
        String::from_utf8_lossy(&delivered_crlf[..delivered_crlf.len() - message.raw.len()])
            .into_owned();
    for line in added.split("\r\n").filter(|line| !line.is_empty()) {
        let name = line.split(':').next().unwrap();
        assert!(
            line.starts_with([' ', '\t'])
                || ["Return-Path", "X-Original-To", "Delivered-To", "Received"].contains(&name),
            "unexpected field added by Postfix: {line}"
        );
    }
    assert!(
        added.starts_with("Return-Path: <bounce@client.test>\r\n"),
        "{added}"
    );
    assert!(
        added.contains("Delivered-To: ok@receiver.test\r\n"),
        "{added}"
    );
    assert!(
        added.contains("Received: from mta.platform.test"),
        "{added}"
    );

    // An independent verifier passes the file as it lies in the mailbox.
    let (passed, verdict) = support::dkimpy_verify(&dns, &delivered);
    assert!(passed, "dkimpy: {verdict}");
    assert!(
        verdict.starts_with("pass d=client.test s=workplace"),
        "dkimpy: {verdict}"
    );

    drop(postfix);
}

/// Messages to one Postfix, one after another, share a connection: each message after the first
/// goes out on the connection the first opened (its RSET pipelined with MAIL FROM, RCPT TO and
/// DATA, which the delivery crate's tests check), and Postfix takes every one of them without
/// finding fault with the pipelining.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_to_postfix_share_one_connection() {
    let dns = support::dns(&["receiver.test"]).await;
    let postfix = Postfix::start();
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let (service, delivery, tenant) = support::signing_service(store, &dns, postfix.port).await;
    const MESSAGES: usize = 3;
    for _ in 0..MESSAGES {
        let accepted = service
            .submissions()
            .submit(tenant, support::work_order(&["ok@receiver.test"]))
            .await
            .unwrap();
        assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 1);
        let message = service
            .messages()
            .message(tenant, accepted.id)
            .await
            .unwrap();
        let recipient = &message.recipients[0];
        assert_eq!(
            recipient.state,
            RecipientState::Sent,
            "{recipient:?}\n{}",
            postfix.log()
        );
    }

    let new = postfix.directory.path().join("mail/ok/new");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_dir(&new).map_or(0, Iterator::count) < MESSAGES {
        assert!(
            Instant::now() < deadline,
            "not every message arrived within 20 s\n{}",
            postfix.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = postfix.log();
    let connections = log
        .lines()
        .filter(|line| line.contains(": connect from "))
        .count();
    assert_eq!(connections, 1, "{log}");
    let resets = log
        .lines()
        .filter(|line| line.contains("improper command pipelining"))
        .count();
    assert_eq!(resets, 0, "{log}");
}
