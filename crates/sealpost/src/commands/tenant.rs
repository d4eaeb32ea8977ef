//! `sealpost tenant ...`: tenants and their API keys.

use clap::Subcommand;
use sealpost_service::Service;
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
