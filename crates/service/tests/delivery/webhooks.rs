//! Webhooks end to end on both backends (SPEC S10.6): events committed with their state changes
//! reach a real HTTP receiver that verifies every signature with the `standardwebhooks` package
//! from PyPI; a receiver that refuses connections and then answers 500 gets every event later,
//! once per id and in order per message; a rotated secret signs beside the old one for the
//! overlap and alone after it; an endpoint that stays dead is given up on and switched off, and
//! a replay after it is switched on again delivers. The secret is never stored in plaintext.
//! Time moves by the test clock, not by sleeping.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use sealpost_service::{ServiceError, WebhookPolicy};
use sealpost_store::testing;
use serde_json::Value;

use crate::aiosmtpd::Sink;
use crate::support::{self, TestClock, python};

/// The Python receiver (`tests/interop/webhook_receiver.py`), killed when dropped.
struct Receiver {
    child: Child,
}

/// The file through which the receiver's clock follows the test clock.
fn clock_file(log: &Path) -> PathBuf {
    log.with_extension("clock")
}

/// Moves the test clock, and the receiver's with it.
fn advance(clock: &TestClock, log: &Path, seconds: i64) {
    clock.advance(seconds);
    std::fs::write(clock_file(log), clock.offset().to_string()).unwrap();
}

