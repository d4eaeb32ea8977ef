//! `sealpost queue ...`: inspect and act on a tenant's queued messages from the operator's shell
//! (SPEC S8.4), on the same database as the server.

use clap::Subcommand;
use sealpost_domain::{MessageId, Timestamp};
use sealpost_service::Service;
use sealpost_views::messages::{ChangedView, MessageView};

use crate::InputError;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// The tenant's newest messages with the state of each recipient.
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// One message: signing, recipients, attempts.
    Show {
        #[arg(long)]
        tenant: String,
        id: String,
    },
    /// Make the message's deferred recipients due now.
    Retry {
        #[arg(long)]
        tenant: String,
        id: String,
    },
    /// Cancel the message's recipients that are still waiting.
    Cancel {
        #[arg(long)]
        tenant: String,
        id: String,
    },
}

fn message_id(text: &str) -> anyhow::Result<MessageId> {
    text.parse()
        .map_err(|_| InputError(format!("{text:?} is not a message id")).into())
}

fn summary(view: &MessageView) -> String {
    let recipients: Vec<String> = view
        .recipients
        .iter()
        .map(|recipient| {
            let mut line = format!("  {} {}", recipient.state, recipient.address);
            if let Some(reply) = &recipient.last_reply {
                line.push_str(&format!(" ({reply})"));
            }
            line
        })
        .collect();
    let mut text = format!(
        "{} from {} ({}, {})\n{}",
        view.id,
        view.mail_from,
        view.route,
        if view.signing.signed {
            "signed"
        } else {
            "unsigned"
        },
        recipients.join("\n")
    );
    if let Some(held) = &view.held {
        text.push_str(&format!(
            "\n  held: the tenant's sending is paused since {}: the {}; its waiting recipients go \
             out when an operator resumes it (sealpost tenant resume), and expire later by as \
             long as they were held",
            Timestamp(held.since).rfc3339(),
            held.reason
        ));
    }
    text
}

pub async fn queue(service: &Service, command: QueueCommand, output: Output) -> anyhow::Result<()> {
    match command {
        QueueCommand::List { tenant, limit } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let messages = service.messages().recent_messages(tenant.id, limit).await?;
            let standing = service.feedback().standing(tenant.id).await?;
            let views: Vec<MessageView> = messages
                .iter()
                .map(|message| MessageView::new(message, &[], &standing))
                .collect();
            output.print(&views, || {
                views.iter().map(summary).collect::<Vec<_>>().join("\n")
            });
        }
        QueueCommand::Show { tenant, id } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let id = message_id(&id)?;
            let message = service.messages().message_summary(tenant.id, id).await?;
            let attempts = service.messages().message_attempts(tenant.id, id).await?;
            let standing = service.feedback().standing(tenant.id).await?;
            let view = MessageView::new(&message, &attempts, &standing);
            output.print(&view, || summary(&view));
        }
        QueueCommand::Retry { tenant, id } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let changed = service
                .messages()
                .retry_message(tenant.id, message_id(&id)?)
                .await?;
            output.print(&ChangedView { changed }, || {
                format!("{changed} recipient(s) due now")
            });
        }
        QueueCommand::Cancel { tenant, id } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let changed = service
                .messages()
                .cancel_message(tenant.id, message_id(&id)?)
                .await?;
            output.print(&ChangedView { changed }, || {
                format!("{changed} recipient(s) cancelled")
            });
        }
    }
    Ok(())
}
