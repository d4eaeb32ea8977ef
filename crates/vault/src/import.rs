//! Import of a pasted private key (SPEC S3.5): PKCS#8 plain and encrypted (PBES2), PKCS#1 plain
//! and in OpenSSL's legacy encrypted form. Every refusal says precisely what is wrong, because
//! the person pasting the key has to fix it.

use pkcs8::der::Decode as _;
use pkcs8::{EncryptedPrivateKeyInfo, ObjectIdentifier, PrivateKeyInfo};
use sealpost_domain::REQUIRED_KEY_BITS;
use zeroize::Zeroizing;

use crate::PrivateKey;
use crate::pem::{self, PemBlock};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
const DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error(
        "this is not a PEM key: paste the whole key, from the line \
         \"-----BEGIN PRIVATE KEY-----\" (or \"-----BEGIN RSA PRIVATE KEY-----\") to its END line"
    )]
    NotPem,
    #[error("the PEM block \"{0}\" has no END line: the key was cut off, paste all of it")]
    Truncated(String),
    #[error("the PEM text is corrupted: {0}")]
    Corrupted(String),
    #[error("the PEM block \"{0}\" does not hold a valid key: it is corrupted or incomplete")]
    Malformed(String),
    #[error("this is a certificate, not a private key: paste the private key instead")]
    Certificate,
    #[error("this is a public key: paste the private key instead")]
    PublicKey,
    #[error(
        "this is a certificate signing request, not a private key: paste the private key instead"
    )]
    CertificateRequest,
    #[error("\"{0}\" is not a private key format Sealpost reads (use PKCS#8 or PKCS#1 PEM)")]
    UnsupportedPemType(String),
    #[error("DKIM signing keys must be RSA; this is {0}")]
    NotRsa(&'static str),
    #[error("only 2048-bit keys are accepted; this RSA key has {0} bits")]
    WrongSize(u32),
    #[error("this key is encrypted: give the password it was encrypted with")]
    PasswordRequired,
    #[error("the password is wrong: the key could not be decrypted with it")]
    WrongPassword,
    #[error("a password was given, but this key is not encrypted: leave the password empty")]
    PasswordNotNeeded,
    #[error(
        "the key is encrypted with {0}, which Sealpost does not read; re-encrypt it with \
         `openssl pkcs8 -topk8 -v2 aes-256-cbc` or paste it unencrypted"
    )]
    UnsupportedEncryption(String),
    #[error("the RSA key is invalid: its parts do not belong together")]
    InconsistentKey,
}

/// Takes the first private key in `text`; certificates and other blocks pasted around it (a
/// common copy from a bundle file) are skipped.
pub(crate) fn import(text: &str, password: Option<&[u8]>) -> Result<PrivateKey, ImportError> {
    let blocks = pem::blocks(text)?;
    let key_block = blocks
        .iter()
        .find(|block| is_private_key_label(&block.label));
    let Some(block) = key_block else {
        return Err(match blocks.first() {
            None => ImportError::NotPem,
            Some(block) => refusal_for_label(&block.label),
        });
    };
    match block.label.as_str() {
        "PRIVATE KEY" => {
            refuse_password(password)?;
            from_pkcs8(&block.der, &block.label)
        }
        "ENCRYPTED PRIVATE KEY" => {
            let password = password.ok_or(ImportError::PasswordRequired)?;
            let plain = decrypt_pkcs8(&block.der, password)?;
            from_pkcs8(&plain, &block.label).map_err(|error| match error {
                // A wrong password yields random bytes that occasionally pass the padding check;
                // they then fail to parse. The person's mistake is still the password.
                ImportError::Malformed(_) => ImportError::WrongPassword,
                other => other,
            })
        }
        "RSA PRIVATE KEY" => from_pkcs1_block(block, password),
        "EC PRIVATE KEY" => Err(ImportError::NotRsa("an EC key")),
        "DSA PRIVATE KEY" => Err(ImportError::NotRsa("a DSA key")),
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

fn decrypt_pkcs8(der: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let encrypted = EncryptedPrivateKeyInfo::from_der(der)
        .map_err(|_| ImportError::Malformed("ENCRYPTED PRIVATE KEY".to_owned()))?;
    match encrypted.decrypt(password) {
        Ok(document) => Ok(Zeroizing::new(document.as_bytes().to_vec())),
        // pkcs5 0.7 reports a bad padding after decryption as `EncryptFailed`, and a wrong
        // password that happens to leave valid padding (1 in 256) yields bytes that are not DER;
        // all three mean the password did not open the key.
        Err(pkcs8::Error::EncryptedPrivateKey(
            pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed,
        ))
        | Err(pkcs8::Error::Asn1(_)) => Err(ImportError::WrongPassword),
        Err(pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::UnsupportedAlgorithm { oid })) => Err(
            ImportError::UnsupportedEncryption(format!("the algorithm {oid}")),
        ),
        Err(pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::NoPbes1CryptSupport)) => Err(
            ImportError::UnsupportedEncryption("the obsolete PKCS#5 v1.5 scheme".to_owned()),
        ),
        Err(other) => Err(ImportError::UnsupportedEncryption(other.to_string())),
    }
}

