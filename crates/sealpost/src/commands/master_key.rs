//! `sealpost master-key`: generate a key, rotate the database to a new one (SPEC S11), and show
//! the rotation's state.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use sealpost_service::{RotationOptions, RotationProgress, RotationReport, RotationStatus};
use sealpost_vault::MasterKey;

use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum MasterKeyCommand {
    /// Write a new random master key to a new file (mode 0600); never overwrites a file.
    Generate {
        #[arg(long)]
        out: PathBuf,
    },
    /// Rewrap every sealed secret (key passwords, relay passwords, webhook secrets, the
    /// authenticator root) under a new master key while the nodes keep serving. Run it with
    /// the current key as the master key; if it stops, run it again with the same new key and
    /// it resumes. Afterwards start every node with the new key: the old one is refused.
    Rotate {
        /// The file holding the new key (`sealpost master-key generate --out FILE`); without
        /// it, the key is read from SEALPOST_NEW_MASTER_KEY.
        #[arg(long)]
        new_key_file: Option<PathBuf>,
        /// Values rewrapped per database transaction.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        batch: u32,
        /// A pause after each batch, in milliseconds, to spread the load.
        #[arg(long, default_value_t = 0)]
        pause_ms: u64,
    },
    /// Show the master key rotation in progress, or the last one.
    Status,
}

pub async fn master_key(
    command: MasterKeyCommand,
    config_file: Option<&Path>,
    output: Output,
) -> anyhow::Result<()> {
    match command {
        MasterKeyCommand::Generate { out } => {
            MasterKey::generate().write_new_file(&out)?;
            let path = out.display().to_string();
            output.print(&serde_json::json!({"path": path}), || {
                format!(
                    "master key written to {path}\nKeep a backup: without it, stored DKIM keys \
                     cannot be decrypted. Point master_key_file at it."
                )
            });
            Ok(())
        }
        MasterKeyCommand::Rotate {
            new_key_file,
            batch,
            pause_ms,
        } => {
            let new = crate::master_key::load_new(new_key_file.as_deref())
                .map_err(|error| crate::InputError(format!("{error:#}")))?;
            let config = crate::load_config(config_file)?;
            let service = super::open_service(&config).await?;
            let options = RotationOptions {
                batch,
                settle: 2 * crate::master_key::poll_interval() + Duration::from_secs(1),
                pause: Duration::from_millis(pause_ms),
            };
            tracing::info!(
                settle_seconds = options.settle.as_secs_f64(),
                "waiting for every serving node to learn the new key before rewrapping"
            );
            let report = service
                .master_keys()
                .rotate(new, &options, log_progress)
                .await?;
            print_report(&report, output);
            Ok(())
        }
        MasterKeyCommand::Status => {
            let config = crate::load_config(config_file)?;
            let service = super::open_service(&config).await?;
            let status = service.master_keys().rotation_status().await?;
            print_status(status.as_ref(), output);
            Ok(())
        }
    }
}

fn log_progress(progress: &RotationProgress) {
    tracing::info!(
        rewrapped = progress.rewrapped,
        column = progress.column.as_str(),
        "rewrapped a batch of sealed values"
    );
}

fn print_report(report: &RotationReport, output: Output) {
    let json = serde_json::json!({
        "resumed": report.resumed,
        "rewrapped": report.rewrapped,
        "unreadable": report.unreadable,
    });
    output.print(&json, || {
        let mut text = format!(
            "master key rotated{}: {} sealed values rewrapped by this run.\n",
            if report.resumed { " (resumed)" } else { "" },
            report.rewrapped
        );
        if report.unreadable > 0 {
            text.push_str(&format!(
                "{} values open under neither key (secrets of deleted tenants, shredded on \
                 purpose) and were left as they are.\n",
                report.unreadable
            ));
        }
        text.push_str(
            "Now point master_key_file (or SEALPOST_MASTER_KEY) at the new key on every node \
             and restart them; the old key is refused from now on. Keep a backup of the new key.",
        );
        text
    });
}

fn print_status(status: Option<&RotationStatus>, output: Output) {
    let json = status.map(|status| {
        serde_json::json!({
            "phase": if status.rewrapping { "rewrapping" } else { "finished" },
            "rewrapped": status.rewrapped,
            "position": status.position,
            "started_at": status.started_at.0,
            "finished_at": status.finished_at.map(|at| at.0),
        })
    });
    output.print(&json, || match status {
        None => "no master key rotation has run on this database".to_owned(),
        Some(status) if status.rewrapping => format!(
            "a master key rotation is in progress: {} values rewrapped, at {}; run `sealpost \
             master-key rotate` with the same new key to finish it",
            status.rewrapped, status.position
        ),
        Some(status) => format!(
            "the last master key rotation finished at {} (UTC seconds), {} values rewrapped",
            status.finished_at.map_or(0, |at| at.0),
            status.rewrapped
        ),
    });
}
