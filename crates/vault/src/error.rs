//! Why a pasted key was refused. Every message says what is wrong and what to do, and none quotes
//! key material: the only text taken from the paste is a PEM label that passed
//! `pem::valid_label`, a cipher name that passed `legacy::cipher_name`, or a number.

use sealpost_domain::limits::kdf::{
    MAX_PBKDF2_ITERATIONS, MAX_SCRYPT_MEMORY_BYTES, MAX_SCRYPT_WORK,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error(
        "this is not a PEM key: paste the whole key, from the line \
         \"-----BEGIN PRIVATE KEY-----\" (or \"-----BEGIN RSA PRIVATE KEY-----\") to its END line"
    )]
    NotPem,
    #[error(
        "the text has a \"-----BEGIN\" marker without a valid label after it (such as \
         \"-----BEGIN PRIVATE KEY-----\"): paste the key file as it is"
    )]
    BadLabel,
    #[error("the PEM block \"{0}\" has no END line: the key was cut off, paste all of it")]
    Truncated(String),
    #[error("the PEM block \"{begin}\" ends with \"{end}\": paste one whole key, as it is")]
    EndMismatch { begin: String, end: String },
    #[error(
        "the PEM block \"{0}\" is not laid out in lines (its newlines were lost?) and cannot be \
         re-wrapped without guessing: paste the key file with its line breaks"
    )]
    NotInLines(String),
    #[error("the PEM text is corrupted: {0}")]
    Corrupted(String),
    #[error("the PEM block \"{0}\" does not hold a valid key: it is corrupted or incomplete")]
    Malformed(String),
    #[error("the text holds {0} private keys; paste one")]
    SeveralKeys(usize),
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
    #[error(
        "DKIM signing keys must be RSA; this is an Ed25519 key: import it as the domain's \
         Ed25519 key (algorithm ed25519), which signs beside its RSA key"
    )]
    Ed25519AsRsa,
    #[error(
        "this key was to be the domain's Ed25519 key, but it is {0}: paste an Ed25519 key \
             (`openssl genpkey -algorithm ed25519`)"
    )]
    NotEd25519(&'static str),
    #[error("only 2048-bit keys are accepted; this RSA key has {0} bits")]
    WrongSize(u32),
    #[error(
        "the RSA key's public exponent is {0}; DKIM verifiers expect 65537: make a new key with \
         `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`"
    )]
    PublicExponent(String),
    #[error(
        "this is a {0}-prime RSA key, which DKIM signers do not use: make a 2-prime key with \
         `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`"
    )]
    MultiPrime(usize),
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
    #[error("{0}: re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`")]
    KdfBeyondBudget(KdfExcess),
    #[error("the RSA key is invalid: its parts do not belong together")]
    InconsistentKey,
}

/// Which bound of the key derivation budget (`sealpost_domain::limits::kdf`) an encrypted key
/// asks to exceed, with the parameters it asks for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KdfExcess {
    #[error(
        "the key's encryption asks for {memory} of memory (scrypt N=2^{log_n}, r={block_size}, \
         p={parallelization}); Sealpost allows at most {allowed}",
        memory = bytes(scrypt_memory(*.log_n, *.block_size)),
        allowed = bytes(u128::from(MAX_SCRYPT_MEMORY_BYTES)),
    )]
    ScryptMemory {
        log_n: u32,
        block_size: u32,
        parallelization: u32,
    },
    #[error(
        "the key's encryption asks for scrypt N=2^{log_n}, r={block_size}, p={parallelization}, \
         whose work N*r*p is {work}; Sealpost allows at most {MAX_SCRYPT_WORK}",
        work = scrypt_work(*.log_n, *.block_size, *.parallelization),
    )]
    ScryptWork {
        log_n: u32,
        block_size: u32,
        parallelization: u32,
    },
    #[error(
        "the key's encryption asks for {0} PBKDF2 iterations; Sealpost allows at most \
         {MAX_PBKDF2_ITERATIONS}"
    )]
    Pbkdf2Iterations(u32),
}

/// The bytes scrypt's large array takes, 128 * r * N; `log_n` is at most 63, so this fits.
pub(crate) fn scrypt_memory(log_n: u32, block_size: u32) -> u128 {
    (128 * u128::from(block_size)) << log_n
}

/// scrypt's work, N * r * p.
pub(crate) fn scrypt_work(log_n: u32, block_size: u32, parallelization: u32) -> u128 {
    (u128::from(block_size) * u128::from(parallelization)) << log_n
}

/// A size in the largest binary unit that leaves a whole number, to one decimal otherwise.
fn bytes(count: u128) -> String {
    const UNITS: [&str; 7] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut unit = 0;
    while unit + 1 < UNITS.len() && count >> (10 * (unit + 1)) > 0 {
        unit += 1;
    }
    let scale = 1u128 << (10 * unit);
    let (whole, rest) = (count / scale, count % scale);
    match rest {
        0 => format!("{whole} {}", UNITS[unit]),
        _ => format!("{whole}.{} {}", rest * 10 / scale, UNITS[unit]),
    }
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn sizes_are_shown_in_binary_units() {
        assert_eq!(bytes(0), "0 bytes");
        assert_eq!(bytes(1023), "1023 bytes");
        assert_eq!(bytes(1024), "1 KiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(256 << 20), "256 MiB");
        assert_eq!(bytes(1 << 50), "1 PiB");
        assert_eq!(bytes(1 << 70), "1024 EiB");
    }
}
