//! The checker against a real DNS server on loopback that publishes SPF, a DKIM key, DMARC and
//! forward-confirmed reverse DNS for 127.0.0.1: a good message signed with that key, and broken
//! messages that each produce the problems they should.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use sealpost_dkim::Signer;
use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_domain::{DomainName, Selector, Timestamp};
use sealpost_mail_tester::{Audience, Received, Report, Severity, analyse};
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, PrivateKey, Vault};

const SIGNED_AT: i64 = 1_795_840_000;
const NOW: Timestamp = Timestamp(SIGNED_AT + 60);
const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const HELO: &str = "mail.client.test";
const MAIL_FROM: &str = "bounce@client.test";

/// A multipart/alternative message with everything a receiver wants to see.
const GOOD: &str = "From: Orders <orders@client.test>
To: someone@receiver.test
Subject: Your order 4711 has shipped
Date: Sat, 28 Nov 2026 04:35:53 +0000
Message-ID: <order-4711@client.test>
List-Unsubscribe: <https://client.test/unsubscribe/4711>, <mailto:unsubscribe@client.test>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary=\"b1\"

--b1
Content-Type: text/plain; charset=utf-8

Your order 4711 has shipped and will arrive on Tuesday.
--b1
Content-Type: text/html; charset=utf-8

<html><body><img src=\"https://cdn.client.test/logo.png\" alt=\"Client logo\">
<p>Your order 4711 has shipped and will arrive on Tuesday. The parcel holds the two boxes of
printer paper and the toner you ordered last week. If nobody is at home, the courier leaves it
with a neighbour and puts a note in your letter box.</p>
<p><a href=\"https://client.test/orders/4711\">Track your parcel</a></p>
</body></html>
--b1--
";

struct Fixture {
    // Kept alive for the resolver, which asks it.
    _dns: TestDns,
    resolver: Resolver,
    signer: Signer,
}

fn key() -> PrivateKey {
    let pem = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../vault/resources/keys/rsa2048-pkcs8.pem"),
    )
    .expect("read the key fixture");
    Vault::new(MasterKey::generate())
        .import(&pem, None)
        .expect("import the key fixture")
}

impl Fixture {
    async fn start() -> Self {
        let key = key();
        let zone = Zone::new()
            .txt("client.test", &["v=spf1 ip4:127.0.0.1 -all"])
            .txt("other.test", &["v=spf1 ip4:127.0.0.1 -all"])
            .txt_split(
                "mail._domainkey.client.test",
                &sealpost_domain::dkim_txt_value(&key.public_key_der()),
            )
            .txt(
                "_dmarc.client.test",
                &["v=DMARC1; p=reject; rua=mailto:dmarc@client.test"],
            )
            .ptr("1.0.0.127.in-addr.arpa", HELO)
            .a(HELO, Ipv4Addr::LOCALHOST);
        let dns = TestDns::start(zone).await.expect("start the DNS server");
        let resolver = Resolver::new(&ResolverConfig {
            nameserver: Some(dns.addr()),
            cache: false,
            ..ResolverConfig::default()
        })
        .expect("resolver");
        let signer = Signer::new(
            DomainName::parse("client.test").expect("domain"),
            Selector::parse("mail").expect("selector"),
            Arc::new(key),
        );
        Self {
            _dns: dns,
            resolver,
            signer,
        }
    }

    fn sign(&self, message: &str) -> Vec<u8> {
        self.signer
            .sign(&crlf(message), SIGNED_AT)
            .expect("sign the message")
    }

    async fn analyse(&self, message: &[u8]) -> Report {
        self.analyse_from(message, CLIENT, MAIL_FROM).await
    }

    async fn analyse_from(&self, message: &[u8], client_ip: IpAddr, mail_from: &str) -> Report {
        let received = Received {
            message,
            client_ip,
            helo: HELO,
            mail_from,
        };
        analyse(&self.resolver, &received, NOW).await
    }
}

fn crlf(text: &str) -> Vec<u8> {
    sealpost_dkim::normalize_line_endings(text.as_bytes()).into_owned()
}

