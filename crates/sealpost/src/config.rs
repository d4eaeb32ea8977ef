//! Configuration: a TOML file (`--config`, default `sealpost.toml` when present) overridden by
//! `SEALPOST_...` environment variables; nested keys use a double underscore
//! (`SEALPOST_PLATFORM__DOMAIN`). `sealpost.example.toml` documents every key. The master key
//! itself is never part of this: it comes from its own file or `SEALPOST_MASTER_KEY`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use sealpost_dnsauth::report::PlatformSpf;
use sealpost_dnsauth::spf::Network;
use sealpost_domain::DomainName;
use serde::{Deserialize, Serialize};

mod dkim_zone;
mod shaping;
#[cfg(test)]
mod tests;
mod validate;

pub use dkim_zone::DkimZoneConfig;
pub use shaping::TrafficSettings;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite database (and a demo master key) live.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER@HOST/DATABASE`; default: SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// A direct PostgreSQL URL for LISTEN/NOTIFY when `database_url` goes through a
    /// transaction pooler (PgBouncer), which would deliver notifications to the wrong client;
    /// default: `database_url`.
    pub database_listen_url: Option<String>,
    /// Database connections per node; default 4 for SQLite (the reading connections, besides
    /// the one that writes), 10 for PostgreSQL.
    pub database_max_connections: Option<u32>,
    /// PostgreSQL statements running longer than this many seconds are cancelled.
    pub database_statement_timeout: u64,
    pub http_listen: SocketAddr,
    /// A file holding the master key (base64 or hex of 32 bytes).
    pub master_key_file: Option<PathBuf>,
    /// Bearer token for the operator's API routes (tenant administration).
    pub operator_token: Option<String>,
    /// DNS server for every lookup, such as `127.0.0.1:5353` (SPEC S8.5); default: the system's.
    pub nameserver: Option<SocketAddr>,
    /// Mail a tenant cannot sign (its From or MAIL FROM domain is not an active signing domain):
    /// `send` it unsigned with the reason recorded, or `refuse` it at submission.
    pub unsigned_mail: UnsignedMail,
    pub platform: Platform,
    pub smtp: Smtp,
    pub delivery: Delivery,
    pub checker: Checker,
    pub feedback: Feedback,
    pub webhooks: Webhooks,
    pub reputation: Reputation,
    pub dkim_zone: DkimZoneConfig,
}

/// The tenant reputation guard (SPEC S10.5): rates over the window above the warn thresholds
/// warn the tenant, above the pause thresholds hold its new mail until an operator resumes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reputation {
    pub window_days: i64,
    /// Delivered recipients in the window below which no rate is judged.
    pub min_volume: u64,
    pub warn_bounce_rate: f64,
    pub pause_bounce_rate: f64,
    pub warn_complaint_rate: f64,
    pub pause_complaint_rate: f64,
}

impl Default for Reputation {
    fn default() -> Self {
        let policy = sealpost_domain::ReputationPolicy::default();
        Self {
            window_days: policy.window / 86_400,
            min_volume: policy.min_volume,
            warn_bounce_rate: policy.warn_bounce_rate,
            pause_bounce_rate: policy.pause_bounce_rate,
            warn_complaint_rate: policy.warn_complaint_rate,
            pause_complaint_rate: policy.pause_complaint_rate,
        }
    }
}

impl Reputation {
    pub fn policy(&self) -> sealpost_domain::ReputationPolicy {
        sealpost_domain::ReputationPolicy {
            window: self.window_days * 86_400,
            min_volume: self.min_volume,
            warn_bounce_rate: self.warn_bounce_rate,
            pause_bounce_rate: self.pause_bounce_rate,
            warn_complaint_rate: self.warn_complaint_rate,
            pause_complaint_rate: self.pause_complaint_rate,
        }
    }
}

/// Tenants' webhook endpoints (SPEC S10.6).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhooks {
    /// Let endpoints be on private, loopback or link-local addresses. Off on the internet: it
    /// would let tenants make the platform send requests into its own network.
    pub allow_private_addresses: bool,
}

/// What comes back after delivery (SPEC S10): bounces to return-path domains and feedback-loop
/// complaints, both taken by the inbound listener (`checker.listen`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    /// The host name of the inbound listener, where tenants point the MX of their return-path
    /// domains; unset: no return-path domain can be set up.
    pub inbound_host: Option<String>,
    /// The address feedback loops send complaints to (its domain's MX pointing at the inbound
    /// listener); unset: complaints are matched only when sent to a return address.
    pub complaints_address: Option<String>,
}

/// The built-in mail tester (SPEC S7): its inbound SMTP listener and the domain of its test
/// addresses, whose MX must point at that listener.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checker {
    /// The domain of test addresses (`test-<token>@<domain>`); unset leaves the tester off.
    pub domain: Option<String>,
    /// Where the inbound listener listens, such as `0.0.0.0:25`; unset: no listener on this
    /// node (another node may run it).
    pub listen: Option<SocketAddr>,
    /// SpamAssassin's spamd, such as `127.0.0.1:783`, for a spam-filter score.
    pub spamd: Option<SocketAddr>,
}

/// Outbound delivery by this node (SPEC S1).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// Deliver queued mail from this node; a node with `false` only accepts.
    pub enabled: bool,
    /// The SMTP port of recipients' MX hosts: 25, except in tests on loopback.
    pub remote_port: u16,
    /// The EHLO name; default: the platform domain.
    pub helo_name: Option<String>,
    /// Seconds to wait after the 1st, 2nd, ... temporary failure; the last value repeats.
    pub retry_delays: Vec<i64>,
    /// Seconds after acceptance when temporary failures become final (24 hours).
    pub max_age: i64,
    /// How long a node's claim on a recipient lasts. A crashed node's claims return to the
    /// queue after this; it must exceed the longest delivery attempt (timeouts included), or a
    /// slow attempt could be repeated by another node.
    pub lease_seconds: i64,
    /// Connection reuse and per-destination limits (`[delivery.traffic]`).
    pub traffic: TrafficSettings,
}

impl Default for Delivery {
    fn default() -> Self {
        let policy = sealpost_retry_policy::RetryPolicy::default();
        Self {
            enabled: true,
            remote_port: 25,
            helo_name: None,
            retry_delays: policy.delays,
            max_age: policy.max_age,
            lease_seconds: 900,
            traffic: TrafficSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnsignedMail {
    #[default]
    Send,
    Refuse,
}

/// The SMTP submission listener (SPEC S8.2).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// Where to listen, such as `0.0.0.0:587`; unset leaves the listener off.
    pub listen: Option<SocketAddr>,
    /// The certificate chain and key for STARTTLS, PEM files.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Accept AUTH without TLS from loopback clients (an application on the same host).
    pub allow_plain_auth_on_loopback: bool,
    /// Connections one client address may hold open; more are answered 421. The default bounds
    /// what slow clients can take; an application host that submits over many connections (or
    /// a proxy in front) needs more.
    pub connections_per_client: Option<usize>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// The platform's own mail domain, such as `mail.platform.example`.
    pub domain: Option<String>,
    /// The SPF include host; default `_spf.<domain>`.
    pub spf_include_host: Option<String>,
    /// The networks the platform sends from: addresses or CIDR networks.
    pub sending_ips: Vec<String>,
    /// The tenant that signs the platform's own mail for `domain`; `sealpost doctor` checks
    /// that domain's DKIM record against this tenant's key.
    pub dkim_tenant: Option<String>,
    /// The public base URL of the platform's HTTP server, such as
    /// `https://mail.platform.example`: one-click unsubscribe links point there.
    pub public_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: None,
            database_listen_url: None,
            database_max_connections: None,
            database_statement_timeout: 30,
            http_listen: SocketAddr::from(([127, 0, 0, 1], 8025)),
            master_key_file: None,
            operator_token: None,
            nameserver: None,
            unsigned_mail: UnsignedMail::Send,
            platform: Platform::default(),
            smtp: Smtp::default(),
            delivery: Delivery::default(),
            checker: Checker::default(),
            feedback: Feedback::default(),
            webhooks: Webhooks::default(),
            reputation: Reputation::default(),
            dkim_zone: DkimZoneConfig::default(),
        }
    }
}

