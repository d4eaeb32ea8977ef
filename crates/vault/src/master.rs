//! The operator's master key: 32 random bytes from a file or an environment variable, never from
//! the database. It seals the per-key passwords with ChaCha20-Poly1305.

use std::path::Path;

use aws_lc_rs::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use zeroize::Zeroizing;

const KEY_LEN: usize = 32;

/// A key's check value is this constant sealed under it: the database keeps one, so that a
/// node started with another key refuses to run instead of failing later on every value. It
/// proves which key is meant without revealing anything of it.
const CHECK_CONTEXT: &[u8] = b"sealpost/master-key-check/v1";
const CHECK_PLAINTEXT: &[u8] = b"sealpost master key check";

pub struct MasterKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("MasterKey(redacted)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error(
        "the master key must be 32 bytes written as 44 base64 or 64 hexadecimal characters; \
         create one with `sealpost master-key generate --out FILE`"
    )]
    Format,
    #[error("cannot read the master key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the master key file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl MasterKey {
    pub fn generate() -> Self {
        Self(crate::random_bytes::<KEY_LEN>())
    }

    /// Parses the textual form: base64 (standard alphabet) or hexadecimal, surrounding white
    /// space ignored.
    pub fn from_text(text: &str) -> Result<Self, MasterKeyError> {
        let text = text.trim();
        let decoded = Zeroizing::new(if text.len() == 2 * KEY_LEN {
            hex::decode(text).map_err(|_| MasterKeyError::Format)?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| MasterKeyError::Format)?
        });
        let bytes: [u8; KEY_LEN] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| MasterKeyError::Format)?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    /// A key from its raw bytes (a key unwrapped during a rotation).
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let bytes: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(Self(Zeroizing::new(bytes)))
    }

    /// This key's check value; see [`CHECK_CONTEXT`].
    pub fn new_check_value(&self) -> Vec<u8> {
        self.seal(CHECK_CONTEXT, CHECK_PLAINTEXT)
    }

    /// Whether `stored` is a check value of this key.
    pub fn opens_check_value(&self, stored: &[u8]) -> bool {
        self.open(CHECK_CONTEXT, stored)
            .is_ok_and(|plaintext| plaintext.as_slice() == CHECK_PLAINTEXT)
    }

    pub fn from_file(path: &Path) -> Result<Self, MasterKeyError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
            MasterKeyError::Read {
                path: path.display().to_string(),
                source,
            }
        })?);
        Self::from_text(&text)
    }

    /// The textual form written to key files.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(self.0.as_ref()))
    }

    /// Writes the key to a new file readable by its owner only. An existing file is never
    /// overwritten: replacing a master key makes every sealed key unreadable.
    pub fn write_new_file(&self, path: &Path) -> Result<(), MasterKeyError> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let failed = |source| MasterKeyError::Write {
            path: path.display().to_string(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(failed)?;
        let mut text = self.to_text();
        text.push('\n');
        file.write_all(text.as_bytes()).map_err(failed)?;
        file.sync_all().map_err(failed)
    }

    /// Encrypts and authenticates `plaintext`; `context` is bound as associated data, so a
    /// sealed value moved to another context does not open. Output: nonce then ciphertext.
    pub(crate) fn seal(&self, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce_bytes = *crate::random_bytes::<NONCE_LEN>();
        let mut sealed = Vec::with_capacity(NONCE_LEN + plaintext.len() + 16);
        sealed.extend_from_slice(&nonce_bytes);
        let mut in_out = plaintext.to_vec();
        self.aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context),
                &mut in_out,
            )
            .expect("ChaCha20-Poly1305 sealing cannot fail for small inputs");
        sealed.extend_from_slice(&in_out);
        sealed
    }

    /// Opens what [`Self::seal`] produced with the same key and context.
    pub(crate) fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, ()> {
        if sealed.len() < NONCE_LEN {
            return Err(());
        }
        let (nonce_bytes, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce_bytes).map_err(|_| ())?;
        let mut in_out = Zeroizing::new(ciphertext.to_vec());
        let plaintext_len = self
            .aead()
            .open_in_place(nonce, Aad::from(context), &mut in_out)
            .map_err(|_| ())?
            .len();
        in_out.truncate(plaintext_len);
        Ok(in_out)
    }

    /// The root from which the authenticators were derived before the root was stored
    /// (HKDF-Extract of this key), so that tags handed out earlier keep verifying.
    pub(crate) fn authenticator_root(&self) -> Zeroizing<[u8; KEY_LEN]> {
        crate::authenticator::extract_root(self.0.as_ref())
    }

    /// Whether two handles hold the same key, compared in constant time.
    pub(crate) fn same_as(&self, other: &MasterKey) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(self.0.as_ref(), other.0.as_ref()).is_ok()
    }

    /// The raw bytes, for wrapping this key under another one during a rotation.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.as_ref()
    }

    fn aead(&self) -> LessSafeKey {
        let unbound =
            UnboundKey::new(&CHACHA20_POLY1305, self.0.as_ref()).expect("the key is 32 bytes");
        LessSafeKey::new(unbound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip() {
        let key = MasterKey::generate();
        let again = MasterKey::from_text(&key.to_text()).unwrap();
        assert_eq!(key.0.as_ref(), again.0.as_ref());
        let hex_form = hex::encode(key.0.as_ref());
        assert_eq!(
            MasterKey::from_text(&hex_form).unwrap().0.as_ref(),
            key.0.as_ref()
        );
    }

    #[test]
    fn malformed_text_is_refused() {
        for text in ["", "short", &"A".repeat(43), &"zz".repeat(32)] {
            assert!(
                matches!(MasterKey::from_text(text), Err(MasterKeyError::Format)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"context-a", b"secret");
        assert_eq!(
            key.open(b"context-a", &sealed).unwrap().as_slice(),
            b"secret"
        );
        assert!(key.open(b"context-b", &sealed).is_err());
        assert!(MasterKey::generate().open(b"context-a", &sealed).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open(b"context-a", &tampered).is_err());
        assert!(key.open(b"context-a", &sealed[..5]).is_err());
    }

    #[test]
    fn debug_output_is_redacted() {
        let key = MasterKey::generate();
        assert_eq!(format!("{key:?}"), "MasterKey(redacted)");
    }

    #[test]
    fn key_files_are_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let key = MasterKey::generate();
        key.write_new_file(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            MasterKey::from_file(&path).unwrap().0.as_ref(),
            key.0.as_ref()
        );
        let error = MasterKey::generate().write_new_file(&path).unwrap_err();
        assert!(matches!(error, MasterKeyError::Write { .. }));
        assert_eq!(
            MasterKey::from_file(&path).unwrap().0.as_ref(),
            key.0.as_ref()
        );
    }
}
