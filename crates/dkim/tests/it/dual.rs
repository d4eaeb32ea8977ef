//! Dual signing (RFC 8463): a domain with an RSA and an Ed25519 key signs each message twice,
//! rsa-sha256 topmost, and each signature verifies on its own: dkimpy, OpenDKIM and Sealpost's
//! verifier each pass both; a tampered message fails both signatures with the cause that names
//! what changed.

use sealpost_dkim::{Cause, DkimResult, Signer, sign_owned_with};
use sealpost_domain::{DomainName, Selector, Timestamp};
use sealpost_testdns::{TestDns, Zone};

use crate::peers::{OpenDkim, dkimpy_verify};
use crate::support::{
    MESSAGE, SIGNED_AT, crlf, fixture_ed25519_key, fixture_key, record_of, verify_with,
};

const DOMAIN: &str = "client.test";
const RSA_SELECTOR: &str = "workplace";
const ED25519_SELECTOR: &str = "workplace-ed";

fn signers() -> [Signer; 2] {
    let domain = DomainName::parse(DOMAIN).unwrap();
    [
        Signer::new(
            domain.clone(),
            Selector::parse(RSA_SELECTOR).unwrap(),
            fixture_key(),
        ),
        Signer::new(
            domain,
            Selector::parse(ED25519_SELECTOR).unwrap(),
            fixture_ed25519_key(),
        ),
    ]
}

fn key_name(selector: &str) -> String {
    format!("{selector}._domainkey.{DOMAIN}")
}

async fn dns() -> TestDns {
    TestDns::start(
        Zone::new()
            .txt_split(&key_name(RSA_SELECTOR), &record_of(&fixture_key()))
            .txt(
                &key_name(ED25519_SELECTOR),
                &[&record_of(&fixture_ed25519_key())],
            ),
    )
    .await
    .expect("start the DNS server")
}

/// A message prepared and signed as the server does it, with both keys.
fn dual_signed(raw: &str) -> Vec<u8> {
    let prepared = sealpost_dkim::prepare(
        &crlf(raw),
        Timestamp(SIGNED_AT),
        &DomainName::parse(DOMAIN).unwrap(),
    )
    .expect("prepare");
    sign_owned_with(&signers(), prepared.message, SIGNED_AT).expect("sign")
}

fn answers() -> Vec<(String, sealpost_dkim::KeyAnswer)> {
    [
        (RSA_SELECTOR, record_of(&fixture_key())),
        (ED25519_SELECTOR, record_of(&fixture_ed25519_key())),
    ]
    .into_iter()
    .map(|(selector, record)| {
        (
            key_name(selector),
            sealpost_dkim::KeyAnswer::Records(vec![record]),
        )
    })
    .collect()
}

fn ours(message: &[u8]) -> sealpost_dkim::Report {
    let answers = answers();
    let borrowed: Vec<(&str, sealpost_dkim::KeyAnswer)> = answers
        .iter()
        .map(|(name, answer)| (name.as_str(), answer.clone()))
        .collect();
    verify_with(message, &borrowed)
}