/// The environment variables the configuration reads; others with the prefix (such as
/// `SEALPOST_MASTER_KEY`, read on its own) are not configuration keys.
const ENV_KEYS: &[&str] = &[
    "data_dir",
    "database_url",
    "database_listen_url",
    "database_max_connections",
    "database_statement_timeout",
    "http_listen",
    "master_key_file",
    "operator_token",
    "nameserver",
    "unsigned_mail",
    "platform__domain",
    "platform__spf_include_host",
    "platform__sending_ips",
    "platform__dkim_tenant",
    "platform__public_url",
    "smtp__listen",
    "smtp__tls_cert",
    "smtp__tls_key",
    "smtp__allow_plain_auth_on_loopback",
    "smtp__connections_per_client",
    "delivery__enabled",
    "delivery__remote_port",
    "delivery__helo_name",
    "delivery__retry_delays",
    "delivery__max_age",
    "delivery__lease_seconds",
    "delivery__traffic__connection_idle_seconds",
    "delivery__traffic__default_destination__connections",
    "delivery__traffic__default_destination__messages_per_connection",
    "delivery__traffic__default_destination__messages_per_minute",
    "delivery__traffic__destinations",
    "checker__domain",
    "checker__listen",
    "checker__spamd",
    "feedback__inbound_host",
    "feedback__complaints_address",
    "webhooks__allow_private_addresses",
    "reputation__window_days",
    "reputation__min_volume",
    "reputation__warn_bounce_rate",
    "reputation__pause_bounce_rate",
    "reputation__warn_complaint_rate",
    "reputation__pause_complaint_rate",
    "dkim_zone__listen",
    "dkim_zone__zone",
    "dkim_zone__nameservers",
];

