//! Verification of every `DKIM-Signature` of a message (RFC 6376 section 6) with one result and
//! one precise cause per signature, plus warnings, the way a mail client's DKIM verifier with
//! detailed errors reports them (SPEC S5.5). Sans-IO: [`Verifier::key_names`] says which key
//! records are needed, the caller looks them up, and [`Verifier::finish`] concludes.

use std::borrow::Cow;
use std::collections::HashMap;

use aws_lc_rs::digest::{Context, Digest, SHA256};
use aws_lc_rs::signature::ParsedPublicKey;
use sealpost_domain::Timestamp;

use crate::canonicalize;
use crate::message::{MessageError, ParsedMessage};
use crate::record::PublicKey;
use crate::result::{Cause, DkimResult, Warning};
use crate::sign::select_field;
use crate::signature::{Signature, strip_b_value};
use crate::tags::TagList;

mod alignment;
mod key;
mod key_cache;
mod signature_tags;

use alignment::FromDomain;
pub use key::{KeyAnswer, KeyReport};
use key::{check_strict_identity, key_record, usable_public_key};
pub use key_cache::KeyCache;
pub use signature_tags::SignatureTags;

/// How far a signature's `t=` may lie in the future before it is refused: clocks differ.
const CLOCK_SKEW_SECONDS: i64 = 300;

/// The conclusion about one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureReport {
    /// The tags as the signer wrote them (except `b=` and `bh=`).
    pub tags: SignatureTags,
    pub domain: Option<String>,
    pub selector: Option<String>,
    pub algorithm: Option<String>,
    pub key: Option<KeyReport>,
    pub result: DkimResult,
    pub cause: Cause,
    /// The specifics behind the cause; a verified signature has the cause's own sentence,
    /// borrowed rather than copied into every report.
    pub detail: Cow<'static, str>,
    pub warnings: Vec<Warning>,
}

impl SignatureReport {
    pub fn tag(&self, name: &str) -> Option<&str> {
        self.tags.get(name)
    }
}

/// The conclusion about a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub signatures: Vec<SignatureReport>,
}

impl Report {
    /// `none` without signatures, `pass` when every signature passes, otherwise the result of
    /// the first signature that did not pass.
    pub fn result(&self) -> DkimResult {
        if self.signatures.is_empty() {
            return DkimResult::None;
        }
        self.signatures
            .iter()
            .map(|signature| signature.result)
            .find(|result| *result != DkimResult::Pass)
            .unwrap_or(DkimResult::Pass)
    }

    /// A sentence for the overall result, with its nouns in the right number.
    pub fn summary(&self) -> String {
        let total = self.signatures.len();
        match (self.result(), total) {
            (DkimResult::None, _) => "The message has no DKIM signature.".to_owned(),
            (DkimResult::Pass, 1) => "The DKIM signature is valid.".to_owned(),
            (DkimResult::Pass, _) => format!("All {total} DKIM signatures are valid."),
            (_, 1) => "The DKIM signature did not verify.".to_owned(),
            _ => {
                let failed = self
                    .signatures
                    .iter()
                    .filter(|signature| signature.result != DkimResult::Pass)
                    .count();
                format!("{failed} of {total} DKIM signatures did not verify.")
            }
        }
    }
}

/// One signature field, read as far as it could be.
#[derive(Debug)]
struct Entry<'a> {
    raw: &'a [u8],
    tags: SignatureTags,
    signature: Result<Signature<'a>, (Cause, String)>,
}

/// The tags of a signature field as a report shows them (all but `b=` and `bh=`), and the
/// signature they make, or why they make none.
fn read_signature(value: &str) -> (SignatureTags, Result<Signature<'_>, (Cause, String)>) {
    match TagList::parse(value) {
        Err(error) => (
            SignatureTags::default(),
            Err((Cause::SignatureSyntax, error.to_string())),
        ),
        Ok(tags) => {
            let signature = Signature::parse(&tags).map_err(|error| (error.cause, error.detail));
            let is_shown = |name: &str| name != "b" && name != "bh";
            let shown = tags.tags.iter().filter(|(name, _)| is_shown(name));
            let length = shown.clone().map(|(name, value)| name.len() + value.len());
            let mut report_tags = SignatureTags::with_capacity(shown.clone().count(), length.sum());
            for (name, value) in shown {
                report_tags.push(name, value);
            }
            (report_tags, signature)
        }
    }
}

