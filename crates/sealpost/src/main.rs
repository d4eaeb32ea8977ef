//! The `sealpost` binary: configuration, the command line, and the wiring of the server.

mod checkpoint_loop;
mod commands;
mod config;
mod demo;
mod generate;
mod inbound;
mod master_key;
mod output;
mod recheck_loop;
mod reload;
mod rotation_watch;
mod serve;
mod statistics_loop;
mod submission;
mod webhook_loop;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

use crate::commands::{
    CheckMessage, DeliveryCommand, DkimCommand, DnsCommand, DomainCommand, MasterKeyCommand,
    PlatformCommand, QueueCommand, ReturnPathCommand, SendingDomainCommand, SpfCommand,
    SuppressionCommand, TenantCommand, Troubleshoot, UserCommand, WebhookCommand,
};
use crate::output::{Output, Status};

/// Memory for the Rust code of the whole binary. Under `bench/run` the system allocator's
/// malloc, free and free-list consolidation took about 6% of the machine's time; this one takes
/// a fraction of that. SQLite and aws-lc keep the system allocator for their own memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Sealpost: outbound e-mail for tenants' own domains, DKIM-signed.
#[derive(Debug, Parser)]
#[command(name = "sealpost", version)]
struct Cli {
    /// Configuration file (TOML); default: ./sealpost.toml when present.
    #[arg(long, global = true, env = "SEALPOST_CONFIG")]
    config: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (HTTP API).
    Serve {
        /// Development mode: creates a master key in the data directory when there is none.
        #[arg(long)]
        demo: bool,
        /// Listen address, overriding the configuration (port 0 picks a free port).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// SMTP submission listen address, overriding the configuration.
        #[arg(long)]
        smtp_listen: Option<std::net::SocketAddr>,
    },
    /// Manage the master key.
    #[command(subcommand)]
    MasterKey(MasterKeyCommand),
    /// Manage tenants (client organisations) and their API keys.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage the accounts of the web UI: operators and tenant administrators.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage a tenant's DKIM signing domains.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Manage the domains a tenant has proven it controls (From and MAIL FROM need one).
    #[command(subcommand)]
    SendingDomain(SendingDomainCommand),
    /// Manage a tenant's suppression list: addresses its mail no longer goes to.
    #[command(subcommand)]
    Suppression(SuppressionCommand),
    /// Manage the return-path domain of a signing domain, where bounces come back.
    #[command(subcommand)]
    ReturnPath(ReturnPathCommand),
    /// Manage a tenant's webhook endpoints: signed events after each state change.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Print the effective configuration (file plus environment), secrets redacted.
    Config {
        /// Only check this file (with the environment on top) and what it points at: unknown
        /// keys and contradictory settings are refused by name; exits 0 when valid, 2 if not.
        #[arg(long, value_name = "FILE")]
        check: Option<PathBuf>,
    },
    /// DKIM tools that work without a database.
    #[command(subcommand)]
    Dkim(DkimCommand),
    /// SPF tools: evaluate SPF for a connection, with the trace of every term.
    #[command(subcommand)]
    Spf(SpfCommand),
    /// A tenant's delivery mode: native, or its own mail server (with a connection test).
    #[command(subcommand)]
    Delivery(DeliveryCommand),
    /// Inspect and act on a tenant's queued messages.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// The destinations (receiving providers) the delivering nodes sent to in the last minute:
    /// connections in use, limits, throttle state and the recipients waiting.
    Destinations,
    /// Score a message file as the built-in mail tester does, before sending it.
    CheckMessage(CheckMessage),
    /// The support path for one sender: sender domain, From and MAIL FROM domains among the
    /// tenant's signing domains, DKIM record, SPF and DMARC, and optionally a test mailing.
    Troubleshoot(Troubleshoot),
    /// DNS checks of a sending domain: SPF, the DKIM record, DMARC and MX in one report.
    #[command(subcommand)]
    Dns(DnsCommand),
    /// Check the platform itself: reverse DNS of the sending addresses, the SPF include, the
    /// platform's DKIM record, outbound SMTP, the TLS certificate, the database and the master
    /// key. Exits 0 when green, 1 when something must be fixed, 2 when something could not be
    /// checked.
    Doctor(commands::Doctor),
    /// The platform's own DNS records.
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// Returned mail offline: what a bounce, complaint or automatic reply says.
    #[command(subcommand)]
    Bounce(commands::BounceCommand),
    /// Manual pages and shell completions, for packaging.
    #[command(subcommand, hide = true)]
    Generate(generate::GenerateCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("SEALPOST_LOG")
        .unwrap_or_else(|_| "info,hickory_server=warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Structured logs for log shippers: one JSON object a line, with the span fields (message
    // and session ids) included.
    match std::env::var("SEALPOST_LOG_FORMAT").as_deref() {
        Ok("json") => logs.json().init(),
        _ => logs.init(),
    }
    let output = Output { json: cli.json };
    let runtime = tokio::runtime::Runtime::new().expect("start the async runtime");
    match runtime.block_on(run(cli, output)) {
        Ok(code) => code,
        Err(error) => output.failure(&error),
    }
}

/// A failure caused by the command's input (a file that cannot be read, a malformed message,
/// a bad option value); every command exits with status 2 for these (`output::Status`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

async fn run(cli: Cli, output: Output) -> anyhow::Result<ExitCode> {
    let config_file = cli.config.as_deref();
    let done = match cli.command {
        Command::Serve {
            demo,
            listen,
            smtp_listen,
        } => {
            let mut config = load_config(config_file)?;
            if let Some(listen) = listen {
                config.http_listen = listen;
            }
            if smtp_listen.is_some() {
                config.smtp.listen = smtp_listen;
            }
            serve::run(config, config_file.map(std::path::Path::to_path_buf), demo).await
        }
        Command::Config { check: Some(file) } => commands::check_config(&file, output),
        Command::Config { check: None } => {
            let config = load_config(config_file)?;
            let view = config.redacted_view();
            output.print(&view, || {
                serde_json::to_string_pretty(&view).expect("serialise")
            });
            Ok(())
        }
        Command::MasterKey(command) => commands::master_key(command, config_file, output).await,
        Command::Bounce(command) => commands::bounce(command, output),
        Command::Generate(command) => generate::generate(command, Cli::command(), output),
        // Verification reports its verdict in the exit status, so it decides the code itself.
        Command::Dkim(command) => return commands::dkim(command, config_file, output).await,
        Command::Spf(command) => return commands::spf(command, config_file, output).await,
        Command::Dns(command) => return commands::dns(command, config_file, output).await,
        Command::CheckMessage(command) => {
            return commands::check_message(command, config_file, output).await;
        }
        Command::Troubleshoot(command) => {
            return commands::troubleshoot(command, config_file, output).await;
        }
        Command::Doctor(command) => return commands::doctor(command, config_file, output).await,
        Command::Platform(command) => commands::platform(command, config_file, output),
        Command::Tenant(command) => {
            let service = commands::open_service(&load_config(config_file)?).await?;
            commands::tenant(&service, command, output).await
        }
        Command::User(command) => {
            let service = commands::open_service(&load_config(config_file)?).await?;
            commands::user(&service, command, output).await
        }
        Command::Delivery(command) => {
            let service = commands::open_service(&load_config(config_file)?).await?;
            return commands::delivery(&service, command, output).await;
        }
        Command::Queue(command) => {
            let service = commands::open_service(&load_config(config_file)?).await?;
            commands::queue(&service, command, output).await
        }
        Command::Destinations => {
            let service = commands::open_service(&load_config(config_file)?).await?;
            commands::destinations(&service, output).await
        }
        Command::Domain(command) => {
            let service = commands::open_service(&load_config(config_file)?).await?;
            commands::domain(&service, command, output).await
        }
        Command::SendingDomain(command) => {
            let service = commands::open_service(&load_config(config_file)?).await?;
            commands::sending_domain(&service, command, output).await
        }
        Command::Suppression(command) => {
            let service = commands::open_service(&load_config(config_file)?).await?;
            commands::suppression(&service, command, output).await
        }
        Command::ReturnPath(command) => {
            let service = commands::open_service(&load_config(config_file)?).await?;
            commands::return_path(&service, command, output).await
        }
        Command::Webhook(command) => {
            let service = commands::open_service(&load_config(config_file)?).await?;
            commands::webhook(&service, command, output).await
        }
    };
    done.map(|()| Status::Done.into())
}

/// The configuration of a command; one that cannot be read is bad input.
fn load_config(file: Option<&std::path::Path>) -> anyhow::Result<config::Config> {
    config::Config::load(file).map_err(|error| InputError(format!("{error:#}")).into())
}
