//! The key vault: DKIM key generation (RSA-2048 and Ed25519), import of keys pasted as PEM, and encryption at rest
//! (SPEC S3.4, S3.5, S3.7). This crate is the only place where plaintext private key material
//! exists; everything outside it holds a [`PrivateKey`] handle (whose `Debug` is redacted) or a
//! [`SealedKey`](sealpost_domain::SealedKey) that is opaque without the master key.

mod authenticator;
mod encrypted;
mod error;
mod import;
mod key;
mod keyring;
mod legacy;
mod master;
mod names;
mod pem;
mod rotation;
mod rsa_shape;
mod seal;

pub use authenticator::Authenticator;
pub use error::{ImportError, KdfExcess};
pub use key::PrivateKey;
pub use master::{MasterKey, MasterKeyError};
pub use rotation::{Rewrap, RotationWraps, SealedValue};
pub use seal::UnsealError;

use std::sync::RwLock;

use sealpost_domain::{KeyAlgorithm, KeyId, SealedKey, TenantId};
use zeroize::Zeroizing;

use crate::keyring::Keyring;

/// The operator's master key (and, during a rotation, the other key of the rotation) together
/// with the operations that need it.
#[derive(Debug)]
pub struct Vault {
    keys: RwLock<Keyring>,
    /// The authenticator root read from the database; until then, the one derived from the
    /// configured key, which is what a database without a stored root gets.
    authenticator_root: RwLock<Zeroizing<[u8; 32]>>,
}

const AUTHENTICATOR_ROOT_CONTEXT: &[u8] = b"sealpost/authenticator-root/v1";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "the master key does not match the one this database was set up with; start with the \
         original master key (nothing was changed)"
    )]
    WrongMasterKey,
    #[error("the new master key is the current one; generate a new key to rotate to")]
    SameMasterKey,
    #[error("the stored authenticator root cannot be opened: the data was altered")]
    AuthenticatorRoot,
    #[error("key generation failed in the cryptographic library")]
    Generation,
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Unseal(#[from] UnsealError),
}

impl Vault {
    pub fn new(master: MasterKey) -> Self {
        let root = master.authenticator_root();
        Self {
            keys: RwLock::new(Keyring::new(master)),
            authenticator_root: RwLock::new(root),
        }
    }

