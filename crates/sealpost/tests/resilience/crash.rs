//! Durability under `kill -9` (SPEC S9.3): messages are submitted continuously over HTTP while
//! the real server is killed at random moments, several times, and restarted; in the end every
//! message that was acknowledged with 202 reaches the receiving server, and duplicates stay
//! within what was in flight. It prints the duplicates of each kill.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::support::{Harness, duplicates, missing, submit};

/// Kill-and-restart rounds.
const ROUNDS: usize = 4;
/// What one node claims per delivery round: the most a killed node can have in flight.
const CLAIM_BATCH: usize = 100;

/// A small generator for kill moments; seeded from the clock and printed, so a failure can be
/// replayed by setting SEALPOST_CRASH_SEED.
struct Random(u64);

impl Random {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_mail_survives_kill_9_and_is_delivered() {
    let harness = Harness::start(None, &[]).await;
    let seed = std::env::var("SEALPOST_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        // The random half of a new id: a fresh seed each run, printed so a run can be repeated.
        .unwrap_or_else(|| {
            let id = sealpost_domain::Clock::new_uuid(&sealpost_domain::SystemClock);
            id.as_u64_pair().1
        });
    eprintln!("crash test seed {seed}");
    let mut random = Random(seed);
    let mut acknowledged: Vec<usize> = Vec::new();
    // What the receiving server had when each node died.
    let mut at_kills: Vec<BTreeMap<usize, usize>> = Vec::new();
    let mut sequence = 0;
    for _ in 0..ROUNDS {
        let (mut server, address) = harness.node();
        // Kill at a random moment while a submitter keeps sending.
        let kill_after = Duration::from_millis(150 + random.next(600));
        let started = Instant::now();
        let submitter = {
            let token = harness.token.clone();
            let first = sequence;
            std::thread::spawn(move || {
                let mut accepted = Vec::new();
                let mut next = first;
                let deadline = Instant::now() + Duration::from_secs(5);
                // Submit until the server dies (the first request that gets no 202).
                while Instant::now() < deadline && accepted.len() <= 400 {
                    let answered = submit(&address, &token, next);
                    next += 1;
                    if !answered {
                        break;
                    }
                    accepted.push(next - 1);
                }
                (accepted, next)
            })
        };
        std::thread::sleep(kill_after.saturating_sub(started.elapsed()));
        server.kill().unwrap();
        server.wait().unwrap();
        at_kills.push(harness.delivered_when_settled());
        let (accepted, next) = submitter.join().unwrap();
        acknowledged.extend(accepted);
        sequence = next;
    }
    assert!(
        acknowledged.len() > 20,
        "too few messages were submitted: {acknowledged:?}"
    );

    // A last, undisturbed run delivers everything that was acknowledged.
    let (mut server, _address) = harness.node();
    let counts = harness
        .wait_for_delivery(&acknowledged, Duration::from_secs(60))
        .await;
    server.kill().unwrap();
    server.wait().unwrap();

    let missing = missing(&acknowledged, &counts);
    assert!(
        missing.is_empty(),
        "acknowledged but never delivered: {missing:?} (seed {seed})"
    );
    // A duplicate can only come from a claim whose delivery finished but whose outcome was not
    // yet recorded when the process died: at most one claimed batch per kill.
    let per_kill = duplicates_per_kill(&at_kills, &counts);
    for (kill, duplicates) in per_kill.iter().enumerate() {
        assert!(
            *duplicates <= CLAIM_BATCH,
            "{duplicates} duplicates after kill {} (seed {seed})",
            kill + 1
        );
    }
    let duplicates = duplicates(&counts);
    assert_eq!(duplicates, per_kill.iter().sum::<usize>(), "(seed {seed})");
    eprintln!(
        "crash test: {} acknowledged, {} delivered, {duplicates} duplicates, {ROUNDS} kills, \
         duplicates per kill {per_kill:?}",
        acknowledged.len(),
        counts.len()
    );
}

/// The deliveries beyond the first of the messages that were first delivered by each killed
/// node: a node that dies between handing a message over and recording it leaves it to be
/// delivered again, so each duplicate belongs to the kill that interrupted its first delivery.
fn duplicates_per_kill(
    at_kills: &[BTreeMap<usize, usize>],
    last: &BTreeMap<usize, usize>,
) -> Vec<usize> {
    let mut before: Option<&BTreeMap<usize, usize>> = None;
    let mut per_kill = Vec::new();
    for at_kill in at_kills {
        let first_delivered_by_this_node = at_kill
            .keys()
            .filter(|sequence| before.is_none_or(|before| !before.contains_key(sequence)));
        per_kill.push(
            first_delivered_by_this_node
                .map(|sequence| last.get(sequence).copied().unwrap_or(1) - 1)
                .sum(),
        );
        before = Some(at_kill);
    }
    per_kill
}
