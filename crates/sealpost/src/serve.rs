//! `sealpost serve`: open the database, bind the vault to it, and serve the HTTP API and the
//! web UI until Ctrl-C or SIGTERM.

use std::sync::Arc;

use anyhow::Context as _;
use sealpost_retry_policy::RetryPolicy;
use sealpost_service::{
    Delivery, DeliveryNode, Service, SystemClock, UnsignedPolicy, WebhookPolicy,
};
use sealpost_smtpd::CancellationToken;
use sealpost_store::{Store, StoreOptions};
use sealpost_vault::{MasterKey, Vault};
use tokio::task::JoinHandle;

use crate::config::{Config, UnsignedMail};
use crate::demo::{Prepared, Seeded};
use crate::master_key::{self, Source};

pub async fn run(
    mut config: Config,
    config_file: Option<std::path::PathBuf>,
    demo: bool,
) -> anyhow::Result<()> {
    let (master, source) = master_key::load(&config, demo)?;
    let prepared = match demo {
        true => Some(crate::demo::prepare(&mut config).await?),
        false => None,
    };
    log_master_key_source(&source);
    let (service, seeded) = open_and_seed(&config, master, demo).await?;
    let app = http_app(&service, operator_token(&config, seeded.as_ref()));
    let shutdown = CancellationToken::new();
    let (worker, webhooks) = match config.delivery.enabled {
        true => {
            let delivery = Delivery::new(service.clone(), delivery_node(&config)?);
            if let Some(url) = listen_url(&config) {
                tokio::spawn(listen_for_work(url, delivery.clone(), shutdown.clone()));
            }
            (
                Some(tokio::spawn(deliver(delivery, shutdown.clone()))),
                Some(tokio::spawn(crate::webhook_loop::run(
                    service.clone(),
                    shutdown.clone(),
                ))),
            )
        }
        false => (None, None),
    };
    tokio::spawn(crate::rotation_watch::run(
        service.clone(),
        shutdown.clone(),
    ));
    tokio::spawn(crate::checkpoint_loop::run(
        service.store().clone(),
        shutdown.clone(),
    ));
    tokio::spawn(crate::statistics_loop::run(
        service.store().clone(),
        shutdown.clone(),
    ));
    // Every node serves the zone alike from the database, so the parent zone may name them all.
    let _dkim_zone = start_dkim_zone(&config, &service).await?;
    let recheck = tokio::spawn(crate::recheck_loop::run(
        service.clone(),
        format!("{}-{}", std::process::id(), uuid_suffix()),
        shutdown.clone(),
    ));
    // Both listeners present one certificate, which SIGHUP reloads for both.
    let submission = crate::submission::smtpd_config(&config, demo)?;
    let inbound = crate::inbound::smtpd_config(&config, &submission);
    let reload = crate::reload::spawn(
        config_file,
        config.clone(),
        submission.tls.clone(),
        shutdown.clone(),
    )?;
    let smtp = start_submission_listener(&config, submission, &service, &shutdown).await?;
    let checker =
        start_mail_tester_listener(&config, inbound, prepared, &service, &shutdown).await?;
    serve_http(&config, app, seeded.as_ref(), &shutdown).await?;
    // The SMTP listener finishes the messages it is receiving before the process ends.
    shutdown.cancel();
    if let Some(smtp) = smtp {
        smtp.await.context("the SMTP listener failed")?;
    }
    if let Some(checker) = checker {
        checker.await.context("the mail tester's listener failed")?;
    }
    if let Some(worker) = worker {
        worker.await.context("the delivery worker failed")?;
    }
    if let Some(webhooks) = webhooks {
        webhooks.await.context("the webhook sender failed")?;
    }
    reload.await.context("the SIGHUP handler failed")?;
    recheck.await.context("the DNS re-check loop failed")?;
    Ok(())
}

fn log_master_key_source(source: &Source) {
    match source {
        Source::DemoFileCreated(path) => tracing::warn!(
            path = %path.display(),
            "DEMO MODE: created a new master key in the data directory. Anyone who can read \
             this file can decrypt every DKIM key. Do not use demo mode in production."
        ),
        Source::File(path) => tracing::info!(path = %path.display(), "master key loaded from file"),
        Source::Environment => tracing::info!("master key loaded from SEALPOST_MASTER_KEY"),
    }
}

/// Opens the service; in demo mode also seeds the demo tenant, whose service (with the demo's
/// resolver) is the one to serve.
async fn open_and_seed(
    config: &Config,
    master: MasterKey,
    demo: bool,
) -> anyhow::Result<(Service, Option<Seeded>)> {
    let service = crate::commands::open_service_with(config, master).await?;
    match demo {
        true => {
            let seeded = crate::demo::seed(service, config).await?;
            Ok((seeded.service.clone(), Some(seeded)))
        }
        false => Ok((service, None)),
    }
}

