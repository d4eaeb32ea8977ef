//! `sealpost user ...`: accounts of the web UI. Passwords come from an environment variable,
//! because a password on the command line would show in the process list.

use clap::Subcommand;
use sealpost_domain::UserRole;
use sealpost_service::{Service, ServiceError};

use crate::InputError;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account: a tenant administrator (--tenant) or an operator (--operator).
    Add {
        #[arg(long)]
        email: String,
        /// The tenant (name or id) the administrator manages; they see only this tenant.
        #[arg(
            long,
            required_unless_present = "operator",
            conflicts_with = "operator"
        )]
        tenant: Option<String>,
        /// An operator sees every tenant.
        #[arg(long)]
        operator: bool,
        /// Environment variable holding the password (at least 12 characters).
        #[arg(long)]
        password_env: String,
    },
    /// Give an account a new password; its open sessions end.
    SetPassword {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_env: String,
    },
}

fn password_from(variable: &str) -> anyhow::Result<String> {
    std::env::var(variable)
        .map_err(|_| InputError(format!("the environment variable {variable} is not set")).into())
}

pub async fn user(service: &Service, command: UserCommand, output: Output) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            email,
            tenant,
            operator: _,
            password_env,
        } => {
            let password = password_from(&password_env)?;
            let (role, tenant_name) = match tenant {
                Some(tenant) => {
                    let tenant = service.accounts().find_tenant(&tenant).await?;
                    (
                        UserRole::TenantAdmin(tenant.id),
                        Some(tenant.name.as_str().to_owned()),
                    )
                }
                None => (UserRole::Operator, None),
            };
            let user = service
                .accounts()
                .create_user(&email, role, &password)
                .await?;
            let role_name = if tenant_name.is_some() {
                "tenant_admin"
            } else {
                "operator"
            };
            let view = serde_json::json!({
                "id": user.id.to_string(),
                "email": user.email.as_str(),
                "role": role_name,
                "tenant": tenant_name,
            });
            output.print(&view, || {
                format!("added {role_name} {} ({})", user.email.as_str(), user.id)
            });
        }
        UserCommand::SetPassword {
            email,
            password_env,
        } => {
            let password = password_from(&password_env)?;
            service
                .accounts()
                .set_user_password(&email, &password)
                .await?;
            output.print(&serde_json::json!({"email": email}), || {
                format!("new password set for {email}; its sessions were ended")
            });
        }
    }
    Ok(())
}

/// The demo mode's web UI account: `role` decides which (an operator, or the administrator of
/// a demo tenant), with a fresh random password on every start, returned for printing.
pub async fn demo_admin(service: &Service, role: UserRole) -> anyhow::Result<(String, String)> {
    let email = match role {
        UserRole::Operator => "operator@demo.invalid",
        UserRole::TenantAdmin(_) => "admin@demo.invalid",
    };
    let password = super::random_token();
    match service.accounts().create_user(email, role, &password).await {
        Ok(_) => {}
        Err(ServiceError::Conflict(_)) => {
            service
                .accounts()
                .set_user_password(email, &password)
                .await?
        }
        Err(other) => return Err(other.into()),
    }
    Ok((email.to_owned(), password))
}
