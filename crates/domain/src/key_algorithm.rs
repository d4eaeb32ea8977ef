//! The algorithms of DKIM keys (SPEC S3.4, RFC 8463): RSA-2048, which every signing domain has,
//! and Ed25519, which a tenant may add so that each message carries a second signature.

use std::fmt;

/// A DKIM key's algorithm, named as the key record's `k=` tag names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyAlgorithm {
    Rsa,
    Ed25519,
}

/// The DER prefix of every Ed25519 SubjectPublicKeyInfo (RFC 8410 section 4): the algorithm
/// identifier `1.3.101.112` and the header of the 32-byte BIT STRING that follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

impl KeyAlgorithm {
    /// Every algorithm in signing order: the RSA signature goes on top of the message.
    pub const ALL: [Self; 2] = [Self::Rsa, Self::Ed25519];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa => "rsa",
            Self::Ed25519 => "ed25519",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "rsa" => Some(Self::Rsa),
            "ed25519" => Some(Self::Ed25519),
            _ => None,
        }
    }

    /// The `a=` value of the signatures this key makes.
    pub fn signature_algorithm(self) -> &'static str {
        match self {
            Self::Rsa => "rsa-sha256",
            Self::Ed25519 => "ed25519-sha256",
        }
    }

    /// The name people know the algorithm by.
    pub fn label(self) -> &'static str {
        match self {
            Self::Rsa => "RSA-2048",
            Self::Ed25519 => "Ed25519",
        }
    }

    /// What DKIM's `p=` carries for a key given as SubjectPublicKeyInfo DER: the whole DER for
    /// RSA (RFC 6376), the bare 32-byte key for Ed25519 (RFC 8463 section 4.2). `None` when the
    /// DER is not an Ed25519 key although the algorithm says so.
    pub fn dkim_public_key(self, public_key_der: &[u8]) -> Option<&[u8]> {
        match self {
            Self::Rsa => Some(public_key_der),
            Self::Ed25519 => public_key_der
                .strip_prefix(&ED25519_SPKI_PREFIX[..])
                .filter(|raw| raw.len() == 32),
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for algorithm in KeyAlgorithm::ALL {
            assert_eq!(KeyAlgorithm::parse(algorithm.as_str()), Some(algorithm));
        }
        assert_eq!(KeyAlgorithm::parse("RSA"), None);
        assert_eq!(KeyAlgorithm::parse("ed448"), None);
    }

    #[test]
    fn ed25519_record_key_is_the_bare_32_bytes() {
        let mut der = ED25519_SPKI_PREFIX.to_vec();
        der.extend_from_slice(&[7; 32]);
        assert_eq!(
            KeyAlgorithm::Ed25519.dkim_public_key(&der),
            Some(&[7u8; 32][..])
        );
        assert_eq!(KeyAlgorithm::Rsa.dkim_public_key(&der), Some(&der[..]));
        assert_eq!(KeyAlgorithm::Ed25519.dkim_public_key(&der[..40]), None);
        assert_eq!(KeyAlgorithm::Ed25519.dkim_public_key(&[0x30; 44]), None);
    }
}
