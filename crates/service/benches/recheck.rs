//! The scheduled DNS re-check's speed (SPEC S11.2): 1,000 signing domains of 100 tenants, each
//! with its key's DKIM record, its SPF record (including the platform's) and its DMARC record
//! served by a DNS server on loopback, re-checked by `recheck_all` at the node's default
//! concurrency on SQLite with durable commits (each domain's new state and record findings are
//! committed). Beside it, in the same run, the reference: the 1,000 DKIM TXT lookups made by the
//! resolver alone at the same concurrency, the least a DKIM-only re-check must spend (SPF and
//! DMARC add about five lookups per domain to the re-check). The goal is 1,000 domains in under
//! 5 s.
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
const INCLUDE_HOST: &str = "_spf.platform.bench.test";
const SPF: &str = "v=spf1 include:_spf.platform.bench.test ~all";

fn domain_name(tenant: usize, domain: usize) -> String {
    format!("d{domain}.t{tenant}.bench.test")
}

fn record_name(tenant: usize, domain: usize) -> String {
    format!("workplace._domainkey.{}", domain_name(tenant, domain))
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
    let mut zone = Zone::new();
    let mut names = Vec::new();
    for tenant in 0..TENANTS {
        for domain in 0..DOMAINS_PER_TENANT {
            zone = zone
                .txt_split(&record_name(tenant, domain), &value)
                .txt(&domain_name(tenant, domain), &[SPF])
                .txt(
                    &format!("_dmarc.{}", domain_name(tenant, domain)),
                    &["v=DMARC1; p=quarantine"],
                );
            names.push(record_name(tenant, domain));
        }
    }
    zone = zone.txt(INCLUDE_HOST, &["v=spf1 ip4:192.0.2.0/24 -all"]);
    let dns = TestDns::start(zone).await.expect("DNS server");
    let directory = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", directory.path().join("bench.db").display());
    let store = Store::connect(&url).await.expect("SQLite store");
    let service = Service::open(
        store,
        Vault::new(MasterKey::generate()),
        Arc::new(SystemClock),
        resolver(&dns),
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
                pem: &pem,
                password: None,
            };
            domains.import_key(id, added.id, import).await.expect("key");
        }
    }
    let total = names.len();
    let concurrency = RecheckSettings::default().concurrency;
    println!("{total} signing domains of {TENANTS} tenants, concurrency {concurrency}, SQLite");
    let lookups = resolver(&dns);
    for round in 1..=ROUNDS {
        let reference = bare_lookups(&lookups, &names, concurrency).await;
        let started = Instant::now();
        let summary = service
            .signing_domains()
            .recheck_all(None, concurrency, &|_, _| {})
            .await
            .expect("re-check");
        let took = started.elapsed();
        assert_eq!(summary.checked, total, "{:?}", summary.errors);
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
    // The records carry the keys, so every domain is verified by now, and SPF and DMARC were
    // found.
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
