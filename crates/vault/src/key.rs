//! The signing handle: an RSA key pair held by the crypto library. Its `Debug` shows no key
//! material, and it offers signing and the public half, never the private half.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use zeroize::Zeroizing;

pub struct PrivateKey {
    key_pair: KeyPair,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PrivateKey")
            .field("bits", &self.bits())
            .field("material", &"redacted")
            .finish()
    }
}

impl PrivateKey {
    pub(crate) fn generate() -> Option<Self> {
        let key_pair = KeyPair::generate(KeySize::Rsa2048).ok()?;
        Some(Self { key_pair })
    }

    pub(crate) fn from_pkcs8(der: &[u8]) -> Option<Self> {
        let key_pair = KeyPair::from_pkcs8(der).ok()?;
        Some(Self { key_pair })
    }

    pub(crate) fn from_pkcs1(der: &[u8]) -> Option<Self> {
        let key_pair = KeyPair::from_der(der).ok()?;
        Some(Self { key_pair })
    }

    /// The plaintext PKCS#8 document, for sealing; it never leaves the crate.
    pub(crate) fn pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        let document: Pkcs8V1Der<'static> = self
            .key_pair
            .as_der()
            .expect("a valid RSA key serialises to PKCS#8");
        Zeroizing::new(document.as_ref().to_vec())
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

    /// The modulus length in bits.
    pub fn bits(&self) -> u32 {
        (self.key_pair.public_modulus_len() * 8) as u32
    }

    /// The public key as SubjectPublicKeyInfo DER, which is what DKIM's `p=` carries.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.key_pair
            .public_key()
            .as_der()
            .expect("an RSA public key serialises to DER")
            .as_ref()
            .to_vec()
    }

    /// An RSASSA-PKCS1-v1_5 signature with SHA-256 over `message` (DKIM's rsa-sha256).
    pub fn sign_rsa_sha256(&self, message: &[u8]) -> Vec<u8> {
        let mut signature = vec![0u8; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .expect("signing with a valid RSA key cannot fail");
        signature
    }
}
