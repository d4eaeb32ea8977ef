//! The re-check of the records beside DKIM (SPEC S11.2) through the service on both backends,
//! against a real DNS server on loopback whose answers change while a test clock moves: SPF,
//! DMARC and the return path's MX and SPF are recorded per record with their time (and the
//! return path is used only while both of its records are found); a record found once and then
//! lost moves a verified domain to warning and, after the grace period, to failed, with an event
//! per change; SERVFAIL never counts; a record never found is only shown.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_dnsauth::report::PlatformSpf;
use sealpost_domain::{
    DnsState, DomainName, RecordFinding, RecordKind, RecordOutcome, SigningDomain, TenantId,
    Timestamp,
};
use sealpost_service::{Clock, RecheckLimits, Service};
use sealpost_store::testing;
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

const HOUR: i64 = 3600;
const DOMAIN_SPF: &str = "v=spf1 include:_spf.platform.test ~all";

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

/// What DNS publishes, switched on and off record by record.
#[derive(Clone)]
struct Published {
    spf: bool,
    dmarc: bool,
    return_path_mx: &'static str,
    servfail_domain: bool,
}

struct World {
    dns: TestDns,
    clock: Arc<TestClock>,
    /// The verification record and the DKIM record, always there.
    base: Zone,
}

impl World {
    fn publish(&self, published: &Published) {
        let mut zone = self
            .base
            .clone()
            .txt("_spf.platform.test", &["v=spf1 ip4:192.0.2.10 -all"])
            .mx("bounces.client.test", 10, published.return_path_mx)
            .txt(
                "bounces.client.test",
                &["v=spf1 include:_spf.platform.test -all"],
            );
        if published.spf {
            zone = zone.txt("client.test", &[DOMAIN_SPF]);
        }
        if published.dmarc {
            zone = zone.txt("_dmarc.client.test", &["v=DMARC1; p=quarantine"]);
        }
        if published.servfail_domain {
            zone = zone.servfail("client.test");
        }
        self.dns.replace(zone).unwrap();
    }

