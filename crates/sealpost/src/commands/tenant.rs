//! `sealpost tenant ...`: tenants and their API keys.

use clap::Subcommand;
use sealpost_service::Service;
use sealpost_views::reputation::ReputationView;
use sealpost_views::tenants::{ApiKeyView, NewApiKeyView, TenantView};

use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Create {
        /// Short name: lowercase letters, digits and hyphens.
        name: String,
        #[arg(long, default_value = "")]
        display_name: String,
    },
    /// List tenants.
    List,
    /// Create an API key for a tenant; its token is shown once.
    ApiKey {
        /// Tenant name or id.
        tenant: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List a tenant's API keys (never their tokens).
    ApiKeys { tenant: String },
    /// Revoke an API key by its id; its token stops working at once.
    RevokeApiKey { tenant: String, key: String },
    /// A tenant's bounce and complaint rates, and whether its sending is warned or paused.
    Reputation { tenant: String },
    /// Resume a paused tenant's sending: its held mail goes out.
    Resume { tenant: String },
    /// Delete a tenant and all its data: its keys and secrets are shredded first, then its
    /// signing domains, messages, contacts, mailings, users, API keys and webhooks are removed.
    Delete {
        /// Tenant name or id.
        tenant: String,
        /// Confirms the deletion, which cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

pub async fn tenant(
    service: &Service,
    command: TenantCommand,
    output: Output,
) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create { name, display_name } => {
            let view = TenantView::from(
                service
                    .accounts()
                    .create_tenant(&name, &display_name)
                    .await?,
            );
            output.print(&view, || {
                format!("created tenant {} ({})", view.name, view.id)
            });
        }
        TenantCommand::List => {
            let views: Vec<TenantView> = service
                .accounts()
                .list_tenants()
                .await?
                .into_iter()
                .map(TenantView::from)
                .collect();
            output.print(&views, || {
                views
                    .iter()
                    .map(|view| format!("{}\t{}\t{}", view.name, view.id, view.display_name))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        TenantCommand::ApiKey { tenant, label } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let view =
                NewApiKeyView::from(service.accounts().create_api_key(tenant.id, &label).await?);
            output.print(&view, || {
                format!(
                    "API key {} for {}:\n{}\nThis token is shown only now; store it safely.",
                    view.key.id,
                    tenant.name.as_str(),
                    view.token
                )
            });
        }
        TenantCommand::Reputation { tenant } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let view = ReputationView::from(&service.feedback().reputation(tenant.id).await?);
            output.print(&view, || describe_reputation(&view));
        }
        TenantCommand::Resume { tenant } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            service.feedback().resume_sending(tenant.id).await?;
            let view = ReputationView::from(&service.feedback().reputation(tenant.id).await?);
            output.print(&view, || {
                format!(
                    "resumed: held mail goes out\n{}",
                    describe_reputation(&view)
                )
            });
        }
        TenantCommand::Delete { tenant, yes } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            if !yes {
                let footprint = service.accounts().deletion_footprint(&tenant).await?;
                anyhow::bail!(
                    "this would delete tenant {} ({}) and all its data ({footprint}), its keys \
                     and secrets shredded first; it cannot be undone; run again with --yes to \
                     delete it",
                    tenant.name.as_str(),
                    tenant.id
                );
            }
            service.accounts().delete_tenant(&tenant).await?;
            output.print(
                &serde_json::json!({"deleted": tenant.id.to_string()}),
                || format!("deleted tenant {} ({})", tenant.name.as_str(), tenant.id),
            );
        }
        TenantCommand::RevokeApiKey { tenant, key } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            service.accounts().revoke_api_key(tenant.id, &key).await?;
            output.print(&serde_json::json!({"revoked": key}), || {
                format!("revoked API key {key}")
            });
        }
        TenantCommand::ApiKeys { tenant } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let views: Vec<ApiKeyView> = service
                .accounts()
                .list_api_keys(tenant.id)
                .await?
                .into_iter()
                .map(ApiKeyView::from)
                .collect();
            output.print(&views, || {
                views
                    .iter()
                    .map(|view| format!("{}\t{}", view.id, view.label))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

fn describe_reputation(view: &ReputationView) -> String {
    let mut text = format!(
        "{}: {} sent, {} bounced ({:.2} %), {} complaints ({:.2} %) over {} days",
        view.standing,
        view.sent,
        view.bounced,
        view.bounce_rate * 100.0,
        view.complained,
        view.complaint_rate * 100.0,
        view.window_days
    );
    if let Some(reason) = &view.reason {
        text.push_str(&format!("\n{reason}"));
    }
    text
}
