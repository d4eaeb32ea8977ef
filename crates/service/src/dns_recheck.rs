//! The re-check of every signing domain of every tenant (SPEC S11.2): on a schedule, by the one
//! node of the cluster that holds the re-check lease (any node takes over when the holder dies
//! and its lease runs out), or by hand for all domains or one tenant's. Domains are checked a
//! bounded number at a time, and only a few at a time of those served by the same name servers
//! ([`crate::nameserver_groups`]); each domain's own due time comes from the DNS policy (pending
//! domains every few minutes, verified ones every few hours).

use std::sync::Arc;
use std::time::Duration;

use sealpost_domain::{
    CheckOutcome, DomainName, RecordFinding, RecordKind, RecordOutcome, SigningDomainId, TenantId,
    Timestamp,
};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::nameserver_groups::{NameserverGroups, nameserver_key};
use crate::{ServiceError, SigningDomains};

/// The name of the cluster lease under which the scheduled re-check runs.
pub const RECHECK_LEASE: &str = "dns-recheck";

/// How many domains a re-check keeps in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecheckLimits {
    /// Domains checked at once (each check asks a few DNS names).
    pub concurrency: usize,
    /// Domains served by the same name servers checked at once, within `concurrency`.
    pub per_nameserver: usize,
}

impl Default for RecheckLimits {
    fn default() -> Self {
        Self {
            concurrency: 16,
            per_nameserver: 4,
        }
    }
}

/// How the scheduled re-check runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecheckSettings {
    /// How many domains are checked at once, in all and per name servers.
    pub limits: RecheckLimits,
    /// Due domains taken per batch; the lease is renewed between batches.
    pub batch: i64,
    /// How long a lease lasts without renewal: a dead holder's work moves after this.
    pub lease_seconds: i64,
    /// How often a node looks for due domains (and for a free lease).
    pub poll: Duration,
}

impl Default for RecheckSettings {
    fn default() -> Self {
        Self {
            limits: RecheckLimits::default(),
            batch: 500,
            lease_seconds: 60,
            poll: Duration::from_secs(20),
        }
    }
}

/// What a re-check run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecheckSummary {
    pub checked: usize,
    pub found: usize,
    pub missing: usize,
    pub temporary: usize,
    pub no_key: usize,
    /// Domains whose SPF record is missing or does not authorise the platform.
    pub spf_problems: usize,
    /// Domains whose DMARC record is missing, duplicated or broken.
    pub dmarc_problems: usize,
    /// Domains whose return-path domain lacks its MX or SPF record as needed.
    pub return_path_problems: usize,
    /// Each change as `domain: event kind`, in the order they were committed.
    pub changes: Vec<String>,
    /// Domains that could not be re-checked, with the reason (the next run tries again).
    pub errors: Vec<String>,
}

impl RecheckSummary {
    fn count(&mut self, outcome: CheckOutcome, records: &[RecordFinding]) {
        let problem = |kinds: &[RecordKind]| {
            records.iter().any(|finding| {
                kinds.contains(&finding.kind)
                    && matches!(
                        finding.outcome,
                        RecordOutcome::Missing | RecordOutcome::Wrong
                    )
            })
        };
        self.spf_problems += usize::from(problem(&[RecordKind::Spf]));
        self.dmarc_problems += usize::from(problem(&[RecordKind::Dmarc]));
        self.return_path_problems += usize::from(problem(&[
            RecordKind::ReturnPathMx,
            RecordKind::ReturnPathSpf,
        ]));
        self.checked += 1;
        match outcome {
            CheckOutcome::Found => self.found += 1,
            CheckOutcome::Missing => self.missing += 1,
            CheckOutcome::Temporary => self.temporary += 1,
            CheckOutcome::NoKey => self.no_key += 1,
        }
    }

    fn absorb(&mut self, other: RecheckSummary) {
        self.checked += other.checked;
        self.found += other.found;
        self.missing += other.missing;
        self.temporary += other.temporary;
        self.no_key += other.no_key;
        self.spf_problems += other.spf_problems;
        self.dmarc_problems += other.dmarc_problems;
        self.return_path_problems += other.return_path_problems;
        self.changes.extend(other.changes);
        self.errors.extend(other.errors);
    }
}