impl Config {
    /// The resolver every DNS lookup of this process uses: the configured nameserver (or the
    /// `--nameserver` override already applied to it), else the system's.
    pub fn resolver(&self) -> anyhow::Result<sealpost_dns::Resolver> {
        let config = sealpost_dns::ResolverConfig {
            nameserver: self.nameserver,
            ..sealpost_dns::ResolverConfig::default()
        };
        Ok(sealpost_dns::Resolver::new(&config)?)
    }

    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => {
                bail!("the configuration file {} does not exist", path.display())
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file("sealpost.toml")),
        }
        let environment = Env::prefixed("SEALPOST_")
            .filter(|key| ENV_KEYS.iter().any(|known| key == *known))
            .split("__");
        // Figment names a key with its profile ("default.smtp.tls_crt"); the file has no
        // profiles, so the key is shown as written in it.
        let config: Config = figment
            .merge(environment)
            .extract()
            .map_err(|error| anyhow::anyhow!(error.to_string().replace("\"default.", "\"")))
            .context("the configuration is invalid")?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        validate::validate(self)
    }

    /// The name this node gives in EHLO: configured, else the platform domain.
    pub fn helo_name(&self) -> String {
        self.delivery
            .helo_name
            .clone()
            .or_else(|| self.platform.domain.clone())
            .unwrap_or_else(|| "localhost".to_owned())
    }

    /// The platform's sending networks (SPEC S2.1).
    pub fn sending_networks(&self) -> anyhow::Result<Vec<Network>> {
        self.platform
            .sending_ips
            .iter()
            .map(|text| {
                text.parse::<Network>()
                    .with_context(|| format!("platform.sending_ips: {text:?}"))
            })
            .collect()
    }

    /// What the tenant SPF check needs from the platform, when it is configured.
    pub fn platform_spf(&self) -> anyhow::Result<Option<PlatformSpf>> {
        let networks = self.sending_networks()?;
        Ok(match self.spf_include_host() {
            Some(include_host) if !networks.is_empty() => Some(PlatformSpf {
                include_host,
                networks,
            }),
            _ => None,
        })
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("sealpost.db").display()),
        }
    }

    /// The configuration as `sealpost config` shows it: derived values filled in, the operator
    /// token replaced by whether it is set, the database password by `***`.
    pub fn redacted_view(&self) -> serde_json::Value {
        serde_json::json!({
            "data_dir": self.data_dir,
            "database_url": crate::serve::redact_url(&self.database_url()),
            "database_listen_url": self.database_listen_url.as_deref().map(crate::serve::redact_url),
            "http_listen": self.http_listen,
            "master_key_file": self.master_key_file,
            "operator_token_set": self.operator_token.is_some(),
            "nameserver": self.nameserver,
            "unsigned_mail": self.unsigned_mail,
            "platform": {
                "domain": self.platform.domain,
                "spf_include_host": self.spf_include_host(),
                "sending_ips": self.platform.sending_ips,
                "dkim_tenant": self.platform.dkim_tenant,
                "public_url": self.platform.public_url,
            },
            "smtp": self.smtp,
            "delivery": self.delivery,
            "checker": self.checker,
            "feedback": self.feedback,
            "webhooks": self.webhooks,
            "reputation": self.reputation,
            "dkim_zone": self.dkim_zone,
        })
    }

    /// The inbound host and the complaints address, parsed (validation has checked them).
    pub fn feedback_settings(
        &self,
    ) -> anyhow::Result<(
        Option<sealpost_domain::DomainName>,
        Option<sealpost_domain::EmailAddress>,
    )> {
        let host = self
            .feedback
            .inbound_host
            .as_deref()
            .map(sealpost_domain::DomainName::parse)
            .transpose()
            .context("feedback.inbound_host")?;
        let complaints = self
            .feedback
            .complaints_address
            .as_deref()
            .map(sealpost_domain::EmailAddress::parse)
            .transpose()
            .context("feedback.complaints_address")?;
        Ok((host, complaints))
    }

    /// The mail tester's settings for the service, when a checker domain is configured.
    pub fn checker_settings(&self) -> anyhow::Result<Option<sealpost_service::CheckerSettings>> {
        let Some(domain) = &self.checker.domain else {
            return Ok(None);
        };
        Ok(Some(sealpost_service::CheckerSettings {
            domain: DomainName::parse(domain).context("checker.domain")?,
            spamd: self.checker.spamd.map(|address| {
                sealpost_spamd::SpamdClient::new(address, std::time::Duration::from_secs(30))
            }),
        }))
    }

    /// `_spf.<platform domain>` unless configured otherwise (SPEC S2.1).
    pub fn spf_include_host(&self) -> Option<String> {
        self.platform.spf_include_host.clone().or_else(|| {
            self.platform
                .domain
                .as_ref()
                .map(|domain| format!("_spf.{domain}"))
        })
    }
}
