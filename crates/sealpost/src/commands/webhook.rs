//! `sealpost webhook ...`: a tenant's webhook endpoints: add (the secret is printed once), list,
//! change, rotate the secret, send a test event, read the delivery log, replay a delivery that
//! was given up on, remove.

use clap::Subcommand;
use sealpost_service::Service;
use sealpost_views::webhooks::{NewSecretView, NewWebhookView, WebhookDeliveryView, WebhookView};

use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint; its signing secret is printed this once.
    Add {
        #[arg(long)]
        tenant: String,
        url: String,
        /// An event type to send (repeat it), such as message.bounced; none means every type.
        #[arg(long = "event")]
        events: Vec<String>,
    },
    /// List the tenant's endpoints.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Switch an endpoint on (events that waited go out) or off.
    Enable {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long, action = clap::ArgAction::Set, default_value_t = true)]
        enabled: bool,
    },
    /// Make a new signing secret (printed once); the old one signs beside it for a day.
    RotateSecret {
        #[arg(long)]
        tenant: String,
        id: String,
    },
    /// Queue a `test` event for the endpoint.
    Test {
        #[arg(long)]
        tenant: String,
        id: String,
    },
    /// The newest events for the endpoint and where each delivery stands.
    Log {
        #[arg(long)]
        tenant: String,
        id: String,
    },
    /// Send a delivery that was given up on again.
    Replay {
        #[arg(long)]
        tenant: String,
        id: String,
        delivery: i64,
    },
    /// Remove an endpoint with its undelivered events and its log.
    Remove {
        #[arg(long)]
        tenant: String,
        id: String,
    },
}

pub async fn webhook(
    service: &Service,
    command: WebhookCommand,
    output: Output,
) -> anyhow::Result<()> {
    let webhooks = service.webhooks();
    let tenant_id =
        |name: String| async move { anyhow::Ok(service.accounts().find_tenant(&name).await?.id) };
    match command {
        WebhookCommand::Add {
            tenant,
            url,
            events,
        } => {
            let created = webhooks
                .create_webhook(tenant_id(tenant).await?, &url, &events)
                .await?;
            let view = NewWebhookView {
                webhook: (&created.endpoint).into(),
                secret: created.secret,
            };
            output.print(&view, || {
                format!(
                    "{}\nsigning secret (shown once): {}",
                    summary(&view.webhook),
                    view.secret
                )
            });
        }
        WebhookCommand::List { tenant } => {
            let endpoints = webhooks.list_webhooks(tenant_id(tenant).await?).await?;
            let views: Vec<WebhookView> = endpoints.iter().map(Into::into).collect();
            output.print(&views, || {
                views.iter().map(summary).collect::<Vec<_>>().join("\n")
            });
        }
        WebhookCommand::Enable {
            tenant,
            id,
            enabled,
        } => {
            let endpoint = webhooks
                .update_webhook(tenant_id(tenant).await?, &id, None, None, Some(enabled))
                .await?;
            let view = WebhookView::from(&endpoint);
            output.print(&view, || summary(&view));
        }
        WebhookCommand::RotateSecret { tenant, id } => {
            let secret = webhooks
                .rotate_webhook_secret(tenant_id(tenant).await?, &id)
                .await?;
            let view = NewSecretView { secret };
            output.print(&view, || {
                format!(
                    "new signing secret (shown once; the old one signs beside it for a day): {}",
                    view.secret
                )
            });
        }
        WebhookCommand::Test { tenant, id } => {
            webhooks
                .send_test_event(tenant_id(tenant).await?, &id)
                .await?;
            output.print(&serde_json::json!({"queued": "test"}), || {
                "a test event is queued".to_owned()
            });
        }
        WebhookCommand::Log { tenant, id } => {
            let rows = webhooks
                .webhook_deliveries(tenant_id(tenant).await?, &id)
                .await?;
            let views: Vec<WebhookDeliveryView> = rows.iter().map(Into::into).collect();
            output.print(&views, || {
                views
                    .iter()
                    .map(|row| {
                        format!(
                            "{}\t{}\t{}\t{} attempts\t{}",
                            row.id,
                            row.event_type,
                            row.state,
                            row.attempts,
                            row.last_status.as_deref().unwrap_or("-")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        WebhookCommand::Replay {
            tenant,
            id,
            delivery,
        } => {
            webhooks
                .replay_webhook_delivery(tenant_id(tenant).await?, &id, delivery)
                .await?;
            output.print(&serde_json::json!({"replayed": delivery}), || {
                format!("delivery {delivery} is queued again")
            });
        }
        WebhookCommand::Remove { tenant, id } => {
            webhooks
                .delete_webhook(tenant_id(tenant).await?, &id)
                .await?;
            output.print(&serde_json::json!({"removed": id}), || {
                format!("removed {id}")
            });
        }
    }
    Ok(())
}

fn summary(view: &WebhookView) -> String {
    let state = match (&view.enabled, &view.disabled_reason) {
        (true, _) => "on".to_owned(),
        (false, Some(reason)) => format!("off ({reason})"),
        (false, None) => "off".to_owned(),
    };
    format!(
        "{}\t{}\t{}\t{}",
        view.id,
        view.url,
        view.event_types.join(","),
        state
    )
}
