//! Interoperation, proven by others: messages Sealpost signs pass dkimpy and OpenDKIM, and
//! messages they sign pass Sealpost's verifier (and fail it with the right cause once tampered
//! with). Keys are served by a real DNS server on loopback.

use sealpost_dkim::{Cause, DkimResult, Report, verify_with_dns};
use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_domain::{DomainName, Timestamp};
use sealpost_testdns::{TestDns, Zone};

use crate::peers::{CANONICALIZATIONS, OpenDkim, dkimpy_sign, dkimpy_verify};
use crate::support::{MESSAGE, SIGNED_AT, crlf, fixture_key, record_for, signer, workspace_root};

const DOMAIN: &str = "client.test";
const SELECTOR: &str = "workplace";

fn key_file(name: &str) -> std::path::PathBuf {
    workspace_root()
        .join("crates/vault/resources/keys")
        .join(name)
}

/// A DNS server holding the fixture key (and the 1024-bit fixture under selector `weak`).
async fn dns() -> TestDns {
    let record = record_for(&fixture_key());
    let weak = weak_record();
    TestDns::start(
        Zone::new()
            .txt_split(&format!("{SELECTOR}._domainkey.{DOMAIN}"), &record)
            .txt_split(&format!("weak._domainkey.{DOMAIN}"), &weak),
    )
    .await
    .expect("start the DNS server")
}

/// The DKIM record of the 1024-bit fixture, from openssl's own public key output.
fn weak_record() -> String {
    let output = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(key_file("rsa1024-pkcs8.pem"))
        .output()
        .expect("run openssl");
    assert!(output.status.success());
    sealpost_domain::dkim_txt_value(&output.stdout)
}

fn resolver(dns: &TestDns) -> Resolver {
    Resolver::new(&ResolverConfig {
        nameserver: Some(dns.addr()),
        cache: false,
        ..ResolverConfig::default()
    })
    .expect("resolver")
}

/// Our verdict at the real time: the peers sign with the real clock.
async fn ours(dns: &TestDns, message: &[u8]) -> Report {
    let now = sealpost_domain::Clock::now(&sealpost_domain::SystemClock);
    verify_with_dns(message, &resolver(dns), now)
        .await
        .expect("message parses")
}

/// Awkward messages: each is prepared and signed exactly as the server does it.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let header = "From: Facilities <facilities@client.test>\r\nTo: someone@receiver.test\r\n\
                  Subject: Work order\r\n";
    let long_subject = format!(
        "Subject: {}\r\n",
        (0..40)
            .map(|index| format!("word{index}"))
            .collect::<Vec<_>>()
            .join("\r\n ")
    );
    let big_body: String = (0..16_000)
        .map(|line| format!("line {line:05} of a one megabyte body, padded with text.....\r\n"))
        .collect();
    vec![
        ("empty body", format!("{header}\r\n").into_bytes()),
        ("header only", header.trim_end().as_bytes().to_vec()),
        (
            "no final CRLF",
            format!("{header}\r\nlast line").into_bytes(),
        ),
        (
            "trailing blank lines",
            format!("{header}\r\ntext\r\n\r\n\r\n\r\n").into_bytes(),
        ),
        (
            "trailing white space",
            format!("{header}\r\ntext  \t\r\n  \r\n\t\r\n").into_bytes(),
        ),
        (
            "long folded header",
            format!(
                "From: facilities@client.test\r\nTo: a@receiver.test\r\n{long_subject}\r\nbody\r\n"
            )
            .into_bytes(),
        ),
        (
            "8-bit UTF-8 headers",
            "From: Größe Müller <facilities@client.test>\r\nTo: a@receiver.test\r\n\
             Subject: Prüfung ✓ 完了\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nÄpfel\r\n"
                .as_bytes()
                .to_vec(),
        ),
        (
            "bare LF input",
            "From: facilities@client.test\nTo: a@receiver.test\nSubject: lf\n\none\ntwo\n"
                .as_bytes()
                .to_vec(),
        ),
        (
            "lines starting with a dot",
            format!("{header}\r\n.\r\n..two dots\r\n.leading\r\n").into_bytes(),
        ),
        ("1 MB body", format!("{header}\r\n{big_body}").into_bytes()),
    ]
}

