//! Zero-touch DKIM (SPEC S11.4) end to end, on SQLite and PostgreSQL: the tenant's zone (a test
//! DNS server) holds the two CNAMEs of the hand-off and nothing is changed in it afterwards; a
//! recursive resolver (Debian's unbound, on a loopback port with its own configuration) follows
//! them into Sealpost's zone; Sealpost's check says the domain is delegated and promotes the key;
//! dkimpy verifies mail through the resolver; two rotations later, the second of which takes the
//! first selector again, dkimpy still verifies new mail. Then the tenant's automatic rotation
//! (SPEC S11.1) replaces the key on its own: while the last retiring key holds the other selector
//! the pass waits, and once it has retired the pass adds the key, which the next re-check
//! promotes, all without a change to the tenant's zone.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sealpost_dkimzone::{DkimZoneServer, REFRESH_INTERVAL, ZoneSettings};
use sealpost_dnsauth::dkim_record::DkimPublication;
use sealpost_domain::{
    DkimZone, DomainName, KeyState, SigningDomainId, SigningRecord, TenantId, Timestamp,
};
use sealpost_service::{Clock, DnsGate, RecheckSettings, RotationSettings, Service};
use sealpost_store::{Store, testing};
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

const DAY: i64 = 24 * 3600;

const MESSAGE: &str = "From: Facilities <facilities@client.test>\nTo: someone@receiver.test\n\
                       Subject: Work order 4711\n\nThe boiler is fixed.\n";

#[derive(Debug)]
struct TestClock(AtomicI64);

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

fn zone() -> DkimZone {
    DkimZone::new(DomainName::parse("dkim.sealpost.test").unwrap())
}

/// A recursive resolver: Debian's unbound on a loopback port, answering only from the two
/// authoritative servers of the test (stub zones), caching nothing, so each answer shows the
/// zones as they are now. Killed when dropped.
struct Unbound {
    addr: SocketAddr,
    child: Child,
    _directory: tempfile::TempDir,
}

impl Unbound {
    fn start(tenant_zone: SocketAddr, dkim_zone: SocketAddr) -> Self {
        let directory = tempfile::tempdir().unwrap();
        let port = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let path = directory.path().to_owned();
        let config = format!(
            "server:\n  interface: 127.0.0.1\n  port: {port}\n  do-ip6: no\n  \
             do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n  directory: \"{dir}\"\n  \
             pidfile: \"{dir}/unbound.pid\"\n  use-syslog: no\n  logfile: \"\"\n  \
             access-control: 127.0.0.0/8 allow\n  do-not-query-localhost: no\n  \
             module-config: \"iterator\"\n  verbosity: 0\n  cache-max-ttl: 0\n  cache-max-negative-ttl: 0\n  \
             local-zone: \"test.\" nodefault\n  domain-insecure: \"test.\"\n\
             remote-control:\n  control-enable: no\n\
             stub-zone:\n  name: \"client.test.\"\n  stub-addr: {tenant}\n\
             stub-zone:\n  name: \"{dkim}.\"\n  stub-addr: {zone}\n",
            dir = path.display(),
            tenant = at(tenant_zone),
            dkim = zone(),
            zone = at(dkim_zone),
        );
        let file = path.join("unbound.conf");
        std::fs::write(&file, config).unwrap();
        let child = Command::new("/usr/sbin/unbound")
            .arg("-d")
            .arg("-c")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("unbound is installed (./scripts/test installs it)");
        let unbound = Self {
            addr: (Ipv4Addr::LOCALHOST, port).into(),
            child,
            _directory: directory,
        };
        unbound.wait_until_answering(&path);
        unbound
    }

    fn wait_until_answering(&self, path: &Path) {
        let probe = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        probe
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        // A minimal query for the root's SOA: any answer means unbound listens.
        let query = [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1];
        for _ in 0..50 {
            probe.send_to(&query, self.addr).unwrap();
            if probe.recv_from(&mut [0; 512]).is_ok() {
                return;
            }
        }
        panic!("unbound did not start ({})", path.display());
    }
}

