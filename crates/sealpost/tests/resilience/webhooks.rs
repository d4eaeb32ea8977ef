//! Webhooks survive `kill -9` (SPEC S10.6): messages are submitted over HTTP while the real
//! server is killed at random moments and restarted; a webhook receiver that verifies every
//! signature with the `standardwebhooks` package gets, for every acknowledged message, its
//! `message.accepted` and `message.delivered` events, in that order; repeats share their
//! webhook-id, so the receiver's deduplication leaves each event once. A last undisturbed batch
//! measures the latency from the acknowledgement (the event is committed before it) to the
//! receiver, printed as p50 and p99.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::Harness;

const ROUNDS: usize = 3;
/// Messages of the undisturbed batch that measures latency.
const CALM: usize = 100;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Wall-clock seconds, to compare with the receiver's arrival times: a test measuring real
/// latency reads the real clock.
#[allow(clippy::disallowed_methods)]
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Submits one message; its id and when the 202 came, or `None` when the node did not answer
/// 202.
fn submit(address: &str, token: &str, sequence: usize) -> Option<(String, f64)> {
    let body = serde_json::json!({
        "mail_from": "bounce@client.test",
        "recipients": ["someone@receiver.test"],
        "raw": format!("From: a@client.test\r\nSubject: hooks\r\nX-Sequence: {sequence}\r\n\r\nMessage {sequence}.\r\n"),
    })
    .to_string();
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    write!(
        stream,
        "POST /api/v1/messages/raw HTTP/1.1\r\nHost: sealpost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let at = now();
    if !response.starts_with("HTTP/1.1 202") {
        return None;
    }
    let json: Value = serde_json::from_str(response.split("\r\n\r\n").nth(1)?).ok()?;
    Some((json["id"].as_str()?.to_owned(), at))
}

struct Receiver(Child);

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn received(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Per message id, the event types in arrival order after deduplication by webhook-id, with
/// the arrival of its first `message.accepted`; and how many requests repeated an id.
fn by_message(events: &[Value]) -> (BTreeMap<String, (Vec<String>, f64)>, usize) {
    let mut seen = std::collections::BTreeSet::new();
    let mut messages: BTreeMap<String, (Vec<String>, f64)> = BTreeMap::new();
    let mut repeats = 0;
    for event in events {
        assert_eq!(event["verified"], serde_json::json!([true]), "{event}");
        if !seen.insert(event["id"].as_str().unwrap().to_owned()) {
            repeats += 1;
            continue;
        }
        let id = event["event"]["data"]["message_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let kind = event["event"]["type"].as_str().unwrap().to_owned();
        let entry = messages.entry(id).or_insert((Vec::new(), f64::MAX));
        if kind == "message.accepted" {
            entry.1 = entry.1.min(event["received_at"].as_f64().unwrap());
        }
        entry.0.push(kind);
    }
    (messages, repeats)
}

/// Waits (at most 90 s) until every message has two events, and returns what arrived.
async fn wait_for_events(
    log: &Path,
    acknowledged: &[(String, f64)],
) -> (BTreeMap<String, (Vec<String>, f64)>, usize) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (messages, repeats) = by_message(&received(log));
        let complete = acknowledged
            .iter()
            .all(|(id, _)| messages.get(id).is_some_and(|(kinds, _)| kinds.len() >= 2));
        if complete || Instant::now() > deadline {
            return (messages, repeats);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_message_reaches_the_webhook_receiver_across_kill_9() {
    let harness = Harness::start(
        None,
        &[(
            "SEALPOST_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES",
            "true".to_owned(),
        )],
    )
    .await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let added = harness.cli(&[
        "webhook",
        "add",
        "--tenant",
        "acme",
        &format!("http://127.0.0.1:{port}/hooks"),
        "--event",
        "message.accepted",
        "--event",
        "message.delivered",
        "--json",
    ]);
    let directory = tempfile::tempdir().unwrap();
    let log = directory.path().join("received.jsonl");
    let python = std::env::var_os("SEALPOST_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/python"));
    let mut child = Command::new(python)
        .arg(workspace().join("crates/service/tests/interop/webhook_receiver.py"))
        .arg(&log)
        .arg(port.to_string())
        .arg(added["secret"].as_str().unwrap())
        .arg("0")
        .arg(directory.path().join("no-clock-offset"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready");
    let _receiver = Receiver(child);

    let mut acknowledged: Vec<(String, f64)> = Vec::new();
    let mut sequence = 0;
    for round in 0..ROUNDS {
        let (mut server, address) = harness.node();
        let token = harness.token.clone();
        let first = sequence;
        let submitter = std::thread::spawn(move || {
            let mut accepted = Vec::new();
            let mut next = first;
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && accepted.len() < 300 {
                match submit(&address, &token, next) {
                    Some(answer) => accepted.push(answer),
                    None => break,
                }
                next += 1;
            }
            (accepted, next)
        });
        std::thread::sleep(Duration::from_millis(300 + 200 * round as u64));
        server.kill().unwrap();
        server.wait().unwrap();
        let (accepted, next) = submitter.join().unwrap();
        acknowledged.extend(accepted);
        sequence = next;
    }
    assert!(
        acknowledged.len() > 20,
        "too few submitted: {}",
        acknowledged.len()
    );

    // An undisturbed node sends what waited; then a calm batch measures the latency.
    let (mut server, address) = harness.node();
    wait_for_events(&log, &acknowledged).await;
    let mut calm = Vec::with_capacity(CALM);
    for offset in 0..CALM {
        calm.push(submit(&address, &harness.token, sequence + offset).unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    acknowledged.extend(calm.iter().cloned());
    let (messages, repeats) = wait_for_events(&log, &acknowledged).await;
    server.kill().unwrap();
    server.wait().unwrap();

    for (id, _) in &acknowledged {
        let kinds = messages
            .get(id)
            .map(|(kinds, _)| kinds.clone())
            .unwrap_or_default();
        assert_eq!(
            kinds,
            ["message.accepted", "message.delivered"],
            "message {id}: its events, once each and in order"
        );
    }
    let mut latencies: Vec<f64> = calm
        .iter()
        .map(|(id, acked)| messages[id].1 - acked)
        .collect();
    latencies.sort_by(f64::total_cmp);
    eprintln!(
        "webhooks across {ROUNDS} kills: {} messages, {} events, {repeats} repeated deliveries \
         (same webhook-id); latency acknowledgement -> receiver over {CALM} calm messages: \
         p50 {:.0} ms, p99 {:.0} ms",
        acknowledged.len(),
        2 * acknowledged.len(),
        percentile(&latencies, 0.5) * 1000.0,
        percentile(&latencies, 0.99) * 1000.0
    );
}
