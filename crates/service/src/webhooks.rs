//! Webhook endpoints as use cases (SPEC S10.6): a tenant adds an endpoint with the event types
//! it wants and is shown its signing secret once; the secret is sealed with the master key and
//! never shown again. Rotation keeps the previous secret signing beside the new one for a day.
//! Events reach the outbox in the store's own transactions; `dispatch.rs` delivers them.

mod dispatch;

use std::time::Duration;

use sealpost_domain::{
    EventTypes, TenantId, Timestamp, WebhookEndpoint, WebhookEndpointId, check_webhook_url,
};
use sealpost_store::{StoreError, WebhookAttemptRecord, WebhookDeliveryRecord};
use sealpost_webhooks::Secret;

use crate::{ServiceError, Webhooks};

/// What the platform allows and how hard it tries.
#[derive(Debug, Clone)]
pub struct WebhookPolicy {
    /// Whether endpoints may be on private, loopback or link-local addresses (an operator's
    /// choice; off on the internet, where it would let tenants probe the platform's network).
    pub allow_private: bool,
    /// How long an event is retried before it is given up (at least 24 hours).
    pub retry_window: i64,
    /// An endpoint with no successful delivery for this long is switched off.
    pub disable_after: i64,
    /// How long one request may take.
    pub timeout: Duration,
    /// How long a replaced secret keeps signing beside the new one.
    pub rotation_overlap: i64,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        Self {
            allow_private: false,
            retry_window: 3 * 86_400,
            disable_after: 5 * 86_400,
            timeout: Duration::from_secs(10),
            rotation_overlap: 86_400,
        }
    }
}

/// A new endpoint with its secret, shown this once.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

/// The purpose a secret is sealed for, bound to its endpoint.
pub(crate) fn sealing_purpose(id: WebhookEndpointId) -> String {
    format!("webhook-secret/{id}")
}

fn parse_id(id: &str) -> Result<WebhookEndpointId, ServiceError> {
    id.parse()
        .map_err(|_| ServiceError::NotFound("webhook endpoint"))
}

fn not_found(error: StoreError) -> ServiceError {
    match error {
        StoreError::NotFound => ServiceError::NotFound("webhook endpoint"),
        other => other.into(),
    }
}

impl Webhooks {
    fn check_url(&self, url: &str) -> Result<String, ServiceError> {
        let url = url.trim();
        check_webhook_url(url, self.webhook_policy.allow_private).map_err(|error| {
            ServiceError::Invalid {
                field: "url",
                message: error.to_string(),
            }
        })?;
        Ok(url.to_owned())
    }

    fn event_types(names: &[String]) -> Result<EventTypes, ServiceError> {
        EventTypes::parse(names.iter().map(String::as_str)).map_err(|message| {
            ServiceError::Invalid {
                field: "event_types",
                message,
            }
        })
    }

    /// Adds an endpoint; no event types means every type.
    pub async fn create_webhook(
        &self,
        tenant: TenantId,
        url: &str,
        event_types: &[String],
    ) -> Result<NewWebhook, ServiceError> {
        let endpoint = WebhookEndpoint {
            id: WebhookEndpointId::new(&*self.clock),
            tenant_id: tenant,
            url: self.check_url(url)?,
            event_types: Self::event_types(event_types)?,
            enabled: true,
            disabled_reason: None,
            previous_until: None,
            created_at: self.clock.now(),
        };
        let secret = Secret::generate();
        let sealed = self.sealing_vault().await?.seal_secret(
            tenant,
            &sealing_purpose(endpoint.id),
            &secret.expose(),
        );
        self.store
            .insert_webhook_endpoint(&endpoint, &sealed)
            .await?;
        Ok(NewWebhook {
            endpoint,
            secret: secret.expose(),
        })
    }

