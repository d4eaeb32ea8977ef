//! Automatic DKIM key rotation (SPEC S11.1) through the service on both backends, against a
//! real DNS server on loopback and a clock the test moves: a tenant rotating every 180 days gets
//! nothing at day 179 and one pending key with its `key.rotation_started` event at day 181, and
//! no second one on the next pass; once the new record is published the re-check promotes the
//! key and the old one retires as after any rotation. A tenant with rotation off is never
//! touched, and a number of days outside the range is refused and nothing stored.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_domain::{
    KeyAlgorithm, KeyRotation, KeyState, SigningDomain, TenantId, Timestamp, rotation_schedule,
};
use sealpost_service::{Clock, DnsGate, RecheckSettings, RotationSettings, Service, ServiceError};
use sealpost_store::{Store, testing};
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

const DAY: i64 = 24 * 3600;

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

/// The DNS server and the records published in it: each tenant's proof and key records.
struct World {
    dns: TestDns,
    clock: Arc<TestClock>,
    published: Vec<(String, String)>,
}

impl World {
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
            Vault::new(MasterKey::generate()),
            self.clock.clone(),
            resolver,
        )
        .await
        .unwrap()
    }

    fn publish(&mut self, name: &str, value: &str) {
        self.published.push((name.to_owned(), value.to_owned()));
        let zone = self
            .published
            .iter()
            .fold(Zone::new(), |zone, (name, value)| {
                zone.txt_split(name, value)
            });
        self.dns.replace(zone).unwrap();
    }

    /// Publishes the record of the domain's key under `selector`.
    async fn publish_key(&mut self, service: &Service, domain: &SigningDomain, selector: &str) {
        let current = service
            .signing_domains()
            .signing_domain(domain.tenant_id, domain.id)
            .await
            .unwrap();
        let key = current
            .keys
            .iter()
            .find(|key| key.selector.as_str() == selector)
            .unwrap();
        let record = service
            .signing_domains()
            .key_record(domain.tenant_id, domain.id, key.id)
            .await
            .unwrap();
        self.publish(&record.name, &record.value);
    }

    /// A tenant with `domain` proven, a key published and signing switched on, now.
    async fn signing_tenant(
        &mut self,
        service: &Service,
        name: &str,
        domain: &str,
    ) -> (TenantId, SigningDomain) {
        let domains = service.signing_domains();
        let tenant = service.accounts().create_tenant(name, "").await.unwrap().id;
        let signing = domains
            .add_signing_domain(tenant, domain, "workplace")
            .await
            .unwrap();
        let proof = domains.add_sending_domain(tenant, domain).await.unwrap();
        self.publish(&proof.record_name(), &proof.record_value());
        domains.generate_key(tenant, signing.id).await.unwrap();
        self.publish_key(service, &signing, "workplace").await;
        let active = domains
            .activate(tenant, signing.id, DnsGate::RequireRecord)
            .await
            .unwrap();
        (tenant, active)
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
async fn a_key_older_than_the_period_gets_one_successor_which_dns_promotes() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let mut world = World {
            dns: TestDns::start(Zone::new()).await.unwrap(),
            clock: Arc::new(TestClock(AtomicI64::new(1_800_000_000))),
            published: Vec::new(),
        };
        let service = world.service(store).await;
        let domains = service.signing_domains();
        let (tenant, domain) = world.signing_tenant(&service, "acme", "client.test").await;
        let (quiet, quiet_domain) = world.signing_tenant(&service, "quiet", "other.test").await;
        let rotation = domains.set_key_rotation(tenant, Some(180)).await.unwrap();
        assert_eq!(domains.key_rotation(tenant).await.unwrap(), rotation);
        assert_eq!(domains.key_rotation(quiet).await.unwrap(), KeyRotation::Off);
        let period = rotation.period().unwrap();
        let schedule = rotation_schedule(&domain, period);
        assert_eq!(schedule.len(), 1);
        assert_eq!(schedule[0].algorithm, KeyAlgorithm::Rsa);
        assert_eq!(schedule[0].at, Timestamp(world.clock.now().0 + 180 * DAY));

        let lease = RecheckSettings::default();
        let settings = RotationSettings::default();
        let pass = || async {
            domains
                .scheduled_rotation("a", &lease, &settings)
                .await
                .unwrap()
                .unwrap()
        };
        let current = || async { domains.signing_domain(tenant, domain.id).await.unwrap() };

        // Day 179: not due.
        world.clock.advance(179 * DAY);
        assert_eq!(pass().await.started, Vec::<String>::new());
        assert_eq!(
            states(&current().await),
            [("workplace".into(), KeyState::Active)]
        );

        // Day 181: one pending key under a new selector, with the event that says what to
        // publish; the old key keeps signing.
        world.clock.advance(2 * DAY);
        let first = pass().await;
        assert_eq!(first.started, ["client.test: workplace2"]);
        assert!(first.errors.is_empty(), "{:?}", first.errors);
        let rotated = current().await;
        assert_eq!(
            states(&rotated),
            [
                ("workplace".into(), KeyState::Active),
                ("workplace2".into(), KeyState::Pending)
            ]
        );
        let history = domains.domain_history(tenant, domain.id).await.unwrap();
        let notice = history
            .iter()
            .find(|event| event.kind == "key.rotation_started")
            .expect("the rotation is an event");
        let record = domains
            .key_record(tenant, domain.id, rotated.keys[1].id)
            .await
            .unwrap();
        assert!(
            notice
                .detail
                .contains("Publish the TXT record workplace2._domainkey.client.test")
                && notice.detail.contains(&record.value),
            "{}",
            notice.detail
        );
        assert_eq!(notice.key_id, Some(rotated.keys[1].id));
        assert!(
            history
                .iter()
                .any(|event| event.kind == "key.pending" && event.key_id == notice.key_id),
            "the state change is an event too"
        );

        // The next pass finds the key waiting and adds no second one.
        world.clock.advance(DAY);
        assert_eq!(pass().await, Default::default());
        assert_eq!(current().await.keys.len(), 2);
        assert!(rotation_schedule(&current().await, period).is_empty());

        // Published: the re-check promotes it and the old key starts retiring.
        world.publish_key(&service, &domain, "workplace2").await;
        let recheck = domains.recheck_domain(tenant, domain.id).await.unwrap();
        assert_eq!(
            states(&recheck.domain),
            [
                ("workplace".into(), KeyState::Retiring),
                ("workplace2".into(), KeyState::Active)
            ]
        );
        let next = rotation_schedule(&recheck.domain, period);
        assert_eq!(next[0].at, Timestamp(world.clock.now().0 + 180 * DAY));

        // The tenant with rotation off was never touched, its key far past 180 days.
        let untouched = domains
            .signing_domain(quiet, quiet_domain.id)
            .await
            .unwrap();
        assert_eq!(untouched.version, quiet_domain.version);
        assert_eq!(states(&untouched), [("workplace".into(), KeyState::Active)]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_period_outside_the_range_is_refused_and_nothing_is_stored() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let world = World {
            dns: TestDns::start(Zone::new()).await.unwrap(),
            clock: Arc::new(TestClock(AtomicI64::new(1_800_000_000))),
            published: Vec::new(),
        };
        let service = world.service(store).await;
        let domains = service.signing_domains();
        let tenant = service
            .accounts()
            .create_tenant("acme", "")
            .await
            .unwrap()
            .id;
        domains.set_key_rotation(tenant, Some(90)).await.unwrap();
        for days in [29, 731, 0, -1] {
            match domains.set_key_rotation(tenant, Some(days)).await {
                Err(ServiceError::Invalid { field, message }) => {
                    assert_eq!(field, "every_days");
                    assert!(message.contains("from 30 to 730"), "{message}");
                }
                other => panic!("{days} days: {other:?}"),
            }
        }
        let kept = domains.key_rotation(tenant).await.unwrap();
        assert_eq!(kept.period().map(|period| period.days()), Some(90));
        assert_eq!(
            domains.set_key_rotation(tenant, None).await.unwrap(),
            KeyRotation::Off
        );
        assert_eq!(
            domains.key_rotation(tenant).await.unwrap(),
            KeyRotation::Off
        );
    }
}