fn codes(report: &Report) -> Vec<&'static str> {
    report.problems.iter().map(|problem| problem.code).collect()
}

#[track_caller]
fn assert_codes(report: &Report, expected: &[&str]) {
    assert_eq!(codes(report), expected, "{report:#?}");
}

#[tokio::test]
async fn good_message_scores_full() {
    let fixture = Fixture::start().await;
    let report = fixture.analyse(&fixture.sign(GOOD)).await;
    assert_codes(&report, &[]);
    assert!(report.score >= 9.0, "{report:#?}");
    assert!((report.newsletter_score - 10.0).abs() < f32::EPSILON);
    for name in [
        "spf",
        "dkim",
        "dmarc",
        "ptr",
        "headers",
        "mime",
        "images",
        "list_unsubscribe",
    ] {
        let check = report
            .checks
            .iter()
            .find(|check| check.name == name)
            .unwrap_or_else(|| panic!("no {name} check in {report:#?}"));
        assert_eq!(
            check.status,
            sealpost_mail_tester::Status::Pass,
            "{check:?}"
        );
    }
    let links = report.checks.iter().find(|check| check.name == "links");
    assert_eq!(
        links.map(|check| check.found.as_str()),
        Some("links to client.test")
    );
}

#[tokio::test]
async fn unsigned_message_has_no_dkim() {
    let fixture = Fixture::start().await;
    let report = fixture.analyse(&crlf(GOOD)).await;
    // SPF passes aligned, so DMARC still passes.
    assert_codes(&report, &["dkim_none"]);
    assert_eq!(report.problems[0].severity, Severity::Error);
    assert!((report.score - 7.0).abs() < 1e-4, "{}", report.score);
}

#[tokio::test]
async fn tampered_body_fails_dkim_with_the_cause() {
    let fixture = Fixture::start().await;
    let signed = String::from_utf8(fixture.sign(GOOD)).expect("UTF-8");
    let tampered = signed.replace("arrive on Tuesday", "arrive on Friday");
    let report = fixture.analyse(tampered.as_bytes()).await;
    assert_codes(&report, &["dkim_fail"]);
    assert!(
        report.problems[0].found.contains("body_modified"),
        "{report:#?}"
    );
    assert!(
        report.problems[0]
            .fix
            .contains("changed the message after it was signed")
    );
}

#[tokio::test]
async fn client_outside_the_spf_record_fails_spf() {
    let fixture = Fixture::start().await;
    let report = fixture
        .analyse_from(
            &fixture.sign(GOOD),
            "127.0.0.2".parse().expect("ip"),
            MAIL_FROM,
        )
        .await;
    // DKIM still passes aligned, so DMARC passes; the HELO name has no SPF record of its own,
    // and 127.0.0.2 has no PTR of ours (the test server may name it localhost, unconfirmed).
    let codes = codes(&report);
    assert_eq!(codes[0], "spf_fail", "{report:#?}");
    assert!(
        matches!(codes[1..], ["ptr_missing" | "ptr_unconfirmed"]),
        "{report:#?}"
    );
    assert!(report.problems[0].fix.contains("127.0.0.2"));
}

#[tokio::test]
async fn unaligned_and_unsigned_fails_dmarc() {
    let fixture = Fixture::start().await;
    let report = fixture
        .analyse_from(&crlf(GOOD), CLIENT, "bounce@other.test")
        .await;
    assert_codes(&report, &["dkim_none", "dmarc_fail"]);
    assert!(report.problems[1].found.contains("p=reject"));
}

#[tokio::test]
async fn missing_date_is_an_error() {
    let fixture = Fixture::start().await;
    let message = GOOD.replace("Date: Sat, 28 Nov 2026 04:35:53 +0000\n", "");
    let report = fixture.analyse(&fixture.sign(&message)).await;
    assert_codes(&report, &["date_missing"]);
    assert_eq!(report.problems[0].severity, Severity::Error);
    assert!((report.score - 9.0).abs() < 1e-4);
}

