//! The scheduled DNS re-check's speed (SPEC S11.2): 1,000 signing domains of 100 tenants, each
//! with its key's DKIM record, its SPF record (including the platform's) and its DMARC record
//! served by a DNS server on loopback, re-checked by `recheck_all` at the node's default limits
//! on SQLite with durable commits (each domain's new state and record findings are committed).
//! Each domain's zone has NS records: the tenants' domains are spread over 20 DNS providers, so
//! the per-nameserver limit rarely holds a domain back. Beside it, in the same run, the
//! reference: the 1,000 DKIM TXT lookups made by the resolver alone at the same concurrency, the
//! least a DKIM-only re-check must spend (SPF and DMARC add about five lookups per domain, and
//! finding the domain's name servers one, to the re-check). The goal is 1,000 domains in under
//! 5 s. Last rounds move every domain to one provider, and then slow every provider's answers
//! down to 5 ms, spread and at one provider, where the per-nameserver limit sets the pace.
//!   cargo bench -p sealpost-service --bench recheck

use std::sync::Arc;
use std::time::{Duration, Instant};

use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_dnsauth::report::PlatformSpf;
use sealpost_domain::{DnsState, RecordOutcome, SystemClock};
use sealpost_service::{KeyImport, RecheckSettings, Service};
use sealpost_store::Store;
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const TENANTS: usize = 100;
const DOMAINS_PER_TENANT: usize = 10;
const ROUNDS: usize = 3;
/// The DNS providers the tenants' domains are spread over, a tenant's domains at one provider.
const PROVIDERS: usize = 20;
/// How long the providers' servers take to answer in the last rounds.
const LATENCY: Duration = Duration::from_millis(5);
const INCLUDE_HOST: &str = "_spf.platform.bench.test";
const SPF: &str = "v=spf1 include:_spf.platform.bench.test ~all";

fn domain_name(tenant: usize, domain: usize) -> String {
    format!("d{domain}.t{tenant}.bench.test")
}

fn record_name(tenant: usize, domain: usize) -> String {
    format!("workplace._domainkey.{}", domain_name(tenant, domain))
}

/// The name servers of the domains of `tenant` when the domains are spread over `providers`.
fn nameservers(tenant: usize, providers: usize) -> [String; 2] {
    let provider = tenant % providers;
    [1, 2].map(|server| format!("ns{server}.provider{provider}.bench.test"))
}

/// Every domain's records, with its zone's NS records at `providers` providers, answered after
/// `latency` (as from servers across the Internet rather than on loopback) when one is given.
fn zone(value: &str, providers: usize, latency: Option<Duration>) -> Zone {
    let mut zone = Zone::new().txt(INCLUDE_HOST, &["v=spf1 ip4:192.0.2.0/24 -all"]);
    for tenant in 0..TENANTS {
        for domain in 0..DOMAINS_PER_TENANT {
            let name = domain_name(tenant, domain);
            let record = record_name(tenant, domain);
            let dmarc = format!("_dmarc.{name}");
            zone = zone
                .txt_split(&record, value)
                .txt(&name, &[SPF])
                .txt(&dmarc, &["v=DMARC1; p=quarantine"]);
            let [first, second] = nameservers(tenant, providers);
            zone = zone.ns(&name, &first).ns(&name, &second);
            if let Some(latency) = latency {
                for slow in [&name, &record, &dmarc] {
                    zone = zone.slow(slow, &first, latency);
                }
            }
        }
    }
    zone
}

fn resolver(dns: &TestDns) -> Resolver {
    // No cache: every round asks the server, as a re-check hours apart does.
    Resolver::new(&ResolverConfig {
        nameserver: Some(dns.addr()),
        cache: false,
        ..ResolverConfig::default()
    })
    .expect("resolver")
}

/// The reference: every record looked up once by the resolver alone, `concurrency` at a time.
async fn bare_lookups(resolver: &Resolver, names: &[String], concurrency: usize) -> Duration {
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut running = JoinSet::new();
    let started = Instant::now();
    for name in names {
        let (resolver, name, permits) = (resolver.clone(), name.clone(), Arc::clone(&permits));
        running.spawn(async move {
            let _permit = permits.acquire_owned().await;
            assert!(!resolver.txt(&name).await.expect("TXT answer").is_empty());
        });
    }
    while let Some(done) = running.join_next().await {
        done.expect("lookup task");
    }
    started.elapsed()
}

