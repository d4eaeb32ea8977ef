//! Delivery to aiosmtpd on both backends: a message accepted through the service is signed,
//! committed, claimed, looked up by MX in a real DNS server, and delivered over SMTP to an
//! independent receiving server (aiosmtpd from PyPI) on loopback; the delivered bytes pass
//! dkimpy; per-recipient outcomes follow the queue's policy.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use sealpost_domain::RecipientState;
use sealpost_store::testing;

use crate::support::{self, python};

/// The aiosmtpd sink on a free loopback port, writing into `directory`.
pub struct Sink {
    child: Child,
    pub port: u16,
}

impl Sink {
    pub fn start(directory: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/sink.py"))
            .arg(directory)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the aiosmtpd sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the sink did not start");
        Self { child, port }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_mail_is_delivered_by_mx_and_its_signature_passes_dkimpy() {
    let dns = support::dns(&["receiver.test"]).await;
    let directory = tempfile::tempdir().unwrap();
    let mailbox = tempfile::tempdir().unwrap();
    let sink = Sink::start(mailbox.path());

    for (index, store) in testing::fresh_stores(directory.path())
        .await
        .into_iter()
        .enumerate()
    {
        let (service, delivery, tenant) = support::signing_service(store, &dns, sink.port).await;
        let accepted = service
            .submissions()
            .submit(
                tenant,
                support::work_order(&[
                    "ok@receiver.test",
                    "reject@receiver.test",
                    "later@receiver.test",
                ]),
            )
            .await
            .unwrap();
        assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 3);
        // Nothing else is due now: the deferred recipient waits for its next attempt.
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
        assert_eq!(sent.state, RecipientState::Sent);
        assert!(
            sent.last_reply
                .as_deref()
                .unwrap()
                .contains("250 2.0.0 stored as"),
            "{sent:?}"
        );
        let rejected = by_address("reject@receiver.test");
        assert_eq!(rejected.state, RecipientState::Failed);
        assert!(
            rejected
                .last_reply
                .as_deref()
                .unwrap()
                .contains("550 5.1.1"),
            "{rejected:?}"
        );
        let later = by_address("later@receiver.test");
        assert_eq!(later.state, RecipientState::Deferred);
        assert!(
            later.last_reply.as_deref().unwrap().contains("451 4.7.1"),
            "{later:?}"
        );
        let next = later.next_attempt_at.unwrap().0 - later.updated_at.0;
        assert!(
            (55..=65).contains(&next),
            "first retry after a minute, got {next} s"
        );
        let attempts = service
            .messages()
            .message_attempts(tenant, accepted.id)
            .await
            .unwrap();
        assert_eq!(attempts.len(), 3);
        assert!(
            attempts
                .iter()
                .all(|attempt| attempt.host.as_deref() == Some("mx.receiver.test"))
        );

        let metrics = service.messages().metrics_text().await.unwrap();
        for line in [
            "sealpost_accepted_total{tenant=\"acme\"} 1",
            "sealpost_signed_total{tenant=\"acme\"} 1",
            "sealpost_delivered_total{tenant=\"acme\"} 1",
            "sealpost_failed_total{tenant=\"acme\"} 1",
            "sealpost_deferred_total{tenant=\"acme\"} 1",
            "sealpost_queue_recipients{state=\"deferred\"} 1",
            "sealpost_delivery_latency_seconds_count 1",
        ] {
            assert!(metrics.contains(line), "{line} missing from\n{metrics}");
        }

        // What arrived is byte for byte what was stored, and an independent verifier passes it.
        let delivered = std::fs::read(mailbox.path().join(format!("{}.eml", index + 1))).unwrap();
        assert_eq!(delivered, message.raw);
        let (passed, output) = support::dkimpy_verify(&dns, &delivered);
        assert!(passed, "dkimpy: {output}");
    }
}
