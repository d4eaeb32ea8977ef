//! The `DKIM-Signature` header field (RFC 6376 section 3.5): its tags as written, and their
//! meaning once checked. A field that cannot be used says why with a [`Cause`].

use base64::Engine as _;

use crate::canonicalize::Canonicalization;
use crate::result::Cause;
use crate::tags::{TagList, without_whitespace};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    RsaSha256,
    Ed25519Sha256,
}

impl Algorithm {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::RsaSha256 => "rsa-sha256",
            Self::Ed25519Sha256 => "ed25519-sha256",
        }
    }

    /// The key type (`k=`) a key for this algorithm must have.
    pub fn key_type(&self) -> &'static str {
        match self {
            Self::RsaSha256 => "rsa",
            Self::Ed25519Sha256 => "ed25519",
        }
    }
}

/// A checked signature, ready to verify.
#[derive(Debug, Clone)]
pub struct Signature {
    pub algorithm: Algorithm,
    pub signature: Vec<u8>,
    pub body_hash: Vec<u8>,
    pub header_canonicalization: Canonicalization,
    pub body_canonicalization: Canonicalization,
    pub domain: String,
    pub selector: String,
    /// Header names in `h=` order, as written.
    pub signed_headers: Vec<String>,
    pub identity: Option<String>,
    pub body_length: Option<u64>,
    pub timestamp: Option<i64>,
    pub expiration: Option<i64>,
}

/// Why a signature field could not be read, with the cause it is reported under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureError {
    pub cause: Cause,
    pub detail: String,
}

fn error(cause: Cause, detail: impl Into<String>) -> SignatureError {
    SignatureError {
        cause,
        detail: detail.into(),
    }
}

impl Signature {
    /// Reads the tags of a field value. The tag list is returned even when the signature is
    /// unusable, so a report can show what the signer wrote.
    pub fn parse(tags: &TagList) -> Result<Self, SignatureError> {
        let required = |name: &str| {
            tags.get(name).ok_or_else(|| {
                error(
                    Cause::SignatureSyntax,
                    format!("the required tag {name}= is missing"),
                )
            })
        };
        let version = required("v")?;
        if version != "1" {
            return Err(error(
                Cause::UnsupportedVersion,
                format!("v={version}; only v=1 is defined"),
            ));
        }
        let algorithm = match required("a")?.to_ascii_lowercase().as_str() {
            "rsa-sha256" => Algorithm::RsaSha256,
            "ed25519-sha256" => Algorithm::Ed25519Sha256,
            "rsa-sha1" => {
                return Err(error(
                    Cause::UnsupportedAlgorithm,
                    "a=rsa-sha1: SHA-1 signatures are no longer accepted (RFC 8301)",
                ));
            }
            other => {
                return Err(error(
                    Cause::UnsupportedAlgorithm,
                    format!("a={other} is not a known DKIM algorithm"),
                ));
            }
        };
        let signature = decode_base64("b", required("b")?)?;
        let body_hash = decode_base64("bh", required("bh")?)?;
        let domain = required("d")?.trim_end_matches('.').to_ascii_lowercase();
        let selector = required("s")?.to_ascii_lowercase();
        if domain.is_empty() || selector.is_empty() {
            return Err(error(Cause::SignatureSyntax, "d= or s= is empty"));
        }
        let signed_headers: Vec<String> =
            required("h")?.split(':').map(without_whitespace).collect();
        if signed_headers.iter().any(String::is_empty) {
            return Err(error(
                Cause::SignatureSyntax,
                "h= contains an empty header name",
            ));
        }
        if !signed_headers
            .iter()
            .any(|name| name.eq_ignore_ascii_case("from"))
        {
            return Err(error(
                Cause::FromNotSigned,
                format!("h={} does not include From", signed_headers.join(":")),
            ));
        }
        let (header_canonicalization, body_canonicalization) = match tags.get("c") {
            None => (Canonicalization::Simple, Canonicalization::Simple),
            Some(value) => {
                let (header, body) = value.split_once('/').unwrap_or((value, "simple"));
                match (
                    Canonicalization::parse(header),
                    Canonicalization::parse(body),
                ) {
                    (Some(header), Some(body)) => (header, body),
                    _ => {
                        return Err(error(
                            Cause::UnsupportedCanonicalization,
                            format!("c={value}; only simple and relaxed are defined"),
                        ));
                    }
                }
            }
        };
        if let Some(query) = tags.get("q")
            && !query
                .split(':')
                .any(|method| method.trim().eq_ignore_ascii_case("dns/txt"))
        {
            return Err(error(
                Cause::SignatureSyntax,
                format!("q={query}; only dns/txt is defined"),
            ));
        }
        let number = |name: &str| -> Result<Option<u64>, SignatureError> {
            tags.get(name)
                .map(|value| {
                    value.parse::<u64>().map_err(|_| {
                        error(
                            Cause::SignatureSyntax,
                            format!("{name}={value} is not a number"),
                        )
                    })
                })
                .transpose()
        };
        let body_length = number("l")?;
        let timestamp = number("t")?.map(clamp_i64);
        let expiration = number("x")?.map(clamp_i64);
        if let (Some(timestamp), Some(expiration)) = (timestamp, expiration)
            && expiration < timestamp
        {
            return Err(error(
                Cause::SignatureInconsistent,
                format!("x={expiration} is earlier than t={timestamp}"),
            ));
        }
        let identity = tags.get("i").map(str::to_owned);
        if let Some(identity) = &identity {
            let identity_domain = identity
                .rsplit_once('@')
                .map_or(identity.as_str(), |(_, domain)| domain)
                .trim_end_matches('.')
                .to_ascii_lowercase();
            let within =
                identity_domain == domain || identity_domain.ends_with(&format!(".{domain}"));
            if !within {
                return Err(error(
                    Cause::SignatureInconsistent,
                    format!("i={identity} is not within d={domain}"),
                ));
            }
        }
        Ok(Self {
            algorithm,
            signature,
            body_hash,
            header_canonicalization,
            body_canonicalization,
            domain,
            selector,
            signed_headers,
            identity,
            body_length,
            timestamp,
            expiration,
        })
    }

