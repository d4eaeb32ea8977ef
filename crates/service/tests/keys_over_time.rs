//! Keys and domains over time (SPEC S11.1, S11.2) through the service on both backends, against a
//! real DNS server on loopback whose answers change while it runs and a clock the test moves: a
//! rotation in which no message goes out unsigned and every signature, before, during and after
//! the switch, verifies with dkimpy and OpenDKIM; a retiring key kept while queued mail needs it;
//! the DNS states with their grace period; SERVFAIL never failing a domain; the cluster lease.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_domain::{
    DnsState, KeyState, SigningDomain, SigningRecord, SubmissionSource, TenantId, Timestamp,
};
use sealpost_service::{Clock, DnsGate, RecheckSettings, Service, ServiceError, Submission};
use sealpost_store::{Store, testing};
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// A clock the test moves forward.
#[derive(Debug)]
struct TestClock(AtomicI64);

impl TestClock {
    fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }

    fn new_uuid(&self) -> sealpost_domain::Uuid {
        sealpost_service::SystemClock.new_uuid()
    }
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    std::env::var_os("SEALPOST_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/python"))
}

/// dkimpy's verdict on every signature of a message, with its output.
fn dkimpy_verify(nameserver: SocketAddr, message: &[u8]) -> (bool, String) {
    use std::io::Write as _;
    let output = Command::new(python())
        .arg(workspace().join("crates/dkim/tests/interop/dkimpy_tool.py"))
        .args(["verify", "--nameserver", &nameserver.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(message)?;
            child.wait_with_output()
        })
        .expect("dkimpy runs (./scripts/test installs it into .venv)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// OpenDKIM's `dkim=` verdict (`opendkim -t`), its resolver (libunbound) forwarding every query
/// to `nameserver`.
fn opendkim_verify(nameserver: SocketAddr, message: &[u8]) -> String {
    let directory = tempfile::tempdir().unwrap();
    let unbound = directory.path().join("unbound.conf");
    std::fs::write(
        &unbound,
        format!(
            "server:\n  do-not-query-localhost: no\n  local-zone: \"test.\" nodefault\n\
             forward-zone:\n  name: \".\"\n  forward-addr: {}@{}\n",
            nameserver.ip(),
            nameserver.port()
        ),
    )
    .unwrap();
    let config = directory.path().join("opendkim.conf");
    std::fs::write(
        &config,
        format!(
            "Syslog no\nRequireSafeKeys no\nResolverConfiguration {}\nMode v\n",
            unbound.display()
        ),
    )
    .unwrap();
    let file = directory.path().join("message.eml");
    std::fs::write(&file, message).unwrap();
    let output = Command::new("opendkim")
        .arg("-x")
        .arg(&config)
        .arg("-t")
        .arg(&file)
        .arg("-vv")
        .output()
        .expect("opendkim is installed (./scripts/test installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    text.split("dkim=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no dkim= verdict from OpenDKIM: {text}"))
        .trim_end_matches(['\'', ';'])
        .to_owned()
}

struct World {
    dns: TestDns,
    clock: Arc<TestClock>,
    /// One master key for every node of the world.
    master: String,
    /// The records published now, besides the keys': the domain's verification record.
    base: Zone,
}

impl World {
    async fn new() -> Self {
        Self {
            dns: TestDns::start(Zone::new()).await.unwrap(),
            // Today: receivers refuse signatures made in the future.
            clock: Arc::new(TestClock(AtomicI64::new(
                sealpost_service::SystemClock.now().0,
            ))),
            master: MasterKey::generate().to_text().to_string(),
            base: Zone::new(),
        }
    }

    async fn service(&self, store: Store) -> Service {
        let resolver = Resolver::new(&ResolverConfig {
            nameserver: Some(self.dns.addr()),
            cache: false,
            attempts: 1,
            ..ResolverConfig::default()
        })
        .unwrap();
        Service::open(
            store,
            Vault::new(MasterKey::from_text(&self.master).unwrap()),
            self.clock.clone(),
            resolver,
        )
        .await
        .unwrap()
    }

    /// Publishes the base records plus the records of `keys` (selector, domain) of `domain`.
    async fn publish(&self, service: &Service, domain: &SigningDomain, selectors: &[&str]) {
        let mut zone = self.base.clone();
        let current = service
            .signing_domains()
            .signing_domain(domain.tenant_id, domain.id)
            .await
            .unwrap();
        for selector in selectors {
            let key = current
                .keys
                .iter()
                .find(|key| key.selector.as_str() == *selector)
                .unwrap();
            let record = service
                .signing_domains()
                .key_record(domain.tenant_id, domain.id, key.id)
                .await
                .unwrap();
            zone = zone.txt_split(&record.name, &record.value);
        }
        self.dns.replace(zone).unwrap();
    }
}

/// A tenant with `client.test` proven by its verification record, as a signing domain without a
/// key.
async fn tenant_with_domain(world: &mut World, service: &Service) -> (TenantId, SigningDomain) {
    let tenant = service.accounts().create_tenant("acme", "").await.unwrap();
    let domain = service
        .signing_domains()
        .add_signing_domain(tenant.id, "client.test", "workplace")
        .await
        .unwrap();
    let proof = service
        .signing_domains()
        .add_sending_domain(tenant.id, "client.test")
        .await
        .unwrap();
    world.base = Zone::new().txt(&proof.record_name(), &[&proof.record_value()]);
    world.dns.replace(world.base.clone()).unwrap();
    (tenant.id, domain)
}

const MESSAGE: &str = "From: Facilities <facilities@client.test>\nTo: someone@receiver.test\n\
                       Subject: Work order 4711\n\nThe boiler is fixed.\n";

async fn sign(service: &Service, tenant: TenantId) -> (String, Vec<u8>) {
    let signed = service
        .submissions()
        .sign_outgoing(tenant, MESSAGE.as_bytes(), "bounce@client.test")
        .await
        .unwrap();
    match signed.signing {
        SigningRecord::Signed { selector, .. } => (selector.to_string(), signed.message),
        SigningRecord::Unsigned(reason) => panic!("a message went out unsigned: {reason}"),
    }
}

fn states(domain: &SigningDomain) -> Vec<(String, KeyState)> {
    domain
        .keys
        .iter()
        .map(|key| (key.selector.to_string(), key.state))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_never_sends_mail_unsigned_and_every_signature_verifies_with_dkimpy_and_opendkim()
 {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let mut world = World::new().await;
        let service = world.service(store).await;
        let domains = service.signing_domains();
        let (tenant, domain) = tenant_with_domain(&mut world, &service).await;
        domains.generate_key(tenant, domain.id).await.unwrap();

        // Activation waits for the key's record, then promotes the key with it.
        let early = domains
            .activate(tenant, domain.id, DnsGate::RequireRecord)
            .await;
        assert!(
            matches!(early, Err(ServiceError::KeyNotPublished(_))),
            "{early:?}"
        );
        world.publish(&service, &domain, &["workplace"]).await;
        let active = domains
            .activate(tenant, domain.id, DnsGate::RequireRecord)
            .await
            .unwrap();
        assert_eq!(states(&active), [("workplace".into(), KeyState::Active)]);

        let mut signed = vec![sign(&service, tenant).await];
        // A new key waits; the active key keeps signing, checked or not.
        let rotating = domains.generate_key(tenant, domain.id).await.unwrap();
        assert!(rotating.active, "generating a key never stops signing");
        signed.push(sign(&service, tenant).await);
        let checked = domains.recheck_domain(tenant, domain.id).await.unwrap();
        assert_eq!(
            states(&checked.domain),
            [
                ("workplace".into(), KeyState::Active),
                ("workplace2".into(), KeyState::Pending)
            ]
        );
        assert_eq!(checked.domain.dns.state, DnsState::Verified);
        signed.push(sign(&service, tenant).await);
        // IT publishes the new record beside the old one; the next check switches over.
        world
            .publish(&service, &domain, &["workplace", "workplace2"])
            .await;
        signed.push(sign(&service, tenant).await);
        let switched = domains.recheck_domain(tenant, domain.id).await.unwrap();
        assert_eq!(
            states(&switched.domain),
            [
                ("workplace".into(), KeyState::Retiring),
                ("workplace2".into(), KeyState::Active)
            ]
        );
        let kinds: Vec<&str> = switched.events.iter().map(|event| event.kind()).collect();
        assert_eq!(kinds, ["key.retiring", "key.active"]);
        signed.push(sign(&service, tenant).await);
        signed.push(sign(&service, tenant).await);

        let selectors: Vec<&str> = signed
            .iter()
            .map(|(selector, _)| selector.as_str())
            .collect();
        assert_eq!(
            selectors,
            [
                "workplace",
                "workplace",
                "workplace",
                "workplace",
                "workplace2",
                "workplace2"
            ]
        );
        for (selector, message) in &signed {
            let (passed, output) = dkimpy_verify(world.dns.addr(), message);
            assert!(passed, "dkimpy, {selector}: {output}");
            assert_eq!(
                opendkim_verify(world.dns.addr(), message),
                "pass",
                "OpenDKIM, {selector}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retiring_key_stays_published_while_queued_mail_needs_it_then_is_safe_to_remove() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let mut world = World::new().await;
        let service = world.service(store).await;
        let domains = service.signing_domains();
        let (tenant, domain) = tenant_with_domain(&mut world, &service).await;
        domains.generate_key(tenant, domain.id).await.unwrap();
        world.publish(&service, &domain, &["workplace"]).await;
        domains
            .activate(tenant, domain.id, DnsGate::RequireRecord)
            .await
            .unwrap();
        // A message signed with the first key waits in the queue (nothing delivers here).
        let queued = service
            .submissions()
            .submit(
                tenant,
                Submission {
                    mail_from: "bounce@client.test".into(),
                    recipients: vec!["someone@receiver.test".into()],
                    raw: MESSAGE.as_bytes().to_vec(),
                    idempotency_key: None,
                    source: SubmissionSource::Http,
                },
            )
            .await
            .unwrap();
        let rotated = domains.generate_key(tenant, domain.id).await.unwrap();
        let new_key = rotated.pending_key().unwrap().id;
        domains
            .promote_key(tenant, domain.id, new_key, DnsGate::Force)
            .await
            .unwrap();
        world
            .publish(&service, &domain, &["workplace", "workplace2"])
            .await;

        // Long past the margin, the queued message still needs the old record.
        world.clock.advance(10 * DAY);
        let waiting = domains.recheck_domain(tenant, domain.id).await.unwrap();
        let old = &waiting.domain.keys[0];
        assert_eq!(old.state, KeyState::Retiring);
        let step = waiting.domain.key_next_step(old);
        assert!(step.starts_with("Keep the TXT record"), "{step}");
        // The tenant may not delete the domain while that mail waits.
        let refused = domains.delete_signing_domain(tenant, domain.id).await;
        assert!(
            matches!(&refused, Err(ServiceError::Conflict(message)) if message.contains("1 recipient")),
            "{refused:?}"
        );

        // Once it is cancelled, the margin counts from then.
        service
            .messages()
            .cancel_message(tenant, queued.id)
            .await
            .unwrap();
        world.clock.advance(DAY);
        let still = domains.recheck_domain(tenant, domain.id).await.unwrap();
        assert_eq!(still.domain.keys[0].state, KeyState::Retiring);
        world.clock.advance(7 * DAY);
        let retired = domains.recheck_domain(tenant, domain.id).await.unwrap();
        let old = &retired.domain.keys[0];
        assert_eq!(old.state, KeyState::Retired);
        assert_eq!(
            retired.domain.key_next_step(old),
            "Safe to remove from DNS: delete the TXT record workplace._domainkey.client.test."
        );
        // IT removes it: the domain stays verified, as only the active key's record is needed.
        world.publish(&service, &domain, &["workplace2"]).await;
        let after = domains.recheck_domain(tenant, domain.id).await.unwrap();
        assert_eq!(after.domain.dns.state, DnsState::Verified);
        domains
            .delete_signing_domain(tenant, domain.id)
            .await
            .unwrap();
    }
}

/// pending -> verified -> warning -> failed -> verified as the records change over injected
/// time, a SERVFAIL never failing the domain, and the scheduled re-check run by exactly one of
/// two nodes until its holder stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_states_follow_the_records_with_a_grace_period_and_one_node_rechecks() {
    let directory = tempfile::tempdir().unwrap();
    let postgres_url = testing::fresh_postgres_url().await;
    let stores = [
        (
            Store::connect(&testing::sqlite_url(directory.path()))
                .await
                .unwrap(),
            testing::sqlite_url(directory.path()),
        ),
        (
            Store::connect(&postgres_url).await.unwrap(),
            postgres_url.clone(),
        ),
    ];
    for (store, url) in stores {
        let mut world = World::new().await;
        let node_a = world.service(store).await;
        let node_b = world.service(Store::connect(&url).await.unwrap()).await;
        let (tenant, domain) = tenant_with_domain(&mut world, &node_a).await;
        node_a
            .signing_domains()
            .generate_key(tenant, domain.id)
            .await
            .unwrap();
        let settings = RecheckSettings {
            lease_seconds: 60,
            ..RecheckSettings::default()
        };
        let state = || async {
            node_a
                .signing_domains()
                .signing_domain(tenant, domain.id)
                .await
                .unwrap()
        };
        // One node holds the lease and checks the due domain; the other does nothing.
        let first = node_a
            .signing_domains()
            .scheduled_recheck("a", &settings)
            .await
            .unwrap();
        assert_eq!(first.map(|summary| summary.checked), Some(1));
        assert_eq!(
            node_b
                .signing_domains()
                .scheduled_recheck("b", &settings)
                .await
                .unwrap(),
            None
        );
        assert_eq!(state().await.dns.state, DnsState::Pending);

        // Published: the next scheduled check (pending domains: minutes) verifies it.
        world.publish(&node_a, &domain, &["workplace"]).await;
        world.clock.advance(5 * 60);
        node_a
            .signing_domains()
            .scheduled_recheck("a", &settings)
            .await
            .unwrap();
        let verified = state().await;
        assert_eq!(verified.dns.state, DnsState::Verified);
        assert_eq!(verified.current_key().unwrap().state, KeyState::Active);

        // A SERVFAIL for days changes nothing.
        let record_name = "workplace._domainkey.client.test";
        world
            .dns
            .replace(world.base.clone().servfail(record_name))
            .unwrap();
        for _ in 0..4 {
            world.clock.advance(DAY);
            node_a
                .signing_domains()
                .recheck_domain(tenant, domain.id)
                .await
                .unwrap();
            let current = state().await;
            assert_eq!(current.dns.state, DnsState::Verified);
            assert!(
                current
                    .dns
                    .last_check
                    .unwrap()
                    .summary
                    .contains("did not answer"),
                "the badge says what happened"
            );
        }

        // The record disappears: warning at once, failed only after 72 hours of failures.
        world.dns.replace(world.base.clone()).unwrap();
        node_a
            .signing_domains()
            .recheck_domain(tenant, domain.id)
            .await
            .unwrap();
        assert_eq!(state().await.dns.state, DnsState::Warning);
        world.clock.advance(71 * HOUR);
        node_a
            .signing_domains()
            .recheck_domain(tenant, domain.id)
            .await
            .unwrap();
        assert_eq!(state().await.dns.state, DnsState::Warning);
        world
            .dns
            .replace(world.base.clone().servfail(record_name))
            .unwrap();
        world.clock.advance(2 * HOUR);
        node_a
            .signing_domains()
            .recheck_domain(tenant, domain.id)
            .await
            .unwrap();
        assert_eq!(
            state().await.dns.state,
            DnsState::Warning,
            "a SERVFAIL past the grace period still does not fail the domain"
        );
        world.dns.replace(world.base.clone()).unwrap();
        node_a
            .signing_domains()
            .recheck_domain(tenant, domain.id)
            .await
            .unwrap();
        assert_eq!(state().await.dns.state, DnsState::Failed);
        world.publish(&node_a, &domain, &["workplace"]).await;
        node_a
            .signing_domains()
            .recheck_domain(tenant, domain.id)
            .await
            .unwrap();
        assert_eq!(state().await.dns.state, DnsState::Verified);
        let history = node_a
            .signing_domains()
            .domain_history(tenant, domain.id)
            .await
            .unwrap();
        let dns_kinds: Vec<&str> = history
            .iter()
            .rev()
            .map(|event| event.kind.as_str())
            .filter(|kind| kind.starts_with("domain."))
            .collect();
        assert_eq!(
            dns_kinds,
            [
                "domain.verified",
                "domain.warning",
                "domain.failed",
                "domain.verified"
            ]
        );

        // Node a renews its lease, then stops (it died): within the lease b waits, after it b
        // takes over.
        node_a
            .signing_domains()
            .scheduled_recheck("a", &settings)
            .await
            .unwrap();
        world.clock.advance(30);
        assert_eq!(
            node_b
                .signing_domains()
                .scheduled_recheck("b", &settings)
                .await
                .unwrap(),
            None
        );
        world.clock.advance(61);
        assert!(
            node_b
                .signing_domains()
                .scheduled_recheck("b", &settings)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(
            node_a
                .signing_domains()
                .recheck_lease_holder()
                .await
                .unwrap()
                .map(|(holder, _)| holder),
            Some("b".to_owned())
        );
    }
}
