//! Finding PEM blocks in pasted text: labels, RFC 1421 headers (which OpenSSL's legacy encrypted
//! keys carry and RFC 7468 parsers refuse), and the base64 body.

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

/// Every block in `text`, in order. Text outside blocks (such as OpenSSL's "Bag Attributes") is
/// ignored, as OpenSSL does.
pub(crate) fn blocks(text: &str) -> Result<Vec<PemBlock>, ImportError> {
    let mut lines = text.lines().map(|line| line.trim());
    let mut found = Vec::new();
    while let Some(line) = lines.next() {
        let Some(label) = boundary(line, "BEGIN") else {
            continue;
        };
        let mut headers = Vec::new();
        let mut body = Zeroizing::new(String::new());
        let mut ended = false;
        for line in lines.by_ref() {
            if let Some(end_label) = boundary(line, "END") {
                if end_label != label {
                    return Err(ImportError::Corrupted(format!(
                        "the block \"{label}\" ends with \"{end_label}\""
                    )));
                }
                ended = true;
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            } else {
                body.push_str(line);
            }
        }
        if !ended {
            return Err(ImportError::Truncated(label.to_owned()));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| {
                ImportError::Corrupted(format!("the base64 text of \"{label}\" is invalid"))
            })?;
        found.push(PemBlock {
            label: label.to_owned(),
            headers,
            der: Zeroizing::new(der),
        });
    }
    Ok(found)
}

fn boundary<'a>(line: &'a str, kind: &str) -> Option<&'a str> {
    line.strip_prefix("-----")?
        .strip_prefix(kind)?
        .strip_prefix(' ')?
        .strip_suffix("-----")
}
