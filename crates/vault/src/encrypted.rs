//! Encrypted PKCS#8 (`EncryptedPrivateKeyInfo`, RFC 5958): the encryption scheme is read
//! generically first, so that a scheme Sealpost does not read is named rather than called
//! corrupted; PBES2's parameters are checked (lengths the decryptor relies on, and the KDF
//! budget of `sealpost_domain::limits::kdf`) before any key is derived; only then is the key
//! decrypted.

use pkcs8::der::asn1::{AnyRef, OctetStringRef};
use pkcs8::der::{Decode as _, Reader as _};
use pkcs8::spki::AlgorithmIdentifierRef;
use sealpost_domain::limits::kdf::{
    MAX_PBKDF2_ITERATIONS, MAX_SCRYPT_MEMORY_BYTES, MAX_SCRYPT_WORK,
};
use zeroize::Zeroizing;

use crate::error::{KdfExcess, scrypt_memory, scrypt_work};
use crate::{ImportError, names};

/// Decrypts the DER of an `ENCRYPTED PRIVATE KEY` block into plaintext PKCS#8 DER.
pub(crate) fn decrypt(der: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let (algorithm, ciphertext) = envelope(der).ok_or_else(malformed)?;
    if algorithm.oid != names::PBES2 {
        return Err(ImportError::UnsupportedEncryption(names::scheme(
            algorithm.oid,
        )));
    }
    let parameters = algorithm.parameters.ok_or_else(malformed)?;
    check_pbes2(parameters)?;
    let parameters = pkcs5::pbes2::Parameters::try_from(parameters).map_err(|_| malformed())?;
    match pkcs5::EncryptionScheme::Pbes2(parameters).decrypt(password, ciphertext) {
        Ok(plaintext) => Ok(Zeroizing::new(plaintext)),
        // pkcs5 0.7 reports a bad padding after decryption as `EncryptFailed`.
        Err(pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed) => {
            Err(ImportError::WrongPassword)
        }
        Err(pkcs5::Error::UnsupportedAlgorithm { oid }) => Err(ImportError::UnsupportedEncryption(
            format!("PBES2 with {}", names::algorithm(oid)),
        )),
        Err(_) => Err(malformed()),
    }
}

fn malformed() -> ImportError {
    ImportError::Malformed("ENCRYPTED PRIVATE KEY".to_owned())
}

/// `EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier,
/// encryptedData OCTET STRING }`, with the algorithm's parameters left undecoded.
fn envelope(der: &[u8]) -> Option<(AlgorithmIdentifierRef<'_>, &[u8])> {
    AnyRef::from_der(der)
        .ok()?
        .sequence(|reader| {
            let algorithm = AlgorithmIdentifierRef::decode(reader)?;
            let data = OctetStringRef::decode(reader)?;
            Ok((algorithm, data.as_bytes()))
        })
        .ok()
}

/// `PBES2-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier, encryptionScheme
/// AlgorithmIdentifier }`: the cipher must be one Sealpost decrypts with an IV of its block size,
/// and the key derivation must fit the budget.
fn check_pbes2(parameters: AnyRef<'_>) -> Result<(), ImportError> {
    let (kdf, cipher) = parameters
        .sequence(|reader| {
            let kdf = AlgorithmIdentifierRef::decode(reader)?;
            let cipher = AlgorithmIdentifierRef::decode(reader)?;
            Ok((kdf, cipher))
        })
        .map_err(|_| malformed())?;
    check_cipher(cipher)?;
    match kdf.oid {
        names::PBKDF2 => check_pbkdf2(kdf.parameters.ok_or_else(malformed)?),
        names::SCRYPT => check_scrypt(kdf.parameters.ok_or_else(malformed)?),
        other => Err(ImportError::UnsupportedEncryption(format!(
            "PBES2 with the key derivation {}",
            names::algorithm(other)
        ))),
    }
}

fn check_cipher(cipher: AlgorithmIdentifierRef<'_>) -> Result<(), ImportError> {
    let block_size = names::pbes2_cipher_block_size(cipher.oid).ok_or_else(|| {
        ImportError::UnsupportedEncryption(format!(
            "PBES2 with the cipher {}",
            names::algorithm(cipher.oid)
        ))
    })?;
    let iv = cipher
        .parameters
        .and_then(|parameters| parameters.decode_as::<OctetStringRef<'_>>().ok())
        .ok_or_else(malformed)?;
    match iv.as_bytes().len() == block_size {
        true => Ok(()),
        false => Err(malformed()),
    }
}

/// `PBKDF2-params ::= SEQUENCE { salt, iterationCount INTEGER, keyLength INTEGER OPTIONAL,
/// prf AlgorithmIdentifier DEFAULT hmacWithSHA1 }`.
fn check_pbkdf2(parameters: AnyRef<'_>) -> Result<(), ImportError> {
    let (iterations, prf) = parameters
        .sequence(|reader| {
            let _salt = AnyRef::decode(reader)?;
            let iterations: u64 = reader.decode()?;
            let _key_length: Option<u64> = reader.decode()?;
            let prf: Option<AlgorithmIdentifierRef<'_>> = reader.decode()?;
            Ok((iterations, prf.map(|prf| prf.oid)))
        })
        .map_err(|_| malformed())?;
    let prf = prf.unwrap_or(names::HMAC_WITH_SHA1);
    if !names::is_supported_prf(prf) {
        return Err(ImportError::UnsupportedEncryption(format!(
            "PBKDF2 with the PRF {}",
            names::algorithm(prf)
        )));
    }
    match iterations {
        0 => Err(malformed()),
        1..=0xFFFF_FFFF if iterations <= u64::from(MAX_PBKDF2_ITERATIONS) => Ok(()),
        1..=0xFFFF_FFFF => Err(ImportError::KdfBeyondBudget(KdfExcess::Pbkdf2Iterations(
            iterations as u32,
        ))),
        // PKCS#5 implementations, pkcs5 among them, count iterations in 32 bits.
        _ => Err(malformed()),
    }
}

/// `scrypt-params ::= SEQUENCE { salt OCTET STRING, costParameter INTEGER, blockSize INTEGER,
/// parallelizationParameter INTEGER, keyLength INTEGER OPTIONAL }` (RFC 7914 section 7).
fn check_scrypt(parameters: AnyRef<'_>) -> Result<(), ImportError> {
    let (cost, block_size, parallelization) = parameters
        .sequence(|reader| {
            let _salt = OctetStringRef::decode(reader)?;
            let cost: u64 = reader.decode()?;
            let block_size: u32 = reader.decode()?;
            let parallelization: u32 = reader.decode()?;
            let _key_length: Option<u64> = reader.decode()?;
            Ok((cost, block_size, parallelization))
        })
        .map_err(|_| malformed())?;
    // RFC 7914: N is a power of two above 1; r and p are positive.
    if cost < 2 || !cost.is_power_of_two() || block_size == 0 || parallelization == 0 {
        return Err(malformed());
    }
    let log_n = cost.trailing_zeros();
    if scrypt_memory(log_n, block_size) > u128::from(MAX_SCRYPT_MEMORY_BYTES) {
        return Err(ImportError::KdfBeyondBudget(KdfExcess::ScryptMemory {
            log_n,
            block_size,
            parallelization,
        }));
    }
    if scrypt_work(log_n, block_size, parallelization) > u128::from(MAX_SCRYPT_WORK) {
        return Err(ImportError::KdfBeyondBudget(KdfExcess::ScryptWork {
            log_n,
            block_size,
            parallelization,
        }));
    }
    Ok(())
}
