//! What a configuration must satisfy beyond its types: names that parse, numbers in range, and
//! settings that contradict each other. Each refusal names the key (or keys) to change, so
//! `sealpost config --check` and a start that fails say where to look.

use std::net::SocketAddr;

use anyhow::{Context as _, bail};
use sealpost_domain::{DomainName, TenantName};

use super::Config;

pub fn validate(config: &Config) -> anyhow::Result<()> {
    names(config)?;
    numbers(config)?;
    database(config)?;
    listeners(config)?;
    pairs(config)
}

/// Every domain or tenant name parses.
fn names(config: &Config) -> anyhow::Result<()> {
    let domains = [
        ("platform.domain", &config.platform.domain),
        (
            "platform.spf_include_host",
            &config.platform.spf_include_host,
        ),
        ("checker.domain", &config.checker.domain),
        ("delivery.helo_name", &config.delivery.helo_name),
        ("feedback.inbound_host", &config.feedback.inbound_host),
    ];
    for (key, value) in domains {
        if let Some(value) = value {
            DomainName::parse(value).with_context(|| key.to_owned())?;
        }
    }
    if let Some(tenant) = &config.platform.dkim_tenant {
        TenantName::parse(tenant).context("platform.dkim_tenant")?;
    }
    config.sending_networks()?;
    config.dkim_zone_server()?;
    config.feedback_settings()?;
    if let Some(url) = &config.platform.public_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        bail!(
            "platform.public_url must be a URL starting with https://, such as https://mail.platform.example"
        );
    }
    Ok(())
}

fn numbers(config: &Config) -> anyhow::Result<()> {
    let delivery = &config.delivery;
    if delivery.retry_delays.iter().any(|delay| *delay <= 0)
        || delivery.max_age <= 0
        || delivery.lease_seconds <= 0
    {
        bail!(
            "delivery.retry_delays, delivery.max_age and delivery.lease_seconds must be \
             positive numbers of seconds"
        );
    }
    delivery.traffic.check()?;
    if delivery.remote_port == 0 {
        bail!("delivery.remote_port must be a port number (25 outside tests), not 0");
    }
    if config.database_max_connections == Some(0) {
        bail!("database_max_connections must be at least 1");
    }
    if config.database_statement_timeout == 0 {
        bail!("database_statement_timeout must be at least 1 second");
    }
    if config.smtp.connections_per_client == Some(0) {
        bail!("smtp.connections_per_client must be at least 1");
    }
    let reputation = &config.reputation;
    let rates = [
        reputation.warn_bounce_rate,
        reputation.pause_bounce_rate,
        reputation.warn_complaint_rate,
        reputation.pause_complaint_rate,
    ];
    if reputation.window_days <= 0 || rates.iter().any(|rate| !(*rate > 0.0 && *rate <= 1.0)) {
        bail!(
            "reputation.window_days must be positive and its rates between 0 and 1 (0.05 is 5 %)"
        );
    }
    if reputation.warn_bounce_rate > reputation.pause_bounce_rate
        || reputation.warn_complaint_rate > reputation.pause_complaint_rate
    {
        bail!("reputation: a warn rate above its pause rate would pause without warning first");
    }
    if config.nameserver.is_some_and(|address| address.port() == 0) {
        bail!("nameserver needs a port, such as 127.0.0.1:53");
    }
    Ok(())
}

/// The database URLs: SQLite or PostgreSQL, and the LISTEN/NOTIFY URL only beside PostgreSQL.
fn database(config: &Config) -> anyhow::Result<()> {
    let url = config.database_url();
    let postgres = |url: &str| url.starts_with("postgres://") || url.starts_with("postgresql://");
    if !url.starts_with("sqlite:") && !postgres(&url) {
        bail!("database_url must start with sqlite:// or postgres://");
    }
    if let Some(listen) = &config.database_listen_url {
        if !postgres(listen) {
            bail!("database_listen_url must be a postgres:// URL (a direct connection)");
        }
        if !postgres(&url) {
            bail!(
                "database_listen_url is for PostgreSQL; with SQLite (database_url) leave it \
                 unset"
            );
        }
    }
    Ok(())
}

/// No two listeners on one address.
fn listeners(config: &Config) -> anyhow::Result<()> {
    let listeners: [(&str, Option<SocketAddr>); 3] = [
        ("http_listen", Some(config.http_listen)),
        ("smtp.listen", config.smtp.listen),
        ("checker.listen", config.checker.listen),
    ];
    for (index, (key, address)) in listeners.iter().enumerate() {
        let Some(address) = address.filter(|address| address.port() != 0) else {
            continue;
        };
        for (other_key, other) in &listeners[index + 1..] {
            if *other == Some(address) {
                bail!("{key} and {other_key} are both {address}: give each listener its own port");
            }
        }
    }
    Ok(())
}

/// Settings that only make sense together.
fn pairs(config: &Config) -> anyhow::Result<()> {
    if config.checker.listen.is_some()
        && config.checker.domain.is_none()
        && config.feedback.inbound_host.is_none()
        && config.feedback.complaints_address.is_none()
    {
        bail!(
            "checker.listen needs checker.domain, feedback.inbound_host or \
             feedback.complaints_address: the listener accepts only test addresses, return \
             addresses and the complaints address"
        );
    }
    if config.smtp.tls_cert.is_some() != config.smtp.tls_key.is_some() {
        bail!("smtp.tls_cert and smtp.tls_key must be set together");
    }
    if config.platform.dkim_tenant.is_some() && config.platform.domain.is_none() {
        bail!("platform.dkim_tenant needs platform.domain: the domain whose key it checks");
    }
    Ok(())
}