/// The configured operator token, or the demo's; without either the tenant administration
/// API stays closed.
fn operator_token(config: &Config, seeded: Option<&Seeded>) -> Option<Arc<str>> {
    // The demo's operator token is printed with its other facts on stdout, never logged.
    match (&config.operator_token, seeded) {
        (Some(token), _) => Some(Arc::from(token.as_str())),
        (None, Some(seeded)) => Some(Arc::from(seeded.operator_token.as_str())),
        (None, None) => {
            tracing::warn!("no operator_token configured: the tenant administration API is closed");
            None
        }
    }
}

/// The JSON API keeps /api/v1, /health, /metrics and /openapi.json; the UI's pages take the
/// rest. Both call the same service.
fn http_app(service: &Service, operator_token: Option<Arc<str>>) -> axum::Router {
    sealpost_web::router(sealpost_web::AppState {
        service: service.clone(),
        operator_token,
    })
    .merge(sealpost_ui::router(sealpost_ui::UiState {
        service: service.clone(),
    }))
}

/// Starts serving the DKIM zone when `dkim_zone.listen` is set; it stops when the value returned
/// is dropped, at the end of `run`.
async fn start_dkim_zone(
    config: &Config,
    service: &Service,
) -> anyhow::Result<Option<sealpost_dkimzone::DkimZoneServer>> {
    let Some((settings, listen)) = config.dkim_zone_server()? else {
        return Ok(None);
    };
    let zone = settings.zone.clone();
    let server =
        sealpost_dkimzone::DkimZoneServer::start(settings, service.store().clone(), listen)
            .await
            .with_context(|| format!("cannot serve the DKIM zone {zone} on {listen}"))?;
    println!(
        "sealpost serving the DKIM zone {zone} on {} (UDP and TCP)",
        server.udp_addr()
    );
    Ok(Some(server))
}

/// Binds the SMTP submission listener when one is configured and serves it until shutdown.
async fn start_submission_listener(
    config: &Config,
    smtpd: Arc<sealpost_smtpd::SmtpdConfig>,
    service: &Service,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    let Some(address) = config.smtp.listen else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen for SMTP on {address}"))?;
    let address = listener.local_addr()?;
    println!("sealpost smtp submission on {address}");
    let backend = Arc::new(crate::submission::ServiceBackend {
        service: service.clone(),
    });
    Ok(Some(tokio::spawn(sealpost_smtpd::serve(
        listener,
        smtpd,
        backend,
        shutdown.clone(),
    ))))
}

/// Serves the mail tester's inbound SMTP on the demo's listener, bound before the service
/// opened, or on the configured address; without either there is no mail tester listener.
async fn start_mail_tester_listener(
    config: &Config,
    smtpd: Arc<sealpost_smtpd::SmtpdConfig>,
    prepared: Option<Prepared>,
    service: &Service,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    let listener = match (prepared, config.checker.listen) {
        (Some(prepared), _) => prepared.checker_listener,
        (None, Some(address)) => tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen for the mail tester on {address}"))?,
        (None, None) => return Ok(None),
    };
    println!(
        "sealpost mail tester on {} for test addresses at {}",
        listener.local_addr()?,
        config.checker.domain.as_deref().unwrap_or_default()
    );
    Ok(Some(tokio::spawn(sealpost_smtpd::serve(
        listener,
        smtpd,
        Arc::new(crate::inbound::CheckerBackend {
            service: service.clone(),
        }),
        shutdown.clone(),
    ))))
}

/// Serves HTTP until Ctrl-C or SIGTERM, which also cancels `shutdown` for the other listeners.
async fn serve_http(
    config: &Config,
    app: axum::Router,
    seeded: Option<&Seeded>,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.http_listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.http_listen))?;
    let address = listener.local_addr()?;
    // Printed on stdout so that scripts and tests that ask for port 0 learn the real port.
    println!("sealpost listening on http://{address}");
    tracing::info!(%address, database = %redact_url(&config.database_url()), "serving");
    if let Some(seeded) = seeded {
        crate::demo::announce(seeded, config, address);
    }
    let stop = shutdown.clone();
    // Handlers get the client's address (the UI limits sign-in attempts per address), every
    // request head and body has a deadline, and one address has a bounded number of
    // connections.
    sealpost_web::serve::serve(
        listener,
        app,
        sealpost_web::serve::ServeLimits::default(),
        async move {
            shutdown_signal().await;
            stop.cancel();
        },
    )
    .await;
    Ok(())
}

