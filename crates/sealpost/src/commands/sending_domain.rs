//! `sealpost sending-domain ...`: the domains a tenant has proven it controls, which its mail may
//! use in From and MAIL FROM.

use clap::Subcommand;
use sealpost_service::Service;
use sealpost_views::sending_domains::SendingDomainView;

use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum SendingDomainCommand {
    /// Add a domain (or show the one the tenant has) with the TXT record that proves it.
    Add {
        #[arg(long)]
        tenant: String,
        domain: String,
    },
    /// List a tenant's sending domains and whether each is proven.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Look the proof up in DNS now (the verification record, or the DKIM record of a signing
    /// domain of it with the tenant's key); exit 1 with what DNS showed when it is not there.
    Verify {
        #[arg(long)]
        tenant: String,
        domain: String,
    },
    /// Remove a sending domain; mail from it is refused from then on.
    Remove {
        #[arg(long)]
        tenant: String,
        domain: String,
    },
}

pub async fn sending_domain(
    service: &Service,
    command: SendingDomainCommand,
    output: Output,
) -> anyhow::Result<()> {
    match command {
        SendingDomainCommand::Add { tenant, domain } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let added = service
                .signing_domains()
                .add_sending_domain(tenant.id, &domain)
                .await?;
            print(output, &added.into());
        }
        SendingDomainCommand::List { tenant } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let views: Vec<SendingDomainView> = service
                .signing_domains()
                .list_sending_domains(tenant.id)
                .await?
                .into_iter()
                .map(SendingDomainView::from)
                .collect();
            output.print(&views, || {
                views.iter().map(summary).collect::<Vec<_>>().join("\n")
            });
        }
        SendingDomainCommand::Verify { tenant, domain } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let proven = service
                .signing_domains()
                .verify_sending_domain(tenant.id, &domain)
                .await?;
            print(output, &proven.into());
        }
        SendingDomainCommand::Remove { tenant, domain } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            service
                .signing_domains()
                .delete_sending_domain(tenant.id, &domain)
                .await?;
            output.print(&serde_json::json!({"removed": domain}), || {
                format!("removed {domain}")
            });
        }
    }
    Ok(())
}

fn summary(view: &SendingDomainView) -> String {
    format!(
        "{}\t{}\t{}",
        view.domain,
        view.status,
        view.proof.unwrap_or("-")
    )
}

fn print(output: Output, view: &SendingDomainView) {
    output.print(view, || {
        format!(
            "{}\nTo prove it, publish:\n  {} TXT \"{}\"",
            summary(view),
            view.verification_record.name,
            view.verification_record.value
        )
    });
}
