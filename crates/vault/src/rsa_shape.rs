//! The RSA key's shape, read before the key is handed to the crypto library so that a key of
//! the wrong kind gets the reason as its refusal, not a generic "its parts do not belong
//! together": the number of primes, the modulus size and the public exponent.

use pkcs1::der::Decode as _;
use sealpost_domain::REQUIRED_KEY_BITS;

use crate::ImportError;

/// The public exponent every key generator uses and every DKIM verifier accepts.
const PUBLIC_EXPONENT: &[u8] = &[0x01, 0x00, 0x01];

pub(crate) fn check(pkcs1_der: &[u8], label: &str) -> Result<(), ImportError> {
    let key = pkcs1::RsaPrivateKey::from_der(pkcs1_der)
        .map_err(|_| ImportError::Malformed(label.to_owned()))?;
    if let Some(other_primes) = &key.other_prime_infos {
        return Err(ImportError::MultiPrime(2 + other_primes.len()));
    }
    let bits = bit_length(key.modulus.as_bytes());
    if bits != REQUIRED_KEY_BITS {
        return Err(ImportError::WrongSize(bits));
    }
    let exponent = significant(key.public_exponent.as_bytes());
    if exponent != PUBLIC_EXPONENT {
        return Err(ImportError::PublicExponent(shown(exponent)));
    }
    Ok(())
}

/// A public exponent as a decimal number, or by its size when it is too long to read.
fn shown(exponent: &[u8]) -> String {
    match exponent.len() {
        0..=8 => exponent
            .iter()
            .fold(0u64, |value, &byte| value << 8 | u64::from(byte))
            .to_string(),
        _ => format!("a {}-bit number", bit_length(exponent)),
    }
}

/// `big_endian` without its leading zero bytes.
fn significant(big_endian: &[u8]) -> &[u8] {
    let first = big_endian
        .iter()
        .position(|&byte| byte != 0)
        .unwrap_or(big_endian.len());
    &big_endian[first..]
}

fn bit_length(big_endian: &[u8]) -> u32 {
    let significant = significant(big_endian);
    match significant.first() {
        None => 0,
        Some(first) => (significant.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
    }
}

#[cfg(test)]
mod tests {
    use super::{bit_length, shown};

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x7f, 0xff]), 15);
    }

    #[test]
    fn exponents_are_shown_in_decimal() {
        assert_eq!(shown(&[3]), "3");
        assert_eq!(shown(&[1, 0, 0, 0, 1]), "4294967297");
        assert_eq!(shown(&[1; 9]), "a 65-bit number");
        assert_eq!(shown(&[]), "0");
    }
}