/// The delivery loop: rounds of claim-and-deliver, a short sleep when nothing is due, and a stop
/// after the round in progress when the server shuts down, so no claimed work is abandoned
/// mid-attempt (what is not attempted returns to the queue when its lease ends).
async fn deliver(delivery: Delivery, shutdown: CancellationToken) {
    let owner = format!("{}-{}", std::process::id(), uuid_suffix());
    // Sharing stops only after the last round: until then this node still holds connections,
    // and the other nodes must go on counting it.
    let stop_sharing = CancellationToken::new();
    let sharing = tokio::spawn(share_destinations(
        delivery.clone(),
        owner.clone(),
        stop_sharing.clone(),
    ));
    while !shutdown.is_cancelled() {
        let idle = match delivery.deliver_due(&owner).await {
            Ok(0) => true,
            Ok(_) => false,
            Err(error) => {
                tracing::error!(%error, "delivery round failed; trying again shortly");
                true
            }
        };
        delivery.close_idle_connections().await;
        // An idle node waits for a message it commits itself, or polls after a second for work
        // other nodes committed and for retries coming due.
        if idle {
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = delivery.new_work() => {}
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            }
        }
    }
    stop_sharing.cancel();
    if let Err(error) = sharing.await {
        tracing::error!(%error, "sharing the destinations' state ended abnormally");
    }
    // Receivers see a QUIT rather than a connection that drops.
    delivery.close_connections().await;
}

/// Every 5 s, from the start and whatever the delivery rounds are doing (a round waits for its
/// slowest receiver): publishes this node's destinations, which the operator's `sealpost
/// destinations` reads, and heeds what the other nodes published, to share each destination's
/// limits and pauses with them. Nothing here waits on a receiver, so it keeps its pace.
async fn share_destinations(delivery: Delivery, owner: String, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(5));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ticks.tick() => {}
        }
        if let Err(error) = delivery.publish_destinations(&owner).await {
            tracing::warn!(%error, "publishing the destinations' state failed");
        }
        if let Err(error) = delivery.heed_peers(&owner).await {
            tracing::warn!(%error, "reading the other nodes' destinations failed");
        }
    }
    // A node that stops no longer counts among those that share the limits.
    if let Err(error) = delivery.withdraw_destinations(&owner).await {
        tracing::warn!(%error, "withdrawing the destinations' state failed");
    }
}

/// Where this node listens for other nodes' new mail: PostgreSQL only, on the direct URL when
/// one is configured beside a pooler.
fn listen_url(config: &Config) -> Option<String> {
    let url = config.database_url();
    url.starts_with("postgres")
        .then(|| config.database_listen_url.clone().unwrap_or(url))
}

/// Wakes this node's delivery whenever any node commits new mail. A lost connection is opened
/// again after a pause; meanwhile the delivery loop's poll finds the work.
async fn listen_for_work(url: String, delivery: Delivery, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        match sealpost_store::WorkListener::connect(&url).await {
            Ok(mut listener) => loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    received = listener.next() => match received {
                        Ok(()) => delivery.wake(),
                        Err(error) => {
                            tracing::warn!(%error, "listening for other nodes' mail failed");
                            break;
                        }
                    },
                }
            },
            Err(error) => {
                tracing::warn!(%error, "cannot listen for other nodes' mail; polling meanwhile");
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
        }
    }
}

/// A short random suffix that tells nodes on one host apart in lease owners.
fn uuid_suffix() -> String {
    let mut bytes = [0u8; 4];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator works");
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Opens the database and binds the vault, shared by the server and the CLI.
pub async fn open(config: &Config, vault: Vault) -> anyhow::Result<Service> {
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    }
    let options = StoreOptions {
        max_connections: config.database_max_connections,
        statement_timeout: std::time::Duration::from_secs(config.database_statement_timeout),
    };
    let store = Store::connect_with(&url, &options)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&url)))?;
    let service = Service::open(store, vault, Arc::new(SystemClock), config.resolver()?).await?;
    let (inbound_host, complaints_address) = config.feedback_settings()?;
    Ok(service
        .with_platform(config.platform_spf()?)
        .with_platform_settings(crate::commands::platform_settings(config)?)
        .with_retry_policy(RetryPolicy {
            delays: config.delivery.retry_delays.clone(),
            max_age: config.delivery.max_age,
        })
        .with_relay_test(delivery_node(config)?.relay)
        .with_checker(config.checker_settings()?)
        .with_inbound_host(inbound_host)
        .with_complaints_address(complaints_address)
        .with_public_url(config.platform.public_url.clone())
        .with_dkim_zone(config.dkim_zone()?)
        .with_reputation_policy(config.reputation.policy())
        .with_webhook_policy(WebhookPolicy {
            allow_private: config.webhooks.allow_private_addresses,
            ..WebhookPolicy::default()
        })
        .with_unsigned_policy(match config.unsigned_mail {
            UnsignedMail::Send => UnsignedPolicy::Send,
            UnsignedMail::Refuse => UnsignedPolicy::Refuse,
        }))
}

/// How this node delivers, from the operator's configuration.
fn delivery_node(config: &Config) -> anyhow::Result<DeliveryNode> {
    let mut node = DeliveryNode::new(&config.helo_name())?;
    node.native.port = config.delivery.remote_port;
    node.lease_seconds = config.delivery.lease_seconds;
    node.shaping = config.delivery.traffic.shaping();
    node.pool = config.delivery.traffic.pool();
    Ok(node)
}

/// A database URL without its password, for logs and `sealpost config`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install the SIGTERM handler");
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_not_logged() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