#[tokio::test]
async fn html_only_is_a_warning() {
    let fixture = Fixture::start().await;
    let html_start = GOOD.find("<html>").expect("html");
    let html_end = GOOD.find("</html>").expect("html") + "</html>\n".len();
    let message = format!(
        "{}Content-Type: text/html; charset=utf-8\n\n{}",
        &GOOD[..GOOD.find("Content-Type: multipart").expect("content type")],
        &GOOD[html_start..html_end]
    );
    let report = fixture.analyse(&fixture.sign(&message)).await;
    assert_codes(&report, &["html_only"]);
    assert_eq!(report.problems[0].severity, Severity::Warning);
}

#[tokio::test]
async fn image_without_alt_and_misleading_link() {
    let fixture = Fixture::start().await;
    let message = GOOD.replace(" alt=\"Client logo\"", "").replace(
        "<a href=\"https://client.test/orders/4711\">Track your parcel</a>",
        "<a href=\"https://tracker.test/c/1\">www.client.test/orders</a>",
    );
    let report = fixture.analyse(&fixture.sign(&message)).await;
    assert_codes(&report, &["image_without_alt", "link_text_mismatch"]);
    assert!(report.problems[0].found.contains("logo.png"));
    assert!(report.problems[1].found.contains("tracker.test"));
}

#[tokio::test]
async fn little_text_beside_images() {
    let fixture = Fixture::start().await;
    let html_start = GOOD.find("<p>Your").expect("text");
    let html_end = GOOD.find("<p><a").expect("link");
    let message = GOOD.replace(&GOOD[html_start..html_end], "<p>See the picture.</p>\n");
    let report = fixture.analyse(&fixture.sign(&message)).await;
    assert_codes(&report, &["html_little_text"]);
    // The finding is read by people: one image is "1 image", not "1 image(s)".
    let found = &report.problems[0].found;
    assert!(found.ends_with(" bytes of HTML with 1 image"), "{found}");
}

#[tokio::test]
async fn missing_list_unsubscribe_matters_only_for_newsletters() {
    let fixture = Fixture::start().await;
    let message = GOOD
        .replace(
            "List-Unsubscribe: <https://client.test/unsubscribe/4711>, <mailto:unsubscribe@client.test>\n",
            "",
        )
        .replace("List-Unsubscribe-Post: List-Unsubscribe=One-Click\n", "");
    let report = fixture.analyse(&fixture.sign(&message)).await;
    assert_codes(&report, &["list_unsubscribe_missing"]);
    let problem = &report.problems[0];
    assert_eq!(problem.severity, Severity::Info);
    assert_eq!(problem.matters_for, Audience::NewslettersOnly);
    assert!((report.score - 10.0).abs() < f32::EPSILON);
    assert!(report.newsletter_score < 10.0);
}

#[tokio::test]
async fn headers_that_are_missing_empty_or_repeated() {
    let fixture = Fixture::start().await;
    let message = GOOD
        .replace("Subject: Your order 4711 has shipped\n", "Subject:  \n")
        .replace("To: someone@receiver.test\n", "")
        .replace("Message-ID: <order-4711@client.test>\n", "")
        .replace(
            "Date: Sat, 28 Nov 2026 04:35:53 +0000\n",
            "Date: yesterday\nDate: Sat, 28 Nov 2026 04:35:53 +0000\n",
        );
    // Sealpost's signer covers only fields present; sign what the test builds.
    let report = fixture.analyse(&fixture.sign(&message)).await;
    assert_codes(
        &report,
        &[
            "date_invalid",
            "message_id_missing",
            "to_missing",
            "subject_missing",
            "header_duplicate",
        ],
    );
}

#[tokio::test]
async fn unreadable_message_scores_zero() {
    let fixture = Fixture::start().await;
    let report = fixture.analyse(b"this is not a message\r\n").await;
    assert!(report.has("message_unreadable"), "{report:#?}");
    assert!(report.score.abs() < f32::EPSILON);
}
