//! Delivery end to end on both backends: a message accepted through the service is signed,
//! committed, claimed, looked up by MX in a real DNS server, and delivered over SMTP to an
//! independent receiving server (aiosmtpd from PyPI) on loopback; the delivered bytes pass
//! dkimpy; per-recipient outcomes follow the queue's policy.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_domain::{RecipientState, Timestamp};
use sealpost_service::{Clock, DeliverySettings, KeyImport, Service, Submission};
use sealpost_store::testing;
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

#[derive(Debug)]
struct SystemTime;

impl Clock for SystemTime {
    fn now(&self) -> Timestamp {
        let elapsed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        Timestamp(elapsed.as_secs() as i64)
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let path = std::env::var_os("SEALPOST_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/python"));
    assert!(
        path.exists(),
        "{} is missing: run ./scripts/test",
        path.display()
    );
    path
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(workspace().join("crates/vault/resources/keys").join(name)).unwrap()
}

/// The aiosmtpd sink on a free loopback port, writing into `directory`.
struct Sink {
    child: Child,
    port: u16,
}

impl Sink {
    fn start(directory: &Path) -> Self {
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
    let vault = Vault::new(MasterKey::generate());
    let key = vault.import(&fixture("rsa2048-pkcs8.pem"), None).unwrap();
    let dns = TestDns::start(
        Zone::new()
            .txt_split(
                "workplace._domainkey.client.test",
                &sealpost_domain::dkim_txt_value(&key.public_key_der()),
            )
            .mx("receiver.test", 10, "mx.receiver.test")
            .a("mx.receiver.test", std::net::Ipv4Addr::LOCALHOST),
    )
    .await
    .unwrap();
    let directory = tempfile::tempdir().unwrap();
    let mailbox = tempfile::tempdir().unwrap();
    let sink = Sink::start(mailbox.path());

    for (index, store) in testing::fresh_stores(directory.path())
        .await
        .into_iter()
        .enumerate()
    {
        let resolver = Resolver::new(&ResolverConfig {
            nameserver: Some(dns.addr()),
            cache: false,
            ..ResolverConfig::default()
        })
        .unwrap();
        let mut settings = DeliverySettings::new("mta.platform.test").unwrap();
        settings.native.port = sink.port;
        let service = Service::open(
            store,
            Vault::new(MasterKey::generate()),
            Arc::new(SystemTime),
            resolver,
        )
        .await
        .unwrap()
        .with_delivery(settings);
        let tenant = service.create_tenant("acme", "").await.unwrap();
        let domain = service
            .add_signing_domain(tenant.id, "client.test", "workplace")
            .await
            .unwrap();
        let pem = fixture("rsa2048-pkcs8.pem");
        service
            .import_key(
                tenant.id,
                domain.id,
                KeyImport {
                    pem: &pem,
                    password: None,
                },
            )
            .await
            .unwrap();
        service
            .update_signing_domain(tenant.id, domain.id, Some(true), None)
            .await
            .unwrap();

        let raw = "From: Facilities <facilities@client.test>\nTo: ok@receiver.test\n\
                   Subject: Work order 4711\n\n.a line starting with a dot\nThe boiler is fixed.\n";
        let accepted = service
            .submit(
                tenant.id,
                Submission {
                    mail_from: "bounce@client.test".into(),
                    recipients: vec![
                        "ok@receiver.test".into(),
                        "reject@receiver.test".into(),
                        "later@receiver.test".into(),
                    ],
                    raw: raw.as_bytes().to_vec(),
                    idempotency_key: None,
                    source: "http",
                },
            )
            .await
            .unwrap();
        assert_eq!(service.deliver_due("node-test").await.unwrap(), 3);
        // Nothing else is due now: the deferred recipient waits for its next attempt.
        assert_eq!(service.deliver_due("node-test").await.unwrap(), 0);

        let message = service.message(tenant.id, accepted.id).await.unwrap();
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
            .message_attempts(tenant.id, accepted.id)
            .await
            .unwrap();
        assert_eq!(attempts.len(), 3);
        assert!(
            attempts
                .iter()
                .all(|attempt| attempt.host.as_deref() == Some("mx.receiver.test"))
        );

        let metrics = service.metrics_text().await.unwrap();
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
        let verify = Command::new(python())
            .arg(workspace().join("crates/dkim/tests/interop/dkimpy_tool.py"))
            .args(["verify", "--nameserver", &dns.addr().to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write as _;
                child.stdin.take().unwrap().write_all(&delivered)?;
                child.wait_with_output()
            })
            .unwrap();
        assert!(
            verify.status.success(),
            "dkimpy: {}",
            String::from_utf8_lossy(&verify.stdout)
        );
    }
}
