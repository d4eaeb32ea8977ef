//! The signer (SPEC S4.2): one `DKIM-Signature` per key in exactly the form Sealpost promises,
//! `v=1; a=rsa-sha256; q=dns/txt; c=relaxed/simple; t=; s=; d=; h=; bh=; b=`, over the headers
//! of [`SIGNED_HEADERS`] that the message has; a domain's Ed25519 key adds a second one with
//! `a=ed25519-sha256` (RFC 8463) below it.

use std::sync::Arc;

use base64::Engine as _;
use sealpost_domain::{DomainName, KeyAlgorithm, Selector};
use sealpost_vault::PrivateKey;

use crate::canonicalize::{self, Canonicalization};
use crate::message::{MessageError, ParsedMessage};

/// The headers Sealpost signs, in `h=` order (SPEC S4.2), then the one-click unsubscribe
/// headers (SPEC S10.4: receivers honour them only when signed). Headers the message lacks are
/// left out, as RFC 6376 section 5.4 asks.
pub const SIGNED_HEADERS: [&str; 9] = [
    "From",
    "To",
    "Message-ID",
    "Subject",
    "MIME-Version",
    "Content-Type",
    "Date",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

const HEADER_CANONICALIZATION: Canonicalization = Canonicalization::Relaxed;
const BODY_CANONICALIZATION: Canonicalization = Canonicalization::Simple;

/// A key ready to sign for one domain and selector. Cheap to clone; the key is shared.
#[derive(Debug, Clone)]
pub struct Signer {
    domain: DomainName,
    selector: Selector,
    key: Arc<PrivateKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the message cannot be read: {0}")]
    Message(#[from] MessageError),
    #[error("the message has no From header, which DKIM must sign")]
    NoFrom,
}

impl Signer {
    pub fn new(domain: DomainName, selector: Selector, key: Arc<PrivateKey>) -> Self {
        Self {
            domain,
            selector,
            key,
        }
    }

    pub fn domain(&self) -> &DomainName {
        &self.domain
    }

    pub fn selector(&self) -> &Selector {
        &self.selector
    }

    /// Returns the `DKIM-Signature` header field (ending in CRLF) for a CRLF message; the caller
    /// puts it in front of the message. `timestamp` is the `t=` value.
    pub fn signature_field(&self, message: &[u8], timestamp: i64) -> Result<Vec<u8>, SignError> {
        signature_fields(std::slice::from_ref(self), message, timestamp)
    }

    /// The message with its signature in front.
    pub fn sign(&self, message: &[u8], timestamp: i64) -> Result<Vec<u8>, SignError> {
        let field = self.signature_field(message, timestamp)?;
        let mut signed = Vec::with_capacity(field.len() + message.len());
        signed.extend_from_slice(&field);
        signed.extend_from_slice(message);
        Ok(signed)
    }

    /// [`Self::sign`] for a message the caller gives up, such as [`crate::Prepared::message`]:
    /// the signature goes in front within the message's own buffer, which `prepare` leaves room
    /// for, so a large message is moved once instead of copied into a second allocation.
    pub fn sign_owned(&self, message: Vec<u8>, timestamp: i64) -> Result<Vec<u8>, SignError> {
        sign_owned_with(std::slice::from_ref(self), message, timestamp)
    }

    /// The field for one signer, given what all signatures share: the canonical signed header
    /// fields, their names and the body hash.
    fn field(&self, shared: &Shared, timestamp: i64) -> Vec<u8> {
        let base64 = &base64::engine::general_purpose::STANDARD;
        let unsigned_field = format!(
            "DKIM-Signature: v=1; a={}; q=dns/txt; c={}/{}; t={timestamp};\r\n\
             \ts={}; d={};\r\n\th={};\r\n\tbh={};\r\n\tb=",
            self.key.algorithm().signature_algorithm(),
            HEADER_CANONICALIZATION,
            BODY_CANONICALIZATION,
            self.selector.as_str(),
            self.domain.as_str(),
            shared.names,
            shared.body_hash,
        );
        let mut data = Vec::with_capacity(shared.headers.len() + unsigned_field.len());
        data.extend_from_slice(&shared.headers);
        canonicalize::header(
            HEADER_CANONICALIZATION,
            unsigned_field.as_bytes(),
            &mut data,
        );
        // The signature's own field is hashed without its final CRLF (RFC 6376 section 3.7).
        data.truncate(data.len() - 2);
        let signature = match self.key.algorithm() {
            KeyAlgorithm::Rsa => self.key.sign(&data),
            // Ed25519 signs the SHA-256 digest of the data, not the data (RFC 8463 section 3).
            KeyAlgorithm::Ed25519 => self
                .key
                .sign(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &data).as_ref()),
        };

        let mut field = unsigned_field.into_bytes();
        let encoded = base64.encode(signature);
        for (index, chunk) in encoded.as_bytes().chunks(72).enumerate() {
            if index > 0 {
                field.extend_from_slice(b"\r\n\t ");
            }
            field.extend_from_slice(chunk);
        }
        field.extend_from_slice(b"\r\n");
        field
    }
}

/// What every signature of one message shares, computed once however many keys sign.
struct Shared {
    /// The canonical header fields named in `h=`, in that order.
    headers: Vec<u8>,
    /// The `h=` value.
    names: String,
    /// The `bh=` value.
    body_hash: String,
}

impl Shared {
    fn of(message: &[u8]) -> Result<Self, SignError> {
        let parsed = ParsedMessage::parse(message)?;
        if !parsed.has("From") {
            return Err(SignError::NoFrom);
        }
        let body_hash = canonicalize::body_hash(BODY_CANONICALIZATION, parsed.body, None).digest;
        let signed: Vec<&str> = SIGNED_HEADERS
            .into_iter()
            .filter(|name| parsed.has(name))
            .collect();
        let mut headers = Vec::with_capacity(1024);
        let mut used = Vec::with_capacity(signed.len());
        for name in &signed {
            if let Some(field) = select_field(&parsed, name, &mut used) {
                canonicalize::header(HEADER_CANONICALIZATION, field, &mut headers);
            }
        }
        Ok(Self {
            headers,
            names: signed.join(":"),
            body_hash: base64::engine::general_purpose::STANDARD.encode(body_hash.as_ref()),
        })
    }
}

/// The `DKIM-Signature` fields of every signer, in the order given (the first one topmost), for
/// a CRLF message: a domain with an RSA and an Ed25519 key signs with both (RFC 8463), RSA first.
/// The body is hashed once, and each signature covers only the message's own header fields, so
/// the signatures verify independently of each other.
pub fn signature_fields(
    signers: &[Signer],
    message: &[u8],
    timestamp: i64,
) -> Result<Vec<u8>, SignError> {
    let shared = Shared::of(message)?;
    let mut fields = Vec::with_capacity(signers.len() * 512);
    for signer in signers {
        fields.extend_from_slice(&signer.field(&shared, timestamp));
    }
    Ok(fields)
}

/// The message with every signer's signature in front, the first signer's topmost, within the
/// message's own buffer (see [`Signer::sign_owned`]).
pub fn sign_owned_with(
    signers: &[Signer],
    mut message: Vec<u8>,
    timestamp: i64,
) -> Result<Vec<u8>, SignError> {
    let fields = signature_fields(signers, &message, timestamp)?;
    let length = message.len();
    message.resize(length + fields.len(), 0);
    message.copy_within(..length, fields.len());
    message[..fields.len()].copy_from_slice(&fields);
    Ok(message)
}

/// Picks the field a name in `h=` refers to: the last instance not yet used, working upwards,
/// as RFC 6376 section 5.4.2 prescribes for names that appear more than once.
pub(crate) fn select_field<'a>(
    parsed: &ParsedMessage<'a>,
    name: &str,
    used: &mut Vec<usize>,
) -> Option<&'a [u8]> {
    let index = parsed
        .headers
        .iter()
        .enumerate()
        .rev()
        .find(|(index, field)| field.is(name) && !used.contains(index))
        .map(|(index, _)| index)?;
    used.push(index);
    Some(parsed.headers[index].raw)
}
