//! Every serving node looks for a master key rotation at each poll, so it learns the new key
//! (and seals under it) before `sealpost master-key rotate` starts rewrapping, which waits
//! longer than two polls after recording the rotation.

use sealpost_service::Service;
use sealpost_smtpd::CancellationToken;

/// Polls until `shutdown`.
pub async fn run(service: Service, shutdown: CancellationToken) {
    let keys = service.master_keys();
    let poll = crate::master_key::poll_interval();
    while !shutdown.is_cancelled() {
        if let Err(error) = keys.follow_rotation().await {
            tracing::error!(
                error = %error.chain(),
                "could not look for a master key rotation; trying again at the next poll"
            );
        }
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}
