//! `sealpost delivery ...`: a tenant's delivery mode from the operator's shell (SPEC S1.2,
//! S1.3): show it, switch to native or to the tenant's own mail server, and test the connection
//! to that server with a transcript whose secrets are redacted.

use std::process::ExitCode;

use clap::Subcommand;
use sealpost_domain::DeliveryMode;
use sealpost_service::{RelayForm, Service};
use serde::Serialize;

use crate::InputError;
use crate::output::{Output, Status};

#[derive(Debug, Subcommand)]
pub enum DeliveryCommand {
    /// Show the tenant's delivery mode (the password is never shown).
    Show {
        #[arg(long)]
        tenant: String,
    },
    /// Deliver the tenant's mail through the platform's MTA (retried for 24 hours).
    SetNative {
        #[arg(long)]
        tenant: String,
    },
    /// Deliver the tenant's mail through its own mail server (failures are not retried).
    SetRelay {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        host: String,
        #[arg(long, default_value_t = 587)]
        port: u16,
        #[arg(long, default_value = "")]
        username: String,
        /// The environment variable holding the password (never on the command line).
        #[arg(long)]
        password_env: Option<String>,
        /// "Use SSL": TLS from the first byte (port 465).
        #[arg(long)]
        use_ssl: bool,
        /// default (STARTTLS when offered), required or none.
        #[arg(long, default_value = "default")]
        tls_mode: String,
    },
    /// Connect to the tenant's own mail server, negotiate TLS, log in and quit; no mail is sent.
    /// Exits 0 when it worked, 1 when it did not.
    Test {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Serialize)]
struct ModeView {
    mode: &'static str,
    host: Option<String>,
    port: Option<u16>,
    username: Option<String>,
    use_ssl: Option<bool>,
    tls_mode: Option<&'static str>,
    password_set: Option<bool>,
}

impl From<DeliveryMode> for ModeView {
    fn from(mode: DeliveryMode) -> Self {
        match mode {
            DeliveryMode::Native => Self {
                mode: "native",
                host: None,
                port: None,
                username: None,
                use_ssl: None,
                tls_mode: None,
                password_set: None,
            },
            DeliveryMode::Relay(relay) => Self {
                mode: "relay",
                host: Some(relay.host),
                port: Some(relay.port),
                username: Some(relay.username),
                use_ssl: Some(relay.implicit_tls),
                tls_mode: Some(relay.tls_mode.as_str()),
                password_set: Some(relay.password_set),
            },
        }
    }
}

#[derive(Serialize)]
struct TestView {
    success: bool,
    error: Option<String>,
    transcript: Vec<String>,
}

fn print_mode(output: Output, mode: DeliveryMode) {
    let view = ModeView::from(mode);
    output.print(&view, || match &view.host {
        None => "native: the platform's MTA delivers, retrying for 24 hours".to_owned(),
        Some(host) => format!(
            "relay: {host}:{} as {:?}, {}TLS {}, password {}; failed sends are not retried",
            view.port.unwrap_or_default(),
            view.username.clone().unwrap_or_default(),
            if view.use_ssl == Some(true) {
                "SSL, "
            } else {
                ""
            },
            view.tls_mode.unwrap_or_default(),
            if view.password_set == Some(true) {
                "set"
            } else {
                "not set"
            },
        ),
    });
}

pub async fn delivery(
    service: &Service,
    command: DeliveryCommand,
    output: Output,
) -> anyhow::Result<ExitCode> {
    match command {
        DeliveryCommand::Show { tenant } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            print_mode(output, service.relays().delivery_mode(tenant.id).await?);
        }
        DeliveryCommand::SetNative { tenant } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            print_mode(
                output,
                service.relays().set_native_delivery(tenant.id).await?,
            );
        }
        DeliveryCommand::SetRelay {
            tenant,
            host,
            port,
            username,
            password_env,
            use_ssl,
            tls_mode,
        } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let password = match password_env {
                Some(variable) => Some(std::env::var(&variable).map_err(|_| {
                    InputError(format!("the environment variable {variable} is not set"))
                })?),
                None => None,
            };
            let form = RelayForm {
                host: &host,
                port,
                username: &username,
                password: password.as_deref(),
                implicit_tls: use_ssl,
                tls_mode: &tls_mode,
            };
            print_mode(
                output,
                service.relays().set_relay_delivery(tenant.id, form).await?,
            );
        }
        DeliveryCommand::Test { tenant } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let test = service.relays().test_relay(tenant.id).await?;
            let view = TestView {
                success: test.success(),
                error: test.failure.as_ref().map(ToString::to_string),
                transcript: test.transcript.iter().map(ToString::to_string).collect(),
            };
            output.print(&view, || {
                let mut text = view.transcript.join("\n");
                text.push_str(&match &view.error {
                    None => "\nThe connection works.".to_owned(),
                    Some(error) => format!("\nThe connection failed: {error}"),
                });
                text
            });
            return Ok(match view.success {
                true => Status::Done,
                false => Status::Problem,
            }
            .into());
        }
    }
    Ok(ExitCode::SUCCESS)
}
