//! SIGHUP (`systemctl reload sealpost`): the configuration is read again, and what can change
//! while the node runs does: the SMTP listeners' certificate and key, read from the files now
//! configured, for new connections. Every other key that changed is named in the log as waiting
//! for a restart, so a reload never half-applies a setting. An invalid file changes nothing.

use std::path::PathBuf;

use sealpost_smtpd::{CancellationToken, TlsSettings};
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinHandle;

use crate::config::Config;

/// Reloads on every SIGHUP until `shutdown`; `tls` is the certificate the listeners share.
pub fn spawn(
    file: Option<PathBuf>,
    running: Config,
    tls: Option<TlsSettings>,
    shutdown: CancellationToken,
) -> anyhow::Result<JoinHandle<()>> {
    let mut hangups = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                received = hangups.recv() => {
                    if received.is_none() {
                        return;
                    }
                }
            }
            reload(file.as_deref(), &running, tls.as_ref());
        }
    }))
}

fn reload(file: Option<&std::path::Path>, running: &Config, tls: Option<&TlsSettings>) {
    let config = match Config::load(file) {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(
                error = %format!("{error:#}"),
                "SIGHUP: the configuration is invalid; nothing was reloaded"
            );
            return;
        }
    };
    match (tls, &config.smtp.tls_cert, &config.smtp.tls_key) {
        (Some(tls), Some(certificate), Some(key)) => match tls.reload_pem_files(certificate, key) {
            Ok(()) => tracing::info!(
                certificate = %certificate.display(),
                "SIGHUP: the SMTP certificate was reloaded"
            ),
            Err(error) => tracing::error!(
                %error,
                "SIGHUP: the SMTP certificate could not be reloaded; the old one stays"
            ),
        },
        (None, Some(_), _) => {
            tracing::warn!("SIGHUP: smtp.tls_cert was added; STARTTLS is offered after a restart")
        }
        _ => {}
    }
    let waiting = changed_keys(running, &config);
    if !waiting.is_empty() {
        tracing::warn!(
            keys = %waiting.join(", "),
            "SIGHUP: these settings changed and take effect at the next restart"
        );
    }
}

/// The keys whose values differ, other than the certificate files a reload applies.
fn changed_keys(running: &Config, new: &Config) -> Vec<String> {
    let (running, new) = (running.redacted_view(), new.redacted_view());
    let mut changed = Vec::new();
    collect_changes(&running, &new, "", &mut changed);
    changed.retain(|key| key != "smtp.tls_cert" && key != "smtp.tls_key");
    changed
}

fn collect_changes(
    running: &serde_json::Value,
    new: &serde_json::Value,
    prefix: &str,
    into: &mut Vec<String>,
) {
    match (running.as_object(), new.as_object()) {
        (Some(running), Some(new)) => {
            for (key, value) in running {
                let name = match prefix.is_empty() {
                    true => key.clone(),
                    false => format!("{prefix}.{key}"),
                };
                collect_changes(value, &new[key], &name, into);
            }
        }
        _ if running != new => into.push(prefix.to_owned()),
        _ => {}
    }
}
