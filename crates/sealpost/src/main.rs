//! The `sealpost` binary: configuration, the command line, and the wiring of the server.

mod commands;
mod config;
mod master_key;
mod output;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::{DkimCommand, DomainCommand, MasterKeyCommand, TenantCommand};
use crate::output::Output;

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
    },
    /// Manage the master key.
    #[command(subcommand)]
    MasterKey(MasterKeyCommand),
    /// Manage tenants (client organisations) and their API keys.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage a tenant's DKIM signing domains.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Print the effective configuration (file plus environment), secrets redacted.
    Config,
    /// DKIM tools that work without a database.
    #[command(subcommand)]
    Dkim(DkimCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SEALPOST_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let output = Output { json: cli.json };
    let runtime = tokio::runtime::Runtime::new().expect("start the async runtime");
    match runtime.block_on(run(cli, output)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output.error(&error);
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, output: Output) -> anyhow::Result<()> {
    let config_file = cli.config.as_deref();
    match cli.command {
        Command::Serve { demo, listen } => {
            let mut config = config::Config::load(config_file)?;
            if let Some(listen) = listen {
                config.http_listen = listen;
            }
            serve::run(config, demo).await
        }
        Command::Config => {
            let config = config::Config::load(config_file)?;
            let view = config.redacted_view();
            output.print(&view, || {
                serde_json::to_string_pretty(&view).expect("serialise")
            });
            Ok(())
        }
        Command::MasterKey(command) => commands::master_key(command, output),
        Command::Dkim(command) => commands::dkim(command, output),
        Command::Tenant(command) => {
            let service = commands::open_service(&config::Config::load(config_file)?).await?;
            commands::tenant(&service, command, output).await
        }
        Command::Domain(command) => {
            let service = commands::open_service(&config::Config::load(config_file)?).await?;
            commands::domain(&service, command, output).await
        }
    }
}
