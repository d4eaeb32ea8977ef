//! `sealpost master-key rotate` (SPEC S11): every value sealed under the master key is rewrapped
//! under a new one while the nodes keep serving. The rotation is recorded first (with each key
//! sealed under the other, so every node learns the new key and seals under it); after a settle
//! time longer than the nodes' poll interval, the sealed columns are rewrapped in small batches,
//! each batch one transaction that also moves the recorded cursor, so a rotation killed midway
//! resumes where it stopped. Verification passes then rewrap anything sealed under the old key
//! in between, until one finds nothing; the last transaction makes the new key the database's.

use std::time::Duration;

use sealpost_store::{
    RewrapCursor, RewrappedValue, RotationPhase, RotationStart, SealedColumn, SealedRow,
};
use sealpost_vault::{MasterKey, Rewrap, SealedValue};

use crate::master_keys::{MasterKeyRefusal, same_key};
use crate::{MasterKeys, ServiceError};

/// Verification passes after which values still appearing under the old key stop the rotation.
const MAX_VERIFICATION_PASSES: u32 = 5;

#[derive(Debug, Clone)]
pub struct RotationOptions {
    /// Values rewrapped per transaction.
    pub batch: u32,
    /// How long to wait after recording the rotation, so every serving node has polled and
    /// seals under the new key before the rewrap starts.
    pub settle: Duration,
    /// A pause after each batch, to spread the load on a busy database.
    pub pause: Duration,
}

/// Progress after each committed batch.
#[derive(Debug, Clone)]
pub struct RotationProgress {
    pub column: SealedColumn,
    pub rewrapped: u64,
}

/// What a rotation did.
#[derive(Debug, Clone, Default)]
pub struct RotationReport {
    /// Whether this run continued a rotation that an earlier run started.
    pub resumed: bool,
    /// Values rewrapped by this run.
    pub rewrapped: u64,
    /// Values that no key of the rotation opens (a deleted tenant's shredded secrets): left
    /// as they are; they were unreadable before the rotation too.
    pub unreadable: u64,
}

impl MasterKeys {
    /// Rotates to `new`, or resumes the rotation to `new` that is in progress. The node must
    /// have been started with the old key, which [`crate::Service::open`] has checked against
    /// the database; a rotation to another key in progress, or a new key equal to the old one,
    /// is refused before anything changes.
    pub async fn rotate(
        &self,
        new: MasterKey,
        options: &RotationOptions,
        mut progress: impl FnMut(&RotationProgress),
    ) -> Result<RotationReport, ServiceError> {
        let mut report = RotationReport::default();
        let cursor = match self.store.master_key_rotation().await? {
            Some(record) if record.phase == RotationPhase::Rewrapping => {
                if self.vault.verify_check_value(&record.new_check).is_ok() {
                    return Err(MasterKeyRefusal::StartedWithNewKey.into());
                }
                if !new.opens_check_value(&record.new_check) {
                    return Err(MasterKeyRefusal::OtherRotation {
                        started_at: record.started_at.0,
                    }
                    .into());
                }
                report.resumed = true;
                record.cursor
            }
            _ => self.start(new).await?,
        };
        tokio::time::sleep(options.settle).await;
        self.rewrap_from(cursor, options, &mut report, &mut progress)
            .await?;
        self.settle_remaining(options, &mut report, &mut progress)
            .await?;
        self.store
            .finish_master_key_rotation(self.clock.now())
            .await?;
        Ok(report)
    }

    async fn start(&self, new: MasterKey) -> Result<RewrapCursor, ServiceError> {
        let old_check = self
            .store
            .meta(sealpost_store::MASTER_KEY_CHECK)
            .await?
            .ok_or_else(|| ServiceError::Conflict("the database has no master key check".into()))?;
        let wraps = self.vault.begin_rotation(new).map_err(same_key)?;
        let started = self
            .store
            .start_master_key_rotation(&RotationStart {
                old_check: &old_check,
                new_check: &wraps.new_check,
                new_under_old: &wraps.new_under_old,
                old_under_new: &wraps.old_under_new,
                now: self.clock.now(),
            })
            .await?;
        if !started {
            return Err(ServiceError::Conflict(
                "another master key rotation started or finished meanwhile; run the command \
                 again to see its state"
                    .into(),
            ));
        }
        Ok(RewrapCursor::start())
    }