/// A message whose signatures have been read and await their keys.
#[derive(Debug)]
pub struct Verifier<'a> {
    message: ParsedMessage<'a>,
    entries: Vec<Entry<'a>>,
}

impl<'a> Verifier<'a> {
    /// Reads the signatures of a message in CRLF form.
    pub fn new(message: &'a [u8]) -> Result<Self, MessageError> {
        let message = ParsedMessage::parse(message)?;
        // Exactly as many entries as there are fields: collecting from the filtered fields
        // would start with room for four, over a kilobyte, which the allocator serves from
        // its slow path (and then tidies its free lists) rather than its per-thread cache.
        let mut entries = Vec::with_capacity(message.fields("DKIM-Signature").count());
        let fields =
            message
                .fields("DKIM-Signature")
                .map(|field| match std::str::from_utf8(field.value) {
                    Ok(value) => {
                        let (tags, signature) = read_signature(value);
                        Entry {
                            raw: field.raw,
                            tags,
                            signature,
                        }
                    }
                    // A field that is not UTF-8 is read from a repaired copy, which the signature
                    // cannot borrow.
                    Err(_) => {
                        let value = String::from_utf8_lossy(field.value);
                        let (tags, signature) = read_signature(&value);
                        Entry {
                            raw: field.raw,
                            tags,
                            signature: signature.map(Signature::into_owned),
                        }
                    }
                });
        entries.extend(fields);
        Ok(Self { message, entries })
    }

