//! `sealpost domain ...`: a tenant's signing domains (SPEC S3).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use sealpost_service::{KeyImport, Service};
use sealpost_views::signing_domains::{DnsRecordView, SigningDomainView};

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
    /// Generate a fresh RSA-2048 key pair (the domain becomes inactive until reactivated).
    GenerateKey(Target),
    /// Import a PEM private key from a file ("-" reads standard input).
    ImportKey {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        file: PathBuf,
        /// Environment variable holding the key's password (a password on the command line
        /// would show in the process list).
        #[arg(long)]
        password_env: Option<String>,
    },
    Activate(Target),
    Deactivate(Target),
    /// Print the DKIM TXT record to publish.
    DnsRecord(Target),
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
        DomainCommand::GenerateKey(target) => {
            let (tenant, found) = find(service, &target).await?;
            let updated = service
                .signing_domains()
                .generate_key(tenant, found.id)
                .await?;
            print_domain(output, updated.into());
        }
        DomainCommand::ImportKey {
            target,
            file,
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
                .import_key(tenant, found.id, import)
                .await?;
            print_domain(output, updated.into());
        }
        DomainCommand::Activate(target) => set_active(service, &target, true, output).await?,
        DomainCommand::Deactivate(target) => set_active(service, &target, false, output).await?,
        DomainCommand::DnsRecord(target) => {
            let (tenant, found) = find(service, &target).await?;
            let view = DnsRecordView::from(
                service
                    .signing_domains()
                    .dns_record(tenant, found.id)
                    .await?,
            );
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

async fn set_active(
    service: &Service,
    target: &Target,
    active: bool,
    output: Output,
) -> anyhow::Result<()> {
    let (tenant, found) = find(service, target).await?;
    let updated = service
        .signing_domains()
        .update_signing_domain(tenant, found.id, Some(active), None)
        .await?;
    print_domain(output, updated.into());
    Ok(())
}

fn summary(view: &SigningDomainView) -> String {
    let state = if view.active { "active" } else { "inactive" };
    let key = match &view.key {
        Some(key) => format!("RSA-{} {}", key.bits, key.origin),
        None => "no key".to_owned(),
    };
    format!(
        "{}\t{}\t{}\t{state}\t{key}",
        view.id, view.domain_unicode, view.selector
    )
}

fn print_domain(output: Output, view: SigningDomainView) {
    output.print(&view, || {
        let mut text = summary(&view);
        if let Some(key) = &view.key {
            text.push_str(&format!(
                "\nhash algorithm: {}\nkey length: {} bits\n{}",
                key.hash_algorithm, key.bits, key.public_key_pem
            ));
        }
        text
    });
}
