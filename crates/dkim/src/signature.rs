//! The `DKIM-Signature` header field (RFC 6376 section 3.5): its tags as written, and their
//! meaning once checked. A field that cannot be used says why with a [`Cause`].

use std::borrow::Cow;

use base64::Engine as _;

use crate::canonicalize::Canonicalization;
use crate::result::Cause;
use crate::scan;
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

/// A checked signature, ready to verify. Its names borrow the field they were read from unless
/// reading changed them (lowercasing, removing folding white space): a signature is read on
/// every verification, and copying each name cost more than the checks that use them.
#[derive(Debug, Clone)]
pub struct Signature<'a> {
    pub algorithm: Algorithm,
    pub signature: Vec<u8>,
    pub body_hash: Vec<u8>,
    pub header_canonicalization: Canonicalization,
    pub body_canonicalization: Canonicalization,
    pub domain: Cow<'a, str>,
    pub selector: Cow<'a, str>,
    /// Header names in `h=` order, as written.
    pub signed_headers: Vec<Cow<'a, str>>,
    pub identity: Option<Cow<'a, str>>,
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

impl<'a> Signature<'a> {
    /// Reads the tags of a field value.
    ///
    /// The tags are checked in a fixed order, so a field with several faults always reports the
    /// same one first.
    pub fn parse(tags: &TagList<'a>) -> Result<Self, SignatureError> {
        check_version(required(tags, "v")?)?;
        let algorithm = parse_algorithm(required(tags, "a")?)?;
        let signature = decode_base64("b", required(tags, "b")?)?;
        let body_hash = decode_base64("bh", required(tags, "bh")?)?;
        let (domain, selector) = parse_domain_and_selector(tags)?;
        let signed_headers = parse_signed_headers(required(tags, "h")?)?;
        let (header_canonicalization, body_canonicalization) =
            parse_canonicalization(tags.get("c"))?;
        check_query_method(tags.get("q"))?;
        let body_length = parse_number(tags, "l")?;
        let (timestamp, expiration) = parse_validity_period(tags)?;
        let identity = parse_identity(tags.get("i"), &domain)?;
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

    /// The DNS name of the key record: `<selector>._domainkey.<domain>`, joined directly
    /// rather than through the formatting machinery (it is built on every verification).
    pub fn key_name(&self) -> String {
        const INFIX: &str = "._domainkey.";
        let mut name = String::with_capacity(self.selector.len() + INFIX.len() + self.domain.len());
        name.push_str(&self.selector);
        name.push_str(INFIX);
        name.push_str(&self.domain);
        name
    }

    /// The same signature owning all it holds, for a field that had to be copied to be read.
    pub fn into_owned(self) -> Signature<'static> {
        let owned = |text: Cow<'_, str>| Cow::Owned(text.into_owned());
        Signature {
            algorithm: self.algorithm,
            signature: self.signature,
            body_hash: self.body_hash,
            header_canonicalization: self.header_canonicalization,
            body_canonicalization: self.body_canonicalization,
            domain: owned(self.domain),
            selector: owned(self.selector),
            signed_headers: self.signed_headers.into_iter().map(owned).collect(),
            identity: self.identity.map(owned),
            body_length: self.body_length,
            timestamp: self.timestamp,
            expiration: self.expiration,
        }
    }
}

/// `text` in lowercase, borrowed when it is lowercase already (as signers write names).
fn lowercase(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|byte| byte.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

fn required<'a>(tags: &TagList<'a>, name: &str) -> Result<&'a str, SignatureError> {
    tags.get(name).ok_or_else(|| {
        error(
            Cause::SignatureSyntax,
            format!("the required tag {name}= is missing"),
        )
    })
}

fn check_version(version: &str) -> Result<(), SignatureError> {
    if version != "1" {
        return Err(error(
            Cause::UnsupportedVersion,
            format!("v={version}; only v=1 is defined"),
        ));
    }
    Ok(())
}

