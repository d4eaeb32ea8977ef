//! The key record a signature names: what its lookup gave, which record is used, and whether
//! its key may verify the signature.

use std::collections::HashMap;
use std::sync::Arc;

use crate::record::{KeyRecord, PublicKey};
use crate::result::{Cause, Warning};
use crate::signature::Signature;

use super::SignatureReport;
use super::key_cache::{CachedRecord, KeyCache};

/// What a DNS lookup of a key record gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAnswer {
    /// The TXT records at the name, each one's strings joined.
    Records(Vec<String>),
    /// NXDOMAIN, or the name has no TXT record.
    NotFound,
    /// Timeout, SERVFAIL and the like.
    Temporary(String),
}

/// The key record a signature was checked against.
/// The record's texts are shared with the key cache: every report of a warm key would
/// otherwise copy the same few hundred bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyReport {
    pub name: String,
    pub record: Arc<str>,
    pub key_type: Arc<str>,
    pub bits: Option<u32>,
    pub testing: bool,
    pub fingerprint: Option<Arc<str>>,
}

/// Finds, parses (or takes from `cache`) and checks the key record for a signature, recording
/// it in the report.
pub(super) fn key_record(
    name: String,
    signature: &Signature<'_>,
    answers: &HashMap<String, KeyAnswer>,
    cache: &KeyCache,
    report: &mut SignatureReport,
) -> Result<Arc<CachedRecord>, (Cause, String)> {
    let records = published_records(&name, answers)?;
    if records.len() > 1 {
        report.warnings.push(Warning::new(
            "several_key_records",
            format!(
                "{name} has {} TXT records; receivers may pick any of them.",
                records.len()
            ),
        ));
    }
    let cached = first_valid_record(&name, records, cache, report)?;
    let Ok(record) = &cached.record else {
        unreachable!("first_valid_record returns parsed records only");
    };
    report.key = Some(KeyReport {
        name,
        record: Arc::clone(&cached.text),
        key_type: Arc::clone(&cached.key_type),
        bits: record.public_key.as_ref().map(PublicKey::bits),
        testing: record.testing,
        fingerprint: cached.fingerprint.clone(),
    });
    if record.testing {
        report.warnings.push(Warning::new(
            "key_testing_mode",
            "The key record has t=y (testing mode): receivers treat the mail as unsigned \
             even when the signature is valid. Remove t=y once signing works.",
        ));
    }
    check_record_fits(record, signature)?;
    Ok(cached)
}

/// The record's key, unless it was revoked or is too small to trust; a key that is merely
/// weak is used with a warning.
pub(super) fn usable_public_key<'record>(
    name: &str,
    record: &'record KeyRecord,
    warnings: &mut Vec<Warning>,
) -> Result<&'record PublicKey, (Cause, String)> {
    let public_key = record.public_key.as_ref().ok_or_else(|| {
        (
            Cause::KeyRevoked,
            format!("The record at {name} has an empty p=: the key was revoked."),
        )
    })?;
    if let PublicKey::Rsa { bits, .. } = public_key {
        if *bits < 1024 {
            return Err((
                Cause::KeyTooSmall,
                format!("The key has {bits} bits; at least 1024 are required (RFC 8301)."),
            ));
        }
        if *bits < 2048 {
            warnings.push(Warning::new(
                "key_weak",
                format!("The key has only {bits} bits; use 2048."),
            ));
        }
    }
    Ok(public_key)
}

/// A key with `t=s` allows `i=` in `d=` itself only, not in a subdomain.
pub(super) fn check_strict_identity(
    record: &KeyRecord,
    signature: &Signature<'_>,
) -> Result<(), (Cause, String)> {
    if record.strict_identity
        && let Some(identity) = &signature.identity
        && !identity
            .to_ascii_lowercase()
            .ends_with(&format!("@{}", signature.domain))
    {
        return Err((
            Cause::SignatureInconsistent,
            format!("The key has t=s, so i= must be in d= itself, not a subdomain (i={identity})."),
        ));
    }
    Ok(())
}

/// The TXT records the lookup of `name` gave, or why there are none to check.
fn published_records<'answers>(
    name: &str,
    answers: &'answers HashMap<String, KeyAnswer>,
) -> Result<&'answers [String], (Cause, String)> {
    match answers.get(name) {
        None => Err((
            Cause::DnsTemporary,
            format!("The key record {name} was not looked up."),
        )),
        Some(KeyAnswer::Temporary(error)) => Err((
            Cause::DnsTemporary,
            format!("Looking up {name} failed: {error}."),
        )),
        Some(KeyAnswer::NotFound) => Err((
            Cause::KeyNotFound,
            format!(
                "There is no TXT record at {name}: the selector or domain is wrong, or the \
                 record was never published."
            ),
        )),
        Some(KeyAnswer::Records(records)) => Ok(records),
    }
}

/// The first record that parses as a DKIM key record; when none does, the first record is
/// shown in the report with the reason it was refused.
fn first_valid_record(
    name: &str,
    records: &[String],
    cache: &KeyCache,
    report: &mut SignatureReport,
) -> Result<Arc<CachedRecord>, (Cause, String)> {
    let mut first_error = None;
    for text in records {
        let cached = cache.get(text);
        match &cached.record {
            Ok(_) => return Ok(cached),
            Err(error) => {
                let error = error.clone();
                first_error.get_or_insert((cached, error));
            }
        }
    }
    let (cached, error) = first_error.expect("records is not empty");
    report.key = Some(KeyReport {
        name: name.to_owned(),
        record: Arc::clone(&cached.text),
        key_type: Arc::clone(&cached.key_type),
        bits: None,
        testing: false,
        fingerprint: None,
    });
    Err((
        Cause::KeySyntax,
        format!("The record at {name} is not a valid DKIM key record: {error}."),
    ))
}

/// The key must match the signature's algorithm, allow SHA-256 and cover e-mail.
fn check_record_fits(record: &KeyRecord, signature: &Signature<'_>) -> Result<(), (Cause, String)> {
    let wanted = signature.algorithm.key_type();
    if record.key_type != wanted {
        return Err((
            Cause::KeyTypeMismatch,
            format!(
                "The signature uses {} but the key record has k={}.",
                signature.algorithm.as_str(),
                record.key_type
            ),
        ));
    }
    if !record.allows_hash("sha256") {
        return Err((
            Cause::HashNotAllowed,
            format!(
                "The key record allows h={} only, but the signature uses SHA-256.",
                record.hashes.join(":")
            ),
        ));
    }
    if !record.allows_email() {
        return Err((
            Cause::KeySyntax,
            format!(
                "The key record's s={} does not cover e-mail.",
                record.services.join(":")
            ),
        ));
    }
    Ok(())
}
