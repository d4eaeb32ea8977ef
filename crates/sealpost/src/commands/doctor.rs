//! `sealpost doctor`: the platform's own checks (reverse DNS of the sending addresses, the SPF
//! include record, the platform's DKIM record, outbound SMTP, the TLS certificate, the database
//! and the master key), each with what to fix. Exits 0 when green, 1 when something must be
//! fixed, 2 when something could not be checked (or the configuration cannot be read).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use sealpost_dnsauth::doctor::{Check, CheckStatus, Verdict};
use sealpost_service::platform::{
    self, PlatformHealth, PlatformSettings, Probe, Reach, database_unreachable, master_key_missing,
};
use sealpost_store::Store;
use sealpost_vault::Vault;
use sealpost_views::platform::PlatformHealthView;

use crate::InputError;
use crate::config::Config;
use crate::output::Output;

#[derive(Debug, clap::Args)]
pub struct Doctor {
    /// Open no connection to a remote mail server; the outbound SMTP check is skipped.
    #[arg(long)]
    offline: bool,
    /// The domain whose first mail host the outbound SMTP check connects to.
    #[arg(long, default_value = "gmail.com")]
    probe_domain: String,
    /// Seconds the outbound SMTP check waits for the connection and for the greeting.
    #[arg(long, default_value_t = 10)]
    probe_timeout: u64,
    /// The DNS server to ask, such as 127.0.0.1:5353.
    #[arg(long)]
    nameserver: Option<SocketAddr>,
}

pub async fn doctor(
    command: Doctor,
    config_file: Option<&std::path::Path>,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let (config, resolver) = super::dns_setup(config_file, command.nameserver)?;
    let mut settings =
        platform_settings(&config).map_err(|error| InputError(format!("{error:#}")))?;
    settings.probe.domain = command.probe_domain;
    settings.probe.timeout = Duration::from_secs(command.probe_timeout);
    let reach = match command.offline {
        true => Reach::Offline,
        false => Reach::Online,
    };
    let mut checks = local_checks(&config, &settings).await;
    checks.extend(platform::outside_checks(&resolver, &settings, super::now(), reach).await);
    let health = PlatformHealth::new(checks);
    let view = PlatformHealthView::from(&health);
    output.print(&view, || describe(&view));
    Ok(match health.verdict {
        Verdict::Green => ExitCode::SUCCESS,
        Verdict::ToFix => ExitCode::from(1),
        Verdict::Unchecked => ExitCode::from(2),
    })
}

/// The database, the master key and the platform's DKIM record. They need the database, so
/// when it cannot be opened, or the key is missing, the checks say so and go no further.
async fn local_checks(config: &Config, settings: &PlatformSettings) -> Vec<Check> {
    let url = config.database_url();
    let store = match Store::connect_to_inspect(&url).await {
        Ok(store) => store,
        Err(error) => {
            let subject = crate::serve::redact_url(&url);
            return vec![database_unreachable(&subject, &error.to_string())];
        }
    };
    let database = platform::database_check(&store).await;
    let loaded = crate::master_key::load(config, false);
    let master = match loaded {
        Ok((master, _)) => master,
        Err(error) => return vec![database, master_key_missing(&format!("{error:#}"))],
    };
    let master_check = platform::master_key_check(&store, &Vault::new(master)).await;
    store.close().await;
    if database.status != CheckStatus::Pass || master_check.status != CheckStatus::Pass {
        return vec![database, master_check];
    }
    // The service opens only on a current schema with the matching key, so opening it changes
    // nothing but what a first start records (the master key's check value).
    let opened = match crate::master_key::load(config, false) {
        Ok((master, _)) => super::open_service_with(config, master).await,
        Err(error) => Err(error),
    };
    match opened {
        Ok(service) => {
            let service = service.with_platform_settings(settings.clone());
            service.platform().local_checks().await
        }
        Err(error) => vec![database_unreachable("database", &format!("{error:#}"))],
    }
}

/// What the platform's checks compare with, from the configuration.
pub fn platform_settings(config: &Config) -> anyhow::Result<PlatformSettings> {
    Ok(PlatformSettings {
        helo_name: config.helo_name(),
        sending_networks: config.sending_networks()?,
        spf_include_host: config.spf_include_host(),
        domain: config.platform.domain.clone(),
        dkim_tenant: config.platform.dkim_tenant.clone(),
        tls_certificate: config.smtp.tls_cert.clone(),
        probe: Probe {
            port: config.delivery.remote_port,
            ..Probe::default()
        },
    })
}

fn describe(view: &PlatformHealthView) -> String {
    let mut text = String::new();
    for check in &view.checks {
        text.push_str(&format!(
            "{:<7} {:<15} {}: {}\n",
            check.status, check.check, check.subject, check.found
        ));
        if let Some(fix) = &check.fix {
            text.push_str(&format!("        fix: {fix}\n"));
        }
    }
    text.push_str(match view.verdict {
        "green" => "The platform is green.",
        "to_fix" => "Something must be fixed: see each fix above.",
        _ => "Some checks could not be made; run the doctor again.",
    });
    text
}