fn parse_algorithm(value: &str) -> Result<Algorithm, SignatureError> {
    match &*lowercase(value) {
        "rsa-sha256" => Ok(Algorithm::RsaSha256),
        "ed25519-sha256" => Ok(Algorithm::Ed25519Sha256),
        "rsa-sha1" => Err(error(
            Cause::UnsupportedAlgorithm,
            "a=rsa-sha1: SHA-1 signatures are no longer accepted (RFC 8301)",
        )),
        other => Err(error(
            Cause::UnsupportedAlgorithm,
            format!("a={other} is not a known DKIM algorithm"),
        )),
    }
}

/// `d=` and `s=`, lowercased, the domain without a trailing dot; neither may be empty.
fn parse_domain_and_selector<'a>(
    tags: &TagList<'a>,
) -> Result<(Cow<'a, str>, Cow<'a, str>), SignatureError> {
    let domain = lowercase(required(tags, "d")?.trim_end_matches('.'));
    let selector = lowercase(required(tags, "s")?);
    if domain.is_empty() || selector.is_empty() {
        return Err(error(Cause::SignatureSyntax, "d= or s= is empty"));
    }
    Ok((domain, selector))
}

/// The `h=` list, which must name From: a signature that does not cover From says nothing
/// about who sent the message.
fn parse_signed_headers(value: &str) -> Result<Vec<Cow<'_, str>>, SignatureError> {
    let signed_headers: Vec<Cow<'_, str>> = value.split(':').map(without_whitespace).collect();
    if signed_headers.iter().any(|name| name.is_empty()) {
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
    Ok(signed_headers)
}

/// `c=header/body`; a missing tag is `simple/simple` and a missing body part `simple`.
fn parse_canonicalization(
    value: Option<&str>,
) -> Result<(Canonicalization, Canonicalization), SignatureError> {
    let Some(value) = value else {
        return Ok((Canonicalization::Simple, Canonicalization::Simple));
    };
    let (header, body) = value.split_once('/').unwrap_or((value, "simple"));
    match (
        Canonicalization::parse(header),
        Canonicalization::parse(body),
    ) {
        (Some(header), Some(body)) => Ok((header, body)),
        _ => Err(error(
            Cause::UnsupportedCanonicalization,
            format!("c={value}; only simple and relaxed are defined"),
        )),
    }
}

/// `q=`, when present, must offer `dns/txt`, the only query method defined.
fn check_query_method(value: Option<&str>) -> Result<(), SignatureError> {
    if let Some(query) = value
        && !query
            .split(':')
            .any(|method| method.trim().eq_ignore_ascii_case("dns/txt"))
    {
        return Err(error(
            Cause::SignatureSyntax,
            format!("q={query}; only dns/txt is defined"),
        ));
    }
    Ok(())
}

fn parse_number(tags: &TagList<'_>, name: &str) -> Result<Option<u64>, SignatureError> {
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
}

/// `t=` and `x=`; a signature cannot expire before it was made.
fn parse_validity_period(tags: &TagList<'_>) -> Result<(Option<i64>, Option<i64>), SignatureError> {
    let timestamp = parse_number(tags, "t")?.map(clamp_i64);
    let expiration = parse_number(tags, "x")?.map(clamp_i64);
    if let (Some(timestamp), Some(expiration)) = (timestamp, expiration)
        && expiration < timestamp
    {
        return Err(error(
            Cause::SignatureInconsistent,
            format!("x={expiration} is earlier than t={timestamp}"),
        ));
    }
    Ok((timestamp, expiration))
}

/// `i=`, whose domain must be `d=` (given in lowercase) or a subdomain of it.
fn parse_identity<'a>(
    value: Option<&'a str>,
    domain: &str,
) -> Result<Option<Cow<'a, str>>, SignatureError> {
    let Some(identity) = value else {
        return Ok(None);
    };
    let identity_domain = identity
        .rsplit_once('@')
        .map_or(identity, |(_, domain)| domain)
        .trim_end_matches('.')
        .as_bytes();
    let suffix = domain.as_bytes();
    let within = identity_domain.eq_ignore_ascii_case(suffix)
        || (identity_domain.len() > suffix.len()
            && identity_domain[identity_domain.len() - suffix.len() - 1] == b'.'
            && identity_domain[identity_domain.len() - suffix.len()..]
                .eq_ignore_ascii_case(suffix));
    if !within {
        return Err(error(
            Cause::SignatureInconsistent,
            format!("i={identity} is not within d={domain}"),
        ));
    }
    Ok(Some(Cow::Borrowed(identity)))
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

