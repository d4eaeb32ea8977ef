//! Scale-out (SPEC S9.2): three nodes, separate processes of the real binary, share one
//! PostgreSQL schema. Messages are submitted continuously to all three; one node is killed with
//! `kill -9`, another is stopped gracefully (SIGTERM), and the last one takes over their work.
//! In the end every message acknowledged with 202 reached the receiving server (aiosmtpd on
//! loopback, found through MX records of a real DNS server), duplicates stay within what the
//! killed node had claimed, and the database holds one outcome per recipient.

use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::pgbouncer::{PgBouncer, PoolMode};
use crate::support::{Harness, duplicates, missing, submit, terminate, wait_for};

/// What one node claims per delivery round: the most the killed node can have in flight.
const CLAIM_BATCH: usize = 100;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_postgres_and_take_over_a_killed_nodes_work() {
    let url = sealpost_store::testing::fresh_postgres_url().await;
    three_nodes(&url, &url).await;
}

/// The same three nodes reaching PostgreSQL through PgBouncer (Debian's 1.18) in session
/// pooling mode, as a deployment beyond a few nodes does; the checks read the database
/// directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_work_through_pgbouncer_in_session_mode() {
    let pgbouncer = PgBouncer::start(PoolMode::Session);
    three_nodes(&pgbouncer.url(), &pgbouncer.direct_url()).await;
}

/// Three nodes on `node_url`; `url` reads the database for the checks.
async fn three_nodes(node_url: &str, url: &str) {
    let harness = Harness::start(Some(node_url), &[]).await;
    let token = harness.token.clone();

    let mut nodes: Vec<(Child, String)> = (0..3).map(|_| harness.node()).collect();
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
    terminate(&stopped);
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

    let counts = harness
        .wait_for_delivery(&acknowledged, Duration::from_secs(30))
        .await;
    // Let the last node record the outcomes of what the sink already has.
    let (mut last, _) = nodes.remove(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(
        url,
        "SELECT count(*) FROM recipients WHERE state IN ('queued', 'sending', 'deferred')",
    ) > 0
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    terminate(&last);
    if wait_for(&mut last, Duration::from_secs(10)).is_none() {
        last.kill().unwrap();
        last.wait().unwrap();
    }
    let missing = missing(&acknowledged, &counts);
    assert!(
        missing.is_empty(),
        "acknowledged but never delivered: {missing:?}"
    );
    // A duplicate can only come from the killed node: a delivery it finished but had not yet
    // recorded, at most its one claimed batch.
    let duplicates = duplicates(&counts);
    assert!(
        duplicates <= CLAIM_BATCH,
        "{duplicates} duplicates, more than one claimed batch of the killed node"
    );

    // The database: every recipient ended delivered, exactly once, and nothing happened after.
    let recipients = count(url, "SELECT count(*) FROM recipients");
    assert!(
        recipients >= acknowledged.len() as i64,
        "{recipients} recipients for {} acknowledged messages",
        acknowledged.len()
    );
    let unfinished = count(url, "SELECT count(*) FROM recipients WHERE state <> 'sent'");
    assert_eq!(unfinished, 0, "recipients not in the final state 'sent'");
    // Outcomes are fenced by the lease token, so even the killed node's in-flight work was
    // recorded at most once (by the node that took it over).
    let delivered_twice = count(
        url,
        "SELECT count(*) FROM (SELECT recipient_id FROM attempts WHERE outcome = 'delivered' \
         GROUP BY recipient_id HAVING count(*) > 1) AS twice",
    );
    assert_eq!(
        delivered_twice, 0,
        "recipients with two recorded deliveries"
    );
    let sent_without_delivery = count(
        url,
        "SELECT count(*) FROM recipients r WHERE r.state = 'sent' AND NOT EXISTS \
         (SELECT 1 FROM attempts a WHERE a.recipient_id = r.id AND a.outcome = 'delivered')",
    );
    assert_eq!(
        sent_without_delivery, 0,
        "'sent' without a delivered attempt"
    );
    let attempt_after_sent = count(
        url,
        "SELECT count(*) FROM recipients r JOIN attempts d ON d.recipient_id = r.id \
         AND d.outcome = 'delivered' JOIN attempts a ON a.recipient_id = r.id AND a.id <> d.id \
         AND a.started_at > d.finished_at WHERE r.state = 'sent'",
    );
    assert_eq!(
        attempt_after_sent, 0,
        "attempts after a recipient was 'sent'"
    );
    let attempts_disagree = count(
        url,
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