    /// The key records to look up, each once.
    pub fn key_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for entry in &self.entries {
            if let Ok(signature) = &entry.signature {
                let name = signature.key_name();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// Concludes with the answers to [`Self::key_names`]; a name without an answer counts as a
    /// temporary DNS failure.
    pub fn finish(self, answers: &HashMap<String, KeyAnswer>, now: Timestamp) -> Report {
        self.finish_with_cache(answers, now, &KeyCache::with_capacity(1))
    }

    /// [`Self::finish`], with key records parsed once across verifications in `cache`.
    pub fn finish_with_cache(
        mut self,
        answers: &HashMap<String, KeyAnswer>,
        now: Timestamp,
        cache: &KeyCache,
    ) -> Report {
        // Each entry's tags move into its report rather than being copied there.
        let entries = std::mem::take(&mut self.entries);
        let mut from_domain = FromDomain::new(&self.message);
        let signatures = entries
            .into_iter()
            .map(|entry| self.conclude(entry, answers, cache, now, &mut from_domain))
            .collect();
        Report { signatures }
    }

    fn conclude(
        &self,
        entry: Entry<'_>,
        answers: &HashMap<String, KeyAnswer>,
        cache: &KeyCache,
        now: Timestamp,
        from_domain: &mut FromDomain<'_, '_>,
    ) -> SignatureReport {
        let tag = |name: &str| entry.tags.get(name).map(str::to_ascii_lowercase);
        let mut report = SignatureReport {
            tags: SignatureTags::default(),
            domain: tag("d"),
            selector: tag("s"),
            algorithm: tag("a"),
            key: None,
            result: DkimResult::PermError,
            cause: Cause::SignatureSyntax,
            detail: Cow::Borrowed(""),
            warnings: Vec::new(),
        };
        report.tags = entry.tags;
        let outcome = match entry.signature {
            Err(failure) => Err(failure),
            Ok(signature) => {
                report.warnings = self.warnings(&signature, from_domain);
                self.check(entry.raw, &signature, answers, cache, now, &mut report)
            }
        };
        let (cause, detail) = match outcome {
            Ok(()) => (Cause::Verified, Cow::Borrowed(Cause::Verified.sentence())),
            Err((cause, detail)) => (cause, Cow::Owned(detail)),
        };
        report.result = cause.result();
        report.cause = cause;
        report.detail = detail;
        report
    }

    /// Checks one readable signature against its key and the message, in the order a reader
    /// would: its dates, its key record, the key itself, the body hash, then the signature.
    fn check(
        &self,
        raw: &[u8],
        signature: &Signature<'_>,
        answers: &HashMap<String, KeyAnswer>,
        cache: &KeyCache,
        now: Timestamp,
        report: &mut SignatureReport,
    ) -> Result<(), (Cause, String)> {
        check_validity_period(signature, now)?;
        let cached = key_record(signature.key_name(), signature, answers, cache, report)?;
        let Ok(record) = &cached.record else {
            unreachable!("key_record returns parsed records only");
        };
        // The key's name moved into the report, and is read from there.
        let SignatureReport { key, warnings, .. } = report;
        let name = &key
            .as_ref()
            .expect("key_record reports the key it returns")
            .name;
        let public_key = usable_public_key(name, record, warnings)?;
        check_strict_identity(record, signature)?;
        self.check_body_hash(signature, warnings)?;
        let verifying_key = cached.verifying_key.as_ref();
        self.check_header_signature(raw, signature, public_key, verifying_key, name)
    }

    /// Compares the hash of the canonical body, or of its first `l=` bytes, with `bh=`.
    fn check_body_hash(
        &self,
        signature: &Signature<'_>,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), (Cause, String)> {
        // One pass: the hash stops at l= while the length of the whole canonical body, which
        // l= is checked against, is still counted.
        let limit = signature
            .body_length
            .map(|length| usize::try_from(length).unwrap_or(usize::MAX));
        let body =
            canonicalize::body_hash(signature.body_canonicalization, self.message.body, limit);
        check_body_length(body.length, signature.body_length, warnings)?;
        if body.digest.as_ref() != signature.body_hash.as_slice() {
            return Err((
                Cause::BodyModified,
                format!(
                    "The body hash computed over the {} canonical body differs from bh=: the \
                     message body was modified after signing (by a mailing list footer, a \
                     virus scanner or a transfer-encoding change, for example).",
                    signature.body_canonicalization
                ),
            ));
        }
        Ok(())
    }

    /// Verifies `b=` over the signed headers with the published key; the body is known to be
    /// intact by now, so a failure points at the headers or the key.
    fn check_header_signature(
        &self,
        raw: &[u8],
        signature: &Signature<'_>,
        public_key: &PublicKey,
        verifying_key: Option<&ParsedPublicKey>,
        name: &str,
    ) -> Result<(), (Cause, String)> {
        let digest = self.signed_digest(raw, signature);
        // A key the crypto library refused verifies nothing, as a wrong key would not.
        let verified = verifying_key.is_some_and(|key| match public_key {
            // RSA verifies the digest it would otherwise compute itself from the same bytes.
            PublicKey::Rsa { .. } => key.verify_digest_sig(&digest, &signature.signature).is_ok(),
            // Ed25519 signs the digest itself as its message (RFC 8463 section 3).
            PublicKey::Ed25519 { .. } => key
                .verify_sig(digest.as_ref(), &signature.signature)
                .is_ok(),
        });
        if !verified {
            return Err((
                Cause::SignatureMismatch,
                format!(
                    "The body is intact but the signature over the headers ({}) does not \
                     verify with the key at {name}: a signed header was changed after signing, \
                     or the published key is not the one that signed.",
                    signature.signed_headers.join(":")
                ),
            ));
        }
        Ok(())
    }

    /// SHA-256 over the bytes the signature covers: the signed headers and the signature
    /// field without its `b=` value, canonicalised, the last without its final CRLF. Each field
    /// is hashed as it is canonicalised, through one buffer, rather than gathered first.
    fn signed_digest(&self, raw: &[u8], signature: &Signature<'_>) -> Digest {
        let canonicalization = signature.header_canonicalization;
        let mut context = Context::new(&SHA256);
        let mut canonical = Vec::with_capacity(raw.len() + 2);
        let mut used = Vec::with_capacity(signature.signed_headers.len());
        for name in &signature.signed_headers {
            if let Some(field) = select_field(&self.message, name, &mut used) {
                canonical.clear();
                canonicalize::header(canonicalization, field, &mut canonical);
                context.update(&canonical);
            }
        }
        canonical.clear();
        canonicalize::header(canonicalization, raw, &mut canonical);
        strip_b_value(&mut canonical);
        context.update(canonical.strip_suffix(b"\r\n").unwrap_or(&canonical));
        context.finish()
    }

    /// Warnings that need only the message and the signature.
    fn warnings(
        &self,
        signature: &Signature<'_>,
        from_domain: &mut FromDomain<'_, '_>,
    ) -> Vec<Warning> {
        let mut warnings = Vec::new();
        for (index, name) in signature.signed_headers.iter().enumerate() {
            let seen = signature.signed_headers[..index]
                .iter()
                .any(|earlier| earlier.eq_ignore_ascii_case(name));
            if seen {
                continue;
            }
            let signed = signature
                .signed_headers
                .iter()
                .filter(|other| other.eq_ignore_ascii_case(name))
                .count();
            let present = self.message.fields(name).count();
            if present > signed {
                warnings.push(Warning::new(
                    "header_added",
                    format!(
                        "{name} occurs {present} times but is signed {}: an instance was added \
                         after signing and is not covered by the signature.",
                        // A name listed in h= is signed at least once.
                        if signed == 1 {
                            "once".to_owned()
                        } else {
                            format!("{signed} times")
                        }
                    ),
                ));
            }
        }
        if let Some(from_domain) = from_domain.misaligned(&signature.domain) {
            warnings.push(Warning::new(
                "not_aligned",
                format!(
                    "d={} is not aligned with the From domain {from_domain}: the signature \
                     does not count for DMARC.",
                    signature.domain
                ),
            ));
        }
        warnings
    }
}

/// A signature past its `x=` has expired; one dated further ahead than clocks differ was made
/// by a signer whose clock is wrong.
fn check_validity_period(signature: &Signature<'_>, now: Timestamp) -> Result<(), (Cause, String)> {
    if let Some(expiration) = signature.expiration
        && expiration < now.0
    {
        return Err((
            Cause::SignatureExpired,
            format!(
                "The signature expired {} ago (x={expiration}).",
                duration(now.0 - expiration)
            ),
        ));
    }
    if let Some(timestamp) = signature.timestamp
        && timestamp > now.0 + CLOCK_SKEW_SECONDS
    {
        return Err((
            Cause::TimestampInFuture,
            format!(
                "The signature is dated {} in the future (t={timestamp}); the signer's clock \
                 is wrong.",
                duration(timestamp - now.0)
            ),
        ));
    }
    Ok(())
}

/// `l=`, when present, may not exceed the canonical body; a warning says when it leaves bytes
/// unsigned.
fn check_body_length(
    canonical_length: usize,
    body_length: Option<u64>,
    warnings: &mut Vec<Warning>,
) -> Result<(), (Cause, String)> {
    let Some(length) = body_length else {
        return Ok(());
    };
    let length = usize::try_from(length).unwrap_or(usize::MAX);
    if length > canonical_length {
        return Err((
            Cause::SignatureInconsistent,
            format!("l={length} is longer than the canonical body ({canonical_length} bytes)."),
        ));
    }
    if length < canonical_length {
        warnings.push(Warning::new(
            "body_length_limit",
            format!(
                "Only the first {length} of {canonical_length} body bytes are signed (l=); the \
                 rest could have been added by anyone."
            ),
        ));
    }
    Ok(())
}

fn duration(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}