fn from_pkcs8(der: &[u8], label: &str) -> Result<PrivateKey, ImportError> {
    let info =
        PrivateKeyInfo::from_der(der).map_err(|_| ImportError::Malformed(label.to_owned()))?;
    match info.algorithm.oid {
        RSA_ENCRYPTION => {
            check_rsa_size(info.private_key, label)?;
            PrivateKey::from_pkcs8(der).ok_or(ImportError::InconsistentKey)
        }
        RSA_PSS => Err(ImportError::NotRsa(
            "an RSA-PSS key, which cannot make rsa-sha256 (PKCS#1 v1.5) signatures",
        )),
        EC_PUBLIC_KEY => Err(ImportError::NotRsa("an EC key")),
        ED25519 => Err(ImportError::NotRsa("an Ed25519 key")),
        ED448 => Err(ImportError::NotRsa("an Ed448 key")),
        DSA => Err(ImportError::NotRsa("a DSA key")),
        _ => Err(ImportError::NotRsa("a key of an unknown algorithm")),
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
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let dek_info = block.header("DEK-Info").ok_or_else(|| {
        ImportError::Corrupted("an encrypted key without its DEK-Info line".to_owned())
    })?;
    let plain = crate::legacy::decrypt(dek_info, password, &block.der)?;
    from_pkcs1(&plain, &block.label).map_err(|error| match error {
        ImportError::Malformed(_) => ImportError::WrongPassword,
        other => other,
    })
}

fn from_pkcs1(der: &[u8], label: &str) -> Result<PrivateKey, ImportError> {
    check_rsa_size(der, label)?;
    PrivateKey::from_pkcs1(der).ok_or(ImportError::InconsistentKey)
}

/// Reads the modulus size before handing the key to the crypto library, so that a key of the
/// wrong size gets the size as its refusal, not a generic "rejected".
fn check_rsa_size(pkcs1_der: &[u8], label: &str) -> Result<(), ImportError> {
    let key = pkcs1::RsaPrivateKey::from_der(pkcs1_der)
        .map_err(|_| ImportError::Malformed(label.to_owned()))?;
    let bits = bit_length(key.modulus.as_bytes());
    if bits != REQUIRED_KEY_BITS {
        return Err(ImportError::WrongSize(bits));
    }
    Ok(())
}

fn bit_length(big_endian: &[u8]) -> u32 {
    let significant: &[u8] = match big_endian.iter().position(|&byte| byte != 0) {
        Some(first) => &big_endian[first..],
        None => return 0,
    };
    (significant.len() as u32 - 1) * 8 + (8 - significant[0].leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::bit_length;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x7f, 0xff]), 15);
    }
}
