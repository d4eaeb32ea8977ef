//! OpenSSL's legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: CIPHER,IV`), still what
//! `openssl rsa -aes256` writes with `-traditional`. The key comes from EVP_BytesToKey with MD5,
//! one iteration, and the first eight bytes of the IV as salt; the cipher is CBC with PKCS#7
//! padding. The one iteration is fixed by the format, so there is no work for a paste to choose.

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use md5::{Digest as _, Md5};
use zeroize::Zeroizing;

use crate::ImportError;

/// The ciphers of `DEK-Info` that Sealpost decrypts, all in CBC mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cipher {
    Aes128,
    Aes192,
    Aes256,
    DesEde3,
}

impl Cipher {
    fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_uppercase().as_str() {
            "AES-128-CBC" => Some(Self::Aes128),
            "AES-192-CBC" => Some(Self::Aes192),
            "AES-256-CBC" => Some(Self::Aes256),
            "DES-EDE3-CBC" => Some(Self::DesEde3),
            _ => None,
        }
    }

    fn key_length(self) -> usize {
        match self {
            Self::Aes128 => 16,
            Self::Aes192 | Self::DesEde3 => 24,
            Self::Aes256 => 32,
        }
    }

    fn iv_length(self) -> usize {
        match self {
            Self::Aes128 | Self::Aes192 | Self::Aes256 => 16,
            Self::DesEde3 => 8,
        }
    }
}

/// The number of hex digits of the IV that `cipher` takes, when Sealpost knows the cipher.
pub(crate) fn iv_hex_length(cipher: &str) -> Option<usize> {
    Cipher::from_name(cipher).map(|cipher| 2 * cipher.iv_length())
}

/// Whether `name` looks like a cipher name (`AES-256-CBC`, `CAMELLIA-128-CBC`): short words of
/// letters and digits joined by hyphens, which can be quoted in an error without quoting key
/// text that a garbled paste put in its place.
pub(crate) fn plausible_cipher_name(name: &str) -> bool {
    let name = name.trim();
    name.len() <= 32
        && name.split('-').all(|word| {
            (1..=15).contains(&word.len()) && word.bytes().all(|byte| byte.is_ascii_alphanumeric())
        })
}

pub(crate) fn decrypt(
    dek_info: &str,
    password: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let (name, iv_hex) = dek_info.split_once(',').ok_or_else(|| {
        ImportError::Corrupted("the DEK-Info line has no IV after the cipher name".to_owned())
    })?;
    let cipher = Cipher::from_name(name).ok_or_else(|| {
        ImportError::UnsupportedEncryption(match plausible_cipher_name(name) {
            true => name.trim().to_ascii_uppercase(),
            false => "a cipher whose name is not readable in the DEK-Info line".to_owned(),
        })
    })?;
    let iv = hex::decode(iv_hex.trim()).map_err(|_| {
        ImportError::Corrupted("the IV in the DEK-Info line is not hexadecimal".to_owned())
    })?;
    if iv.len() != cipher.iv_length() {
        return Err(ImportError::Corrupted(format!(
            "the IV in the DEK-Info line must be {} bytes for its cipher",
            cipher.iv_length()
        )));
    }
    let key = bytes_to_key(password, &iv[..8], cipher.key_length());
    let plain = match cipher {
        Cipher::Aes128 => cbc_decrypt::<aes::Aes128>(&key, &iv, ciphertext),
        Cipher::Aes192 => cbc_decrypt::<aes::Aes192>(&key, &iv, ciphertext),
        Cipher::Aes256 => cbc_decrypt::<aes::Aes256>(&key, &iv, ciphertext),
        Cipher::DesEde3 => cbc_decrypt::<des::TdesEde3>(&key, &iv, ciphertext),
    };
    plain.ok_or(ImportError::WrongPassword)
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>>
where
    C: aes::cipher::BlockCipher + aes::cipher::BlockDecryptMut + aes::cipher::KeyInit,
{
    let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
    decryptor
        .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
        .ok()
        .map(Zeroizing::new)
}

/// EVP_BytesToKey(MD5, count = 1): D_i = MD5(D_{i-1} || password || salt), concatenated.
fn bytes_to_key(password: &[u8], salt: &[u8], key_len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(key_len + 16));
    let mut previous: Option<Zeroizing<[u8; 16]>> = None;
    while key.len() < key_len {
        let mut hasher = Md5::new();
        if let Some(previous) = &previous {
            hasher.update(previous.as_ref());
        }
        hasher.update(password);
        hasher.update(salt);
        let digest: [u8; 16] = hasher.finalize().into();
        key.extend_from_slice(&digest);
        previous = Some(Zeroizing::new(digest));
    }
    key.truncate(key_len);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_cipher_is_named() {
        let error = decrypt("des-cbc,0001020304050607", b"pw", &[0; 16]).unwrap_err();
        assert_eq!(
            error,
            ImportError::UnsupportedEncryption("DES-CBC".to_owned())
        );
    }

    #[test]
    fn dek_info_is_never_quoted() {
        let garbled = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC,00";
        let error = decrypt(garbled, b"pw", &[0; 16]).unwrap_err().to_string();
        assert!(!error.contains("MIIEvQ"), "{error}");
        let no_iv = decrypt("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", b"pw", &[0; 16]).unwrap_err();
        assert!(!no_iv.to_string().contains("MIIEvQ"), "{no_iv}");
        let bad_hex = decrypt("AES-128-CBC,MIIEvQIBADANBgkqhkiG", b"pw", &[0; 16]).unwrap_err();
        assert!(!bad_hex.to_string().contains("MIIEvQ"), "{bad_hex}");
    }
}
