//! The DKIM targets: the `DKIM-Signature` field and the message around it, the key record, and
//! the round trip of completing, signing and verifying a message.

use std::collections::HashMap;
use std::sync::OnceLock;

use sealpost_dkim::{DkimResult, KeyAnswer, KeyRecord, Verifier};
use sealpost_domain::DomainName;

use crate::fixture;

/// Verifies an arbitrary message; every key record it asks for is answered with the fixture
/// key, so signatures that parse reach the hash and RSA checks. The seeds are messages signed
/// with that key, so the mutations start inside real signature fields.
pub fn dkim_signature(data: &[u8]) {
    let Ok(verifier) = Verifier::new(data) else {
        return;
    };
    let answers = verifier
        .key_names()
        .into_iter()
        .map(|name| {
            let record = fixture::key_record().to_owned();
            (name, KeyAnswer::Records(vec![record]))
        })
        .collect();
    let report = verifier.finish(&answers, fixture::NOW);
    let _ = (report.result(), report.summary());
}

/// Parses the input as a key record, and verifies a message signed with the fixture key against
/// it as the published record: only a record that holds the fixture key may let it pass.
pub fn dkim_record(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = KeyRecord::parse(&text);
    let message = signed_message();
    let verifier = Verifier::new(message).expect("the signed fixture message parses");
    let answers = HashMap::from([(
        fixture::key_name(),
        KeyAnswer::Records(vec![text.clone().into_owned()]),
    )]);
    let report = verifier.finish(&answers, fixture::NOW);
    if report.result() == DkimResult::Pass {
        let record = parsed.expect("a record that lets a signature pass parses");
        let fixture_record = KeyRecord::parse(fixture::key_record()).expect("fixture record");
        assert_eq!(
            record.public_key, fixture_record.public_key,
            "a signature passed against another key: {text:?}"
        );
    }
}

/// A message signed once with the fixture key.
fn signed_message() -> &'static [u8] {
    static MESSAGE: OnceLock<Vec<u8>> = OnceLock::new();
    MESSAGE.get_or_init(|| {
        let message = b"From: Alice <alice@example.com>\r\nTo: bob@example.net\r\n\
                        Subject: fuzz\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n\
                        Message-ID: <fuzz@example.com>\r\n\r\nHello.\r\n";
        fixture::signer()
            .sign(message, fixture::NOW.0)
            .expect("the fixture message signs")
    })
}

/// What Sealpost signs, it verifies: any message that `prepare` completes and the signer
/// accepts carries a first signature that passes against the matching key record.
pub fn sign_verify(data: &[u8]) {
    let domain = DomainName::parse(fixture::DOMAIN).expect("example.com is a domain name");
    let Ok(prepared) = sealpost_dkim::prepare(data, fixture::NOW, &domain) else {
        return;
    };
    let Ok(signed) = fixture::signer().sign(&prepared.message, fixture::NOW.0) else {
        return;
    };
    let verifier = match Verifier::new(&signed) {
        Ok(verifier) => verifier,
        Err(error) => panic!("a message we signed cannot be read back: {error}"),
    };
    let answers = HashMap::from([(
        fixture::key_name(),
        KeyAnswer::Records(vec![fixture::key_record().to_owned()]),
    )]);
    let report = verifier.finish(&answers, fixture::NOW);
    let ours = report
        .signatures
        .first()
        .expect("the signature we put in front is read");
    assert_eq!(
        ours.result,
        DkimResult::Pass,
        "our own signature does not verify: {} ({})",
        ours.cause.code(),
        ours.detail
    );
}
