//! Master key rotation under load (SPEC S11): a node started with the old key signs mail from
//! several signing domains while `sealpost master-key rotate` runs; the rotation is killed with
//! `kill -9` midway and resumed; afterwards the old key is refused at start, a node with the new
//! key signs with every key, every delivered message passes DKIM verification against the test
//! DNS, and every sealed secret opens under the new key and no longer under the old one.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sealpost_domain::TenantId;
use sealpost_store::{SealedColumn, Store};
use sealpost_vault::{MasterKey, Rewrap, SealedValue, Vault};

use crate::support::{Harness, missing, submit_from};

const DOMAINS: usize = 4;
/// Pending keys beside the active ones, so the rewrap has enough batches to be killed in.
const PENDING_KEYS: usize = 4;
const RELAY_PASSWORD: &str = "relay secret 42";

/// The secrets of a second tenant: its relay password and a webhook endpoint's secret.
struct OtherSecrets {
    tenant: TenantId,
    webhook_id: String,
    webhook_secret: String,
}

/// Signing domains `d0.test` .. with an active key each, published in DNS and proven as sending
/// domains; the first also holds pending keys.
fn signing_domains(harness: &Harness) -> Vec<String> {
    let domains: Vec<String> = (0..DOMAINS).map(|n| format!("d{n}.test")).collect();
    for domain in &domains {
        let target = ["--tenant", "acme", domain.as_str(), "--json"];
        harness.cli(&[&["domain", "add", "--selector", "s1"][..], &target].concat());
        harness.cli(&[&["domain", "generate-key"][..], &target].concat());
        let record = harness.cli(&[&["domain", "dns-record"][..], &target].concat());
        harness.publish_txt(
            record["name"].as_str().unwrap(),
            record["value"].as_str().unwrap(),
        );
        harness.cli(&[&["domain", "activate"][..], &target].concat());
        let added = harness.cli(&[&["sending-domain", "add"][..], &target].concat());
        let proof = &added["verification_record"];
        harness.publish_txt(
            proof["name"].as_str().unwrap(),
            proof["value"].as_str().unwrap(),
        );
        harness.cli(&[&["sending-domain", "verify"][..], &target].concat());
    }
    for _ in 0..PENDING_KEYS {
        harness.cli(&[
            "domain",
            "generate-key",
            "--tenant",
            "acme",
            "d0.test",
            "--json",
        ]);
    }
    domains
}

