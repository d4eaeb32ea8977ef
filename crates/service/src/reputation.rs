//! The tenant reputation guard as use cases (SPEC S10.5): after each bounce or complaint the
//! tenant's rates over the window are judged; crossing a warning threshold records the warning,
//! crossing a pause threshold holds the tenant's new mail (accepted, not sent) until an operator
//! resumes it. One tenant's pause never holds another's mail.

use sealpost_domain::{
    ReputationPolicy, SendingFigures, Standing, TenantId, Timestamp, judge_reputation,
};
use sealpost_store::{StoreError, TenantStanding};

use crate::{FeedbackLoop, ServiceError};

/// A tenant's rates and standing, as the operator and the tenant see them.
#[derive(Debug, Clone, PartialEq)]
pub struct Reputation {
    pub figures: SendingFigures,
    pub standing: TenantStanding,
    pub policy: ReputationPolicy,
}

impl FeedbackLoop {
    /// Judges the tenant's figures now and records a warning or a pause.
    pub(crate) async fn judge_reputation(&self, tenant: TenantId) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let figures = self
            .store
            .sending_figures(tenant, Timestamp(now.0 - self.reputation_policy.window))
            .await?;
        match judge_reputation(figures, &self.reputation_policy) {
            Standing::Good => self.store.set_reputation_warning(tenant, None).await?,
            Standing::Warning(reason) => {
                self.store
                    .set_reputation_warning(tenant, Some(&reason))
                    .await?;
            }
            Standing::Pause(reason) => {
                if self.store.pause_sending(tenant, now, &reason).await? {
                    tracing::warn!(%tenant, %reason, "tenant's sending paused");
                    self.metrics.count("paused", tenant);
                    // Marking the waiting mail held spares every claim reading it, and takes a
                    // while behind a large backlog: the report that caused the pause does not
                    // wait for it, and a failure leaves the mail held all the same (the claim
                    // checks the pause), marked at the next start.
                    let store = self.store.clone();
                    tokio::spawn(async move {
                        if let Err(error) = store.hold_waiting_mail(tenant).await {
                            tracing::warn!(%tenant, %error, "marking a paused tenant's mail failed");
                        }
                    });
                }
            }
        }
        Ok(())
    }

    pub async fn reputation(&self, tenant: TenantId) -> Result<Reputation, ServiceError> {
        let now = self.clock.now();
        let figures = self
            .store
            .sending_figures(tenant, Timestamp(now.0 - self.reputation_policy.window))
            .await?;
        let standing = self.standing(tenant).await?;
        Ok(Reputation {
            figures,
            standing,
            policy: self.reputation_policy,
        })
    }

    /// Whether the tenant's sending is paused or warned, and why, without its figures.
    pub async fn standing(&self, tenant: TenantId) -> Result<TenantStanding, ServiceError> {
        match self.store.tenant_standing(tenant).await {
            Err(StoreError::NotFound) => Err(ServiceError::NotFound("tenant")),
            other => Ok(other?),
        }
    }

    /// Lets a paused tenant's held mail go out; it expires later by as long as it was held.
    pub async fn resume_sending(&self, tenant: TenantId) -> Result<(), ServiceError> {
        if !self.store.resume_sending(tenant, self.clock.now()).await? {
            return Err(ServiceError::Conflict(
                "the tenant's sending is not paused".to_owned(),
            ));
        }
        tracing::info!(%tenant, "tenant's sending resumed");
        self.new_work.notify_one();
        Ok(())
    }
}