    fn advance(&self, seconds: i64) {
        self.clock.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

async fn service(dns: &TestDns, clock: Arc<TestClock>, store: sealpost_store::Store) -> Service {
    let resolver = Resolver::new(&ResolverConfig {
        nameserver: Some(dns.addr()),
        cache: false,
        attempts: 1,
        ..ResolverConfig::default()
    })
    .unwrap();
    Service::open(store, Vault::new(MasterKey::generate()), clock, resolver)
        .await
        .unwrap()
        .with_platform(Some(PlatformSpf {
            include_host: "_spf.platform.test".to_owned(),
            networks: vec!["192.0.2.10".parse().unwrap()],
        }))
        .with_inbound_host(Some(DomainName::parse("inbound.platform.test").unwrap()))
}

/// A tenant with `client.test` proven, a published key and the return path
/// `bounces.client.test`.
async fn tenant_with_domain(service: &Service, world: &mut World) -> (TenantId, SigningDomain) {
    let tenant = service.accounts().create_tenant("acme", "").await.unwrap();
    let domains = service.signing_domains();
    let domain = domains
        .add_signing_domain(tenant.id, "client.test", "workplace")
        .await
        .unwrap();
    let proof = domains
        .add_sending_domain(tenant.id, "client.test")
        .await
        .unwrap();
    let key = domains.generate_key(tenant.id, domain.id).await.unwrap();
    let key = key.keys.last().unwrap().id;
    let record = domains.key_record(tenant.id, domain.id, key).await.unwrap();
    world.base = Zone::new()
        .txt(&proof.record_name(), &[&proof.record_value()])
        .txt_split(&record.name, &record.value);
    service
        .feedback()
        .set_return_path(tenant.id, "client.test", "bounces.client.test")
        .await
        .unwrap();
    (tenant.id, domain)
}

fn finding(domain: &SigningDomain, kind: RecordKind) -> &RecordFinding {
    domain
        .records
        .iter()
        .find(|finding| finding.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} finding in {:?}", domain.records))
}

fn outcomes(domain: &SigningDomain) -> Vec<(RecordKind, RecordOutcome)> {
    domain
        .records
        .iter()
        .map(|finding| (finding.kind, finding.outcome))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spf_dmarc_and_the_return_path_are_rechecked_with_findings_events_and_the_grace_period() {
    use RecordKind::*;
    use RecordOutcome::*;
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let mut world = World {
            dns: TestDns::start(Zone::new()).await.unwrap(),
            clock: Arc::new(TestClock(AtomicI64::new(1_800_000_000))),
            base: Zone::new(),
        };
        let service = service(&world.dns, world.clock.clone(), store).await;
        let (tenant, domain) = tenant_with_domain(&service, &mut world).await;
        let domains = service.signing_domains();
        let recheck = || async {
            domains
                .recheck_domain(tenant, domain.id)
                .await
                .unwrap()
                .domain
        };
        let mut published = Published {
            spf: true,
            dmarc: false,
            return_path_mx: "inbound.platform.test",
            servfail_domain: false,
        };
        world.publish(&published);

        // DKIM verifies the domain; DMARC, never published, is shown but does not count.
        let checked = recheck().await;
        assert_eq!(checked.dns.state, DnsState::Verified);
        assert_eq!(
            outcomes(&checked),
            [
                (Spf, Found),
                (Dmarc, Missing),
                (ReturnPathMx, Found),
                (ReturnPathSpf, Found)
            ]
        );
        // The return path's records found: delivery uses it from now on.
        let return_path = || async {
            service
                .feedback()
                .return_path(tenant, "client.test")
                .await
                .unwrap()
                .verified_at
        };
        assert_eq!(return_path().await, Some(world.clock.now()));
        let spf = finding(&checked, Spf);
        assert_eq!(spf.checked_at, world.clock.now());
        assert!(spf.detail.contains(DOMAIN_SPF), "{spf:?}");
        assert!(!finding(&checked, Dmarc).watched());
        world.advance(HOUR);
        assert_eq!(recheck().await.dns.state, DnsState::Verified);

        // DMARC published: a change, and watched from now on.
        published.dmarc = true;
        world.publish(&published);
        world.advance(HOUR);
        let checked = recheck().await;
        assert_eq!(finding(&checked, Dmarc).outcome, Found);
        assert_eq!(checked.dns.state, DnsState::Verified);

        // SPF removed from the verified domain: warning at once, with the record named.
        published.spf = false;
        world.publish(&published);
        world.advance(HOUR);
        let lost_at = world.clock.now();
        let checked = recheck().await;
        assert_eq!(checked.dns.state, DnsState::Warning);
        assert_eq!(finding(&checked, Spf).outcome, Missing);
        assert_eq!(finding(&checked, Spf).settled_since, Some(lost_at));
        let summary = checked.dns.last_check.unwrap().summary;
        assert!(summary.starts_with("SPF at client.test"), "{summary}");

        // SERVFAIL for the domain's name, well past the grace period: never failed.
        published.servfail_domain = true;
        world.publish(&published);
        for _ in 0..4 {
            world.advance(24 * HOUR);
            let checked = recheck().await;
            assert_eq!(checked.dns.state, DnsState::Warning);
            let spf = finding(&checked, Spf);
            assert_eq!((spf.outcome, spf.settled), (Temporary, Some(Missing)));
        }

        // DNS answers again, still without SPF, past the grace period: failed.
        published.servfail_domain = false;
        world.publish(&published);
        world.advance(HOUR);
        assert_eq!(recheck().await.dns.state, DnsState::Failed);

        // Restored: verified again.
        published.spf = true;
        world.publish(&published);
        world.advance(HOUR);
        let checked = recheck().await;
        assert_eq!(checked.dns.state, DnsState::Verified);
        assert_eq!(finding(&checked, Spf).outcome, Found);

        // The return path's MX moved elsewhere: wrong, a warning, and counted by the summary.
        published.return_path_mx = "mx.elsewhere.test";
        world.publish(&published);
        world.advance(HOUR);
        let summary = domains
            .recheck_all(Some(tenant), RecheckLimits::default(), &|_, _| {})
            .await
            .unwrap();
        assert_eq!(
            (
                summary.spf_problems,
                summary.dmarc_problems,
                summary.return_path_problems
            ),
            (0, 0, 1),
            "{summary:?}"
        );
        let checked = domains.signing_domain(tenant, domain.id).await.unwrap();
        assert_eq!(checked.dns.state, DnsState::Warning);
        let mx = finding(&checked, ReturnPathMx);
        assert_eq!(mx.outcome, Wrong);
        assert!(mx.detail.contains("mx.elsewhere.test"), "{mx:?}");
        // Its bounces would go elsewhere: delivery stops using it at once.
        assert_eq!(return_path().await, None);

        // Back at the platform: used again.
        published.return_path_mx = "inbound.platform.test";
        world.publish(&published);
        world.advance(HOUR);
        let checked = recheck().await;
        assert_eq!(finding(&checked, ReturnPathMx).outcome, Found);
        assert_eq!(return_path().await, Some(world.clock.now()));

        let history = domains.domain_history(tenant, domain.id).await.unwrap();
        let kinds: Vec<(&str, &str)> = history
            .iter()
            .rev()
            .filter(|event| event.kind.starts_with("domain."))
            .map(|event| (event.kind.as_str(), event.detail.as_str()))
            .collect();
        let expected = [
            ("domain.verified", "from pending to verified"),
            (
                "domain.record_changed",
                "DMARC record at _dmarc.client.test went from missing to found",
            ),
            (
                "domain.record_changed",
                "SPF record at client.test went from found to missing",
            ),
            ("domain.warning", "from verified to warning"),
            ("domain.failed", "from warning to failed"),
            (
                "domain.record_changed",
                "SPF record at client.test went from missing to found",
            ),
            ("domain.verified", "from failed to verified"),
            (
                "domain.record_changed",
                "Return-path MX record at bounces.client.test went from found to wrong",
            ),
            ("domain.warning", "from verified to warning"),
            (
                "domain.record_changed",
                "Return-path MX record at bounces.client.test went from wrong to found",
            ),
            ("domain.verified", "from warning to verified"),
        ];
        assert_eq!(kinds.len(), expected.len(), "{kinds:#?}");
        for ((kind, detail), (expected_kind, expected_detail)) in kinds.iter().zip(expected) {
            assert_eq!(*kind, expected_kind, "{kinds:#?}");
            assert!(detail.contains(expected_detail), "{detail}");
        }
    }
}