fn other_secrets(harness: &Harness) -> OtherSecrets {
    let tenant = harness.cli(&["tenant", "create", "beta", "--json"]);
    let output = harness
        .command_with(&[("RELAY_PASSWORD", RELAY_PASSWORD)])
        .args(["delivery", "set-relay", "--tenant", "beta", "--host"])
        .args(["relay.beta.test", "--username", "beta", "--password-env"])
        .args(["RELAY_PASSWORD", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let webhook = harness.cli(&[
        "webhook",
        "add",
        "--tenant",
        "beta",
        "http://127.0.0.1:9/hooks",
        "--json",
    ]);
    OtherSecrets {
        tenant: tenant["id"].as_str().unwrap().parse().unwrap(),
        webhook_id: webhook["webhook"]["id"].as_str().unwrap().to_owned(),
        webhook_secret: webhook["secret"].as_str().unwrap().to_owned(),
    }
}

/// Submits mail round-robin over the domains until `stop`; returns the acknowledged sequences.
fn load(
    address: String,
    token: String,
    domains: Vec<String>,
    first: usize,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<usize>> {
    std::thread::spawn(move || {
        let mut acknowledged = Vec::new();
        let mut sequence = first;
        while !stop.load(Ordering::Relaxed) {
            let domain = &domains[sequence % domains.len()];
            if submit_from(&address, &token, domain, sequence) {
                acknowledged.push(sequence);
            }
            sequence += 1;
            std::thread::sleep(Duration::from_millis(20));
        }
        acknowledged
    })
}

/// Starts a rotation with one value per batch and a pause after each, and kills it with
/// SIGKILL after `batches` batches were committed.
fn rotate_and_kill(harness: &Harness, batches: usize) {
    let mut rotation = harness
        .command_with(&[("SEALPOST_LOG", "info"), ("NO_COLOR", "1")])
        .args(["master-key", "rotate", "--new-key-file", "new.key"])
        .args(["--batch", "1", "--pause-ms", "150"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut committed = 0;
    let mut said = Vec::new();
    for line in BufReader::new(rotation.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        said.push(line.clone());
        if line.contains("rewrapped a batch") {
            committed += 1;
            if committed == batches {
                break;
            }
        }
    }
    assert_eq!(
        committed, batches,
        "the rotation ended before it was killed: {said:#?}"
    );
    rotation.kill().unwrap();
    rotation.wait().unwrap();
}

/// Submits one message per domain; every one must be acknowledged.
fn one_per_domain(address: &str, token: &str, domains: &[String], first: usize) -> Vec<usize> {
    (first..first + domains.len())
        .inspect(|sequence| {
            let domain = &domains[sequence % domains.len()];
            assert!(submit_from(address, token, domain, *sequence), "{domain}");
        })
        .collect()
}

/// Every delivered message passes DKIM verification with the keys in the test DNS.
fn every_message_verifies(harness: &Harness, acknowledged: &[usize]) {
    let files = harness.delivered_files();
    for sequence in acknowledged {
        let file = &files[sequence];
        let output = harness
            .command_with(&[])
            .args(["dkim", "verify", "--nameserver", &harness.nameserver()])
            .arg(file)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "message {sequence} does not verify: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}

/// Every sealed value opens under the new key alone, and no longer under the old one; the
/// relay password and the webhook secret are the ones that were set.
async fn secrets_are_under(url: &str, new: &Vault, old: &Vault, other: &OtherSecrets) {
    let store = Store::connect(url).await.unwrap();
    let mut keys = 0;
    for column in SealedColumn::ALL {
        for row in store.sealed_rows(column, "", 1000).await.unwrap() {
            let purpose = match column {
                SealedColumn::RelayPassword => "relay-password".to_owned(),
                _ => format!("webhook-secret/{}", row.id),
            };
            let what = match (column, row.tenant) {
                (SealedColumn::AuthenticatorRoot, _) | (_, None) => SealedValue::AuthenticatorRoot,
                (SealedColumn::KeyPassword, Some(tenant)) => {
                    keys += 1;
                    SealedValue::KeyPassword {
                        tenant,
                        key: row.id.parse().unwrap(),
                    }
                }
                (_, Some(tenant)) => SealedValue::Secret {
                    tenant,
                    purpose: &purpose,
                },
            };
            assert_eq!(new.rewrap(what, &row.sealed), Rewrap::Current, "{column:?}");
            assert_eq!(
                old.rewrap(what, &row.sealed),
                Rewrap::Unreadable,
                "{column:?}"
            );
        }
    }
    assert_eq!(keys, DOMAINS + PENDING_KEYS);
    let relay = store
        .sealed_rows(SealedColumn::RelayPassword, "", 10)
        .await
        .unwrap();
    let opened = new
        .open_secret(other.tenant, "relay-password", &relay[0].sealed)
        .unwrap();
    assert_eq!(opened.as_str(), RELAY_PASSWORD);
    let webhook = store
        .sealed_rows(SealedColumn::WebhookSecret, "", 10)
        .await
        .unwrap();
    let purpose = format!("webhook-secret/{}", other.webhook_id);
    let opened = new
        .open_secret(other.tenant, &purpose, &webhook[0].sealed)
        .unwrap();
    assert_eq!(opened.as_str(), other.webhook_secret);
}

fn key(harness: &Harness, file: &str) -> Vault {
    Vault::new(MasterKey::from_file(&harness.directory().join(file)).unwrap())
}

async fn rotation_under_load(url: String) {
    let harness = Harness::start(
        Some(&url),
        &[
            ("SEALPOST_MASTER_KEY_POLL_MS", "200".to_owned()),
            (
                "SEALPOST_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES",
                "true".to_owned(),
            ),
        ],
    )
    .await;
    let domains = signing_domains(&harness);
    let other = other_secrets(&harness);
    harness.cli(&["master-key", "generate", "--out", "new.key", "--json"]);
    harness.cli(&["master-key", "generate", "--out", "third.key", "--json"]);

    let (mut old_node, address) = harness.node();
    let stop = Arc::new(AtomicBool::new(false));
    let submitter = load(
        address.clone(),
        harness.token.clone(),
        domains.clone(),
        0,
        Arc::clone(&stop),
    );
    rotate_and_kill(&harness, 5);
    let status = harness.cli(&["master-key", "status", "--json"]);
    assert_eq!(status["phase"], "rewrapping", "{status}");
    let another = harness
        .command_with(&[])
        .args(["master-key", "rotate", "--new-key-file", "third.key"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&another.stderr);
    assert!(
        said.contains("a rotation to another master key is in progress"),
        "{said}"
    );

    // Midway, a node started with the new key learns the old one and signs with every key; it
    // cannot run the rotation, which needs the old key configured.
    let new_key = [("SEALPOST_MASTER_KEY_FILE", "new.key")];
    let backwards = harness
        .command_with(&new_key)
        .args(["master-key", "rotate", "--new-key-file", "new.key"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&backwards.stderr);
    assert!(said.contains("started with the new master key"), "{said}");
    let (mut midway_node, midway_address) = harness.node_with(&new_key);
    let midway = one_per_domain(&midway_address, &harness.token, &domains, 1_000_000);
    midway_node.kill().unwrap();
    midway_node.wait().unwrap();

    let report = harness.cli(&[
        "master-key",
        "rotate",
        "--new-key-file",
        "new.key",
        "--json",
    ]);
    assert_eq!(report["resumed"], true, "{report}");
    assert!(report["rewrapped"].as_u64().unwrap() > 0, "{report}");
    let status = harness.cli_with(&new_key, &["master-key", "status", "--json"]);
    assert_eq!(status["phase"], "finished", "{status}");
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = submitter.join().unwrap();
    assert!(acknowledged.len() > 10, "too little load: {acknowledged:?}");

    // The node started with the old key learned the new one and signs on after the rotation.
    let next = acknowledged.last().unwrap() + 1;
    acknowledged.extend(one_per_domain(&address, &harness.token, &domains, next));
    acknowledged.extend(midway);
    old_node.kill().unwrap();
    old_node.wait().unwrap();

    let refused = harness
        .command_with(&[])
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(said.contains("replaced by a master key rotation"), "{said}");

    let (mut new_node, new_address) = harness.node_with(&new_key);
    let next = 2_000_000;
    acknowledged.extend(one_per_domain(&new_address, &harness.token, &domains, next));
    let counts = harness
        .wait_for_delivery(&acknowledged, Duration::from_secs(60))
        .await;
    new_node.kill().unwrap();
    new_node.wait().unwrap();
    assert_eq!(missing(&acknowledged, &counts), Vec::<usize>::new());
    every_message_verifies(&harness, &acknowledged);
    secrets_are_under(
        &url,
        &key(&harness, "new.key"),
        &key(&harness, "master.key"),
        &other,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_key_rotation_killed_midway_resumes_and_every_key_signs_on_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/rotation.db", directory.path().display());
    rotation_under_load(url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_key_rotation_killed_midway_resumes_and_every_key_signs_on_postgres() {
    let url = sealpost_store::testing::fresh_postgres_url().await;
    rotation_under_load(url).await;
}
