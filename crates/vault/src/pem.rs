//! Finding PEM blocks in pasted text: labels, RFC 1421 headers (which OpenSSL's legacy encrypted
//! keys carry and RFC 7468 parsers refuse), and the base64 body. Blocks are found by their
//! markers, not by lines, so that a key whose line breaks were lost in a copy and paste is still
//! found, and re-wrapped when that can be done without guessing (`flat`).

mod flat;

use base64::Engine as _;
use zeroize::Zeroizing;

use crate::ImportError;

/// One `-----BEGIN X-----` ... `-----END X-----` block.
pub(crate) struct PemBlock {
    pub label: String,
    pub headers: Vec<(String, String)>,
    pub der: Zeroizing<Vec<u8>>,
}

impl PemBlock {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

const BEGIN: &str = "-----BEGIN";
const END: &str = "-----END";
const DASHES: &str = "-----";

/// The longest label quoted back; every label in use ("ENCRYPTED PRIVATE KEY", "NEW CERTIFICATE
/// REQUEST", "SSH2 ENCRYPTED PRIVATE KEY") is shorter.
const MAX_LABEL: usize = 40;
/// The longest word of a label. Words are bounded so that a label can never carry a run of key
/// text long enough to matter (the body of a block whose marker lost its dashes would otherwise
/// read as the label's last word).
const MAX_LABEL_WORD: usize = 15;

/// Every block in `text`, in order. Text outside blocks (such as OpenSSL's "Bag Attributes") is
/// ignored, as OpenSSL does.
pub(crate) fn blocks(text: &str) -> Result<Vec<PemBlock>, ImportError> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let (label, after_begin) = marker(&rest[start + BEGIN.len()..])?;
        let (inner, after_end) = inner_text(label, after_begin)?;
        found.push(read_block(label, inner)?);
        rest = after_end;
    }
    Ok(found)
}

/// The label of a marker whose keyword (BEGIN or END) has been read, and the text after it.
fn marker(after_keyword: &str) -> Result<(&str, &str), ImportError> {
    let label_and_rest = after_keyword
        .strip_prefix(' ')
        .ok_or(ImportError::BadLabel)?;
    let length = label_and_rest.find(DASHES).ok_or(ImportError::BadLabel)?;
    let label = &label_and_rest[..length];
    if !valid_label(label) {
        return Err(ImportError::BadLabel);
    }
    Ok((label, &label_and_rest[length + DASHES.len()..]))
}

/// Labels as RFC 7468 section 3 allows them (printable characters but '-', words joined by one
/// space or hyphen), further held to the upper-case words every label in use is made of, so that
/// a label is safe to quote in an error.
fn valid_label(label: &str) -> bool {
    label.len() <= MAX_LABEL
        && label.split([' ', '-']).all(|word| {
            (1..=MAX_LABEL_WORD).contains(&word.len())
                && word
                    .bytes()
                    .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'.')
        })
}

/// The text between the BEGIN marker and its END marker, and the text after the END marker.
fn inner_text<'a>(label: &str, after_begin: &'a str) -> Result<(&'a str, &'a str), ImportError> {
    let truncated = || ImportError::Truncated(label.to_owned());
    let end = after_begin.find(END).ok_or_else(truncated)?;
    if after_begin[..end].contains(BEGIN) {
        return Err(truncated());
    }
    let (end_label, after_end) = marker(&after_begin[end + END.len()..])?;
    if end_label != label {
        return Err(ImportError::EndMismatch {
            begin: label.to_owned(),
            end: end_label.to_owned(),
        });
    }
    Ok((&after_begin[..end], after_end))
}

fn read_block(label: &str, inner: &str) -> Result<PemBlock, ImportError> {
    let laid_out_in_lines = inner.contains(['\n', '\r']);
    let (headers, body) = match laid_out_in_lines {
        true => read_lines(inner),
        false => flat::read(inner).ok_or_else(|| ImportError::NotInLines(label.to_owned()))?,
    };
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|_| match laid_out_in_lines {
            true => ImportError::Corrupted(format!("the base64 text of \"{label}\" is invalid")),
            false => ImportError::NotInLines(label.to_owned()),
        })?;
    Ok(PemBlock {
        label: label.to_owned(),
        headers,
        der: Zeroizing::new(der),
    })
}

type Headers = Vec<(String, String)>;

/// Headers and body of a block laid out in lines: a line with a colon is a header (base64 has
/// none), every other line is body, with any white space inside it dropped.
fn read_lines(inner: &str) -> (Headers, Zeroizing<String>) {
    let mut headers = Vec::new();
    let mut body = Zeroizing::new(String::with_capacity(inner.len()));
    for line in inner.lines().map(str::trim) {
        match line.split_once(':') {
            Some((name, value)) => headers.push((name.trim().to_owned(), value.trim().to_owned())),
            None => body.extend(line.chars().filter(|character| !character.is_whitespace())),
        }
    }
    (headers, body)
}

#[cfg(test)]
mod tests {
    use super::valid_label;

    #[test]
    fn labels() {
        for label in [
            "PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "X509 CRL",
            "X9.42 DH PARAMETERS",
            "SSH2 ENCRYPTED PRIVATE KEY",
        ] {
            assert!(valid_label(label), "{label}");
        }
        for label in [
            "",
            " PRIVATE KEY",
            "PRIVATE  KEY",
            "PRIVATE KEY ",
            "private key",
            "PRIVATE KEY MIIEVQIBADANBGKQHKIG",
            "PRIVATE KEY MIIEvQIBADANBgk",
            "A B C D E F G H I J K L M N O P Q R S T U",
        ] {
            assert!(!valid_label(label), "{label}");
        }
    }
}