impl Drop for Unbound {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An address as unbound writes it: `127.0.0.1@5353`.
fn at(addr: SocketAddr) -> String {
    format!("{}@{}", addr.ip(), addr.port())
}

/// dkimpy's verdict on a message, its lookups sent to `nameserver`.
fn dkimpy_verify(nameserver: SocketAddr, message: &[u8]) -> (bool, String) {
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

/// Signs a message and has dkimpy verify it through the resolver; returns the selector.
async fn signed_and_verified(service: &Service, tenant: TenantId, resolver: SocketAddr) -> String {
    let (selector, message) = sign(service, tenant).await;
    let verifier = tokio::task::spawn_blocking(move || dkimpy_verify(resolver, &message));
    let (passed, output) = verifier.await.unwrap();
    assert!(passed, "dkimpy, {selector}: {output}");
    selector
}

fn states(domain: &sealpost_domain::SigningDomain) -> Vec<(String, KeyState)> {
    domain
        .keys
        .iter()
        .map(|key| (key.selector.to_string(), key.state))
        .collect()
}

/// Waits past one refresh of Sealpost's zone.
async fn refreshed() {
    tokio::time::sleep(REFRESH_INTERVAL + Duration::from_millis(800)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cname_published_once_carries_every_rotation_and_dkimpy_verifies_through_a_resolver() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        run(store).await;
    }
}

async fn run(store: Store) {
    let tenant_dns = TestDns::start(Zone::new()).await.unwrap();
    let settings = ZoneSettings {
        zone: zone(),
        nameservers: Vec::new(),
    };
    let dkim_zone = DkimZoneServer::start(settings, store.clone(), (Ipv4Addr::LOCALHOST, 0).into())
        .await
        .unwrap();
    let unbound = Unbound::start(tenant_dns.addr(), dkim_zone.udp_addr());
    // Fifty days ago, so that after the retiring key's ten days and the automatic rotation's
    // thirty-one signatures are not in the future.
    let clock = Arc::new(TestClock(AtomicI64::new(
        sealpost_service::SystemClock.now().0 - 50 * DAY,
    )));
    let resolver = sealpost_dns::Resolver::new(&sealpost_dns::ResolverConfig {
        nameserver: Some(unbound.addr),
        cache: false,
        attempts: 1,
        ..sealpost_dns::ResolverConfig::default()
    })
    .unwrap();
    let service = Service::open(
        store,
        Vault::new(MasterKey::generate()),
        clock.clone(),
        resolver,
    )
    .await
    .unwrap()
    .with_dkim_zone(Some(zone()));
    let domains = service.signing_domains();
    let tenant = service
        .accounts()
        .create_tenant("acme", "")
        .await
        .unwrap()
        .id;
    let domain = domains
        .add_signing_domain(tenant, "client.test", "workplace")
        .await
        .unwrap();
    let proof = domains
        .add_sending_domain(tenant, "client.test")
        .await
        .unwrap();

    // The hand-off offers two CNAMEs; IT publishes them with the verification record, once.
    let handoff = domains.dns_handoff(tenant, domain.id).await.unwrap();
    let cnames: Vec<(&str, &str, &str)> = handoff
        .delegation
        .iter()
        .map(|record| {
            (
                record.host.as_str(),
                record.record_type,
                record.value.as_str(),
            )
        })
        .collect();
    let served = |selector: &str| {
        zone()
            .served_name(
                tenant,
                &domain.domain,
                &sealpost_domain::Selector::parse(selector).unwrap(),
            )
            .unwrap()
    };
    assert_eq!(
        cnames,
        [
            (
                "workplace._domainkey",
                "CNAME",
                served("workplace").as_str()
            ),
            (
                "workplace2._domainkey",
                "CNAME",
                served("workplace2").as_str()
            ),
        ]
    );
    let mut published = Zone::new().txt(&proof.record_name(), &[&proof.record_value()]);
    for record in &handoff.delegation {
        published = published.cname(&record.name, &record.value);
    }
    tenant_dns.replace(published).unwrap();
    domains
        .verify_sending_domain(tenant, "client.test")
        .await
        .unwrap();

    // The first key: served by Sealpost, found through the CNAME, promoted by the check.
    domains.generate_key(tenant, domain.id).await.unwrap();
    refreshed().await;
    let report = domains
        .check_signing_domain_dns(tenant, domain.id)
        .await
        .unwrap();
    let dkim = report.dkim.as_ref().unwrap();
    assert_eq!(dkim.publication, DkimPublication::Delegated, "{dkim:?}");
    assert!(dkim.usable(), "{dkim:?}");
    let active = domains
        .activate(tenant, domain.id, DnsGate::RequireRecord)
        .await
        .unwrap();
    assert_eq!(states(&active), [("workplace".into(), KeyState::Active)]);
    let last = active.dns.last_check.as_ref().unwrap();
    assert!(
        last.summary.contains("by CNAME delegation"),
        "{}",
        last.summary
    );
    let first = signed_and_verified(&service, tenant, unbound.addr).await;
    assert_eq!(first, "workplace");

    // A rotation: the new key takes the second selector and is promoted without a DNS change.
    domains.generate_key(tenant, domain.id).await.unwrap();
    refreshed().await;
    let switched = domains.recheck_domain(tenant, domain.id).await.unwrap();
    assert_eq!(
        states(&switched.domain),
        [
            ("workplace".into(), KeyState::Retiring),
            ("workplace2".into(), KeyState::Active)
        ]
    );
    assert_eq!(
        signed_and_verified(&service, tenant, unbound.addr).await,
        "workplace2"
    );

    // Once the first key has retired, the next rotation takes its selector again.
    clock.0.fetch_add(10 * DAY, Ordering::SeqCst);
    let retired = domains.recheck_domain(tenant, domain.id).await.unwrap();
    assert_eq!(retired.domain.keys[0].state, KeyState::Retired);
    let again = domains.generate_key(tenant, domain.id).await.unwrap();
    let third = again.pending_key().unwrap();
    assert_eq!(third.selector.as_str(), "workplace");
    refreshed().await;
    let switched = domains.recheck_domain(tenant, domain.id).await.unwrap();
    let states_now = states(&switched.domain);
    assert_eq!(
        states_now[1..],
        [
            ("workplace2".into(), KeyState::Retiring),
            ("workplace".into(), KeyState::Active)
        ]
    );
    assert_eq!(
        signed_and_verified(&service, tenant, unbound.addr).await,
        "workplace"
    );
    automatic_rotation(&service, &clock, tenant, domain.id, unbound.addr).await;
    // Three rotations, and the tenant's zone is as IT left it after the hand-off.
    drop(unbound);
}

/// The tenant's automatic rotation of the delegated domain, whose active key is `workplace` and
/// whose retiring key `workplace2` still holds the other selector.
async fn automatic_rotation(
    service: &Service,
    clock: &TestClock,
    tenant: TenantId,
    domain: SigningDomainId,
    resolver: SocketAddr,
) {
    let domains = service.signing_domains();
    domains.set_key_rotation(tenant, Some(30)).await.unwrap();
    let lease = RecheckSettings::default();
    let settings = RotationSettings::default();
    clock.0.fetch_add(31 * DAY, Ordering::SeqCst);

    // The key the last rotation replaced still retires (and holds the other selector): one
    // rotation at a time, so the pass leaves the domain alone, without an error.
    let waiting = domains
        .scheduled_rotation("a", &lease, &settings)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(waiting, Default::default());

    // The retiring key retires; the next pass takes its selector.
    let retired = domains.recheck_domain(tenant, domain).await.unwrap();
    assert_eq!(retired.domain.keys[1].state, KeyState::Retired);
    let started = domains
        .scheduled_rotation("a", &lease, &settings)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(started.started, ["client.test: workplace2"]);
    let history = domains.domain_history(tenant, domain).await.unwrap();
    let notice = history
        .iter()
        .find(|event| event.kind == "key.rotation_started")
        .expect("the rotation is an event");
    assert!(notice.detail.contains("Nothing to do"), "{}", notice.detail);

    // Served by Sealpost's zone, found through the CNAME, promoted by the re-check.
    refreshed().await;
    let switched = domains.recheck_domain(tenant, domain).await.unwrap();
    assert_eq!(
        states(&switched.domain)[2..],
        [
            ("workplace".into(), KeyState::Retiring),
            ("workplace2".into(), KeyState::Active)
        ]
    );
    assert_eq!(
        signed_and_verified(service, tenant, resolver).await,
        "workplace2"
    );
}
