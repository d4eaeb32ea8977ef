//! OpenSSL's legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: CIPHER,IV`), still what
//! `openssl rsa -aes256` writes with `-traditional`. The key comes from EVP_BytesToKey with MD5,
//! one iteration, and the first eight bytes of the IV as salt; the cipher is CBC with PKCS#7
//! padding.

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use md5::{Digest as _, Md5};
use zeroize::Zeroizing;

use crate::ImportError;

pub(crate) fn decrypt(
    dek_info: &str,
    password: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let (cipher, iv_hex) = dek_info.split_once(',').ok_or_else(|| {
        ImportError::Corrupted(format!("the DEK-Info line \"{dek_info}\" has no IV"))
    })?;
    let cipher = cipher.trim().to_ascii_uppercase();
    let iv = hex::decode(iv_hex.trim()).map_err(|_| {
        ImportError::Corrupted(format!(
            "the IV in the DEK-Info line \"{dek_info}\" is not hex"
        ))
    })?;
    let (key_len, iv_len) = match cipher.as_str() {
        "AES-128-CBC" => (16, 16),
        "AES-192-CBC" => (24, 16),
        "AES-256-CBC" => (32, 16),
        "DES-EDE3-CBC" => (24, 8),
        _ => return Err(ImportError::UnsupportedEncryption(cipher)),
    };
    if iv.len() != iv_len {
        return Err(ImportError::Corrupted(format!(
            "the IV of {cipher} must be {iv_len} bytes"
        )));
    }
    let key = bytes_to_key(password, &iv[..8], key_len);
    let plain = match cipher.as_str() {
        "AES-128-CBC" => cbc_decrypt::<aes::Aes128>(&key, &iv, ciphertext),
        "AES-192-CBC" => cbc_decrypt::<aes::Aes192>(&key, &iv, ciphertext),
        "AES-256-CBC" => cbc_decrypt::<aes::Aes256>(&key, &iv, ciphertext),
        _ => cbc_decrypt::<des::TdesEde3>(&key, &iv, ciphertext),
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
        let error = decrypt("DES-CBC,0001020304050607", b"pw", &[0; 16]).unwrap_err();
        assert_eq!(
            error,
            ImportError::UnsupportedEncryption("DES-CBC".to_owned())
        );
    }
}
