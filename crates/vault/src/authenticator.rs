//! Keys for authenticating values Sealpost hands out and reads back (such as the return-path
//! addresses that identify a message's recipient): each is derived with HKDF-SHA256 for one
//! purpose from the authenticator root, so one purpose's tags are worthless for another and the
//! key stays inside this handle. The root is HKDF-Extract of the master key the database was
//! first used with, stored sealed under the current master key: a master key rotation rewraps
//! it, so tags in mail already sent keep verifying.

use aws_lc_rs::{hkdf, hmac};
use zeroize::Zeroizing;

/// An HMAC-SHA256 key for one purpose. `Debug` shows the purpose only.
pub struct Authenticator {
    purpose: &'static str,
    key: hmac::Key,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "Authenticator({}, key redacted)", self.purpose)
    }
}

/// The salt of every derivation: fixed, since the master key is already uniformly random.
const SALT: &[u8] = b"sealpost/authenticator/v1";

/// HKDF-Extract (RFC 5869) of `master` under [`SALT`]: HMAC-SHA256 keyed with the salt.
pub(crate) fn extract_root(master: &[u8]) -> Zeroizing<[u8; 32]> {
    let salt = hmac::Key::new(hmac::HMAC_SHA256, SALT);
    let mut root = Zeroizing::new([0u8; 32]);
    root.copy_from_slice(hmac::sign(&salt, master).as_ref());
    root
}

impl Authenticator {
    pub(crate) fn derive(root: &[u8; 32], purpose: &'static str) -> Self {
        let info = [purpose.as_bytes()];
        let key: hmac::Key = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, root)
            .expand(&info, hmac::HMAC_SHA256)
            .expect("HKDF-SHA256 can expand one hash length")
            .into();
        Self { purpose, key }
    }

    /// The full 32-byte tag of `value`.
    pub fn tag(&self, value: &[u8]) -> [u8; 32] {
        let mut tag = [0u8; 32];
        tag.copy_from_slice(hmac::sign(&self.key, value).as_ref());
        tag
    }

    /// Whether `tag` (the first bytes of the full tag; at least 8) belongs to `value`, compared
    /// in constant time.
    pub fn verify_prefix(&self, value: &[u8], tag: &[u8]) -> bool {
        if tag.len() < 8 || tag.len() > 32 {
            return false;
        }
        let full = self.tag(value);
        aws_lc_rs::constant_time::verify_slices_are_equal(&full[..tag.len()], tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derivation before the root was stored: HKDF over the master key in one step.
    fn derive_from_master(master: &[u8], purpose: &'static str) -> hmac::Key {
        hkdf::Salt::new(hkdf::HKDF_SHA256, SALT)
            .extract(master)
            .expand(&[purpose.as_bytes()], hmac::HMAC_SHA256)
            .unwrap()
            .into()
    }

    #[test]
    fn the_stored_root_gives_the_tags_the_master_key_gave_before() {
        let master = [7u8; 32];
        let before = derive_from_master(&master, "return-path/v1");
        let now = Authenticator::derive(&extract_root(&master), "return-path/v1");
        assert_eq!(
            hmac::sign(&before, b"value").as_ref(),
            now.tag(b"value").as_slice()
        );
    }

    #[test]
    fn tags_depend_on_the_root_the_purpose_and_the_value() {
        let one = Authenticator::derive(&[1; 32], "return-path");
        let other_key = Authenticator::derive(&[2; 32], "return-path");
        let other_purpose = Authenticator::derive(&[1; 32], "unsubscribe");
        let tag = one.tag(b"value");
        assert_eq!(
            tag,
            Authenticator::derive(&[1; 32], "return-path").tag(b"value")
        );
        assert!(one.verify_prefix(b"value", &tag[..8]));
        assert!(!one.verify_prefix(b"other", &tag[..8]));
        assert!(!other_key.verify_prefix(b"value", &tag[..8]));
        assert!(!other_purpose.verify_prefix(b"value", &tag[..8]));
        assert!(
            !one.verify_prefix(b"value", &tag[..4]),
            "too short to mean anything"
        );
        assert_eq!(
            format!("{one:?}"),
            "Authenticator(return-path, key redacted)"
        );
    }
}
