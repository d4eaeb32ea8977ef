//! Every verification cause and warning, produced on purpose: one case each, the message signed
//! by Sealpost's signer (or a hand-written signature field where the cause lies in the tags
//! themselves), the key records given as DNS answers.

use base64::Engine as _;
use pkcs1::der::Encode as _;
use sealpost_dkim::{Cause, DkimResult, KeyAnswer, Report};

use crate::support::{MESSAGE, NOW, SIGNED_AT, crlf, fixture_key, record_for, signer, verify_with};

const KEY_NAME: &str = "workplace._domainkey.client.example";

fn signed(message: &str) -> Vec<u8> {
    signer("client.example", "workplace")
        .sign(&crlf(message), SIGNED_AT)
        .unwrap()
}

fn good_record() -> KeyAnswer {
    KeyAnswer::Records(vec![record_for(&fixture_key())])
}

fn record(text: &str) -> KeyAnswer {
    KeyAnswer::Records(vec![text.to_owned()])
}

/// A record whose RSA modulus has `bits` bits (the key cannot sign; size checks come first).
fn rsa_record_of_size(bits: usize) -> String {
    let mut modulus = vec![0xA5u8; bits / 8];
    modulus[0] = 0xC1;
    let key = pkcs1::RsaPublicKey {
        modulus: pkcs1::UintRef::new(&modulus).unwrap(),
        public_exponent: pkcs1::UintRef::new(&[1, 0, 1]).unwrap(),
    };
    let der = key.to_der().unwrap();
    format!(
        "v=DKIM1; k=rsa; p={}",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

/// A syntactically valid signature field with the given tags, in front of [`MESSAGE`].
fn with_field(tags: &str) -> Vec<u8> {
    crlf(&format!("DKIM-Signature: {tags}\n{MESSAGE}"))
}

const BASE_TAGS: &str = "v=1; a=rsa-sha256; c=relaxed/simple; d=client.example; s=workplace; \
                         h=From:Subject; bh=AAAA; b=AAAA";

#[track_caller]
fn check(report: &Report, result: DkimResult, cause: Cause, warnings: &[&str]) {
    assert_eq!(report.signatures.len(), 1, "{report:#?}");
    let signature = &report.signatures[0];
    assert_eq!(
        (signature.result, signature.cause),
        (result, cause),
        "{signature:#?}"
    );
    let codes: Vec<&str> = signature
        .warnings
        .iter()
        .map(|warning| warning.code)
        .collect();
    assert_eq!(codes, warnings, "{signature:#?}");
    assert!(!signature.detail.is_empty());
}

#[test]
fn a_valid_signature_passes_with_its_key_described() {
    let report = verify_with(&signed(MESSAGE), &[(KEY_NAME, good_record())]);
    check(&report, DkimResult::Pass, Cause::Verified, &[]);
    assert_eq!(report.summary(), "The DKIM signature is valid.");
    let signature = &report.signatures[0];
    let key = signature.key.as_ref().unwrap();
    assert_eq!((&*key.key_type, key.bits), ("rsa", Some(2048)));
    assert_eq!(signature.tag("c"), Some("relaxed/simple"));
    assert_eq!(signature.tag("q"), Some("dns/txt"));
    assert_eq!(
        signature.tag("h"),
        Some("From:To:Message-ID:Subject:MIME-Version:Content-Type:Date")
    );
    assert_eq!(signature.tag("t"), Some(SIGNED_AT.to_string().as_str()));
    assert_eq!(report.result(), DkimResult::Pass);
}

#[test]
fn no_signature_is_reported_as_none() {
    let report = verify_with(&crlf(MESSAGE), &[]);
    assert_eq!(report.result(), DkimResult::None);
    assert_eq!(report.summary(), "The message has no DKIM signature.");
}

#[test]
fn a_changed_body_is_body_modified() {
    let tampered = String::from_utf8(signed(MESSAGE))
        .unwrap()
        .replace("is fixed", "is NOT fixed");
    let report = verify_with(tampered.as_bytes(), &[(KEY_NAME, good_record())]);
    check(&report, DkimResult::Fail, Cause::BodyModified, &[]);
}

#[test]
fn a_changed_signed_header_is_a_signature_mismatch() {
    let tampered = String::from_utf8(signed(MESSAGE))
        .unwrap()
        .replace("Work order 4711", "Work order 4712");
    let report = verify_with(tampered.as_bytes(), &[(KEY_NAME, good_record())]);
    check(&report, DkimResult::Fail, Cause::SignatureMismatch, &[]);
}

#[test]
fn another_key_in_dns_is_a_signature_mismatch() {
    let other = sealpost_vault::Vault::new(sealpost_vault::MasterKey::generate())
        .generate()
        .unwrap();
    let report = verify_with(&signed(MESSAGE), &[(KEY_NAME, record(&record_for(&other)))]);
    check(&report, DkimResult::Fail, Cause::SignatureMismatch, &[]);
}

#[test]
fn key_record_problems() {
    let message = signed(MESSAGE);
    let cases: [(KeyAnswer, DkimResult, Cause, &[&str]); 8] = [
        (
            KeyAnswer::NotFound,
            DkimResult::PermError,
            Cause::KeyNotFound,
            &[],
        ),
        (
            record("v=DKIM1; k=rsa; p="),
            DkimResult::PermError,
            Cause::KeyRevoked,
            &[],
        ),
        (
            record("v=DKIM1; k=rsa; p=not*base64"),
            DkimResult::PermError,
            Cause::KeySyntax,
            &[],
        ),
        (
            record(&format!("v=DKIM1; k=ed25519; p={}", "A".repeat(43) + "=")),
            DkimResult::PermError,
            Cause::KeyTypeMismatch,
            &[],
        ),
        (
            record(&format!("{}; h=sha1", record_for(&fixture_key()))),
            DkimResult::PermError,
            Cause::HashNotAllowed,
            &[],
        ),
        (
            record(&rsa_record_of_size(768)),
            DkimResult::Fail,
            Cause::KeyTooSmall,
            &[],
        ),
        (
            KeyAnswer::Temporary("SERVFAIL".into()),
            DkimResult::TempError,
            Cause::DnsTemporary,
            &[],
        ),
        (
            record(&format!("{}; s=other", record_for(&fixture_key()))),
            DkimResult::PermError,
            Cause::KeySyntax,
            &[],
        ),
    ];
    for (answer, result, cause, warnings) in cases {
        let report = verify_with(&message, &[(KEY_NAME, answer)]);
        check(&report, result, cause, warnings);
    }
}

#[test]
fn testing_mode_and_weak_keys_are_warnings() {
    let testing = format!("{}; t=y", record_for(&fixture_key()));
    let report = verify_with(&signed(MESSAGE), &[(KEY_NAME, record(&testing))]);
    check(
        &report,
        DkimResult::Pass,
        Cause::Verified,
        &["key_testing_mode"],
    );
    assert!(report.signatures[0].key.as_ref().unwrap().testing);

    // A 1024-bit key is accepted with a warning; this one did not sign, so it also mismatches.
    let report = verify_with(
        &signed(MESSAGE),
        &[(KEY_NAME, record(&rsa_record_of_size(1024)))],
    );
    check(
        &report,
        DkimResult::Fail,
        Cause::SignatureMismatch,
        &["key_weak"],
    );
}

#[test]
fn a_header_added_after_signing_is_a_warning() {
    // A second Subject on top is what a mail client shows; the signature covers the original.
    let message = signed(MESSAGE);
    let mut tampered = b"Subject: Urgent: pay this invoice\r\n".to_vec();
    tampered.extend_from_slice(&message);
    let report = verify_with(&tampered, &[(KEY_NAME, good_record())]);
    check(
        &report,
        DkimResult::Pass,
        Cause::Verified,
        &["header_added"],
    );
    let warning = &report.signatures[0].warnings[0].message;
    assert!(
        warning.starts_with("Subject occurs 2 times but is signed once:"),
        "{warning}"
    );
}

#[test]
fn a_foreign_signing_domain_is_not_aligned() {
    let message = signer("platform.example", "workplace")
        .sign(&crlf(MESSAGE), SIGNED_AT)
        .unwrap();
    let report = verify_with(
        &message,
        &[("workplace._domainkey.platform.example", good_record())],
    );
    check(&report, DkimResult::Pass, Cause::Verified, &["not_aligned"]);
}

#[test]
fn causes_in_the_signature_tags() {
    let expired = NOW.0 - 86_400;
    let future = NOW.0 + 3_600;
    let cases: Vec<(String, DkimResult, Cause)> = vec![
        (
            format!("{BASE_TAGS}; t={}; x={expired}", expired - 10),
            DkimResult::Fail,
            Cause::SignatureExpired,
        ),
        (
            format!("{BASE_TAGS}; t={future}"),
            DkimResult::Policy,
            Cause::TimestampInFuture,
        ),
        (
            BASE_TAGS.replace("h=From:Subject", "h=To:Subject"),
            DkimResult::PermError,
            Cause::FromNotSigned,
        ),
        (
            BASE_TAGS.replace("rsa-sha256", "rsa-sha1"),
            DkimResult::PermError,
            Cause::UnsupportedAlgorithm,
        ),
        (
            BASE_TAGS.replace("rsa-sha256", "rsa-md5"),
            DkimResult::PermError,
            Cause::UnsupportedAlgorithm,
        ),
        (
            BASE_TAGS.replace("relaxed/simple", "relaxed/nowsp"),
            DkimResult::PermError,
            Cause::UnsupportedCanonicalization,
        ),
        (
            BASE_TAGS.replace("v=1", "v=2"),
            DkimResult::PermError,
            Cause::UnsupportedVersion,
        ),
        (
            BASE_TAGS.replace("; s=workplace", ""),
            DkimResult::PermError,
            Cause::SignatureSyntax,
        ),
        (
            format!("{BASE_TAGS}; d=again.example"),
            DkimResult::PermError,
            Cause::SignatureSyntax,
        ),
        (
            BASE_TAGS.replace("b=AAAA", "b=@@@"),
            DkimResult::PermError,
            Cause::SignatureSyntax,
        ),
        (
            format!("{BASE_TAGS}; i=someone@elsewhere.example"),
            DkimResult::PermError,
            Cause::SignatureInconsistent,
        ),
        (
            format!("{BASE_TAGS}; t=200; x=100"),
            DkimResult::PermError,
            Cause::SignatureInconsistent,
        ),
        (
            format!("{BASE_TAGS}; l=100000"),
            DkimResult::PermError,
            Cause::SignatureInconsistent,
        ),
    ];
    for (tags, result, cause) in cases {
        let report = verify_with(&with_field(&tags), &[(KEY_NAME, good_record())]);
        assert_eq!(report.signatures.len(), 1);
        let signature = &report.signatures[0];
        assert_eq!(
            (signature.result, signature.cause),
            (result, cause),
            "tags {tags}: {signature:#?}"
        );
    }
}

#[test]
fn the_overall_result_is_the_first_failure() {
    let message = signed(MESSAGE);
    let mut doubled = signer("client.example", "other")
        .signature_field(&message, SIGNED_AT)
        .unwrap();
    doubled.extend_from_slice(&message);
    let report = verify_with(
        &doubled,
        &[
            (KEY_NAME, good_record()),
            ("other._domainkey.client.example", KeyAnswer::NotFound),
        ],
    );
    assert_eq!(report.signatures.len(), 2);
    assert_eq!(report.result(), DkimResult::PermError);
    assert_eq!(report.summary(), "1 of 2 DKIM signatures did not verify.");
}

#[test]
fn every_cause_code_is_distinct() {
    let causes = [
        Cause::Verified,
        Cause::BodyModified,
        Cause::SignatureMismatch,
        Cause::KeyNotFound,
        Cause::KeyRevoked,
        Cause::KeySyntax,
        Cause::KeyTypeMismatch,
        Cause::HashNotAllowed,
        Cause::KeyTooSmall,
        Cause::SignatureExpired,
        Cause::TimestampInFuture,
        Cause::FromNotSigned,
        Cause::UnsupportedAlgorithm,
        Cause::UnsupportedCanonicalization,
        Cause::UnsupportedVersion,
        Cause::SignatureSyntax,
        Cause::SignatureInconsistent,
        Cause::DnsTemporary,
    ];
    let mut codes: Vec<&str> = causes.iter().map(Cause::code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), causes.len());
}

/// A prepared message signed in place comes out as a signed copy would, inside the buffer
/// `prepare` allocated (it left room for the signature), and verifies.
#[test]
fn a_prepared_message_is_signed_in_its_own_buffer() {
    let domain = sealpost_domain::DomainName::parse("client.example").unwrap();
    let prepared = sealpost_dkim::prepare(MESSAGE.as_bytes(), NOW, &domain).unwrap();
    let signer = signer("client.example", "workplace");
    let copied = signer.sign(&prepared.message, SIGNED_AT).unwrap();
    let buffer = prepared.message.as_ptr();
    let in_place = signer.sign_owned(prepared.message, SIGNED_AT).unwrap();
    assert_eq!(in_place, copied);
    assert_eq!(in_place.as_ptr(), buffer);
    let report = verify_with(&in_place, &[(KEY_NAME, good_record())]);
    assert_eq!(report.result(), DkimResult::Pass, "{report:#?}");
}

/// Names in any case: `d=` and `s=` are lowercased to find the key, and `i=` is within `d=`
/// whatever the case of either; the made-up body hash is then the first fault.
#[test]
fn signature_names_in_any_case() {
    let tags = BASE_TAGS
        .replace("d=client.example", "d=Client.EXAMPLE.")
        .replace(
            "s=workplace",
            "s=WorkPlace; i=Facilities@Mail.CLIENT.example",
        );
    let report = verify_with(&with_field(&tags), &[(KEY_NAME, good_record())]);
    check(&report, DkimResult::Fail, Cause::BodyModified, &[]);
    assert_eq!(
        report.signatures[0].domain.as_deref(),
        Some("client.example.")
    );
}

/// A field that is not UTF-8 is read with the bad bytes replaced: the signature is still
/// checked against its key and the body, and the report shows the tag as read.
#[test]
fn a_signature_field_that_is_not_utf8() {
    let signed = signed(MESSAGE);
    let at = signed
        .windows(4)
        .position(|window| window == b"; t=")
        .expect("the signer writes t=");
    let mut broken = signed[..at].to_vec();
    broken.extend_from_slice(b"; z=caf\xe9");
    broken.extend_from_slice(&signed[at..]);
    let report = verify_with(&broken, &[(KEY_NAME, good_record())]);
    check(&report, DkimResult::Fail, Cause::SignatureMismatch, &[]);
    assert_eq!(report.signatures[0].tag("z"), Some("caf\u{FFFD}"));
}
