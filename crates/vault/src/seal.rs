//! Keys at rest (SPEC S3.7): each key becomes an encrypted PKCS#8 document (PBES2 with
//! PBKDF2-SHA256 and AES-256-CBC, the parameters OpenSSL reads) under its own random password;
//! the password is sealed with the master key, bound to the tenant and the key id.

use base64::Engine as _;
use pkcs8::der::Decode as _;
use pkcs8::{EncryptedPrivateKeyInfo, LineEnding, PrivateKeyInfo};
use sealpost_domain::{KeyId, SealedKey, TenantId};
use zeroize::Zeroizing;

use std::sync::Arc;

use crate::{MasterKey, PrivateKey};

/// The password is 256 random bits, so key stretching adds nothing to its strength; a modest
/// iteration count keeps opening a key around a millisecond.
const PBKDF2_ITERATIONS: u32 = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsealError {
    #[error("the key's password cannot be unsealed: wrong master key, or the data was altered")]
    Password,
    #[error("the stored key document cannot be decrypted: the data was altered")]
    Document,
}

pub(crate) fn context(tenant: TenantId, key_id: KeyId) -> Vec<u8> {
    format!("sealpost/dkim-key-password/v1/{tenant}/{key_id}").into_bytes()
}

pub(crate) fn seal(
    master: &MasterKey,
    tenant: TenantId,
    key_id: KeyId,
    key: &PrivateKey,
) -> SealedKey {
    let password = Zeroizing::new(hex::encode(crate::random_bytes::<32>().as_ref()));
    let salt = crate::random_bytes::<16>();
    let iv = crate::random_bytes::<16>();
    let params = pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &*salt, &iv)
        .expect("valid PBES2 parameters");
    let plaintext = key.pkcs8_der();
    let info = PrivateKeyInfo::from_der(&plaintext).expect("our own PKCS#8 parses");
    let document = info
        .encrypt_with_params(params, password.as_bytes())
        .expect("PBES2 encryption cannot fail with valid parameters");
    let encrypted_pkcs8_pem = document
        .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
        .expect("PEM encoding cannot fail")
        .to_string();
    SealedKey {
        encrypted_pkcs8_pem,
        sealed_password: master.seal(&context(tenant, key_id), password.as_bytes()),
    }
}

/// Opens a stored key with whichever of `masters` sealed its password.
pub(crate) fn open(
    masters: &[Arc<MasterKey>],
    tenant: TenantId,
    key_id: KeyId,
    sealed: &SealedKey,
) -> Result<PrivateKey, UnsealError> {
    let password = open_password(masters, tenant, key_id, sealed)?;
    let der = pem_body(&sealed.encrypted_pkcs8_pem).ok_or(UnsealError::Document)?;
    let encrypted = EncryptedPrivateKeyInfo::from_der(&der).map_err(|_| UnsealError::Document)?;
    let plaintext = encrypted
        .decrypt(password.as_bytes())
        .map_err(|_| UnsealError::Document)?;
    PrivateKey::from_pkcs8(plaintext.as_bytes()).ok_or(UnsealError::Document)
}

pub(crate) fn open_password(
    masters: &[Arc<MasterKey>],
    tenant: TenantId,
    key_id: KeyId,
    sealed: &SealedKey,
) -> Result<Zeroizing<String>, UnsealError> {
    let context = context(tenant, key_id);
    let bytes = masters
        .iter()
        .find_map(|master| master.open(&context, &sealed.sealed_password).ok())
        .ok_or(UnsealError::Password)?;
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| UnsealError::Password)?;
    Ok(Zeroizing::new(text))
}

fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}
