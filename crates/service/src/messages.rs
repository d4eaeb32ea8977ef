//! Looking at and acting on queued messages (SPEC S5.5, S6.2, S8.1): status per recipient,
//! attempts, the stored source and its DKIM verification, retry now and cancel.

use sealpost_dkim::{DkimResult, Report};
use sealpost_domain::{
    DkimVerdict, MessageId, MessageSummary, QueuedMessage, RecipientState, TenantId, Timestamp,
};
use sealpost_store::{AttemptInfo, MessageFilter, Page, PageRequest, StoreError};

use crate::{Messages, ServiceError};

fn not_found(error: StoreError) -> ServiceError {
    match error {
        StoreError::NotFound => ServiceError::NotFound("message"),
        other => other.into(),
    }
}

/// The dashboard's delivery figures: recipients per state among the messages accepted since
/// `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFigures {
    pub since: Timestamp,
    pub counts: Vec<(RecipientState, i64)>,
}

impl Messages {
    /// Refuses a message the tenant does not have, without reading it.
    async fn ensure_message(&self, tenant: TenantId, id: MessageId) -> Result<(), ServiceError> {
        match self.store.message_exists(tenant, id).await? {
            true => Ok(()),
            false => Err(ServiceError::NotFound("message")),
        }
    }

    pub async fn message(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<QueuedMessage, ServiceError> {
        self.store.message(tenant, id).await.map_err(not_found)
    }

    /// One message without its body, with its stored Subject and last DKIM verdict.
    pub async fn message_summary(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<MessageSummary, ServiceError> {
        self.store
            .message_summary(tenant, id)
            .await
            .map_err(not_found)
    }

    /// The tenant's newest messages, newest first, without their bodies.
    pub async fn recent_messages(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<MessageSummary>, ServiceError> {
        Ok(self.store.recent_messages(tenant, limit).await?)
    }

    /// The distinct envelope senders of the tenant's newest `limit` messages, newest first.
    pub async fn recent_senders(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<String>, ServiceError> {
        Ok(self.store.recent_senders(tenant, limit).await?)
    }

    /// One page of the tenant's messages that pass `filter`, newest first, without their
    /// bodies, with how many pass it in all.
    pub async fn message_page(
        &self,
        tenant: TenantId,
        filter: &MessageFilter,
        request: &PageRequest,
    ) -> Result<Page<MessageSummary>, ServiceError> {
        Ok(self.store.message_page(tenant, filter, request).await?)
    }

    pub async fn message_attempts(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<Vec<AttemptInfo>, ServiceError> {
        self.ensure_message(tenant, id).await?;
        Ok(self.store.attempts(tenant, id).await?)
    }

    /// The attempts of a message already read: having read it proves that it is the tenant's,
    /// so no second read checks that it exists.
    pub async fn attempts_of(
        &self,
        message: &QueuedMessage,
    ) -> Result<Vec<AttemptInfo>, ServiceError> {
        Ok(self.store.attempts(message.tenant_id, message.id).await?)
    }

    /// Verifies the DKIM signatures of the stored source, exactly as it is sent (SPEC S5.5).
    pub async fn verify_stored_message(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<Report, ServiceError> {
        let message = self.message(tenant, id).await?;
        self.check_dkim(&message).await
    }

    /// Verifies a message already read and keeps the verdict, so that the lists show a
    /// signature that no longer verifies (a record replaced since) without asking DNS per row.
    /// No signature and a temporary DNS error are no verdict and change nothing.
    pub async fn check_dkim(&self, message: &QueuedMessage) -> Result<Report, ServiceError> {
        let report = self
            .service()
            .submissions()
            .verify_message(&message.raw)
            .await?;
        let verdict = match report.result() {
            DkimResult::Pass => Some(DkimVerdict::Pass),
            DkimResult::None | DkimResult::TempError => None,
            _ => Some(DkimVerdict::Fail),
        };
        if let Some(verdict) = verdict {
            self.store
                .record_dkim_verdict(message.tenant_id, message.id, verdict, self.clock.now())
                .await?;
        }
        Ok(report)
    }

    /// How many recipients of the tenant's messages from the last `seconds` are in each state,
    /// for the dashboard, with the time the window starts (so the figures can link to the
    /// same messages in the list).
    pub async fn delivery_figures(
        &self,
        tenant: TenantId,
        seconds: i64,
    ) -> Result<DeliveryFigures, ServiceError> {
        let since = Timestamp(self.clock.now().0 - seconds);
        let counts = self
            .store
            .recipient_states_since(tenant, since)
            .await?
            .into_iter()
            .map(|(state, count)| {
                RecipientState::parse(&state)
                    .map(|state| (state, count))
                    .ok_or_else(|| {
                        ServiceError::Internal(format!("recipient state {state:?}").into())
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(DeliveryFigures { since, counts })
    }

    /// Makes deferred recipients due now; returns how many.
    pub async fn retry_message(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<u64, ServiceError> {
        self.ensure_message(tenant, id).await?;
        Ok(self.store.retry_now(tenant, id, self.clock.now()).await?)
    }

    /// Cancels recipients that are still waiting; returns how many.
    pub async fn cancel_message(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<u64, ServiceError> {
        self.ensure_message(tenant, id).await?;
        Ok(self.store.cancel(tenant, id, self.clock.now()).await?)
    }
}
