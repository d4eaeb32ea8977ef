//! The scheduled DNS re-check and automatic key rotation on this node (SPEC S11.2, S11.1): every
//! node runs this loop, and only the node holding the cluster's re-check lease does the work; when it stops, it gives the lease up
//! so another node takes over at its next poll, and when it dies the lease runs out.

use sealpost_service::{RecheckSettings, RotationSettings, Service};
use sealpost_smtpd::CancellationToken;

/// Polls until `shutdown`, re-checking due domains and rotating due keys whenever this node
/// holds the lease.
pub async fn run(service: Service, node: String, shutdown: CancellationToken) {
    let settings = RecheckSettings::default();
    let rotation = RotationSettings::default();
    let domains = service.signing_domains();
    while !shutdown.is_cancelled() {
        match domains.scheduled_recheck(&node, &settings).await {
            Ok(Some(summary)) if summary.checked > 0 || !summary.errors.is_empty() => {
                tracing::info!(
                    checked = summary.checked,
                    changes = summary.changes.len(),
                    errors = summary.errors.len(),
                    "DNS re-check of due signing domains"
                );
                for error in &summary.errors {
                    tracing::warn!(%error, "a signing domain could not be re-checked");
                }
            }
            Ok(_) => {}
            Err(error) => tracing::error!(
                error = %error.chain(),
                "the DNS re-check failed; trying again at the next poll"
            ),
        }
        rotate(&service, &node, &settings, &rotation).await;
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(settings.poll) => {}
        }
    }
    if let Err(error) = domains.release_recheck_lease(&node).await {
        tracing::warn!(error = %error.chain(), "could not give the DNS re-check lease up");
    }
}

/// One pass of the automatic key rotation, logged; a failure waits for the next poll.
async fn rotate(
    service: &Service,
    node: &str,
    settings: &RecheckSettings,
    rotation: &RotationSettings,
) {
    match service
        .signing_domains()
        .scheduled_rotation(node, settings, rotation)
        .await
    {
        Ok(Some(summary)) => {
            for started in &summary.started {
                tracing::info!(%started, "automatic key rotation started");
            }
            for error in &summary.errors {
                tracing::warn!(%error, "a key could not be rotated");
            }
        }
        Ok(None) => {}
        Err(error) => tracing::error!(
            error = %error.chain(),
            "the automatic key rotation failed; trying again at the next poll"
        ),
    }
}