/// One re-check of every domain at the default limits, which must check them all.
async fn recheck(service: &Service, total: usize) -> Duration {
    let started = Instant::now();
    let summary = service
        .signing_domains()
        .recheck_all(None, RecheckSettings::default().limits, &|_, _| {})
        .await
        .expect("re-check");
    assert_eq!(summary.checked, total, "{:?}", summary.errors);
    started.elapsed()
}

/// A service on SQLite in `directory` with every tenant and its domains, each with the key `pem`.
async fn service_with_domains(dns: &TestDns, directory: &std::path::Path, pem: &str) -> Service {
    let url = format!("sqlite://{}", directory.join("bench.db").display());
    let store = Store::connect(&url).await.expect("SQLite store");
    let service = Service::open(
        store,
        Vault::new(MasterKey::generate()),
        Arc::new(SystemClock),
        resolver(dns),
    )
    .await
    .expect("service")
    .with_platform(Some(PlatformSpf {
        include_host: INCLUDE_HOST.to_owned(),
        networks: vec!["192.0.2.0/24".parse().expect("network")],
    }));
    for tenant in 0..TENANTS {
        let id = service
            .accounts()
            .create_tenant(&format!("tenant-{tenant}"), "")
            .await
            .expect("tenant")
            .id;
        for domain in 0..DOMAINS_PER_TENANT {
            let domains = service.signing_domains();
            let added = domains
                .add_signing_domain(id, &domain_name(tenant, domain), "workplace")
                .await
                .expect("signing domain");
            let import = KeyImport {
                pem,
                password: None,
            };
            domains.import_key(id, added.id, import).await.expect("key");
        }
    }
    service
}

/// The records carry the keys, so every domain is verified by now, and SPF and DMARC were found.
async fn assert_verified(service: &Service) {
    let first = service
        .accounts()
        .find_tenant("tenant-0")
        .await
        .expect("tenant");
    let domains = service
        .signing_domains()
        .list_signing_domains(first.id)
        .await
        .expect("domains");
    assert!(
        domains
            .iter()
            .all(|domain| domain.dns.state == DnsState::Verified
                && domain.records.len() == 2
                && domain
                    .records
                    .iter()
                    .all(|finding| finding.outcome == RecordOutcome::Found)),
        "{:?}",
        domains[0].records
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vault/resources/keys/rsa2048-pkcs8.pem"
    ))
    .expect("fixture key");
    let key = Vault::new(MasterKey::generate())
        .import(&pem, None)
        .expect("fixture key imports");
    let value = sealpost_domain::dkim_txt_value(&key.public_key_der());
    let names: Vec<String> = (0..TENANTS)
        .flat_map(|tenant| (0..DOMAINS_PER_TENANT).map(move |domain| record_name(tenant, domain)))
        .collect();
    let dns = TestDns::start(zone(&value, PROVIDERS, None))
        .await
        .expect("DNS server");
    let directory = tempfile::tempdir().expect("temporary directory");
    let service = service_with_domains(&dns, directory.path(), &pem).await;
    let total = names.len();
    let limits = RecheckSettings::default().limits;
    println!(
        "{total} signing domains of {TENANTS} tenants at {PROVIDERS} DNS providers, \
         concurrency {} ({} per provider), SQLite",
        limits.concurrency, limits.per_nameserver
    );
    let lookups = resolver(&dns);
    for round in 1..=ROUNDS {
        let reference = bare_lookups(&lookups, &names, limits.concurrency).await;
        let took = recheck(&service, total).await;
        println!(
            "round {round}: re-check {:7.3} s ({:6.0} domains/s), {:.1}x the bare lookups \
             ({:.3} s); goal under 5 s: {}",
            took.as_secs_f64(),
            total as f64 / took.as_secs_f64(),
            took.as_secs_f64() / reference.as_secs_f64(),
            reference.as_secs_f64(),
            if took < Duration::from_secs(5) {
                "met"
            } else {
                "NOT met"
            },
        );
    }
    // On loopback the database sets the pace; with answers that take a few milliseconds, as
    // over the Internet, the per-nameserver limit does.
    for (providers, latency) in [(1, None), (PROVIDERS, Some(LATENCY)), (1, Some(LATENCY))] {
        dns.replace(zone(&value, providers, latency))
            .expect("the zone");
        let took = recheck(&service, total).await;
        println!(
            "{providers:2} provider(s), answers after {:2} ms: re-check {:7.3} s ({:6.0} domains/s)",
            latency.unwrap_or_default().as_millis(),
            took.as_secs_f64(),
            total as f64 / took.as_secs_f64(),
        );
    }
    assert_verified(&service).await;
}
