//! The re-check's politeness towards the name servers of tenants' domains (SPEC S11.2), against
//! a DNS server on loopback that serves two providers' zones and slows down the DKIM names of
//! every domain while counting how many of each provider's are in flight: no provider ever sees
//! more domains at once than the per-nameserver limit, the other provider's domains go ahead
//! while the first is at its limit, and a domain whose servers cannot be found is still checked.

use std::sync::Arc;
use std::time::Duration;

use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_domain::{DnsState, TenantId};
use sealpost_service::{KeyImport, RecheckLimits, Service, SystemClock};
use sealpost_store::testing;
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

/// How long the server holds each answer for a DKIM name.
const DELAY: Duration = Duration::from_millis(80);

const LIMITS: RecheckLimits = RecheckLimits {
    concurrency: 4,
    per_nameserver: 2,
};

/// The domains at the busy provider, the other provider and neither, and the group each counts
/// under. `mail.a00.test` has no NS records of its own: its zone is `a00.test`'s.
fn domain_groups() -> Vec<(String, &'static str)> {
    let mut domains: Vec<(String, &'static str)> = (0..11)
        .map(|number| (format!("a{number:02}.test"), "busy"))
        .collect();
    domains.push(("mail.a00.test".to_owned(), "busy"));
    domains.push(("b0.test".to_owned(), "other"));
    domains.push(("b1.test".to_owned(), "other"));
    // No NS record anywhere above them, or a server failure when asked: both are limited under
    // their parent name.
    domains.push(("lost.nowhere.test".to_owned(), "nowhere"));
    domains.push(("flaky.nowhere.test".to_owned(), "nowhere"));
    domains
}

fn nameservers(domain: &str) -> &'static [&'static str] {
    match domain.as_bytes()[0] {
        b'a' => &["ns1.busy-host.test", "ns2.busy-host.test"],
        b'b' => &["ns.other-host.test"],
        _ => &[],
    }
}

async fn service(dns: &TestDns, store: sealpost_store::Store) -> Service {
    let resolver = Resolver::new(&ResolverConfig {
        nameserver: Some(dns.addr()),
        cache: false,
        attempts: 1,
        ..ResolverConfig::default()
    })
    .unwrap();
    Service::open(
        store,
        Vault::new(MasterKey::generate()),
        Arc::new(SystemClock),
        resolver,
    )
    .await
    .unwrap()
}

fn fixture_key() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vault/resources/keys/rsa2048-pkcs8.pem"
    ))
    .unwrap()
}

/// Adds every domain with the fixture key to one tenant, and the zone that publishes their DKIM
/// records (slow, counted by group) under their providers' NS records.
async fn tenant_with_domains(service: &Service) -> (TenantId, Zone) {
    let tenant = service.accounts().create_tenant("acme", "").await.unwrap();
    let domains = service.signing_domains();
    let pem = fixture_key();
    let mut zone = Zone::new().servfail("flaky.nowhere.test");
    for (name, group) in domain_groups() {
        let added = domains
            .add_signing_domain(tenant.id, &name, "workplace")
            .await
            .unwrap();
        let import = KeyImport {
            pem: &pem,
            password: None,
        };
        let keyed = domains
            .import_key(tenant.id, added.id, import)
            .await
            .unwrap();
        let key = keyed.keys.last().unwrap().id;
        let record = domains.key_record(tenant.id, added.id, key).await.unwrap();
        zone = zone
            .txt_split(&record.name, &record.value)
            .slow(&record.name, group, DELAY);
        if !name.starts_with("mail.") {
            for host in nameservers(&name) {
                zone = zone.ns(&name, host);
            }
        }
    }
    (tenant.id, zone)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_providers_domains_are_checked_a_few_at_a_time_while_the_others_go_ahead() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let dns = TestDns::start(Zone::new()).await.unwrap();
        let service = service(&dns, store).await;
        let (tenant, zone) = tenant_with_domains(&service).await;
        dns.replace(zone).unwrap();
        let domains = service.signing_domains();
        let summary = domains
            .recheck_all(Some(tenant), LIMITS, &|_, _| {})
            .await
            .unwrap();

        // Every domain was checked and its record found, the fallen-back ones included.
        let total = domain_groups().len();
        assert_eq!(
            (summary.checked, summary.found),
            (total, total),
            "{summary:?}"
        );
        assert!(summary.errors.is_empty(), "{:?}", summary.errors);
        let listed = domains.list_signing_domains(tenant).await.unwrap();
        assert!(
            listed
                .iter()
                .all(|domain| domain.dns.state == DnsState::Verified),
            "{listed:?}"
        );

        // No provider ever had more of its domains in flight than the limit, and the busy one
        // was held at it.
        assert_eq!(dns.peak_in_flight("busy"), LIMITS.per_nameserver);
        assert!(dns.peak_in_flight("other") <= LIMITS.per_nameserver);
        assert!(dns.peak_in_flight("nowhere") <= LIMITS.per_nameserver);

        // Each domain asks its DKIM name twice (for a CNAME, then for the TXT record), one after
        // the other. The other provider's domains were not kept waiting behind the busy
        // provider's queue: all their queries arrived before the busy provider's second half.
        let arrivals = dns.slow_arrivals();
        let busy_total = arrivals.iter().filter(|group| *group == "busy").count();
        assert_eq!(busy_total, 2 * 12, "{arrivals:?}");
        let last_other = arrivals.iter().rposition(|group| group == "other").unwrap();
        let busy_before = arrivals[..last_other]
            .iter()
            .filter(|group| *group == "busy")
            .count();
        assert!(
            busy_before <= busy_total / 2,
            "the other provider waited behind the busy one: {arrivals:?}"
        );
    }
}
