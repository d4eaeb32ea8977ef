//! `sealpost return-path ...`: the return-path domain of a tenant's signing domain (SPEC S10.1):
//! set it (the records to publish are printed), show it, check its records, remove it.

use clap::Subcommand;
use sealpost_service::Service;
use sealpost_views::return_paths::{ReturnPathRecordView, ReturnPathView};

use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum ReturnPathCommand {
    /// Use RETURN_PATH (a subdomain of DOMAIN) as the MAIL FROM domain of DOMAIN's mail once its
    /// records are checked; prints the records to publish.
    Set {
        #[arg(long)]
        tenant: String,
        domain: String,
        return_path: String,
    },
    /// Show the return-path domain of DOMAIN with its records.
    Show {
        #[arg(long)]
        tenant: String,
        domain: String,
    },
    /// Look the records up now; mail uses the return path only while they are right.
    Check {
        #[arg(long)]
        tenant: String,
        domain: String,
    },
    /// Stop using a return-path domain: mail keeps its own MAIL FROM.
    Remove {
        #[arg(long)]
        tenant: String,
        domain: String,
    },
}

pub async fn return_path(
    service: &Service,
    command: ReturnPathCommand,
    output: Output,
) -> anyhow::Result<()> {
    let feedback = service.feedback();
    let unchecked = |entry: &sealpost_domain::ReturnPath| {
        let records = feedback
            .records_to_publish(entry)
            .into_iter()
            .map(|record| ReturnPathRecordView {
                name: record.name,
                kind: record.kind,
                value: record.value,
                found: None,
                problem: None,
            })
            .collect();
        ReturnPathView::new(entry, records)
    };
    let view = match command {
        ReturnPathCommand::Set {
            tenant,
            domain,
            return_path,
        } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            unchecked(
                &feedback
                    .set_return_path(tenant.id, &domain, &return_path)
                    .await?,
            )
        }
        ReturnPathCommand::Show { tenant, domain } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            unchecked(&feedback.return_path(tenant.id, &domain).await?)
        }
        ReturnPathCommand::Check { tenant, domain } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            let check = feedback.check_return_path(tenant.id, &domain).await?;
            let records = check
                .records
                .into_iter()
                .map(|(record, found)| ReturnPathRecordView {
                    name: record.name,
                    kind: record.kind,
                    value: record.value,
                    found: Some(found.is_ok()),
                    problem: found.err(),
                })
                .collect();
            ReturnPathView::new(&check.return_path, records)
        }
        ReturnPathCommand::Remove { tenant, domain } => {
            let tenant = service.accounts().find_tenant(&tenant).await?;
            feedback.remove_return_path(tenant.id, &domain).await?;
            output.print(&serde_json::json!({"removed": domain}), || {
                format!("removed the return path of {domain}")
            });
            return Ok(());
        }
    };
    output.print(&view, || describe(&view));
    Ok(())
}

fn describe(view: &ReturnPathView) -> String {
    let mut text = format!(
        "{} -> {} ({})",
        view.domain,
        view.return_path,
        match view.verified {
            true => "verified: mail uses it",
            false => "not verified: publish the records, then check",
        }
    );
    if view.records.is_empty() {
        text.push_str(
            "\nthis platform has no inbound host configured, so bounces cannot come back",
        );
    }
    for record in &view.records {
        let state = match (record.found, &record.problem) {
            (Some(true), _) => " [found]".to_owned(),
            (Some(false), Some(problem)) => format!(" [missing: {problem}]"),
            _ => String::new(),
        };
        text.push_str(&format!(
            "\n{}\t{}\t{}{state}",
            record.name, record.kind, record.value
        ));
    }
    text
}