    /// The DNS name of the key record: `<selector>._domainkey.<domain>`.
    pub fn key_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }
}

fn clamp_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn decode_base64(name: &str, value: &str) -> Result<Vec<u8>, SignatureError> {
    let compact = without_whitespace(value);
    if compact.is_empty() {
        return Err(error(Cause::SignatureSyntax, format!("{name}= is empty")));
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| {
            error(
                Cause::SignatureSyntax,
                format!("{name}= is not valid base64"),
            )
        })
}

/// Removes the value of the `b=` tag from a raw `DKIM-Signature` field, keeping every other
/// byte, as the signature's own hash requires (RFC 6376 section 3.7).
pub fn strip_b_value(raw: &[u8]) -> Vec<u8> {
    let colon = raw
        .iter()
        .position(|&byte| byte == b':')
        .map_or(0, |at| at + 1);
    let mut output = raw[..colon].to_vec();
    let mut rest = &raw[colon..];
    let mut first = true;
    while !rest.is_empty() || first {
        first = false;
        let end = rest
            .iter()
            .position(|&byte| byte == b';')
            .unwrap_or(rest.len());
        let spec = &rest[..end];
        let equals = spec.iter().position(|&byte| byte == b'=');
        let is_b = equals.is_some_and(|equals| {
            spec[..equals]
                .iter()
                .filter(|byte| !byte.is_ascii_whitespace())
                .eq(b"b".iter())
        });
        match (is_b, equals) {
            (true, Some(equals)) => {
                output.extend_from_slice(&spec[..=equals]);
                // The trailing CRLF of the field belongs to the field, not to the value.
                if spec.ends_with(b"\r\n") && end == rest.len() {
                    output.extend_from_slice(b"\r\n");
                }
            }
            _ => output.extend_from_slice(spec),
        }
        if end < rest.len() {
            output.push(b';');
            rest = &rest[end + 1..];
        } else {
            rest = &[];
        }
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_the_b_value() {
        let raw = b"DKIM-Signature: v=1; bh=abc; b=xyz\r\n\tqq; d=a.example\r\n";
        assert_eq!(
            String::from_utf8_lossy(&strip_b_value(raw)),
            "DKIM-Signature: v=1; bh=abc; b=; d=a.example\r\n"
        );
        let last = b"DKIM-Signature: v=1; b=xyz\r\n\tqq\r\n";
        assert_eq!(
            String::from_utf8_lossy(&strip_b_value(last)),
            "DKIM-Signature: v=1; b=\r\n"
        );
    }
}
