//! Scale-out (SPEC S9.2): three nodes, separate processes of the real binary, share one
//! PostgreSQL schema. Messages are submitted continuously to all three; one node is killed with
//! `kill -9`, another is stopped gracefully (SIGTERM), and the last one takes over their work.
//! In the end every message acknowledged with 202 reached the receiving server (aiosmtpd on
//! loopback, found through MX records of a real DNS server), duplicates stay within what the
//! killed node had claimed, and the database holds one outcome per recipient.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_sealpost");
/// What one node claims per delivery round: the most the killed node can have in flight.
const CLAIM_BATCH: usize = 100;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    std::env::var_os("SEALPOST_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/python"))
}

fn command(directory: &Path, environment: &[(&str, String)]) -> Command {
    let mut command = Command::new(BINARY);
    command.current_dir(directory);
    for (name, _) in std::env::vars() {
        if name.starts_with("SEALPOST_") && name != "SEALPOST_TEST_PYTHON" {
            command.env_remove(name);
        }
    }
    command.env("SEALPOST_LOG", "warn");
    for (name, value) in environment {
        command.env(name, value);
    }
    command
}

fn json(output: std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Starts one node and returns it with its HTTP address.
fn start(directory: &Path, environment: &[(&str, String)]) -> (Child, String) {
    let mut child = command(directory, environment)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("sealpost listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, address)
}

/// Submits message `sequence`; true only when the node answered 202.
fn submit(address: &str, token: &str, sequence: usize) -> bool {
    let body = serde_json::json!({
        "mail_from": "bounce@client.test",
        "recipients": ["someone@receiver.test"],
        "raw": format!("From: a@client.test\r\nSubject: cluster test\r\nX-Sequence: {sequence}\r\n\r\nMessage {sequence}.\r\n"),
    })
    .to_string();
    let attempt = || -> Option<bool> {
        let mut stream = std::net::TcpStream::connect(address).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
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
        Some(response.starts_with("HTTP/1.1 202"))
    };
    attempt().unwrap_or(false)
}

/// The sequence numbers in the sink's mailbox, with how often each arrived.
fn delivered(mailbox: &Path) -> BTreeMap<usize, usize> {
    let mut counts = BTreeMap::new();
    for entry in std::fs::read_dir(mailbox).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|extension| extension == "eml") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if let Some(sequence) = text
                .lines()
                .find_map(|line| line.strip_prefix("X-Sequence: "))
                .and_then(|number| number.trim().parse().ok())
            {
                *counts.entry(sequence).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// One number from the test schema, through `psql`.
fn count(url: &str, query: &str) -> i64 {
    let output = Command::new("psql")
        .args([url, "-X", "-Atc", query])
        .output()
        .expect("run psql");
    assert!(
        output.status.success(),
        "psql {query}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("psql {query}: not a number: {text:?}"))
}

/// Waits for a process to end, at most `limit`.
fn wait_for(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_postgres_and_take_over_a_killed_nodes_work() {
    let url = sealpost_store::testing::fresh_postgres_url().await;
    let dns = sealpost_testdns::TestDns::start(
        sealpost_testdns::Zone::new()
            .mx("receiver.test", 10, "mx.receiver.test")
            .a("mx.receiver.test", std::net::Ipv4Addr::LOCALHOST),
    )
    .await
    .unwrap();
    let mailbox = tempfile::tempdir().unwrap();
    let sink_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut sink = Command::new(python())
        .arg(workspace().join("crates/service/tests/interop/sink.py"))
        .arg(mailbox.path())
        .arg(sink_port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the aiosmtpd sink (./scripts/test installs it)");
    let mut ready = String::new();
    BufReader::new(sink.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready");

    // One directory for the shared master key file; every node reads the same one.
    let directory = tempfile::tempdir().unwrap();
    let here = directory.path();
    let environment = [
        ("SEALPOST_DATABASE_URL", url.clone()),
        ("SEALPOST_MASTER_KEY_FILE", "master.key".to_owned()),
        ("SEALPOST_NAMESERVER", dns.addr().to_string()),
        ("SEALPOST_DELIVERY__REMOTE_PORT", sink_port.to_string()),
        ("SEALPOST_DELIVERY__LEASE_SECONDS", "2".to_owned()),
    ];
    let run = |arguments: &[&str]| {
        command(here, &environment)
            .args(arguments)
            .output()
            .unwrap()
    };
    json(run(&[
        "master-key",
        "generate",
        "--out",
        "master.key",
        "--json",
    ]));
    json(run(&["tenant", "create", "acme", "--json"]));
    let token = json(run(&[
        "tenant", "api-key", "acme", "--label", "cluster", "--json",
    ]))["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut nodes: Vec<(Child, String)> = (0..3).map(|_| start(here, &environment)).collect();
    // The nodes submitters may use; a stopped node leaves this list.
    let live: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(
        nodes.iter().map(|(_, address)| address.clone()).collect(),
    ));
    let next_sequence = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    // Three submitters, each going round-robin over the live nodes.
    let submitters: Vec<_> = (0..3)
        .map(|first| {
            let live = live.clone();
            let next_sequence = next_sequence.clone();
            let stop = stop.clone();
            let token = token.clone();
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                let mut turn = first;
                while !stop.load(Ordering::Relaxed) {
                    let address = {
                        let live = live.lock().unwrap();
                        live[turn % live.len()].clone()
                    };
                    turn += 1;
                    let sequence = next_sequence.fetch_add(1, Ordering::Relaxed);
                    if submit(&address, &token, sequence) {
                        acknowledged.push(sequence);
                    }
                }
                acknowledged
            })
        })
        .collect();

    // All three accept and deliver for a while; then node 0 dies mid-work.
    std::thread::sleep(Duration::from_millis(1500));
    let (mut killed, killed_address) = nodes.remove(0);
    killed.kill().unwrap();
    killed.wait().unwrap();
    live.lock()
        .unwrap()
        .retain(|address| *address != killed_address);

    // Node 1 (now first) is stopped gracefully: it finishes its round and exits with success.
    std::thread::sleep(Duration::from_millis(500));
    let (mut stopped, stopped_address) = nodes.remove(0);
    live.lock()
        .unwrap()
        .retain(|address| *address != stopped_address);
    let signalled = Command::new("kill")
        .args(["-TERM", &stopped.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let status = wait_for(&mut stopped, Duration::from_secs(10));
    assert!(
        status.is_some_and(|status| status.success()),
        "the SIGTERMed node did not exit cleanly: {status:?}"
    );

    // The last node alone accepts a little more, then everything must be delivered.
    std::thread::sleep(Duration::from_millis(1000));
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged: Vec<usize> = Vec::new();
    for submitter in submitters {
        acknowledged.extend(submitter.join().unwrap());
    }
    acknowledged.sort_unstable();
    assert!(
        acknowledged.len() > 30,
        "too few messages were acknowledged: {}",
        acknowledged.len()
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    let counts = loop {
        let counts = delivered(mailbox.path());
        let complete = acknowledged
            .iter()
            .all(|sequence| counts.contains_key(sequence));
        if complete || Instant::now() > deadline {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Let the last node record the outcomes of what the sink already has.
    let (mut last, _) = nodes.remove(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(
        &url,
        "SELECT count(*) FROM recipients WHERE state IN ('queued', 'sending', 'deferred')",
    ) > 0
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Command::new("kill")
        .args(["-TERM", &last.id().to_string()])
        .status()
        .unwrap();
    if wait_for(&mut last, Duration::from_secs(10)).is_none() {
        last.kill().unwrap();
        last.wait().unwrap();
    }
    drop(sink.stdin.take());
    sink.wait().unwrap();

    let missing: Vec<&usize> = acknowledged
        .iter()
        .filter(|sequence| !counts.contains_key(sequence))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but never delivered: {missing:?}"
    );
    // A duplicate can only come from the killed node: a delivery it finished but had not yet
    // recorded, at most its one claimed batch.
    let duplicates: usize = counts.values().map(|count| count - 1).sum();
    assert!(
        duplicates <= CLAIM_BATCH,
        "{duplicates} duplicates, more than one claimed batch of the killed node"
    );

    // The database: every recipient ended delivered, exactly once, and nothing happened after.
    let recipients = count(&url, "SELECT count(*) FROM recipients");
    assert!(
        recipients >= acknowledged.len() as i64,
        "{recipients} recipients for {} acknowledged messages",
        acknowledged.len()
    );
    let unfinished = count(
        &url,
        "SELECT count(*) FROM recipients WHERE state <> 'sent'",
    );
    assert_eq!(unfinished, 0, "recipients not in the final state 'sent'");
    // Outcomes are fenced by the lease token, so even the killed node's in-flight work was
    // recorded at most once (by the node that took it over).
    let delivered_twice = count(
        &url,
        "SELECT count(*) FROM (SELECT recipient_id FROM attempts WHERE outcome = 'delivered' \
         GROUP BY recipient_id HAVING count(*) > 1) AS twice",
    );
    assert_eq!(
        delivered_twice, 0,
        "recipients with two recorded deliveries"
    );
    let sent_without_delivery = count(
        &url,
        "SELECT count(*) FROM recipients r WHERE r.state = 'sent' AND NOT EXISTS \
         (SELECT 1 FROM attempts a WHERE a.recipient_id = r.id AND a.outcome = 'delivered')",
    );
    assert_eq!(
        sent_without_delivery, 0,
        "'sent' without a delivered attempt"
    );
    let attempt_after_sent = count(
        &url,
        "SELECT count(*) FROM recipients r JOIN attempts d ON d.recipient_id = r.id \
         AND d.outcome = 'delivered' JOIN attempts a ON a.recipient_id = r.id AND a.id <> d.id \
         AND a.started_at > d.finished_at WHERE r.state = 'sent'",
    );
    assert_eq!(
        attempt_after_sent, 0,
        "attempts after a recipient was 'sent'"
    );
    let attempts_disagree = count(
        &url,
        "SELECT count(*) FROM recipients r WHERE r.attempts <> \
         (SELECT count(*) FROM attempts a WHERE a.recipient_id = r.id)",
    );
    assert_eq!(
        attempts_disagree, 0,
        "attempt counters disagree with attempt rows"
    );
    eprintln!(
        "cluster test: {} acknowledged by 3 nodes (1 killed, 1 stopped), {} delivered, \
         {duplicates} duplicates at the sink, {recipients} recipients all 'sent' once",
        acknowledged.len(),
        counts.len()
    );
}
