//! DKIM key records as published in DNS (RFC 6376 section 3.6.1): tags, the public key, and the
//! facts a person needs to compare keys (type, size, fingerprint).

use base64::Engine as _;
use pkcs1::der::Decode as _;

use crate::tags::{TagList, without_whitespace};

/// A public key from a `p=` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// `der` is the PKCS#1 RSAPublicKey, which is what verification takes.
    Rsa {
        der: Vec<u8>,
        bits: u32,
    },
    Ed25519 {
        raw: Vec<u8>,
    },
}

impl PublicKey {
    pub fn bits(&self) -> u32 {
        match self {
            Self::Rsa { bits, .. } => *bits,
            Self::Ed25519 { .. } => 256,
        }
    }

    pub fn key_type(&self) -> &'static str {
        match self {
            Self::Rsa { .. } => "rsa",
            Self::Ed25519 { .. } => "ed25519",
        }
    }
}

/// A key record's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub key_type: String,
    /// `h=`: the hash algorithms the key may be used with; empty means any.
    pub hashes: Vec<String>,
    /// `t=y`: the domain is testing DKIM.
    pub testing: bool,
    /// `t=s`: `i=` must not be a subdomain of `d=`.
    pub strict_identity: bool,
    /// `s=`: service types; empty or `*` means any, and e-mail needs `email` or `*`.
    pub services: Vec<String>,
    /// `p=` as published (base64, white space removed); empty when the key is revoked.
    pub public_key_base64: String,
    /// `None` when `p=` is empty (revoked).
    pub public_key: Option<PublicKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("the record is not a tag list: {0}")]
    Tags(#[from] crate::tags::TagError),
    #[error("v={0}: a key record must say v=DKIM1 (or omit v=)")]
    Version(String),
    #[error("v=DKIM1 must be the first tag of the record")]
    VersionNotFirst,
    #[error("the record has no p= tag")]
    MissingKey,
    #[error("p= is not valid base64")]
    KeyBase64,
    #[error("p= does not hold a {0} public key")]
    KeyEncoding(&'static str),
    #[error("k={0} is not a key type DKIM defines")]
    UnknownKeyType(String),
}

impl KeyRecord {
    /// Reads a record from its joined TXT strings.
    pub fn parse(text: &str) -> Result<Self, RecordError> {
        let tags = TagList::parse(text)?;
        if let Some(version) = tags.get("v") {
            if version != "DKIM1" {
                return Err(RecordError::Version(version.to_owned()));
            }
            if tags.tags.first().map(|(name, _)| *name) != Some("v") {
                return Err(RecordError::VersionNotFirst);
            }
        }
        let key_type = tags.get("k").unwrap_or("rsa").to_ascii_lowercase();
        let list = |name: &str| -> Vec<String> {
            tags.get(name)
                .map(|value| {
                    value
                        .split(':')
                        .map(|item| without_whitespace(item).to_ascii_lowercase())
                        .filter(|item| !item.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let flags = list("t");
        let public_key_base64 =
            without_whitespace(tags.get("p").ok_or(RecordError::MissingKey)?).into_owned();
        let public_key = if public_key_base64.is_empty() {
            None
        } else {
            let der = base64::engine::general_purpose::STANDARD
                .decode(public_key_base64.as_bytes())
                .map_err(|_| RecordError::KeyBase64)?;
            Some(match key_type.as_str() {
                "rsa" => rsa_public_key(&der).ok_or(RecordError::KeyEncoding("RSA"))?,
                "ed25519" if der.len() == 32 => PublicKey::Ed25519 { raw: der },
                "ed25519" => return Err(RecordError::KeyEncoding("Ed25519")),
                other => return Err(RecordError::UnknownKeyType(other.to_owned())),
            })
        };
        Ok(Self {
            key_type,
            hashes: list("h"),
            testing: flags.iter().any(|flag| flag == "y"),
            strict_identity: flags.iter().any(|flag| flag == "s"),
            services: list("s"),
            public_key_base64,
            public_key,
        })
    }

    pub fn allows_hash(&self, hash: &str) -> bool {
        self.hashes.is_empty() || self.hashes.iter().any(|allowed| allowed == hash)
    }

    pub fn allows_email(&self) -> bool {
        self.services.is_empty()
            || self
                .services
                .iter()
                .any(|service| service == "*" || service == "email")
    }
}

/// An RSA key from `p=`: a SubjectPublicKeyInfo as RFC 6376 requires, or, as some publishers
/// write it, a bare PKCS#1 RSAPublicKey (which OpenDKIM and dkimpy accept too).
fn rsa_public_key(der: &[u8]) -> Option<PublicKey> {
    const RSA_ENCRYPTION: pkcs8::ObjectIdentifier =
        pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    let pkcs1_der = match pkcs8::spki::SubjectPublicKeyInfoRef::from_der(der) {
        Ok(info) if info.algorithm.oid == RSA_ENCRYPTION => {
            info.subject_public_key.raw_bytes().to_vec()
        }
        Ok(_) => return None,
        Err(_) => der.to_vec(),
    };
    let key = pkcs1::RsaPublicKey::from_der(&pkcs1_der).ok()?;
    let modulus = key.modulus.as_bytes();
    let bits = modulus_bits(modulus);
    Some(PublicKey::Rsa {
        der: pkcs1_der,
        bits,
    })
}

fn modulus_bits(modulus: &[u8]) -> u32 {
    let first = modulus.iter().position(|&byte| byte != 0);
    match first {
        None => 0,
        Some(index) => {
            let bytes = (modulus.len() - index) as u32;
            bytes * 8 - modulus[index].leading_zeros()
        }
    }
}

/// A short fingerprint of a published key, for comparing keys by eye: SHA-256 over the decoded
/// `p=` bytes, first 16 bytes in hex.
pub fn fingerprint(public_key_der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, public_key_der);
    hex::encode(&digest.as_ref()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_and_flags() {
        let record = KeyRecord::parse("v=DKIM1; k=rsa; t=y:s; h=sha256; p=").unwrap();
        assert_eq!(record.public_key, None);
        assert!(record.testing);
        assert!(record.strict_identity);
        assert!(record.allows_hash("sha256"));
        assert!(!record.allows_hash("sha1"));
    }

    #[test]
    fn refusals() {
        assert_eq!(
            KeyRecord::parse("k=rsa; v=DKIM1; p=").unwrap_err(),
            RecordError::VersionNotFirst
        );
        assert_eq!(
            KeyRecord::parse("v=DKIM2; p=").unwrap_err(),
            RecordError::Version("DKIM2".into())
        );
        assert_eq!(
            KeyRecord::parse("v=DKIM1; k=rsa").unwrap_err(),
            RecordError::MissingKey
        );
        assert_eq!(
            KeyRecord::parse("v=DKIM1; p=!!!").unwrap_err(),
            RecordError::KeyBase64
        );
        assert_eq!(
            KeyRecord::parse("v=DKIM1; p=AAAA").unwrap_err(),
            RecordError::KeyEncoding("RSA")
        );
        assert_eq!(
            KeyRecord::parse("v=DKIM1; k=dsa; p=AAAA").unwrap_err(),
            RecordError::UnknownKeyType("dsa".into())
        );
    }

    #[test]
    fn modulus_bit_lengths() {
        assert_eq!(modulus_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(modulus_bits(&[0x01, 0x00]), 9);
        assert_eq!(modulus_bits(&[]), 0);
    }
}
