//! What the delivery tests share: the real clock, fixtures, the dkimpy verifier, and a service
//! whose tenant `acme` signs for `client.test` and which delivers to a loopback port found
//! through a real DNS server.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_domain::{SubmissionSource, TenantId, Timestamp};
use sealpost_service::{Clock, Delivery, DeliveryNode, KeyImport, Service, Submission};
use sealpost_store::Store;
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

/// The real clock, moved on by hand: tests that wait for a retry advance it instead of
/// sleeping.
#[derive(Debug, Default)]
pub struct TestClock(std::sync::atomic::AtomicI64);

impl TestClock {
    pub fn advance(&self, seconds: i64) {
        self.0
            .fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }

    /// How far it is ahead of the real clock.
    pub fn offset(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        let offset = self.0.load(std::sync::atomic::Ordering::SeqCst);
        Timestamp(sealpost_service::SystemClock.now().0 + offset)
    }

    fn new_uuid(&self) -> sealpost_domain::Uuid {
        sealpost_service::SystemClock.new_uuid()
    }
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn python() -> PathBuf {
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

/// A DNS server with the fixture key at `workplace._domainkey.client.test`, MX records for
/// `domains` pointing at `mx.receiver.test`, and that host at 127.0.0.1.
pub async fn dns(domains: &[&str]) -> TestDns {
    TestDns::start(zone(domains)).await.unwrap()
}

/// The zone [`dns`] serves, to build on.
pub fn zone(domains: &[&str]) -> Zone {
    let key = Vault::new(MasterKey::generate())
        .import(&fixture("rsa2048-pkcs8.pem"), None)
        .unwrap();
    let mut zone = Zone::new().txt_split(
        "workplace._domainkey.client.test",
        &sealpost_domain::dkim_txt_value(&key.public_key_der()),
    );
    for domain in domains {
        zone = zone.mx(domain, 10, "mx.receiver.test");
    }
    zone.a("mx.receiver.test", std::net::Ipv4Addr::LOCALHOST)
}

/// A service on `store` that delivers to `port` on loopback, with the tenant `acme` signing
/// for the active domain `client.test` with the fixture key, and its delivery.
pub async fn signing_service(
    store: Store,
    dns: &TestDns,
    port: u16,
) -> (Service, Delivery, TenantId) {
    signing_service_with_clock(store, dns, port, Arc::new(TestClock::default())).await
}

/// [`signing_service`] on `clock`.
pub async fn signing_service_with_clock(
    store: Store,
    dns: &TestDns,
    port: u16,
    clock: Arc<TestClock>,
) -> (Service, Delivery, TenantId) {
    signing_service_with(store, dns, port, clock, |_| {}).await
}

/// [`signing_service_with_clock`], with the delivery node's settings changed by `configure`.
pub async fn signing_service_with(
    store: Store,
    dns: &TestDns,
    port: u16,
    clock: Arc<TestClock>,
    configure: impl FnOnce(&mut DeliveryNode),
) -> (Service, Delivery, TenantId) {
    let resolver = Resolver::new(&ResolverConfig {
        nameserver: Some(dns.addr()),
        cache: false,
        ..ResolverConfig::default()
    })
    .unwrap();
    let mut node = DeliveryNode::new("mta.platform.test").unwrap();
    node.native.port = port;
    configure(&mut node);
    let service = Service::open(store, Vault::new(MasterKey::generate()), clock, resolver)
        .await
        .unwrap();
    let tenant = service.accounts().create_tenant("acme", "").await.unwrap();
    let domain = service
        .signing_domains()
        .add_signing_domain(tenant.id, "client.test", "workplace")
        .await
        .unwrap();
    let pem = fixture("rsa2048-pkcs8.pem");
    let import = KeyImport {
        pem: &pem,
        password: None,
    };
    service
        .signing_domains()
        .import_key(tenant.id, domain.id, import)
        .await
        .unwrap();
    service
        .signing_domains()
        .update_signing_domain(tenant.id, domain.id, Some(true), None)
        .await
        .unwrap();
    let delivery = Delivery::new(service.clone(), node);
    (service, delivery, tenant.id)
}

/// dkimpy's verdict on a message, with its output.
pub fn dkimpy_verify(dns: &TestDns, message: &[u8]) -> (bool, String) {
    use std::io::Write as _;
    let output = Command::new(python())
        .arg(workspace().join("crates/dkim/tests/interop/dkimpy_tool.py"))
        .args(["verify", "--nameserver", &dns.addr().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(message)?;
            child.wait_with_output()
        })
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// The message submitted in the delivery tests, as an application would send it.
pub const WORK_ORDER: &str = "From: Facilities <facilities@client.test>\nTo: ok@receiver.test\n\
                              Subject: Work order 4711\n\n.a line starting with a dot\n\
                              The boiler is fixed.\n";

/// [`WORK_ORDER`] from bounce@client.test to `recipients`, submitted over the API without an
/// idempotency key.
pub fn work_order(recipients: &[&str]) -> Submission {
    Submission {
        mail_from: "bounce@client.test".into(),
        recipients: recipients.iter().map(|&address| address.into()).collect(),
        raw: WORK_ORDER.as_bytes().to_vec(),
        idempotency_key: None,
        source: SubmissionSource::Http,
    }
}