/// Removes the value of the `b=` tag from a `DKIM-Signature` field in place, keeping every
/// other byte, as the signature's own hash requires (RFC 6376 section 3.7). The field may be
/// canonicalised already: canonicalisation moves no `;` or `=` and only white space around
/// them, so stripping before or after gives the same bytes, and after needs no second copy.
pub fn strip_b_value(field: &mut Vec<u8>) {
    let mut start = field
        .iter()
        .position(|&byte| byte == b':')
        .map_or(0, |at| at + 1);
    loop {
        let rest = &field[start..];
        // A block-wise search: the b= value runs to hundreds of bytes.
        let end = scan::byte(rest, b';').unwrap_or(rest.len());
        let last = end == rest.len();
        let spec = &rest[..end];
        let is_b = |equals: &usize| {
            spec[..*equals]
                .iter()
                .filter(|byte| !byte.is_ascii_whitespace())
                .eq(b"b".iter())
        };
        let value = spec
            .iter()
            .position(|&byte| byte == b'=')
            .filter(is_b)
            .map(|equals| {
                // The trailing CRLF of the field belongs to the field, not to the value.
                let crlf = if last && spec.ends_with(b"\r\n") {
                    2
                } else {
                    0
                };
                start + equals + 1..start + end - crlf
            });
        let mut next = start + end + 1;
        if let Some(value) = value {
            next -= value.len();
            field.drain(value);
        }
        if last {
            return;
        }
        start = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn stripped(field: &[u8]) -> String {
        let mut field = field.to_vec();
        strip_b_value(&mut field);
        String::from_utf8(field).unwrap()
    }

    #[test]
    fn strips_only_the_b_value() {
        assert_eq!(
            stripped(b"DKIM-Signature: v=1; bh=abc; b=xyz\r\n\tqq; d=a.example\r\n"),
            "DKIM-Signature: v=1; bh=abc; b=; d=a.example\r\n"
        );
        assert_eq!(
            stripped(b"DKIM-Signature: v=1; b=xyz\r\n\tqq\r\n"),
            "DKIM-Signature: v=1; b=\r\n"
        );
        assert_eq!(stripped(b"DKIM-Signature: b=xyz"), "DKIM-Signature: b=");
        assert_eq!(
            stripped(b"DKIM-Signature: b =x; b=y;"),
            "DKIM-Signature: b =; b=;"
        );
        assert_eq!(stripped(b"DKIM-Signature:"), "DKIM-Signature:");
    }

    /// Stripping the canonical form gives what canonicalising the stripped field gives.
    #[test]
    fn stripping_and_canonicalising_commute() {
        use crate::canonicalize::{Canonicalization, header};
        let fields: [&[u8]; 5] = [
            b"DKIM-Signature: v=1; b=xy\r\n\tz ;\r\n d=a\r\n",
            b"DKIM-Signature: v=1;\r\n b = xyz  \r\n",
            b"DKIM-Signature: b=xyz",
            b"DKIM-Signature : a=1; b\r\n =x\r\n\t; c=2 \r\n",
            b"DKIM-Signature: bb=1; b=;",
        ];
        for raw in fields {
            for canonicalization in [Canonicalization::Simple, Canonicalization::Relaxed] {
                let mut before = raw.to_vec();
                strip_b_value(&mut before);
                let mut expected = Vec::new();
                header(canonicalization, &before, &mut expected);
                let mut after = Vec::new();
                header(canonicalization, raw, &mut after);
                strip_b_value(&mut after);
                assert_eq!(
                    String::from_utf8_lossy(&after),
                    String::from_utf8_lossy(&expected),
                    "{canonicalization}"
                );
            }
        }
    }
}