    /// Walks every sealed column from `cursor` to the end, committing the cursor with each
    /// batch.
    async fn rewrap_from(
        &self,
        cursor: RewrapCursor,
        options: &RotationOptions,
        report: &mut RotationReport,
        progress: &mut impl FnMut(&RotationProgress),
    ) -> Result<(), ServiceError> {
        let columns = SealedColumn::ALL
            .into_iter()
            .skip_while(|column| *column != cursor.column);
        for column in columns {
            let mut after = if column == cursor.column {
                cursor.after.clone()
            } else {
                String::new()
            };
            loop {
                let rows = self
                    .store
                    .sealed_rows(column, &after, options.batch)
                    .await?;
                let Some(last) = rows.last() else { break };
                after = last.id.clone();
                let (values, _) = self.rewrapped(column, &rows)?;
                let position = RewrapCursor {
                    column,
                    after: after.clone(),
                };
                report.rewrapped += self
                    .store
                    .commit_rewraps(column, &values, Some(&position))
                    .await?;
                progress(&RotationProgress {
                    column,
                    rewrapped: report.rewrapped,
                });
                tokio::time::sleep(options.pause).await;
            }
        }
        Ok(())
    }

    /// Passes over every column until one finds nothing left under the old key (a value a
    /// node sealed before it learned of the rotation, or changed behind the cursor).
    async fn settle_remaining(
        &self,
        options: &RotationOptions,
        report: &mut RotationReport,
        progress: &mut impl FnMut(&RotationProgress),
    ) -> Result<(), ServiceError> {
        for _ in 0..MAX_VERIFICATION_PASSES {
            let mut found = 0;
            report.unreadable = 0;
            for column in SealedColumn::ALL {
                let mut after = String::new();
                loop {
                    let rows = self
                        .store
                        .sealed_rows(column, &after, options.batch)
                        .await?;
                    let Some(last) = rows.last() else { break };
                    after = last.id.clone();
                    let (values, unreadable) = self.rewrapped(column, &rows)?;
                    report.unreadable += unreadable;
                    found += values.len();
                    if !values.is_empty() {
                        report.rewrapped +=
                            self.store.commit_rewraps(column, &values, None).await?;
                        progress(&RotationProgress {
                            column,
                            rewrapped: report.rewrapped,
                        });
                    }
                }
            }
            if found == 0 {
                return Ok(());
            }
        }
        Err(MasterKeyRefusal::Unsettled {
            passes: MAX_VERIFICATION_PASSES,
        }
        .into())
    }

    /// The batch's values under the new key, and how many no key opens.
    fn rewrapped(
        &self,
        column: SealedColumn,
        rows: &[SealedRow],
    ) -> Result<(Vec<RewrappedValue>, u64), ServiceError> {
        let mut values = Vec::new();
        let mut unreadable = 0;
        for row in rows {
            let purpose = purpose(column, row)?;
            match self
                .vault
                .rewrap(sealed_value(column, row, &purpose)?, &row.sealed)
            {
                Rewrap::Current => {}
                Rewrap::Rewrapped(new) => values.push(RewrappedValue {
                    id: row.id.clone(),
                    old: row.sealed.clone(),
                    new,
                }),
                Rewrap::Unreadable => unreadable += 1,
            }
        }
        Ok((values, unreadable))
    }
}

/// The purpose a tenant's secret of this column was sealed for (empty for the others).
fn purpose(column: SealedColumn, row: &SealedRow) -> Result<String, ServiceError> {
    Ok(match column {
        SealedColumn::AuthenticatorRoot | SealedColumn::KeyPassword => String::new(),
        SealedColumn::RelayPassword => crate::relay_settings::RELAY_PASSWORD.to_owned(),
        SealedColumn::WebhookSecret | SealedColumn::WebhookPreviousSecret => {
            crate::webhooks::sealing_purpose(row.id.parse().map_err(|_| corrupt(row))?)
        }
    })
}

/// What the value of a row is bound to: the context its writer sealed it with.
fn sealed_value<'a>(
    column: SealedColumn,
    row: &SealedRow,
    purpose: &'a str,
) -> Result<SealedValue<'a>, ServiceError> {
    if column == SealedColumn::AuthenticatorRoot {
        return Ok(SealedValue::AuthenticatorRoot);
    }
    let tenant = row.tenant.ok_or_else(|| corrupt(row))?;
    Ok(match column {
        SealedColumn::KeyPassword => SealedValue::KeyPassword {
            tenant,
            key: row.id.parse().map_err(|_| corrupt(row))?,
        },
        _ => SealedValue::Secret { tenant, purpose },
    })
}

fn corrupt(row: &SealedRow) -> ServiceError {
    ServiceError::Internal(
        sealpost_store::StoreError::Corrupt(format!("sealed row id {:?}", row.id)).into(),
    )
}
