//! The platform's own health (`sealpost doctor`, `GET /api/v1/platform/health`): gathers what
//! the judges of `dnsauth::doctor` need (DNS answers, an outbound connection, the certificate
//! file, the database's schema, the master key's check value) and returns their checks. The
//! checks that need no database are free functions too, so the CLI can run them when the
//! database or the master key is what is broken.

mod certificate;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use sealpost_dns::Resolver;
use sealpost_dnsauth::doctor::{self, Check, CheckKind, CheckStatus, Connection, Verdict};
use sealpost_dnsauth::spf::Network;
use sealpost_domain::Timestamp;
use sealpost_store::Store;
use sealpost_vault::Vault;

use sealpost_store::MASTER_KEY_CHECK;

use crate::Platform;

/// What the operator configured about the platform itself.
#[derive(Debug, Clone, Default)]
pub struct PlatformSettings {
    /// The EHLO name, which each sending address's PTR must name.
    pub helo_name: String,
    /// The networks the platform sends from.
    pub sending_networks: Vec<Network>,
    /// The SPF include host every tenant's record names.
    pub spf_include_host: Option<String>,
    /// The platform's own domain, whose DKIM record is checked when `dkim_tenant` is set.
    pub domain: Option<String>,
    /// The tenant that signs the platform's own mail for `domain`.
    pub dkim_tenant: Option<String>,
    /// The SMTP listener's certificate chain (PEM), when it has one.
    pub tls_certificate: Option<PathBuf>,
    /// Where outbound SMTP is probed.
    pub probe: Probe,
}

/// The outbound probe's target: the first MX host of `domain` on `port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub domain: String,
    pub port: u16,
    pub timeout: Duration,
}

impl Default for Probe {
    fn default() -> Self {
        Self {
            domain: "gmail.com".to_owned(),
            port: 25,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Whether the checks may open a connection to a remote mail server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Online,
    /// No outbound connection (tests, or a host that must not try one); its check is skipped.
    Offline,
}

/// Every check and the verdict over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformHealth {
    pub checks: Vec<Check>,
    pub verdict: Verdict,
}

impl PlatformHealth {
    pub fn new(checks: Vec<Check>) -> Self {
        Self {
            verdict: Verdict::of(&checks),
            checks,
        }
    }
}

impl Platform {
    /// All checks, with this node's database, vault, resolver and clock.
    pub async fn health(&self, reach: Reach) -> PlatformHealth {
        let mut checks = self.local_checks().await;
        checks.extend(
            outside_checks(
                &self.resolver,
                &self.platform_settings,
                self.clock.now(),
                reach,
            )
            .await,
        );
        PlatformHealth::new(checks)
    }

    /// The checks that need the database: its schema, the master key, the platform's DKIM key.
    pub async fn local_checks(&self) -> Vec<Check> {
        vec![
            database_check(&self.store).await,
            master_key_check(&self.store, &self.vault).await,
            self.platform_dkim().await,
        ]
    }

    async fn platform_dkim(&self) -> Check {
        let settings = &self.platform_settings;
        let (Some(tenant), Some(domain)) = (&settings.dkim_tenant, &settings.domain) else {
            return Check::new(CheckKind::PlatformDkim, CheckStatus::Skipped, "platform")
                .found("platform.dkim_tenant is not set: no tenant signs the platform's own mail");
        };
        let not_found = |error: crate::ServiceError| {
            Check::new(CheckKind::PlatformDkim, CheckStatus::Fail, domain.clone())
                .found(error.to_string())
                .fix(format!(
                    "Add {domain} as a signing domain of tenant {tenant} with a key, or correct \
                     platform.dkim_tenant."
                ))
        };
        let service = self.service();
        let tenant = match service.accounts().find_tenant(tenant).await {
            Ok(tenant) => tenant,
            Err(error) => return not_found(error),
        };
        let signing_domains = service.signing_domains();
        let found = match signing_domains
            .find_signing_domain(tenant.id, domain, None)
            .await
        {
            Ok(found) => found,
            Err(error) => return not_found(error),
        };
        match signing_domains
            .check_signing_domain_dns(tenant.id, found.id)
            .await
        {
            Ok(report) => match &report.dkim {
                Some(record) => doctor::platform_dkim(record),
                None => not_found(crate::ServiceError::NoKey),
            },
            Err(error) => Check::new(
                CheckKind::PlatformDkim,
                CheckStatus::Unknown,
                domain.clone(),
            )
            .found(error.to_string()),
        }
    }
}

/// The database answers and its schema is this version's.
pub async fn database_check(store: &Store) -> Check {
    let check = |status| Check::new(CheckKind::Database, status, store_name(store));
    match store.schema_state().await {
        Ok(state) if state.is_current() => {
            check(CheckStatus::Pass).found("reachable, every migration applied")
        }
        Ok(state) if !state.unknown.is_empty() => check(CheckStatus::Fail)
            .found(format!(
                "migrations {:?} come from a newer Sealpost",
                state.unknown
            ))
            .fix("Upgrade this node to the version the other nodes run."),
        Ok(state) => check(CheckStatus::Fail)
            .found(format!("migrations {:?} are not applied", state.pending))
            .fix("Start `sealpost serve` of this version once: it applies them at start-up."),
        Err(error) => database_unreachable(store_name(store), &error.to_string()),
    }
}

/// The check for a database that could not be opened at all.
pub fn database_unreachable(subject: &str, error: &str) -> Check {
    Check::new(CheckKind::Database, CheckStatus::Fail, subject)
        .found(error.to_owned())
        .fix("Check database_url, that the database server runs and accepts this user.")
}

fn store_name(store: &Store) -> &'static str {
    match store.backend() {
        sealpost_store::Backend::Sqlite => "SQLite",
        sealpost_store::Backend::Postgres => "PostgreSQL",
    }
}

