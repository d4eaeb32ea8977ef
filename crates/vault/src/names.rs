//! The names of the password-based encryption algorithms a pasted key may name by OID, so that a
//! refusal says "PKCS#12's pbeWithSHAAnd3-KeyTripleDES-CBC" rather than a number or "corrupted".

use pkcs8::ObjectIdentifier;

const fn oid(text: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(text)
}

pub(crate) const PBES2: ObjectIdentifier = oid("1.2.840.113549.1.5.13");
pub(crate) const PBKDF2: ObjectIdentifier = oid("1.2.840.113549.1.5.12");
pub(crate) const SCRYPT: ObjectIdentifier = oid("1.3.6.1.4.1.11591.4.11");
pub(crate) const HMAC_WITH_SHA1: ObjectIdentifier = oid("1.2.840.113549.2.7");
const HMAC_WITH_SHA224: ObjectIdentifier = oid("1.2.840.113549.2.8");
const HMAC_WITH_SHA256: ObjectIdentifier = oid("1.2.840.113549.2.9");
const HMAC_WITH_SHA384: ObjectIdentifier = oid("1.2.840.113549.2.10");
const HMAC_WITH_SHA512: ObjectIdentifier = oid("1.2.840.113549.2.11");
const AES_128_CBC: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.2");
const AES_192_CBC: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.22");
const AES_256_CBC: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.42");
const DES_EDE3_CBC: ObjectIdentifier = oid("1.2.840.113549.3.7");

/// Every algorithm Sealpost can name, with the name its standard gives it.
const NAMES: &[(ObjectIdentifier, &str)] = &[
    (
        oid("1.2.840.113549.1.5.1"),
        "PKCS#5 v1.5's pbeWithMD2AndDES-CBC",
    ),
    (
        oid("1.2.840.113549.1.5.3"),
        "PKCS#5 v1.5's pbeWithMD5AndDES-CBC",
    ),
    (
        oid("1.2.840.113549.1.5.4"),
        "PKCS#5 v1.5's pbeWithMD2AndRC2-CBC",
    ),
    (
        oid("1.2.840.113549.1.5.6"),
        "PKCS#5 v1.5's pbeWithMD5AndRC2-CBC",
    ),
    (
        oid("1.2.840.113549.1.5.10"),
        "PKCS#5 v1.5's pbeWithSHA1AndDES-CBC",
    ),
    (
        oid("1.2.840.113549.1.5.11"),
        "PKCS#5 v1.5's pbeWithSHA1AndRC2-CBC",
    ),
    (
        oid("1.2.840.113549.1.12.1.1"),
        "PKCS#12's pbeWithSHAAnd128BitRC4",
    ),
    (
        oid("1.2.840.113549.1.12.1.2"),
        "PKCS#12's pbeWithSHAAnd40BitRC4",
    ),
    (
        oid("1.2.840.113549.1.12.1.3"),
        "PKCS#12's pbeWithSHAAnd3-KeyTripleDES-CBC",
    ),
    (
        oid("1.2.840.113549.1.12.1.4"),
        "PKCS#12's pbeWithSHAAnd2-KeyTripleDES-CBC",
    ),
    (
        oid("1.2.840.113549.1.12.1.5"),
        "PKCS#12's pbeWithSHAAnd128BitRC2-CBC",
    ),
    (
        oid("1.2.840.113549.1.12.1.6"),
        "PKCS#12's pbewithSHAAnd40BitRC2-CBC",
    ),
    (oid("1.2.840.113549.2.12"), "hmacWithSHA512-224"),
    (oid("1.2.840.113549.2.13"), "hmacWithSHA512-256"),
    (oid("2.16.840.1.101.3.4.2.13"), "hmacWithSHA3-224"),
    (oid("2.16.840.1.101.3.4.2.14"), "hmacWithSHA3-256"),
    (oid("2.16.840.1.101.3.4.2.15"), "hmacWithSHA3-384"),
    (oid("2.16.840.1.101.3.4.2.16"), "hmacWithSHA3-512"),
    (oid("1.3.14.3.2.7"), "des-cbc"),
    (oid("1.2.840.113549.3.2"), "rc2-cbc"),
    (oid("1.2.840.113549.3.9"), "rc5-cbc"),
    (oid("2.16.840.1.101.3.4.1.6"), "aes-128-gcm"),
    (oid("2.16.840.1.101.3.4.1.26"), "aes-192-gcm"),
    (oid("2.16.840.1.101.3.4.1.46"), "aes-256-gcm"),
    (oid("2.16.840.1.101.3.4.1.1"), "aes-128-ecb"),
    (oid("2.16.840.1.101.3.4.1.21"), "aes-192-ecb"),
    (oid("2.16.840.1.101.3.4.1.41"), "aes-256-ecb"),
    (oid("1.2.392.200011.61.1.1.1.2"), "camellia-128-cbc"),
    (oid("1.2.392.200011.61.1.1.1.3"), "camellia-192-cbc"),
    (oid("1.2.392.200011.61.1.1.1.4"), "camellia-256-cbc"),
    (oid("1.2.410.200046.1.1.2"), "aria-128-cbc"),
    (oid("1.2.410.200046.1.1.7"), "aria-192-cbc"),
    (oid("1.2.410.200046.1.1.12"), "aria-256-cbc"),
    (oid("1.2.156.10197.1.104.2"), "sm4-cbc"),
];

/// The name of an encryption scheme, for the refusal of one Sealpost does not read.
pub(crate) fn scheme(oid: ObjectIdentifier) -> String {
    match known(oid) {
        Some(name) => name.to_owned(),
        None => format!("an unknown scheme (OID {oid})"),
    }
}

/// The name of an algorithm inside PBES2 (a key derivation, PRF or cipher).
pub(crate) fn algorithm(oid: ObjectIdentifier) -> String {
    match known(oid) {
        Some(name) => name.to_owned(),
        None => format!("an unknown algorithm (OID {oid})"),
    }
}

fn known(oid: ObjectIdentifier) -> Option<&'static str> {
    NAMES
        .iter()
        .find(|(known, _)| *known == oid)
        .map(|(_, name)| *name)
}

/// The PRFs of PBKDF2 that pkcs5 computes.
pub(crate) fn is_supported_prf(prf: ObjectIdentifier) -> bool {
    [
        HMAC_WITH_SHA1,
        HMAC_WITH_SHA224,
        HMAC_WITH_SHA256,
        HMAC_WITH_SHA384,
        HMAC_WITH_SHA512,
    ]
    .contains(&prf)
}

/// The block size, which is the IV's length, of a PBES2 cipher that pkcs5 decrypts.
pub(crate) fn pbes2_cipher_block_size(cipher: ObjectIdentifier) -> Option<usize> {
    match cipher {
        AES_128_CBC | AES_192_CBC | AES_256_CBC => Some(16),
        DES_EDE3_CBC => Some(8),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_named() {
        assert_eq!(
            scheme(oid("1.2.840.113549.1.12.1.3")),
            "PKCS#12's pbeWithSHAAnd3-KeyTripleDES-CBC"
        );
        assert_eq!(scheme(oid("1.2.3.4")), "an unknown scheme (OID 1.2.3.4)");
    }
}
