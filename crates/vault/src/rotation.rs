//! Master key rotation inside the vault: the wraps that let every node learn the other key of
//! a rotation from the database, and the rewrap of one sealed value. What runs the rotation
//! (batches, progress, the database's record of it) lives in the service.

use sealpost_domain::{KeyId, TenantId};

use crate::{MasterKey, Vault, VaultError};

const NEW_UNDER_OLD: &[u8] = b"sealpost/master-key-rotation/new-under-old/v1";
const OLD_UNDER_NEW: &[u8] = b"sealpost/master-key-rotation/old-under-new/v1";

/// What the database holds while a rotation runs. The new key is sealed under the old one and
/// the old under the new, so a node started with either learns the other; both wraps are
/// deleted when the rotation finishes, after which neither key reveals the other.
#[derive(Debug, Clone)]
pub struct RotationWraps {
    /// The check value of the new key (a constant sealed under it), never the key.
    pub new_check: Vec<u8>,
    pub new_under_old: Vec<u8>,
    pub old_under_new: Vec<u8>,
}

/// A sealed value and what it is bound to.
#[derive(Debug, Clone, Copy)]
pub enum SealedValue<'a> {
    /// A signing key's password (see `Vault::seal`).
    KeyPassword { tenant: TenantId, key: KeyId },
    /// A tenant's secret sealed by `Vault::seal_secret`.
    Secret { tenant: TenantId, purpose: &'a str },
    /// The authenticator root.
    AuthenticatorRoot,
}

/// The outcome of rewrapping one value.
#[derive(Debug, PartialEq, Eq)]
pub enum Rewrap {
    /// It is already sealed under the sealing key.
    Current,
    /// It was sealed under the other key; this is the same plaintext under the sealing key.
    Rewrapped(Vec<u8>),
    /// No key of the rotation opens it (a deleted tenant's shredded value): left as it is.
    Unreadable,
}

impl Vault {
    /// Starts a rotation from the key this vault was started with to `new`: from now on the
    /// vault seals under `new`. Refuses a new key equal to the current one.
    pub fn begin_rotation(&self, new: MasterKey) -> Result<RotationWraps, VaultError> {
        let mut keys = self
            .keys
            .write()
            .expect("the keyring lock is never poisoned");
        let old = keys.configured();
        if old.same_as(&new) {
            return Err(VaultError::SameMasterKey);
        }
        let wraps = RotationWraps {
            new_check: new.new_check_value(),
            new_under_old: old.seal(NEW_UNDER_OLD, new.bytes()),
            old_under_new: new.seal(OLD_UNDER_NEW, old.bytes()),
        };
        keys.add_newer(new);
        Ok(wraps)
    }

    /// Joins a rotation in progress: a vault that holds the old key learns the new one (and
    /// seals under it), one started with the new key learns the old one. A vault that holds
    /// neither is refused. Joining again changes nothing.
    pub fn join_rotation(&self, wraps: &RotationWraps) -> Result<(), VaultError> {
        let mut keys = self
            .keys
            .write()
            .expect("the keyring lock is never poisoned");
        let known = keys.opening();
        if let Some(new) = known
            .iter()
            .find_map(|key| key.open(NEW_UNDER_OLD, &wraps.new_under_old).ok())
        {
            let new = MasterKey::from_bytes(&new).ok_or(VaultError::WrongMasterKey)?;
            if !keys.sealing().same_as(&new) {
                keys.add_newer(new);
            }
            return Ok(());
        }
        if let Some(old) = known
            .iter()
            .find_map(|key| key.open(OLD_UNDER_NEW, &wraps.old_under_new).ok())
        {
            keys.add_older(MasterKey::from_bytes(&old).ok_or(VaultError::WrongMasterKey)?);
            return Ok(());
        }
        Err(VaultError::WrongMasterKey)
    }