/// The master key is the one the database's check value was sealed with.
pub async fn master_key_check(store: &Store, vault: &Vault) -> Check {
    let check = |status| Check::new(CheckKind::MasterKey, status, "master key");
    match store.meta(MASTER_KEY_CHECK).await {
        Ok(None) => check(CheckStatus::Pass)
            .found("present; the database has no check value yet (the first start records it)"),
        Ok(Some(stored)) => match crate::master_keys::verify(store, vault, &stored).await {
            Ok(()) => check(CheckStatus::Pass).found("present and the one the database expects"),
            Err(error) => check(CheckStatus::Fail).found(error.to_string()).fix(
                "Point master_key_file (or SEALPOST_MASTER_KEY) at the key this database's keys \
                 were sealed with; restore it from the backup if it is lost.",
            ),
        },
        Err(error) => check(CheckStatus::Unknown).found(error.to_string()),
    }
}

/// The check for a master key that could not be loaded.
pub fn master_key_missing(error: &str) -> Check {
    Check::new(CheckKind::MasterKey, CheckStatus::Fail, "master key")
        .found(error.to_owned())
        .fix(
            "Create one with `sealpost master-key generate --out /etc/sealpost/master.key` and \
             set master_key_file, or restore the existing one.",
        )
}

/// The checks that need neither the database nor the vault: reverse DNS, the SPF include, the
/// outbound probe and the certificate.
pub async fn outside_checks(
    resolver: &Resolver,
    settings: &PlatformSettings,
    now: Timestamp,
    reach: Reach,
) -> Vec<Check> {
    let mut checks = reverse_dns_checks(resolver, settings).await;
    checks.push(spf_include_check(resolver, settings).await);
    checks.push(outbound_check(resolver, &settings.probe, reach).await);
    checks.push(certificate::check(settings, now));
    checks
}

async fn reverse_dns_checks(resolver: &Resolver, settings: &PlatformSettings) -> Vec<Check> {
    if settings.sending_networks.is_empty() {
        return vec![
            Check::new(
                CheckKind::ReverseDns,
                CheckStatus::Fail,
                "platform.sending_ips",
            )
            .found("no sending addresses are configured")
            .fix("List the addresses this platform sends from in platform.sending_ips."),
        ];
    }
    let mut checks = Vec::new();
    for network in &settings.sending_networks {
        if !network.is_host() {
            checks.push(doctor::reverse_dns_of_network(network));
            continue;
        }
        let ip = network.address();
        checks.push(reverse_dns(resolver, ip, &settings.helo_name).await);
    }
    checks
}

async fn reverse_dns(resolver: &Resolver, ip: IpAddr, helo: &str) -> Check {
    let ptr = resolver.ptr(ip).await;
    let mut forward = Vec::new();
    for name in ptr.iter().flatten() {
        forward.push((name.clone(), resolver.ip(name).await));
    }
    doctor::reverse_dns(ip, helo, &ptr, &forward)
}

async fn spf_include_check(resolver: &Resolver, settings: &PlatformSettings) -> Check {
    let Some(include_host) = &settings.spf_include_host else {
        return Check::new(CheckKind::SpfInclude, CheckStatus::Fail, "platform.domain")
            .found("no SPF include host: platform.domain is not set")
            .fix("Set platform.domain (the include host is _spf.<domain>) or platform.spf_include_host.");
    };
    let answer = resolver.txt(include_host).await.map(|records| {
        records
            .iter()
            .map(|record| String::from_utf8_lossy(&record.joined()).into_owned())
            .collect()
    });
    doctor::spf_include(include_host, &answer, &settings.sending_networks)
}

async fn outbound_check(resolver: &Resolver, probe: &Probe, reach: Reach) -> Check {
    if reach == Reach::Offline {
        return Check::new(CheckKind::OutboundSmtp, CheckStatus::Skipped, &probe.domain)
            .found("offline mode: no connection was tried");
    }
    let connection =
        match sealpost_delivery::probe_smtp(resolver, &probe.domain, probe.port, probe.timeout)
            .await
        {
            Ok(target) => Connection::Opened(target),
            Err(sealpost_delivery::ProbeFailure::NoTarget(error)) => Connection::NoTarget(error),
            Err(sealpost_delivery::ProbeFailure::Connection { target, error }) => {
                Connection::Failed { target, error }
            }
        };
    doctor::outbound_smtp(&probe.domain, &connection)
}
