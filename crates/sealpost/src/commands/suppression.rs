//! `sealpost suppression ...`: a tenant's suppression list, the addresses its mail no longer
//! goes to: list, add, remove, and import or export as CSV.

use std::path::PathBuf;

use clap::Subcommand;
use sealpost_service::Service;
use sealpost_views::suppressions::{ImportView, SuppressionView};

use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum SuppressionCommand {
    /// List the tenant's suppressed addresses with reason, time and causing message.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Suppress an address (an address already on the list keeps its entry).
    Add {
        #[arg(long)]
        tenant: String,
        address: String,
        /// hard_bounce, complaint, unsubscribe or manual.
        #[arg(long, default_value = "manual")]
        reason: String,
        /// A note: why the address was added.
        #[arg(long, default_value = "")]
        detail: String,
    },
    /// Take an address off the list: mail to it is sent again.
    Remove {
        #[arg(long)]
        tenant: String,
        address: String,
    },
    /// Add every entry of a CSV file (columns address, reason, detail; `-` reads standard
    /// input). A file with any bad line is refused whole, naming each bad line.
    Import {
        #[arg(long)]
        tenant: String,
        file: PathBuf,
    },
    /// Write the list as CSV to standard output (what `import` reads back; with `--json`, the
    /// CSV as the string `csv`).
    Export {
        #[arg(long)]
        tenant: String,
    },
}

pub async fn suppression(
    service: &Service,
    command: SuppressionCommand,
    output: Output,
) -> anyhow::Result<()> {
    let feedback = service.feedback();
    match command {
        SuppressionCommand::List { tenant } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let entries = feedback.list_suppressions(tenant.id).await?;
            let views: Vec<SuppressionView> = entries.iter().map(Into::into).collect();
            output.print(&views, || {
                views.iter().map(summary).collect::<Vec<_>>().join("\n")
            });
        }
        SuppressionCommand::Add {
            tenant,
            address,
            reason,
            detail,
        } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let entry = feedback
                .add_suppression(tenant.id, &address, &reason, &detail)
                .await?;
            let view = SuppressionView::from(&entry);
            output.print(&view, || summary(&view));
        }
        SuppressionCommand::Remove { tenant, address } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            feedback.remove_suppression(tenant.id, &address).await?;
            output.print(&serde_json::json!({"removed": address}), || {
                format!("removed {address}")
            });
        }
        SuppressionCommand::Import { tenant, file } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let bytes = super::read_input(&file)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| crate::InputError(format!("{} is not UTF-8 text", file.display())))?;
            let summary = feedback.import_suppressions(tenant.id, &text).await?;
            let view = ImportView {
                read: summary.read,
                added: summary.added,
            };
            output.print(&view, || {
                format!("read {} entries, {} new", view.read, view.added)
            });
        }
        SuppressionCommand::Export { tenant } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let text = feedback.export_suppressions(tenant.id).await?;
            output.print(&serde_json::json!({ "csv": text }), || {
                text.trim_end().to_owned()
            });
        }
    }
    Ok(())
}

fn summary(view: &SuppressionView) -> String {
    format!(
        "{}\t{}\t{}\t{}",
        view.address,
        view.reason,
        view.message_id.as_deref().unwrap_or("-"),
        view.detail
    )
}