impl Receiver {
    fn start(log: &Path, port: u16, secrets: &[&str], fail_first: usize) -> Self {
        let mut child = Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/webhook_receiver.py"))
            .arg(log)
            .arg(port.to_string())
            .arg(secrets.join(","))
            .arg(fail_first.to_string())
            .arg(clock_file(log))
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the webhook receiver (./scripts/test installs standardwebhooks)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the receiver did not start");
        Self { child }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the receiver logged, one value per request it verified.
fn received(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_a_standard_webhooks_receiver_through_outages_in_order() {
    let dns = support::dns(&["receiver.test"]).await;
    let directory = tempfile::tempdir().unwrap();
    let mailbox = tempfile::tempdir().unwrap();
    let sink = Sink::start(mailbox.path());
    for (index, store) in testing::fresh_stores(directory.path())
        .await
        .into_iter()
        .enumerate()
    {
        let clock = Arc::new(TestClock::default());
        let (service, delivery, tenant) =
            support::signing_service_with_clock(store, &dns, sink.port, clock.clone()).await;
        let service = service.with_webhook_policy(WebhookPolicy {
            allow_private: true,
            timeout: std::time::Duration::from_secs(2),
            ..WebhookPolicy::default()
        });
        let webhooks = service.webhooks();
        let log: PathBuf = directory.path().join(format!("received-{index}.jsonl"));

        // Bad endpoints are refused with the reason, and loopback only where allowed.
        for (url, types) in [
            ("ftp://app.client.test/", vec![]),
            (
                "https://app.client.test/",
                vec!["message.opened".to_owned()],
            ),
        ] {
            let refused = webhooks.create_webhook(tenant, url, &types).await;
            assert!(
                matches!(refused, Err(ServiceError::Invalid { .. })),
                "{refused:?}"
            );
        }
        let strict = service
            .clone()
            .with_webhook_policy(WebhookPolicy::default());
        let refused = strict
            .webhooks()
            .create_webhook(tenant, "http://127.0.0.1:9/", &[])
            .await;
        assert!(
            matches!(&refused, Err(ServiceError::Invalid { message, .. }) if message.contains("private")),
            "{refused:?}"
        );

        let port = free_port();
        let created = webhooks
            .create_webhook(tenant, &format!("http://127.0.0.1:{port}/hooks"), &[])
            .await
            .unwrap();
        let secret = created.secret.clone();
        assert!(secret.starts_with("whsec_"));
        let id = created.endpoint.id.to_string();

        let accepted = service
            .submissions()
            .submit(
                tenant,
                support::work_order(&["ok@receiver.test", "two@receiver.test"]),
            )
            .await
            .unwrap();
        assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 2);

        // Nothing listens: the first event of the message is tried, the others wait behind it.
        assert_eq!(webhooks.deliver_due().await.unwrap(), 1);
        let log_rows = webhooks.webhook_deliveries(tenant, &id).await.unwrap();
        assert_eq!(log_rows.len(), 3, "{log_rows:?}");
        let first = log_rows.iter().find(|row| row.attempts == 1).unwrap();
        assert_eq!(first.event_type, "message.accepted");
        assert_eq!(first.state, "pending");
        assert!(
            first
                .last_status
                .as_deref()
                .unwrap()
                .contains("no connection"),
            "{first:?}"
        );

        // The receiver comes up but fails once; then everything arrives.
        let receiver = Receiver::start(&log, port, &[&secret], 1);
        for _ in 0..10 {
            advance(&clock, &log, 60);
            webhooks.deliver_due().await.unwrap();
        }
        let events = received(&log);
        let types: Vec<&str> = events
            .iter()
            .map(|event| event["event"]["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            ["message.accepted", "message.delivered", "message.delivered"],
            "{events:?}"
        );
        let mut ids: Vec<&str> = events
            .iter()
            .map(|event| event["id"].as_str().unwrap())
            .collect();
        ids.dedup();
        assert_eq!(ids.len(), 3, "each event once: {events:?}");
        for event in &events {
            assert_eq!(event["verified"], serde_json::json!([true]), "{event}");
            assert_eq!(
                event["event"]["data"]["message_id"],
                accepted.id.to_string()
            );
        }
        let mut recipients: Vec<&str> = events[1..]
            .iter()
            .map(|event| event["event"]["data"]["recipient"].as_str().unwrap())
            .collect();
        recipients.sort();
        assert_eq!(recipients, ["ok@receiver.test", "two@receiver.test"]);
        let rows = webhooks.webhook_deliveries(tenant, &id).await.unwrap();
        assert!(rows.iter().all(|row| row.state == "delivered"), "{rows:?}");
        let accepted_row = rows
            .iter()
            .find(|row| row.event_type == "message.accepted")
            .unwrap();
        let attempts = webhooks
            .webhook_attempts(tenant, &id, accepted_row.id)
            .await
            .unwrap();
        let statuses: Vec<Option<i32>> = attempts.iter().map(|attempt| attempt.status).collect();
        assert_eq!(statuses, [None, Some(500), Some(204)], "{attempts:?}");
        assert_eq!(attempts[1].response, "not now");
        drop(receiver);

        // A rotation: both secrets sign for the overlap, the new one alone after it.
        let rotated = webhooks.rotate_webhook_secret(tenant, &id).await.unwrap();
        assert_ne!(rotated, secret);
        let receiver = Receiver::start(&log, port, &[&secret, &rotated], 0);
        webhooks.send_test_event(tenant, &id).await.unwrap();
        webhooks.deliver_due().await.unwrap();
        advance(&clock, &log, 86_400 + 60);
        webhooks.send_test_event(tenant, &id).await.unwrap();
        webhooks.deliver_due().await.unwrap();
        let events = received(&log);
        let tests: Vec<&Value> = events
            .iter()
            .filter(|event| event["event"]["type"] == "test")
            .collect();
        assert_eq!(tests.len(), 2, "{events:?}");
        assert_eq!(tests[0]["verified"], serde_json::json!([true, true]));
        assert_eq!(tests[1]["verified"], serde_json::json!([false, true]));
        drop(receiver);

        // Dead for days while events keep coming: each is given up on after the retry window,
        // and the endpoint is switched off; switched on again, a replay delivers one of them.
        for _ in 0..8 {
            webhooks.send_test_event(tenant, &id).await.unwrap();
            webhooks.deliver_due().await.unwrap();
            advance(&clock, &log, 86_400);
        }
        let endpoint = webhooks.webhook(tenant, &id).await.unwrap();
        assert!(!endpoint.enabled);
        assert!(
            endpoint
                .disabled_reason
                .as_deref()
                .unwrap()
                .contains("no delivery succeeded"),
            "{endpoint:?}"
        );
        let rows = webhooks.webhook_deliveries(tenant, &id).await.unwrap();
        let failed = rows
            .iter()
            .find(|row| row.state == "failed")
            .unwrap()
            .clone();
        webhooks
            .update_webhook(tenant, &id, None, None, Some(true))
            .await
            .unwrap();
        let _receiver = Receiver::start(&log, port, &[&rotated], 0);
        webhooks
            .replay_webhook_delivery(tenant, &id, failed.id)
            .await
            .unwrap();
        assert!(matches!(
            webhooks
                .replay_webhook_delivery(tenant, &id, failed.id)
                .await,
            Err(ServiceError::Conflict(_))
        ));
        webhooks.deliver_due().await.unwrap();
        let rows = webhooks.webhook_deliveries(tenant, &id).await.unwrap();
        let replayed = rows.iter().find(|row| row.id == failed.id).unwrap();
        assert_eq!(replayed.state, "delivered", "{rows:?}");

        // The secret is sealed: neither form of it is in the database file.
        if index == 0 {
            for entry in std::fs::read_dir(directory.path()).unwrap() {
                let bytes = std::fs::read(entry.unwrap().path()).unwrap();
                for secret in [&secret, &rotated] {
                    assert!(
                        !bytes
                            .windows(secret.len())
                            .any(|window| window == secret.as_bytes())
                    );
                    let raw = &secret[6..];
                    assert!(
                        !bytes
                            .windows(raw.len())
                            .any(|window| window == raw.as_bytes())
                    );
                }
            }
        }
    }
}
