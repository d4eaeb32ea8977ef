//! Which master key the database is under, checked at every start, and how a running node
//! follows a master key rotation (SPEC S11): it learns the other key of a rotation from the
//! database before it seals anything and at every poll, so it keeps signing, opening and
//! sealing while the rows are rewrapped. The rotation itself is `master_key_rotation.rs`.

use sealpost_domain::Timestamp;
use sealpost_store::{AUTHENTICATOR_ROOT, MASTER_KEY_CHECK, RotationPhase, RotationRecord, Store};
use sealpost_vault::{RotationWraps, Vault, VaultError};

use crate::{Context, MasterKeys, ServiceError};

/// Why a master key is refused, in words that say what to do.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyRefusal {
    #[error(
        "this master key was replaced by a master key rotation that finished at {finished_at} \
         (UTC seconds); start every node with the new master key: point master_key_file (or \
         SEALPOST_MASTER_KEY) at the key that was given to `sealpost master-key rotate` \
         (nothing was changed)"
    )]
    Rotated { finished_at: i64 },
    #[error(
        "a rotation to another master key is in progress (started at {started_at}, UTC \
         seconds); finish it first by running `sealpost master-key rotate` again with the same \
         new key (nothing was changed)"
    )]
    OtherRotation { started_at: i64 },
    #[error(
        "this node was started with the new master key of the rotation in progress; run \
         `sealpost master-key rotate` with the old key as the master key and the new key in \
         --new-key-file (nothing was changed)"
    )]
    StartedWithNewKey,
    #[error("the new master key is the current one; generate a new key to rotate to")]
    SameKey,
    #[error(
        "values sealed under the old master key kept appearing after {passes} passes: a node \
         that does not follow rotations (an older version of Sealpost?) is still sealing; stop \
         it and run `sealpost master-key rotate` again"
    )]
    Unsettled { passes: u32 },
}

/// Binds the vault to the database at start. The first start records the key's check value
/// and the authenticator root; every later start accepts the key the data is under and, during
/// a rotation, either key of the rotation (learning the other one), and refuses any other key
/// before anything is touched, naming a key that a finished rotation replaced.
pub(crate) async fn bind(store: &Store, vault: &Vault) -> Result<(), ServiceError> {
    let stored = store
        .meta_insert_if_absent(MASTER_KEY_CHECK, &vault.new_check_value())
        .await?;
    verify(store, vault, &stored).await?;
    let root = store
        .meta_insert_if_absent(AUTHENTICATOR_ROOT, &vault.new_authenticator_root())
        .await?;
    vault.load_authenticator_root(&root)?;
    Ok(())
}

/// Accepts the key the data is under and either key of a rotation in progress (which the vault
/// then knows both of); refuses any other, naming a key that a finished rotation replaced.
pub(crate) async fn verify(
    store: &Store,
    vault: &Vault,
    stored: &[u8],
) -> Result<(), ServiceError> {
    let rotation = store.master_key_rotation().await?;
    match (&rotation, vault.verify_check_value(stored)) {
        (Some(record), _) if record.phase == RotationPhase::Rewrapping => {
            join(vault, record)?;
        }
        (_, Ok(())) => {}
        (Some(record), Err(_)) if vault.verify_check_value(&record.old_check).is_ok() => {
            return Err(ServiceError::MasterKey(MasterKeyRefusal::Rotated {
                finished_at: record.finished_at.map_or(0, |at| at.0),
            }));
        }
        (_, Err(error)) => return Err(error.into()),
    }
    Ok(())
}

/// Teaches the vault the other key of a rotation that is rewrapping.
pub(crate) fn join(vault: &Vault, record: &RotationRecord) -> Result<(), ServiceError> {
    let Some((new_under_old, old_under_new)) = &record.wraps else {
        return Ok(());
    };
    vault
        .join_rotation(&RotationWraps {
            new_check: record.new_check.clone(),
            new_under_old: new_under_old.clone(),
            old_under_new: old_under_new.clone(),
        })
        .map_err(ServiceError::from)
}

impl Context {
    /// The vault, after it has learned of any rotation that started since the last look, so a
    /// value sealed now is sealed under the rotation's new key and is not left behind.
    pub(crate) async fn sealing_vault(&self) -> Result<&Vault, ServiceError> {
        follow(&self.store, &self.vault).await?;
        Ok(&self.vault)
    }
}

async fn follow(store: &Store, vault: &Vault) -> Result<(), ServiceError> {
    match store.master_key_rotation().await? {
        Some(record) if record.phase == RotationPhase::Rewrapping => join(vault, &record),
        _ => Ok(()),
    }
}

/// A rotation's standing, for `sealpost master-key status`.
#[derive(Debug, Clone)]
pub struct RotationStatus {
    pub rewrapping: bool,
    pub rewrapped: i64,
    pub position: String,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

impl MasterKeys {
    /// Looks for a rotation that started since the last look; serving nodes call this at every
    /// poll, so they learn the new key before the rotation rewraps anything.
    pub async fn follow_rotation(&self) -> Result<(), ServiceError> {
        follow(&self.store, &self.vault).await
    }

    /// The current or last rotation, if there was one.
    pub async fn rotation_status(&self) -> Result<Option<RotationStatus>, ServiceError> {
        Ok(self
            .store
            .master_key_rotation()
            .await?
            .map(|record| RotationStatus {
                rewrapping: record.phase == RotationPhase::Rewrapping,
                rewrapped: record.rewrapped,
                position: format!(
                    "{} after {:?}",
                    record.cursor.column.as_str(),
                    record.cursor.after
                ),
                started_at: record.started_at,
                finished_at: record.finished_at,
            }))
    }
}

impl From<MasterKeyRefusal> for ServiceError {
    fn from(refusal: MasterKeyRefusal) -> Self {
        Self::MasterKey(refusal)
    }
}

pub(crate) fn same_key(error: VaultError) -> ServiceError {
    match error {
        VaultError::SameMasterKey => MasterKeyRefusal::SameKey.into(),
        other => other.into(),
    }
}