    /// Reseals `sealed` under the sealing key when another key of the rotation sealed it.
    pub fn rewrap(&self, what: SealedValue<'_>, sealed: &[u8]) -> Rewrap {
        let context = match what {
            SealedValue::KeyPassword { tenant, key } => crate::seal::context(tenant, key),
            SealedValue::Secret { tenant, purpose } => crate::secret_context(tenant, purpose),
            SealedValue::AuthenticatorRoot => crate::AUTHENTICATOR_ROOT_CONTEXT.to_vec(),
        };
        let keys = self
            .keys
            .read()
            .expect("the keyring lock is never poisoned");
        let sealing = keys.sealing();
        if sealing.open(&context, sealed).is_ok() {
            return Rewrap::Current;
        }
        for key in keys.opening().iter().skip(1) {
            if let Ok(plaintext) = key.open(&context, sealed) {
                return Rewrap::Rewrapped(sealing.seal(&context, &plaintext));
            }
        }
        Rewrap::Unreadable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret<'a>(tenant: TenantId) -> SealedValue<'a> {
        SealedValue::Secret {
            tenant,
            purpose: "relay-password",
        }
    }

    #[test]
    fn values_sealed_before_a_rotation_are_rewrapped_and_open_under_the_new_key_alone() {
        let old = MasterKey::generate();
        let new_text = MasterKey::generate().to_text();
        let tenant = TenantId::new(&sealpost_domain::SystemClock);
        let vault = Vault::new(MasterKey::from_text(&old.to_text()).unwrap());
        let sealed = vault.seal_secret(tenant, "relay-password", "hunter2");
        vault
            .begin_rotation(MasterKey::from_text(&new_text).unwrap())
            .unwrap();
        let Rewrap::Rewrapped(rewrapped) = vault.rewrap(secret(tenant), &sealed) else {
            panic!("the old value must be rewrapped");
        };
        assert_eq!(vault.rewrap(secret(tenant), &rewrapped), Rewrap::Current);
        assert_eq!(
            vault.rewrap(secret(tenant), b"shredded"),
            Rewrap::Unreadable
        );
        let after = Vault::new(MasterKey::from_text(&new_text).unwrap());
        assert_eq!(
            after
                .open_secret(tenant, "relay-password", &rewrapped)
                .unwrap()
                .as_str(),
            "hunter2"
        );
        assert!(
            after
                .open_secret(tenant, "relay-password", &sealed)
                .is_err()
        );
        assert!(
            Vault::new(old)
                .open_secret(tenant, "relay-password", &rewrapped)
                .is_err()
        );
    }

    #[test]
    fn nodes_started_with_either_key_learn_the_other_and_others_are_refused() {
        let old_text = MasterKey::generate().to_text();
        let new_text = MasterKey::generate().to_text();
        let tenant = TenantId::new(&sealpost_domain::SystemClock);
        let runner = Vault::new(MasterKey::from_text(&old_text).unwrap());
        let before = runner.seal_secret(tenant, "p", "old secret");
        let wraps = runner
            .begin_rotation(MasterKey::from_text(&new_text).unwrap())
            .unwrap();
        let during = runner.seal_secret(tenant, "p", "new secret");

        let old_node = Vault::new(MasterKey::from_text(&old_text).unwrap());
        old_node.join_rotation(&wraps).unwrap();
        let new_node = Vault::new(MasterKey::from_text(&new_text).unwrap());
        new_node.join_rotation(&wraps).unwrap();
        for node in [&old_node, &new_node] {
            assert_eq!(
                node.open_secret(tenant, "p", &before).unwrap().as_str(),
                "old secret"
            );
            assert_eq!(
                node.open_secret(tenant, "p", &during).unwrap().as_str(),
                "new secret"
            );
            let sealed = node.seal_secret(tenant, "p", "x");
            let only_new = Vault::new(MasterKey::from_text(&new_text).unwrap());
            assert!(
                only_new.open_secret(tenant, "p", &sealed).is_ok(),
                "sealed under new"
            );
        }
        let stranger = Vault::new(MasterKey::generate());
        assert!(matches!(
            stranger.join_rotation(&wraps),
            Err(VaultError::WrongMasterKey)
        ));
    }

    #[test]
    fn tags_handed_out_before_a_rotation_verify_after_it() {
        let new_text = MasterKey::generate().to_text();
        let vault = Vault::new(MasterKey::generate());
        let root = vault.new_authenticator_root();
        vault.load_authenticator_root(&root).unwrap();
        let tag = vault.authenticator("return-path/v1").tag(b"recipient");
        vault
            .begin_rotation(MasterKey::from_text(&new_text).unwrap())
            .unwrap();
        let Rewrap::Rewrapped(rewrapped) = vault.rewrap(SealedValue::AuthenticatorRoot, &root)
        else {
            panic!("the root must be rewrapped");
        };
        let after = Vault::new(MasterKey::from_text(&new_text).unwrap());
        assert!(
            !after
                .authenticator("return-path/v1")
                .verify_prefix(b"recipient", &tag[..10]),
            "without the stored root the new key gives other tags"
        );
        after.load_authenticator_root(&rewrapped).unwrap();
        assert!(
            after
                .authenticator("return-path/v1")
                .verify_prefix(b"recipient", &tag[..10])
        );
        assert!(matches!(
            Vault::new(MasterKey::generate()).load_authenticator_root(&rewrapped),
            Err(VaultError::AuthenticatorRoot)
        ));
    }

    #[test]
    fn a_node_running_through_two_rotations_follows_both() {
        let first = MasterKey::generate().to_text();
        let second = MasterKey::generate().to_text();
        let third = MasterKey::generate().to_text();
        let tenant = TenantId::new(&sealpost_domain::SystemClock);
        let key = |text: &str| MasterKey::from_text(text).unwrap();
        let node = Vault::new(key(&first));
        let before = node.seal_secret(tenant, "p", "first");
        let one = Vault::new(key(&first))
            .begin_rotation(key(&second))
            .unwrap();
        node.join_rotation(&one).unwrap();
        let two = Vault::new(key(&second))
            .begin_rotation(key(&third))
            .unwrap();
        node.join_rotation(&two).unwrap();
        let sealed = node.seal_secret(tenant, "p", "third");
        assert!(
            Vault::new(key(&third))
                .open_secret(tenant, "p", &sealed)
                .is_ok()
        );
        assert_eq!(
            node.open_secret(tenant, "p", &before).unwrap().as_str(),
            "first"
        );
        let what = SealedValue::Secret {
            tenant,
            purpose: "p",
        };
        let Rewrap::Rewrapped(under_third) = node.rewrap(what, &before) else {
            panic!("a value under the first key must be rewrapped");
        };
        assert!(
            Vault::new(key(&third))
                .open_secret(tenant, "p", &under_third)
                .is_ok()
        );
    }

    #[test]
    fn a_rotation_to_the_same_key_is_refused() {
        let text = MasterKey::generate().to_text();
        let vault = Vault::new(MasterKey::from_text(&text).unwrap());
        assert!(matches!(
            vault.begin_rotation(MasterKey::from_text(&text).unwrap()),
            Err(VaultError::SameMasterKey)
        ));
    }
}
