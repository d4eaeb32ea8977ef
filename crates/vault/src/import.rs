//! Import of a pasted private key (SPEC S3.5): PKCS#8 plain and encrypted (PBES2), PKCS#1 plain
//! and in OpenSSL's legacy encrypted form, for RSA keys; PKCS#8 plain and encrypted for Ed25519
//! keys (RFC 8463). Every refusal says precisely what is wrong, because the person pasting the
//! key has to fix it.

use pkcs8::der::Decode as _;
use pkcs8::{ObjectIdentifier, PrivateKeyInfo};
use sealpost_domain::KeyAlgorithm;
use zeroize::Zeroizing;

use crate::pem::{self, PemBlock};
use crate::{ImportError, PrivateKey, rsa_shape};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
const DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");

/// Takes the one private key in `text`; certificates and other blocks pasted around it (a
/// common copy from a bundle file) are skipped, but two private keys are refused, since which
/// one was meant cannot be known. Without a password, an encrypted key is tried with the empty
/// password, which is a password like any other to the tools that encrypt keys. The key must
/// be of `algorithm`: the domain's RSA key and its Ed25519 key are imported apart.
pub(crate) fn import(
    text: &str,
    password: Option<&[u8]>,
    algorithm: KeyAlgorithm,
) -> Result<PrivateKey, ImportError> {
    let blocks = pem::blocks(text)?;
    let mut keys = blocks
        .iter()
        .filter(|block| is_private_key_label(&block.label));
    let Some(block) = keys.next() else {
        return Err(match blocks.first() {
            None => ImportError::NotPem,
            Some(block) => refusal_for_label(&block.label),
        });
    };
    let others = keys.count();
    if others > 0 {
        return Err(ImportError::SeveralKeys(1 + others));
    }
    match block.label.as_str() {
        "PRIVATE KEY" => {
            refuse_password(password)?;
            from_pkcs8(&block.der, &block.label, algorithm)
        }
        "ENCRYPTED PRIVATE KEY" => with_password(password, |password| {
            let plain = crate::encrypted::decrypt(&block.der, password)?;
            from_decrypted(from_pkcs8(&plain, &block.label, algorithm))
        }),
        "RSA PRIVATE KEY" => match algorithm {
            KeyAlgorithm::Rsa => from_pkcs1_block(block, password),
            KeyAlgorithm::Ed25519 => Err(ImportError::NotEd25519("an RSA key")),
        },
        "EC PRIVATE KEY" => Err(wrong_algorithm(algorithm, "an EC key")),
        "DSA PRIVATE KEY" => Err(wrong_algorithm(algorithm, "a DSA key")),
        "OPENSSH PRIVATE KEY" => Err(ImportError::UnsupportedPemType(
            "OPENSSH PRIVATE KEY (convert it with `ssh-keygen -p -m PKCS8 -f FILE`)".to_owned(),
        )),
        other => Err(ImportError::UnsupportedPemType(other.to_owned())),
    }
}

fn is_private_key_label(label: &str) -> bool {
    label.ends_with("PRIVATE KEY")
}

fn refusal_for_label(label: &str) -> ImportError {
    match label {
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => ImportError::Certificate,
        "PUBLIC KEY" | "RSA PUBLIC KEY" => ImportError::PublicKey,
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => ImportError::CertificateRequest,
        other => ImportError::UnsupportedPemType(other.to_owned()),
    }
}

fn refuse_password(password: Option<&[u8]>) -> Result<(), ImportError> {
    match password {
        Some(_) => Err(ImportError::PasswordNotNeeded),
        None => Ok(()),
    }
}

/// Decrypts with the password given, or else with the empty password, whose failure means a
/// password is needed. Refusals that come before any decryption (an unsupported scheme, a KDF
/// beyond the budget) are the same either way.
fn with_password(
    password: Option<&[u8]>,
    decrypt: impl Fn(&[u8]) -> Result<PrivateKey, ImportError>,
) -> Result<PrivateKey, ImportError> {
    match password {
        Some(password) => decrypt(password),
        None => decrypt(b"").map_err(|error| match error {
            ImportError::WrongPassword => ImportError::PasswordRequired,
            other => other,
        }),
    }
}

/// A wrong password yields random bytes that occasionally pass the padding check; they then fail
/// to parse. The person's mistake is still the password.
fn from_decrypted(imported: Result<PrivateKey, ImportError>) -> Result<PrivateKey, ImportError> {
    imported.map_err(|error| match error {
        ImportError::Malformed(_) => ImportError::WrongPassword,
        other => other,
    })
}

/// The refusal of a key of another algorithm than the one being imported.
fn wrong_algorithm(expected: KeyAlgorithm, found: &'static str) -> ImportError {
    match expected {
        KeyAlgorithm::Rsa => ImportError::NotRsa(found),
        KeyAlgorithm::Ed25519 => ImportError::NotEd25519(found),
    }
}

fn from_pkcs8(der: &[u8], label: &str, algorithm: KeyAlgorithm) -> Result<PrivateKey, ImportError> {
    let info =
        PrivateKeyInfo::from_der(der).map_err(|_| ImportError::Malformed(label.to_owned()))?;
    match (info.algorithm.oid, algorithm) {
        (RSA_ENCRYPTION, KeyAlgorithm::Rsa) => {
            rsa_shape::check(info.private_key, label)?;
            PrivateKey::from_pkcs8(der).ok_or(ImportError::InconsistentKey)
        }
        (RSA_ENCRYPTION, KeyAlgorithm::Ed25519) => Err(ImportError::NotEd25519("an RSA key")),
        (ED25519, KeyAlgorithm::Ed25519) => {
            PrivateKey::from_pkcs8(der).ok_or_else(|| ImportError::Malformed(label.to_owned()))
        }
        (ED25519, KeyAlgorithm::Rsa) => Err(ImportError::Ed25519AsRsa),
        (RSA_PSS, _) => Err(wrong_algorithm(
            algorithm,
            "an RSA-PSS key, which cannot make rsa-sha256 (PKCS#1 v1.5) signatures",
        )),
        (EC_PUBLIC_KEY, _) => Err(wrong_algorithm(algorithm, "an EC key")),
        (ED448, _) => Err(wrong_algorithm(algorithm, "an Ed448 key")),
        (DSA, _) => Err(wrong_algorithm(algorithm, "a DSA key")),
        _ => Err(wrong_algorithm(algorithm, "a key of an unknown algorithm")),
    }
}

fn from_pkcs1_block(block: &PemBlock, password: Option<&[u8]>) -> Result<PrivateKey, ImportError> {
    let encrypted = block
        .header("Proc-Type")
        .is_some_and(|value| value.replace(' ', "").eq_ignore_ascii_case("4,ENCRYPTED"));
    if !encrypted {
        refuse_password(password)?;
        return from_pkcs1(&block.der, &block.label);
    }
    let dek_info = block.header("DEK-Info").ok_or_else(|| {
        ImportError::Corrupted("an encrypted key without its DEK-Info line".to_owned())
    })?;
    with_password(password, |password| {
        let plain: Zeroizing<Vec<u8>> = crate::legacy::decrypt(dek_info, password, &block.der)?;
        from_decrypted(from_pkcs1(&plain, &block.label))
    })
}

fn from_pkcs1(der: &[u8], label: &str) -> Result<PrivateKey, ImportError> {
    rsa_shape::check(der, label)?;
    PrivateKey::from_pkcs1(der).ok_or(ImportError::InconsistentKey)
}
