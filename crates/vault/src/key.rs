//! The signing handle: an RSA or Ed25519 key pair held by the crypto library. Its `Debug` shows
//! no key material, and it offers signing and the public half, never the private half.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256};
use sealpost_domain::KeyAlgorithm;
use zeroize::Zeroizing;

pub struct PrivateKey {
    key_pair: Pair,
}

enum Pair {
    Rsa(KeyPair),
    Ed25519(Ed25519KeyPair),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm())
            .field("bits", &self.bits())
            .field("material", &"redacted")
            .finish()
    }
}

impl PrivateKey {
    pub(crate) fn generate(algorithm: KeyAlgorithm) -> Option<Self> {
        let key_pair = match algorithm {
            KeyAlgorithm::Rsa => Pair::Rsa(KeyPair::generate(KeySize::Rsa2048).ok()?),
            KeyAlgorithm::Ed25519 => Pair::Ed25519(Ed25519KeyPair::generate().ok()?),
        };
        Some(Self { key_pair })
    }

    /// Reads a plaintext PKCS#8 document of either algorithm; the caller has checked which one
    /// it holds.
    pub(crate) fn from_pkcs8(der: &[u8]) -> Option<Self> {
        let key_pair = match KeyPair::from_pkcs8(der) {
            Ok(key_pair) => Pair::Rsa(key_pair),
            Err(_) => Pair::Ed25519(Ed25519KeyPair::from_pkcs8(der).ok()?),
        };
        Some(Self { key_pair })
    }

    pub(crate) fn from_pkcs1(der: &[u8]) -> Option<Self> {
        let key_pair = Pair::Rsa(KeyPair::from_der(der).ok()?);
        Some(Self { key_pair })
    }

    /// The plaintext PKCS#8 document, for sealing; it never leaves the crate.
    pub(crate) fn pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        let document: Pkcs8V1Der<'static> = match &self.key_pair {
            Pair::Rsa(key_pair) => key_pair.as_der(),
            Pair::Ed25519(key_pair) => key_pair.as_der(),
        }
        .expect("a valid key serialises to PKCS#8");
        Zeroizing::new(document.as_ref().to_vec())
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.key_pair {
            Pair::Rsa(_) => KeyAlgorithm::Rsa,
            Pair::Ed25519(_) => KeyAlgorithm::Ed25519,
        }
    }

    /// The plaintext PKCS#8 document as PEM; it never leaves the crate except through
    /// [`crate::Vault::export_pkcs8_pem`].
    pub(crate) fn pkcs8_pem(&self) -> Zeroizing<String> {
        use base64::Engine as _;
        let der = self.pkcs8_der();
        let encoded =
            Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(der.as_slice()));
        // Sized up front so that growing the string leaves no unzeroized copies behind.
        let mut pem = Zeroizing::new(String::with_capacity(encoded.len() * 2 + 64));
        pem.push_str("-----BEGIN PRIVATE KEY-----\n");
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        pem
    }

    /// The modulus length in bits for RSA; 256 for Ed25519, whose keys have one size.
    pub fn bits(&self) -> u32 {
        match &self.key_pair {
            Pair::Rsa(key_pair) => (key_pair.public_modulus_len() * 8) as u32,
            Pair::Ed25519(_) => 256,
        }
    }

    /// The public key as SubjectPublicKeyInfo DER. DKIM's `p=` carries it whole for RSA and its
    /// last 32 bytes for Ed25519 ([`KeyAlgorithm::dkim_public_key`]).
    pub fn public_key_der(&self) -> Vec<u8> {
        match &self.key_pair {
            Pair::Rsa(key_pair) => key_pair
                .public_key()
                .as_der()
                .map(|der| der.as_ref().to_vec()),
            Pair::Ed25519(key_pair) => key_pair
                .public_key()
                .as_der()
                .map(|der| der.as_ref().to_vec()),
        }
        .expect("a public key serialises to DER")
    }

    /// The DKIM signature over `message` with the key's own algorithm: RSASSA-PKCS1-v1_5 with
    /// SHA-256 (rsa-sha256), or PureEdDSA over the SHA-256 digest the caller passes in
    /// (ed25519-sha256, RFC 8463 section 3).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.key_pair {
            Pair::Rsa(key_pair) => sign_rsa_sha256(key_pair, message),
            Pair::Ed25519(key_pair) => key_pair.sign(message).as_ref().to_vec(),
        }
    }
}

/// An RSASSA-PKCS1-v1_5 signature with SHA-256 over `message` (DKIM's rsa-sha256).
fn sign_rsa_sha256(key_pair: &KeyPair, message: &[u8]) -> Vec<u8> {
    let mut signature = vec![0u8; key_pair.public_modulus_len()];
    key_pair
        .sign(
            &RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            message,
            &mut signature,
        )
        .expect("signing with a valid RSA key cannot fail");
    signature
}
