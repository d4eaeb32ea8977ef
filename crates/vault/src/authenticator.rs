//! Keys for authenticating values Sealpost hands out and reads back (such as the return-path
//! addresses that identify a message's recipient): each is derived from the master key with
//! HKDF-SHA256 for one purpose, so none is ever stored, one purpose's tags are worthless for
//! another, and the key stays inside this handle.

use aws_lc_rs::{hkdf, hmac};

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

impl Authenticator {
    pub(crate) fn derive(master: &[u8], purpose: &'static str) -> Self {
        let info = [purpose.as_bytes()];
        let key: hmac::Key = hkdf::Salt::new(hkdf::HKDF_SHA256, SALT)
            .extract(master)
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

    #[test]
    fn tags_depend_on_the_master_key_the_purpose_and_the_value() {
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
