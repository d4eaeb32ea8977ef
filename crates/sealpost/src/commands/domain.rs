//! `sealpost domain ...`: a tenant's signing domains (SPEC S3).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use sealpost_domain::KeyAlgorithm;
use sealpost_service::{DnsGate, KeyImport, Service};
use sealpost_views::key_rotation::KeyRotationView;
use sealpost_views::signing_domains::{
    DelegationRecordView, DnsRecordView, DomainEventView, SigningDomainView,
};

use crate::InputError;
use crate::output::Output;

#[derive(Debug, Args)]
pub struct Target {
    /// Tenant name or id.
    #[arg(long)]
    tenant: String,
    /// Signing domain id, or the domain name.
    domain: String,
    /// The selector, when the domain has several.
    #[arg(long)]
    selector: Option<String>,
}

/// A key's algorithm on the command line.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum AlgorithmArg {
    /// RSA-2048, the key every signing domain signs with.
    #[default]
    Rsa,
    /// Ed25519 (RFC 8463): a second signature beside the RSA one, under a selector of its own.
    Ed25519,
}

impl From<AlgorithmArg> for KeyAlgorithm {
    fn from(algorithm: AlgorithmArg) -> Self {
        match algorithm {
            AlgorithmArg::Rsa => Self::Rsa,
            AlgorithmArg::Ed25519 => Self::Ed25519,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Add a signing domain (inactive, without a key).
    Add {
        #[arg(long)]
        tenant: String,
        domain: String,
        #[arg(long)]
        selector: String,
    },
    /// List a tenant's signing domains.
    List {
        #[arg(long)]
        tenant: String,
    },
    Show(Target),
    /// Generate a fresh key pair (RSA-2048 unless --algorithm ed25519), pending under a selector
    /// of its own: the active key keeps signing until DNS carries the new key's record. An
    /// active Ed25519 key adds a second signature beside the RSA one.
    GenerateKey {
        #[command(flatten)]
        target: Target,
        #[arg(long, value_enum, default_value_t)]
        algorithm: AlgorithmArg,
    },
    /// Import a PEM private key from a file ("-" reads standard input).
    ImportKey {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        file: PathBuf,
        /// The key's algorithm: a key of the other one is refused.
        #[arg(long, value_enum, default_value_t)]
        algorithm: AlgorithmArg,
        /// Environment variable holding the key's password (a password on the command line
        /// would show in the process list).
        #[arg(long)]
        password_env: Option<String>,
    },
    /// Switch signing on, once DNS carries the key's record.
    Activate {
        #[command(flatten)]
        target: Target,
        /// Switch on although DNS does not carry the key (recorded with a warning): receivers
        /// fail the signatures until the record is published.
        #[arg(long)]
        force: bool,
    },
    Deactivate(Target),
    /// Make a pending key the one that signs, once DNS carries its record; the active key
    /// starts retiring.
    PromoteKey {
        #[command(flatten)]
        target: Target,
        /// The pending key's selector or id.
        #[arg(long)]
        key: String,
        /// Promote although DNS does not carry the key (recorded with a warning).
        #[arg(long)]
        force: bool,
    },
    /// Change the selector of a domain that has no key yet.
    SetSelector {
        #[command(flatten)]
        target: Target,
        #[arg(long = "to")]
        new_selector: String,
    },
    /// Print the DKIM TXT record to publish (with --algorithm ed25519: the Ed25519 key's).
    DnsRecord {
        #[command(flatten)]
        target: Target,
        #[arg(long, value_enum, default_value_t)]
        algorithm: AlgorithmArg,
    },
    /// Print the CNAMEs that delegate the domain's DKIM records to the platform's zone, to
    /// publish once instead of the TXT records (when the platform serves a DKIM zone).
    DkimDelegation(Target),
    /// The domain's history: every change of its keys' and its DNS state.
    History(Target),
    /// Show or set the tenant's automatic DKIM key rotation: with --every-days, each active
    /// key of its active domains gets a pending successor that many days (30 to 730) after it
    /// started signing, and the tenant is told what to publish; --off replaces keys only by hand.
    KeyRotation {
        #[arg(long)]
        tenant: String,
        #[arg(long, conflicts_with = "off")]
        every_days: Option<i64>,
        #[arg(long)]
        off: bool,
    },
    /// Delete the signing domain (refused while mail signed with its keys waits for delivery).
    Delete(Target),
}

pub async fn domain(
    service: &Service,
    command: DomainCommand,
    output: Output,
) -> anyhow::Result<()> {
    match command {
        DomainCommand::Add {
            tenant,
            domain,
            selector,
        } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let added = service
                .signing_domains()
                .add_signing_domain(tenant.id, &domain, &selector)
                .await?;
            print_domain(output, added.into());
        }
        DomainCommand::List { tenant } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let views: Vec<SigningDomainView> = service
                .signing_domains()
                .list_signing_domains(tenant.id)
                .await?
                .into_iter()
                .map(SigningDomainView::from)
                .collect();
            output.print(&views, || {
                views.iter().map(summary).collect::<Vec<_>>().join("\n")
            });
        }
        DomainCommand::Show(target) => {
            let (_, found) = find(service, &target).await?;
            print_domain(output, found.into());
        }
        DomainCommand::GenerateKey { target, algorithm } => {
            let (tenant, found) = find(service, &target).await?;
            let updated = service
                .signing_domains()
                .generate_key_of(tenant, found.id, algorithm.into())
                .await?;
            print_domain(output, updated.into());
        }
        DomainCommand::ImportKey {
            target,
            file,
            algorithm,
            password_env,
        } => {
            let pem = super::read_pem(&file)?;
            let password = match password_env {
                Some(variable) => Some(std::env::var(&variable).map_err(|_| {
                    InputError(format!("the environment variable {variable} is not set"))
                })?),
                None => None,
            };
            let (tenant, found) = find(service, &target).await?;
            let import = KeyImport {
                pem: &pem,
                password: password.as_deref(),
            };
            let updated = service
                .signing_domains()
                .import_key_of(tenant, found.id, algorithm.into(), import)
                .await?;
            print_domain(output, updated.into());
        }
        DomainCommand::Activate { target, force } => {
            let gate = if force {
                DnsGate::Force
            } else {
                DnsGate::RequireRecord
            };
            let (tenant, found) = find(service, &target).await?;
            let updated = service
                .signing_domains()
                .activate(tenant, found.id, gate)
                .await?;
            print_domain(output, updated.into());
        }
        DomainCommand::Deactivate(target) => {
            let (tenant, found) = find(service, &target).await?;
            let updated = service
                .signing_domains()
                .deactivate(tenant, found.id)
                .await?;
            print_domain(output, updated.into());
        }
        DomainCommand::PromoteKey { target, key, force } => {
            let (tenant, found) = find(service, &target).await?;
            let chosen = found
                .keys
                .iter()
                .find(|candidate| {
                    candidate.selector.as_str() == key || candidate.id.to_string() == key
                })
                .ok_or_else(|| InputError(format!("{} has no key {key}", found.domain)))?;
            let gate = if force {
                DnsGate::Force
            } else {
                DnsGate::RequireRecord
            };
            let updated = service
                .signing_domains()
                .promote_key(tenant, found.id, chosen.id, gate)
                .await?;
            print_domain(output, updated.into());
        }
        DomainCommand::SetSelector {
            target,
            new_selector,
        } => {
            let (tenant, found) = find(service, &target).await?;
            let updated = service
                .signing_domains()
                .change_selector(tenant, found.id, &new_selector)
                .await?;
            print_domain(output, updated.into());
        }
        DomainCommand::KeyRotation {
            tenant,
            every_days,
            off,
        } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let domains = service.signing_domains();
            let rotation = match (every_days, off) {
                (Some(days), _) => domains.set_key_rotation(tenant.id, Some(days)).await?,
                (None, true) => domains.set_key_rotation(tenant.id, None).await?,
                (None, false) => domains.key_rotation(tenant.id).await?,
            };
            let view = KeyRotationView::from(rotation);
            output.print(&view, || match rotation.period() {
                Some(period) => format!(
                    "Automatic key rotation: {period}; each active key gets a pending \
                     successor {} days after it started signing.",
                    period.days()
                ),
                None => "Automatic key rotation: off; keys are replaced only by hand.".to_owned(),
            });
        }
        DomainCommand::History(target) => {
            let (tenant, found) = find(service, &target).await?;
            let events: Vec<DomainEventView> = service
                .signing_domains()
                .domain_history(tenant, found.id)
                .await?
                .into_iter()
                .map(DomainEventView::from)
                .collect();
            output.print(&events, || {
                events
                    .iter()
                    .map(|event| {
                        let mark = if event.warning { " (warning)" } else { "" };
                        format!("{}\t{}{mark}\t{}", event.at, event.kind, event.detail)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        DomainCommand::DkimDelegation(target) => {
            let (tenant, found) = find(service, &target).await?;
            let records: Vec<DelegationRecordView> = service
                .signing_domains()
                .dkim_delegation(tenant, found.id)
                .await?
                .into_iter()
                .map(|record| DelegationRecordView::new(record.name, record.host, record.value))
                .collect();
            output.print(&records, || {
                records
                    .iter()
                    .map(|record| record.zone_line.clone())
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        DomainCommand::DnsRecord { target, algorithm } => {
            let (tenant, found) = find(service, &target).await?;
            let domains = service.signing_domains();
            let record = match KeyAlgorithm::from(algorithm) {
                KeyAlgorithm::Rsa => domains.dns_record(tenant, found.id).await?,
                KeyAlgorithm::Ed25519 => domains
                    .ed25519_dns_record(tenant, found.id)
                    .await?
                    .ok_or_else(|| {
                        InputError(
                            "the domain has no Ed25519 key: add one with `sealpost domain \
                             generate-key --algorithm ed25519` or `import-key --algorithm ed25519`"
                                .to_owned(),
                        )
                    })?,
            };
            let view = DnsRecordView::from(record);
            output.print(&view, || {
                format!(
                    "Name:  {}\nType:  {}\nValue: {}\nAs strings of at most 255 characters:\n{}\n\
                     Zone file:\n{}\n\n{}",
                    view.name,
                    view.record_type,
                    view.value,
                    view.strings
                        .iter()
                        .map(|string| format!("  \"{string}\""))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    view.zone_line,
                    view.advice
                )
            });
        }
        DomainCommand::Delete(target) => {
            let (tenant, found) = find(service, &target).await?;
            service
                .signing_domains()
                .delete_signing_domain(tenant, found.id)
                .await?;
            let id = found.id.to_string();
            output.print(&serde_json::json!({"deleted": id}), || {
                format!("deleted {id}")
            });
        }
    }
    Ok(())
}

async fn find(
    service: &Service,
    target: &Target,
) -> anyhow::Result<(sealpost_domain::TenantId, sealpost_domain::SigningDomain)> {
    let tenant = service.accounts().find_tenant(&target.tenant).await?;
    let found = service
        .signing_domains()
        .find_signing_domain(tenant.id, &target.domain, target.selector.as_deref())
        .await?;
    Ok((tenant.id, found))
}

fn summary(view: &SigningDomainView) -> String {
    let state = if view.active { "active" } else { "inactive" };
    let key = match &view.key {
        Some(key) => format!("RSA-{} {} ({})", key.bits, key.origin, key.state),
        None => "no key".to_owned(),
    };
    let selector = view
        .key
        .as_ref()
        .map_or(&view.selector, |key| &key.selector);
    format!(
        "{}\t{}\t{selector}\t{state}\tDNS {}\t{key}",
        view.id, view.domain_unicode, view.dns.state
    )
}

fn print_domain(output: Output, view: SigningDomainView) {
    output.print(&view, || {
        let mut text = summary(&view);
        if let Some(summary) = &view.dns.last_summary {
            text.push_str(&format!("\nlast DNS check: {summary}"));
        }
        text.push_str(&format!("\nnext: {}", view.next_step));
        for key in &view.keys {
            text.push_str(&format!(
                "\nkey {} {}{}: {}",
                key.selector,
                key.state,
                if key.forced { " (forced)" } else { "" },
                key.next_step
            ));
        }
        if let Some(key) = &view.key {
            text.push_str(&format!(
                "\nhash algorithm: {}\nkey length: {} bits\n{}",
                key.hash_algorithm, key.bits, key.public_key_pem
            ));
        }
        text
    });
}
