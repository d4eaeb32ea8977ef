//! Re-wrapping a PEM block whose line breaks were lost in a copy and paste: turned into spaces
//! or removed. Without headers the body is all base64, so that is unambiguous. OpenSSL's legacy
//! encrypted keys carry two headers; they are told from the body by their fixed form
//! (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: CIPHER,IV`) and the IV's length, which the cipher fixes.

use zeroize::Zeroizing;

use super::Headers;
use crate::legacy;

/// The headers and body of a block's inner text that has no line break, or `None` when where
/// the headers end and the body starts cannot be known without guessing.
pub(super) fn read(inner: &str) -> Option<(Headers, Zeroizing<String>)> {
    let text = inner.trim_start();
    if !text.contains(':') {
        return Some((Vec::new(), squeezed(text)));
    }
    let after_proc_type = header_value(text, "Proc-Type")?.strip_prefix("4,ENCRYPTED")?;
    let dek_info = header_value(after_proc_type, "DEK-Info")?;
    let (cipher, after_comma) = dek_info.split_once(',')?;
    if !legacy::plausible_cipher_name(cipher) {
        return None;
    }
    let iv_hex_length = match legacy::iv_hex_length(cipher) {
        Some(length) => length,
        // An IV of unknown length must end at white space: hex digits are base64 too.
        None => after_comma.find(char::is_whitespace)?,
    };
    let iv = after_comma.get(..iv_hex_length)?;
    let body = &after_comma[iv_hex_length..];
    if !iv.bytes().all(|byte| byte.is_ascii_hexdigit()) || body.contains(':') {
        return None;
    }
    let headers = vec![
        ("Proc-Type".to_owned(), "4,ENCRYPTED".to_owned()),
        ("DEK-Info".to_owned(), format!("{cipher},{iv}")),
    ];
    Some((headers, squeezed(body)))
}

/// The text after `name:` and any white space, when `text` starts with that header name.
fn header_value<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let text = text.trim_start();
    let head = text.get(..name.len())?;
    if !head.eq_ignore_ascii_case(name) {
        return None;
    }
    Some(text[name.len()..].strip_prefix(':')?.trim_start())
}

/// `text` without white space, in a buffer sized up front so that no copy is left unzeroized.
fn squeezed(text: &str) -> Zeroizing<String> {
    let mut body = Zeroizing::new(String::with_capacity(text.len()));
    body.extend(text.chars().filter(|character| !character.is_whitespace()));
    body
}

#[cfg(test)]
mod tests {
    use super::read;

    #[track_caller]
    fn check(inner: &str, expected: Option<(&[(&str, &str)], &str)>) {
        let read = read(inner);
        let read = read.as_ref().map(|(headers, body)| {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            (headers, body.as_str())
        });
        let expected = expected.map(|(headers, body)| (headers.to_vec(), body));
        assert_eq!(read, expected);
    }

    const AES_HEADERS: &[(&str, &str)] = &[
        ("Proc-Type", "4,ENCRYPTED"),
        ("DEK-Info", "AES-128-CBC,00112233445566778899AABBCCDDEEFF"),
    ];

    #[test]
    fn bodies_and_legacy_headers_are_told_apart() {
        check(" QUJD REVG ", Some((&[], "QUJDREVG")));
        check("QUJDREVG", Some((&[], "QUJDREVG")));
        let spaced = " Proc-Type: 4,ENCRYPTED DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF  QUJD REVG ";
        check(spaced, Some((AES_HEADERS, "QUJDREVG")));
        let joined =
            "Proc-Type: 4,ENCRYPTEDDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFFQUJDREVG";
        check(joined, Some((AES_HEADERS, "QUJDREVG")));
        let unknown_spaced = "Proc-Type: 4,ENCRYPTED DEK-Info: SEED-CBC,0011 QUJD";
        check(
            unknown_spaced,
            Some((
                &[("Proc-Type", "4,ENCRYPTED"), ("DEK-Info", "SEED-CBC,0011")],
                "QUJD",
            )),
        );
    }

    #[test]
    fn what_cannot_be_told_apart_is_refused() {
        check("Proc-Type: 4,ENCRYPTEDDEK-Info: SEED-CBC,0011QUJD", None);
        check("Proc-Type: 4,ENCRYPTED QUJD", None);
        check("Comment: hello QUJD", None);
        check(
            "Proc-Type: 4,ENCRYPTED DEK-Info: AES-128-CBC,0011 QUJD",
            None,
        );
        check(
            "Proc-Type: 4,ENCRYPTED DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF X: Y",
            None,
        );
    }
}
