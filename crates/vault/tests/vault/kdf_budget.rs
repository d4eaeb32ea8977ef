//! Encrypted keys whose key derivation asks for more memory or work than Sealpost allows are
//! refused from their parameters alone, before any derivation: these keys are built by hand with
//! parameters that would take a petabyte or minutes, so a test that derived would abort or hang.

use pkcs5::pbes2::{self, Kdf, Pbkdf2Params, Pbkdf2Prf, ScryptParams};
use pkcs8::der::Encode as _;
use sealpost_domain::limits::kdf::MAX_PBKDF2_ITERATIONS;
use sealpost_vault::{ImportError, KdfExcess};

use crate::{PASSWORD, check_refused, pem, refuse};

const ADVICE: &str = "re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`";

/// An encrypted PKCS#8 key with the given key derivation and AES-256-CBC; the ciphertext is
/// zeros, which no password opens.
fn encrypted_key(kdf: Kdf<'_>) -> String {
    let parameters = pbes2::Parameters {
        kdf,
        encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: &[7; 16] },
    };
    let info = pkcs8::EncryptedPrivateKeyInfo {
        encryption_algorithm: parameters.into(),
        encrypted_data: &[0; 1232],
    };
    pem("ENCRYPTED PRIVATE KEY", &info.to_der().unwrap())
}

fn scrypt(cost_parameter: u64, block_size: u16, parallelization: u16) -> String {
    encrypted_key(Kdf::Scrypt(ScryptParams {
        salt: &[1; 16],
        cost_parameter,
        block_size,
        parallelization,
        key_length: None,
    }))
}

fn pbkdf2(iteration_count: u32, prf: Pbkdf2Prf) -> String {
    encrypted_key(Kdf::Pbkdf2(Pbkdf2Params {
        salt: &[1; 16],
        iteration_count,
        key_length: None,
        prf,
    }))
}

/// The refusal comes with and without a password: without one, the vault tries the empty
/// password, which must be held to the same budget.
#[track_caller]
fn check_beyond_budget(text: &str, expected: KdfExcess, message: &str) {
    for password in [Some(PASSWORD), None] {
        check_refused(
            text,
            password,
            ImportError::KdfBeyondBudget(expected.clone()),
            message,
        );
        assert!(refuse(text, password).to_string().ends_with(ADVICE));
    }
}

#[test]
fn scrypt_beyond_the_memory_budget_is_refused() {
    check_beyond_budget(
        &scrypt(1 << 40, 8, 1),
        KdfExcess::ScryptMemory {
            log_n: 40,
            block_size: 8,
            parallelization: 1,
        },
        "the key's encryption asks for 1 PiB of memory (scrypt N=2^40, r=8, p=1); Sealpost \
         allows at most 256 MiB",
    );
    check_beyond_budget(
        &scrypt(1 << 63, u16::MAX, u16::MAX),
        KdfExcess::ScryptMemory {
            log_n: 63,
            block_size: 65_535,
            parallelization: 65_535,
        },
        "of memory (scrypt N=2^63, r=65535, p=65535)",
    );
    check_beyond_budget(
        &scrypt(1 << 19, 8, 1),
        KdfExcess::ScryptMemory {
            log_n: 19,
            block_size: 8,
            parallelization: 1,
        },
        "asks for 512 MiB of memory",
    );
}

#[test]
fn scrypt_beyond_the_work_budget_is_refused() {
    check_beyond_budget(
        &scrypt(1 << 14, 8, 1024),
        KdfExcess::ScryptWork {
            log_n: 14,
            block_size: 8,
            parallelization: 1024,
        },
        "the key's encryption asks for scrypt N=2^14, r=8, p=1024, whose work N*r*p is \
         134217728; Sealpost allows at most 2097152",
    );
}

#[test]
fn pbkdf2_beyond_the_iteration_budget_is_refused() {
    for iterations in [u32::MAX, 30_000_000, MAX_PBKDF2_ITERATIONS + 1] {
        for prf in [Pbkdf2Prf::HmacWithSha1, Pbkdf2Prf::HmacWithSha256] {
            check_beyond_budget(
                &pbkdf2(iterations, prf),
                KdfExcess::Pbkdf2Iterations(iterations),
                &format!(
                    "the key's encryption asks for {iterations} PBKDF2 iterations; Sealpost \
                     allows at most {MAX_PBKDF2_ITERATIONS}"
                ),
            );
        }
    }
}

#[test]
fn impossible_kdf_parameters_are_malformed() {
    let malformed = ImportError::Malformed("ENCRYPTED PRIVATE KEY".to_owned());
    for text in [scrypt(3, 8, 1), scrypt(0, 8, 1), scrypt(1 << 10, 0, 1)] {
        assert_eq!(refuse(&text, Some(PASSWORD)), malformed);
    }
    assert_eq!(
        refuse(&pbkdf2(0, Pbkdf2Prf::HmacWithSha256), Some(PASSWORD)),
        malformed
    );
}

/// A DER value: tag, definite length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut value = vec![tag];
    match content.len() {
        length @ 0..=127 => value.push(length as u8),
        length => {
            let bytes = (length as u32).to_be_bytes();
            let first = bytes.iter().position(|&byte| byte != 0).unwrap();
            value.push(0x80 | (4 - first) as u8);
            value.extend_from_slice(&bytes[first..]);
        }
    }
    value.extend_from_slice(content);
    value
}

fn oid(text: &str) -> Vec<u8> {
    pkcs8::ObjectIdentifier::new_unwrap(text).to_der().unwrap()
}

/// PBES2 with PBKDF2 and 3DES whose IV is shorter than a DES block: a parser that slices the IV
/// without checking its length would panic here.
#[test]
fn a_short_iv_is_malformed_not_a_panic() {
    for iv_length in [0, 3, 7, 9] {
        let pbkdf2 = [
            oid("1.2.840.113549.1.5.12"),
            tlv(
                0x30,
                &[tlv(0x04, &[1; 8]), vec![0x02, 0x02, 0x08, 0x00]].concat(),
            ),
        ]
        .concat();
        let cipher = [oid("1.2.840.113549.3.7"), tlv(0x04, &vec![2; iv_length])].concat();
        let pbes2 = [
            oid("1.2.840.113549.1.5.13"),
            tlv(0x30, &[tlv(0x30, &pbkdf2), tlv(0x30, &cipher)].concat()),
        ]
        .concat();
        let document = tlv(0x30, &[tlv(0x30, &pbes2), tlv(0x04, &[0; 1232])].concat());
        let text = pem("ENCRYPTED PRIVATE KEY", &document);
        assert_eq!(
            refuse(&text, Some(PASSWORD)),
            ImportError::Malformed("ENCRYPTED PRIVATE KEY".to_owned()),
            "IV of {iv_length} bytes"
        );
    }
}