    fn keyring(&self) -> std::sync::RwLockReadGuard<'_, Keyring> {
        self.keys
            .read()
            .expect("the keyring lock is never poisoned")
    }

    /// A value to store beside the data the first time a database is used with this vault:
    /// the check value of the key it was started with.
    pub fn new_check_value(&self) -> Vec<u8> {
        self.keyring().configured().new_check_value()
    }

    /// Refuses a master key that cannot open the check value the database holds.
    pub fn verify_check_value(&self, stored: &[u8]) -> Result<(), VaultError> {
        if self.keyring().configured().opens_check_value(stored) {
            Ok(())
        } else {
            Err(VaultError::WrongMasterKey)
        }
    }

    /// The authenticator root sealed under the sealing key, to store the first time a
    /// database is used (the root that the configured key has always given).
    pub fn new_authenticator_root(&self) -> Vec<u8> {
        let root = self.keyring().configured().authenticator_root();
        self.keyring()
            .sealing()
            .seal(AUTHENTICATOR_ROOT_CONTEXT, root.as_ref())
    }

    /// Uses the root the database holds for every authenticator from now on.
    pub fn load_authenticator_root(&self, sealed: &[u8]) -> Result<(), VaultError> {
        let opened = self
            .open_with_any(AUTHENTICATOR_ROOT_CONTEXT, sealed)
            .map_err(|()| VaultError::AuthenticatorRoot)?;
        let root: [u8; 32] = opened
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::AuthenticatorRoot)?;
        *self
            .authenticator_root
            .write()
            .expect("the root lock is never poisoned") = Zeroizing::new(root);
        Ok(())
    }

    /// The HMAC key of one purpose (such as `"return-path/v1"`), derived from the
    /// authenticator root, which a master key rotation carries over unchanged.
    pub fn authenticator(&self, purpose: &'static str) -> Authenticator {
        let root = self
            .authenticator_root
            .read()
            .expect("the root lock is never poisoned");
        Authenticator::derive(&root, purpose)
    }

    /// Opens a value under whichever key of the keyring sealed it.
    fn open_with_any(&self, context: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, ()> {
        self.keyring()
            .opening()
            .iter()
            .find_map(|key| key.open(context, sealed).ok())
            .ok_or(())
    }

    /// Generates a fresh RSA-2048 key pair (SPEC S3.4).
    pub fn generate(&self) -> Result<PrivateKey, VaultError> {
        self.generate_key(KeyAlgorithm::Rsa)
    }

    /// Generates a fresh key pair of `algorithm`: RSA-2048, or Ed25519 (RFC 8463).
    pub fn generate_key(&self, algorithm: KeyAlgorithm) -> Result<PrivateKey, VaultError> {
        PrivateKey::generate(algorithm).ok_or(VaultError::Generation)
    }

    /// Reads a pasted PEM private key, decrypting it with `password` when it is encrypted
    /// (SPEC S3.5). An empty password counts as none; without one, an encrypted key is tried
    /// with the empty password before the answer is that it needs one. Every KDF parameter of
    /// an encrypted key is checked against `sealpost_domain::limits::kdf` before any key is
    /// derived, so no paste can take more memory or time than that budget.
    pub fn import(&self, pem: &str, password: Option<&str>) -> Result<PrivateKey, ImportError> {
        self.import_key(KeyAlgorithm::Rsa, pem, password)
    }

    /// [`Self::import`] for a key of `algorithm`; a key of another algorithm is refused with
    /// an error that names what it is. Ed25519 keys are read from PKCS#8, plain or encrypted.
    pub fn import_key(
        &self,
        algorithm: KeyAlgorithm,
        pem: &str,
        password: Option<&str>,
    ) -> Result<PrivateKey, ImportError> {
        let password = password.filter(|password| !password.is_empty());
        import::import(pem, password.map(str::as_bytes), algorithm)
    }

    /// Encrypts a key for storage under a fresh random password, itself sealed with the master
    /// key and bound to the tenant and key id (SPEC S3.7).
    pub fn seal(&self, tenant: TenantId, key_id: KeyId, key: &PrivateKey) -> SealedKey {
        seal::seal(&self.keyring().sealing(), tenant, key_id, key)
    }

    /// Opens a stored key for signing.
    pub fn open(
        &self,
        tenant: TenantId,
        key_id: KeyId,
        sealed: &SealedKey,
    ) -> Result<PrivateKey, UnsealError> {
        seal::open(&self.keyring().opening(), tenant, key_id, sealed)
    }

    /// Seals a tenant's secret other than a key (the password of the tenant's own mail server,
    /// SPEC S1.3), bound to the tenant and to what the secret is for.
    pub fn seal_secret(&self, tenant: TenantId, purpose: &str, secret: &str) -> Vec<u8> {
        self.keyring()
            .sealing()
            .seal(&secret_context(tenant, purpose), secret.as_bytes())
    }

    /// Opens a secret sealed by [`Vault::seal_secret`] for the same tenant and purpose.
    pub fn open_secret(
        &self,
        tenant: TenantId,
        purpose: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<String>, UnsealError> {
        let plaintext = self
            .open_with_any(&secret_context(tenant, purpose), sealed)
            .map_err(|()| UnsealError::Password)?;
        String::from_utf8(plaintext.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| UnsealError::Password)
    }

    /// The key as a plaintext PKCS#8 PEM document, for `sealpost dkim keygen`, which writes a
    /// key file the operator asked for. Nothing in the server calls this.
    pub fn export_pkcs8_pem(&self, key: &PrivateKey) -> Zeroizing<String> {
        key.pkcs8_pem()
    }

    /// The password of a stored key's encrypted PKCS#8 document, for audits that open the
    /// document with other tools. Compiled only with the `audit` feature.
    #[cfg(feature = "audit")]
    pub fn reveal_password(
        &self,
        tenant: TenantId,
        key_id: KeyId,
        sealed: &SealedKey,
    ) -> Result<Zeroizing<String>, UnsealError> {
        seal::open_password(&self.keyring().opening(), tenant, key_id, sealed)
    }
}

fn secret_context(tenant: TenantId, purpose: &str) -> Vec<u8> {
    format!("sealpost/tenant-secret/v1/{tenant}/{purpose}").into_bytes()
}

/// Fills a fresh buffer with random bytes from the operating system's generator.
fn random_bytes<const N: usize>() -> Zeroizing<[u8; N]> {
    let mut bytes = Zeroizing::new([0u8; N]);
    aws_lc_rs::rand::fill(bytes.as_mut()).expect("the system random generator failed");
    bytes
}
