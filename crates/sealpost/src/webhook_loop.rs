//! The webhook sender on this node (SPEC S10.6): every delivering node runs this loop; the
//! outbox's leases keep two nodes from sending the same event, and a crashed node's claims come
//! back when their lease runs out.

use std::time::Duration;

use sealpost_service::Service;
use sealpost_smtpd::CancellationToken;

/// How long the loop waits when nothing was due; a test event sent by hand wakes it earlier.
const POLL: Duration = Duration::from_millis(250);

/// Sends due events until `shutdown`.
pub async fn run(service: Service, shutdown: CancellationToken) {
    let webhooks = service.webhooks();
    while !shutdown.is_cancelled() {
        let busy = match webhooks.deliver_due().await {
            Ok(sent) => sent > 0,
            Err(error) => {
                tracing::error!(
                    error = %error.chain(),
                    "webhook delivery failed; trying again at the next poll"
                );
                false
            }
        };
        if busy {
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = webhooks.wait_for_work(POLL) => {}
        }
    }
}