    pub async fn list_webhooks(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<WebhookEndpoint>, ServiceError> {
        Ok(self.store.webhook_endpoints(tenant).await?)
    }

    pub async fn webhook(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> Result<WebhookEndpoint, ServiceError> {
        self.store
            .webhook_endpoint(tenant, parse_id(id)?)
            .await
            .map_err(not_found)
    }

    /// Changes what is given; enabling an endpoint the platform switched off sends what waited.
    pub async fn update_webhook(
        &self,
        tenant: TenantId,
        id: &str,
        url: Option<&str>,
        event_types: Option<&[String]>,
        enabled: Option<bool>,
    ) -> Result<WebhookEndpoint, ServiceError> {
        let mut endpoint = self.webhook(tenant, id).await?;
        if let Some(url) = url {
            endpoint.url = self.check_url(url)?;
        }
        if let Some(names) = event_types {
            endpoint.event_types = Self::event_types(names)?;
        }
        if let Some(enabled) = enabled {
            endpoint.enabled = enabled;
            if enabled {
                endpoint.disabled_reason = None;
            }
        }
        self.store
            .update_webhook_endpoint(&endpoint)
            .await
            .map_err(not_found)?;
        Ok(endpoint)
    }

    pub async fn delete_webhook(&self, tenant: TenantId, id: &str) -> Result<(), ServiceError> {
        self.store
            .delete_webhook_endpoint(tenant, parse_id(id)?)
            .await
            .map_err(not_found)
    }

    /// A new secret, shown this once; the old one signs beside it for the overlap, so the
    /// receiver can switch without losing an event.
    pub async fn rotate_webhook_secret(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> Result<String, ServiceError> {
        let endpoint = self.webhook(tenant, id).await?;
        let secret = Secret::generate();
        let sealed = self.sealing_vault().await?.seal_secret(
            tenant,
            &sealing_purpose(endpoint.id),
            &secret.expose(),
        );
        let until = self.clock.now().0 + self.webhook_policy.rotation_overlap;
        self.store
            .rotate_webhook_secret(tenant, endpoint.id, &sealed, Timestamp(until))
            .await
            .map_err(not_found)?;
        Ok(secret.expose())
    }

    /// Queues a `test` event for the endpoint; it goes out with the next round.
    pub async fn send_test_event(&self, tenant: TenantId, id: &str) -> Result<(), ServiceError> {
        self.store
            .insert_webhook_test(tenant, parse_id(id)?, self.clock.now())
            .await
            .map_err(not_found)?;
        self.webhook_work.notify_one();
        Ok(())
    }

    /// The endpoint's newest deliveries (100), newest first.
    pub async fn webhook_deliveries(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> Result<Vec<WebhookDeliveryRecord>, ServiceError> {
        let endpoint = self.webhook(tenant, id).await?;
        Ok(self
            .store
            .webhook_deliveries(tenant, endpoint.id, 100)
            .await?)
    }

    /// The attempts of one delivery of the endpoint, oldest first.
    pub async fn webhook_attempts(
        &self,
        tenant: TenantId,
        id: &str,
        delivery: i64,
    ) -> Result<Vec<WebhookAttemptRecord>, ServiceError> {
        let endpoint = self.webhook(tenant, id).await?;
        match self
            .store
            .webhook_attempts(tenant, endpoint.id, delivery)
            .await
        {
            Err(StoreError::NotFound) => Err(ServiceError::NotFound("webhook delivery")),
            other => Ok(other?),
        }
    }

    /// Sends a delivery that was given up on again.
    pub async fn replay_webhook_delivery(
        &self,
        tenant: TenantId,
        id: &str,
        delivery: i64,
    ) -> Result<(), ServiceError> {
        let endpoint = self.webhook(tenant, id).await?;
        match self
            .store
            .replay_webhook_delivery(tenant, endpoint.id, delivery, self.clock.now())
            .await
        {
            Err(StoreError::Changed(message)) => Err(ServiceError::Conflict(message.to_owned())),
            other => {
                other?;
                self.webhook_work.notify_one();
                Ok(())
            }
        }
    }
}