fn prepare_and_sign(raw: &[u8]) -> Vec<u8> {
    let prepared = sealpost_dkim::prepare(
        raw,
        Timestamp(SIGNED_AT),
        &DomainName::parse(DOMAIN).unwrap(),
    )
    .expect("prepare");
    signer(DOMAIN, SELECTOR)
        .sign(&prepared.message, SIGNED_AT)
        .expect("sign")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_we_sign_pass_dkimpy_opendkim_and_ourselves() {
    let dns = dns().await;
    let opendkim = OpenDkim::new(dns.addr());
    for (name, raw) in corpus() {
        let signed = prepare_and_sign(&raw);
        let (passed, output) = dkimpy_verify(dns.addr(), &signed);
        assert!(
            passed,
            "dkimpy fails our signature on the {name} message: {output}"
        );
        assert_eq!(
            opendkim.verify(&signed),
            "pass",
            "OpenDKIM fails our signature on the {name} message"
        );
        let report = ours(&dns, &signed).await;
        assert_eq!(report.result(), DkimResult::Pass, "{name}: {report:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_messages_fail_the_peers_too() {
    // The peers' verdicts are only worth something if they can fail.
    let dns = dns().await;
    let opendkim = OpenDkim::new(dns.addr());
    let signed = prepare_and_sign(&crlf(&MESSAGE.replace("client.example", DOMAIN)));
    let tampered = String::from_utf8(signed)
        .unwrap()
        .replace("is fixed", "is broken")
        .into_bytes();
    let (passed, output) = dkimpy_verify(dns.addr(), &tampered);
    assert!(!passed, "dkimpy passed a tampered body: {output}");
    assert_eq!(opendkim.verify(&tampered), "fail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_the_peers_sign_pass_ours_and_tampering_names_the_cause() {
    let dns = dns().await;
    let opendkim = OpenDkim::new(dns.addr());
    let key = key_file("rsa2048-pkcs8.pem");
    let pkcs1_key = key_file("rsa2048-pkcs1.pem");
    // Trailing lines of white space are where relaxed body canonicalisation is easy to get wrong.
    let message = crlf(&format!(
        "{}\n  \n\t\n",
        MESSAGE.replace("client.example", DOMAIN)
    ));
    for canon in CANONICALIZATIONS {
        let signed_by = [
            (
                "dkimpy",
                dkimpy_sign(&key, DOMAIN, SELECTOR, canon, &[], &message),
            ),
            (
                "OpenDKIM",
                opendkim.sign(&pkcs1_key, DOMAIN, SELECTOR, canon, &message),
            ),
        ];
        for (peer, signed) in signed_by {
            let report = ours(&dns, &signed).await;
            assert_eq!(
                report.result(),
                DkimResult::Pass,
                "{peer} {canon}: {report:#?}"
            );
            assert_eq!(
                report.signatures[0]
                    .tag("c")
                    .map(str::to_owned)
                    .as_deref()
                    .map(|c| c.contains('/') || c == "simple"),
                Some(true)
            );

            let text = String::from_utf8(signed.clone()).unwrap();
            let body_changed = text.replace("is fixed", "is not fixed");
            let report = ours(&dns, body_changed.as_bytes()).await;
            assert_eq!(
                report.signatures[0].cause,
                Cause::BodyModified,
                "{peer} {canon}: {report:#?}"
            );
            let header_changed = text.replace("Work order 4711", "Work order 4712");
            let report = ours(&dns, header_changed.as_bytes()).await;
            assert_eq!(
                report.signatures[0].cause,
                Cause::SignatureMismatch,
                "{peer} {canon}: {report:#?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_length_limits_and_weak_keys_from_dkimpy_are_warnings() {
    let dns = dns().await;
    let message = crlf(&MESSAGE.replace("client.example", DOMAIN));
    let signed = dkimpy_sign(
        &key_file("rsa2048-pkcs8.pem"),
        DOMAIN,
        SELECTOR,
        "relaxed/simple",
        &["--length"],
        &message,
    );
    let mut appended = signed.clone();
    appended.extend_from_slice(b"Appended by someone else.\r\n");
    let report = ours(&dns, &appended).await;
    assert_eq!(report.result(), DkimResult::Pass, "{report:#?}");
    let codes: Vec<&str> = report.signatures[0]
        .warnings
        .iter()
        .map(|w| w.code)
        .collect();
    assert_eq!(codes, ["body_length_limit"]);

    let weak = dkimpy_sign(
        &key_file("rsa1024-pkcs8.pem"),
        DOMAIN,
        "weak",
        "relaxed/simple",
        &[],
        &message,
    );
    let report = ours(&dns, &weak).await;
    assert_eq!(report.result(), DkimResult::Pass, "{report:#?}");
    let signature = &report.signatures[0];
    assert_eq!(signature.key.as_ref().unwrap().bits, Some(1024));
    let codes: Vec<&str> = signature.warnings.iter().map(|w| w.code).collect();
    assert_eq!(codes, ["key_weak"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_missing_from_dns_is_key_not_found() {
    let dns = dns().await;
    let signed = signer(DOMAIN, "unpublished")
        .sign(&crlf(&MESSAGE.replace("client.example", DOMAIN)), SIGNED_AT)
        .unwrap();
    let report = ours(&dns, &signed).await;
    assert_eq!(report.signatures[0].cause, Cause::KeyNotFound);
}