impl SigningDomains {
    /// Re-checks `targets` within `limits`, calling `progress(done, total)` after each.
    ///
    /// Each domain first finds its name servers (under a global permit, since the lookup is a
    /// query too), then waits for its servers' permit holding no global permit, and only then
    /// takes a global permit for the re-check itself: domains queued behind a busy provider
    /// leave the global permits to other providers' domains.
    pub async fn recheck_many(
        &self,
        targets: Vec<(TenantId, SigningDomainId, DomainName)>,
        limits: RecheckLimits,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> RecheckSummary {
        let total = targets.len();
        let permits = Arc::new(Semaphore::new(limits.concurrency.max(1)));
        let groups = Arc::new(NameserverGroups::new(limits.per_nameserver));
        let mut running = JoinSet::new();
        for (tenant, id, domain) in targets {
            let this = self.clone();
            let permits = Arc::clone(&permits);
            let groups = Arc::clone(&groups);
            running.spawn(async move {
                let key = {
                    let _permit = permits.acquire().await;
                    nameserver_key(&this.resolver, &domain).await
                };
                let _group = groups.semaphore(key).acquire_owned().await;
                let _permit = permits.acquire_owned().await;
                (id, this.recheck_domain(tenant, id).await)
            });
        }
        let mut summary = RecheckSummary::default();
        while let Some(joined) = running.join_next().await {
            match joined {
                Ok((_, Ok(recheck))) => {
                    summary.count(recheck.outcome, &recheck.domain.records);
                    summary.changes.extend(
                        recheck
                            .events
                            .iter()
                            .map(|event| format!("{}: {}", recheck.domain.domain, event.kind())),
                    );
                }
                Ok((id, Err(error))) => summary
                    .errors
                    .push(format!("{id}: {}", error.public_message())),
                Err(error) => summary.errors.push(format!("a re-check stopped: {error}")),
            }
            progress(summary.checked + summary.errors.len(), total);
        }
        summary
    }

    /// Re-checks every signing domain of one tenant, or of all tenants, now.
    pub async fn recheck_all(
        &self,
        tenant: Option<TenantId>,
        limits: RecheckLimits,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<RecheckSummary, ServiceError> {
        if let Some(tenant) = tenant {
            self.service().accounts().tenant(tenant).await?;
        }
        let targets = self.store.signing_domain_ids(tenant).await?;
        Ok(self.recheck_many(targets, limits, progress).await)
    }

    /// One round of the schedule on the node `node`: when it holds (or can take) the lease, it
    /// re-checks the domains that are due, batch by batch, renewing the lease between batches.
    /// `None` when another node holds the lease.
    pub async fn scheduled_recheck(
        &self,
        node: &str,
        settings: &RecheckSettings,
    ) -> Result<Option<RecheckSummary>, ServiceError> {
        let mut summary = RecheckSummary::default();
        loop {
            let now = self.clock.now();
            let until = Timestamp(now.0 + settings.lease_seconds);
            if !self
                .store
                .take_lease(RECHECK_LEASE, node, now, until)
                .await?
            {
                return Ok((summary.checked > 0).then_some(summary));
            }
            let due = self.store.due_signing_domains(now, settings.batch).await?;
            if due.is_empty() {
                return Ok(Some(summary));
            }
            let batch = self.recheck_many(due, settings.limits, &|_, _| {}).await;
            let stuck = batch.checked == 0;
            summary.absorb(batch);
            if stuck {
                // Every due domain failed (the database or the tenant is gone): the next poll
                // tries again rather than spinning on the same rows.
                return Ok(Some(summary));
            }
        }
    }

    /// Gives the re-check lease up, so another node takes over at once (a clean shutdown).
    pub async fn release_recheck_lease(&self, node: &str) -> Result<(), ServiceError> {
        Ok(self.store.release_lease(RECHECK_LEASE, node).await?)
    }

    /// Which node holds the re-check lease, and until when.
    pub async fn recheck_lease_holder(&self) -> Result<Option<(String, Timestamp)>, ServiceError> {
        Ok(self.store.lease_holder(RECHECK_LEASE).await?)
    }
}