#[test]
fn the_rsa_signature_is_on_top_and_both_share_the_body_hash() {
    let signed = dual_signed(&MESSAGE.replace("client.example", DOMAIN));
    let parsed = sealpost_dkim::ParsedMessage::parse(&signed).unwrap();
    let fields: Vec<String> = parsed.headers[..2]
        .iter()
        .map(|field| String::from_utf8_lossy(field.raw).into_owned())
        .collect();
    assert!(fields[0].starts_with("DKIM-Signature: v=1; a=rsa-sha256;"));
    assert!(fields[0].contains(&format!("s={RSA_SELECTOR};")));
    assert!(fields[1].starts_with("DKIM-Signature: v=1; a=ed25519-sha256;"));
    assert!(fields[1].contains(&format!("s={ED25519_SELECTOR};")));
    let body_hash = |field: &str| {
        field
            .split("bh=")
            .nth(1)
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(body_hash(&fields[0]), body_hash(&fields[1]));
    assert!(!parsed.headers[2].is("DKIM-Signature"));

    let report = ours(&signed);
    assert_eq!(report.signatures.len(), 2, "{report:#?}");
    for signature in &report.signatures {
        assert_eq!(signature.result, DkimResult::Pass, "{signature:#?}");
    }
    assert_eq!(report.signatures[1].tag("a"), Some("ed25519-sha256"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_signed_messages_pass_dkimpy_for_both_and_opendkim() {
    let dns = dns().await;
    let opendkim = OpenDkim::new(dns.addr());
    let big_body: String = (0..4_000)
        .map(|line| format!("line {line:05} of a long body.\r\n"))
        .collect();
    for raw in [
        MESSAGE.replace("client.example", DOMAIN),
        format!("From: facilities@{DOMAIN}\nTo: a@receiver.test\nSubject: lf\n\none\ntwo\n"),
        format!("From: facilities@{DOMAIN}\r\nSubject: big\r\n\r\n{big_body}"),
    ] {
        let signed = dual_signed(&raw);
        let (passed, output) = dkimpy_verify(dns.addr(), &signed);
        assert!(passed, "dkimpy fails a signature: {output}");
        let lines: Vec<&str> = output.lines().collect();
        assert_eq!(
            lines,
            [
                format!("pass d={DOMAIN} s={RSA_SELECTOR}"),
                format!("pass d={DOMAIN} s={ED25519_SELECTOR}"),
            ],
            "{output}"
        );
        // Debian's OpenDKIM (2.11) verifies ed25519-sha256 too.
        let results = opendkim.verify_each(&signed);
        assert_eq!(
            results,
            [
                ("pass".to_owned(), RSA_SELECTOR.to_owned()),
                ("pass".to_owned(), ED25519_SELECTOR.to_owned()),
            ],
            "OpenDKIM"
        );
        assert!(
            ours(&signed)
                .signatures
                .iter()
                .all(|s| s.result == DkimResult::Pass)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_dual_signed_message_fails_both_signatures_with_the_cause() {
    let dns = dns().await;
    let opendkim = OpenDkim::new(dns.addr());
    let text = String::from_utf8(dual_signed(&MESSAGE.replace("client.example", DOMAIN))).unwrap();

    let body_changed = text.replace("is fixed", "is broken");
    let (passed, output) = dkimpy_verify(dns.addr(), body_changed.as_bytes());
    assert!(!passed, "dkimpy passed a tampered body: {output}");
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), 2, "{output}");
    for (line, selector) in lines.iter().zip([RSA_SELECTOR, ED25519_SELECTOR]) {
        assert!(
            line.starts_with(&format!("fail d={DOMAIN} s={selector} body hash mismatch")),
            "{output}"
        );
    }
    let results = opendkim.verify_each(body_changed.as_bytes());
    assert!(
        results.contains(&("fail".to_owned(), RSA_SELECTOR.to_owned())),
        "OpenDKIM: {results:?}"
    );
    assert!(
        results.iter().all(|(result, _)| result != "pass"),
        "{results:?}"
    );
    let report = ours(body_changed.as_bytes());
    let causes: Vec<Cause> = report.signatures.iter().map(|s| s.cause).collect();
    assert_eq!(causes, [Cause::BodyModified, Cause::BodyModified]);

    let header_changed = text.replace("Work order 4711", "Work order 4712");
    let (passed, output) = dkimpy_verify(dns.addr(), header_changed.as_bytes());
    assert!(!passed, "dkimpy passed a tampered header: {output}");
    assert_eq!(
        output
            .lines()
            .filter(|line| line.starts_with("fail"))
            .count(),
        2,
        "{output}"
    );
    let report = ours(header_changed.as_bytes());
    let causes: Vec<Cause> = report.signatures.iter().map(|s| s.cause).collect();
    assert_eq!(causes, [Cause::SignatureMismatch, Cause::SignatureMismatch]);
}

#[test]
fn a_missing_ed25519_record_fails_only_its_own_signature() {
    let signed = dual_signed(&MESSAGE.replace("client.example", DOMAIN));
    let answers = answers();
    let only_rsa: Vec<(&str, sealpost_dkim::KeyAnswer)> = vec![
        (answers[0].0.as_str(), answers[0].1.clone()),
        (answers[1].0.as_str(), sealpost_dkim::KeyAnswer::NotFound),
    ];
    let report = verify_with(&signed, &only_rsa);
    assert_eq!(report.signatures[0].result, DkimResult::Pass);
    assert_eq!(report.signatures[1].cause, Cause::KeyNotFound);
}
