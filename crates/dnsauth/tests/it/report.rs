//! The combined DNS report of a domain against a real DNS server on loopback: a domain that has
//! published everything, and one that has published nothing right, with the fix for each.

use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_dnsauth::finding::Status;
use sealpost_dnsauth::report::{DomainCheckRequest, DomainReport, PlatformSpf, check_domain};
use sealpost_domain::Timestamp;
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

fn our_key() -> Vec<u8> {
    let pem = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../vault/resources/keys/rsa2048-pkcs8.pem"),
    )
    .unwrap();
    Vault::new(MasterKey::generate())
        .import(&pem, None)
        .unwrap()
        .public_key_der()
}

fn platform() -> PlatformSpf {
    PlatformSpf {
        include_host: "_spf.platform.test".to_owned(),
        networks: vec![
            "192.0.2.0/24".parse().unwrap(),
            "2001:db8::/32".parse().unwrap(),
        ],
    }
}

async fn dns(key: &[u8]) -> TestDns {
    let value = sealpost_domain::dkim_txt_value(key);
    let zone = Zone::new()
        .txt(
            "_spf.platform.test",
            &["v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"],
        )
        .txt("client.test", &["v=spf1 include:_spf.platform.test -all"])
        .mx("client.test", 10, "mx.client.test")
        .a("mx.client.test", std::net::Ipv4Addr::new(198, 51, 100, 25))
        .txt_split("workplace._domainkey.client.test", &value)
        .txt(
            "_dmarc.client.test",
            &["v=DMARC1; p=quarantine; rua=mailto:dmarc@client.test"],
        )
        .txt("broken.test", &["v=spf1 mx ~all"])
        .a("broken.test", std::net::Ipv4Addr::new(198, 51, 100, 26));
    TestDns::start(zone).await.unwrap()
}

async fn report(dns: &TestDns, domain: &str, key: &[u8]) -> DomainReport {
    let resolver = Resolver::new(&ResolverConfig {
        nameserver: Some(dns.addr()),
        cache: false,
        ..ResolverConfig::default()
    })
    .unwrap();
    let platform = platform();
    let request = DomainCheckRequest {
        domain,
        selector: Some("workplace"),
        public_key_der: Some(key),
        mail_from_domain: None,
        platform: Some(&platform),
        delegated_name: None,
    };
    check_domain(&resolver, request, Timestamp(1_800_000_000)).await
}

fn codes(report: &DomainReport, check: &str) -> Vec<(&'static str, Status)> {
    report
        .sections
        .iter()
        .find(|section| section.check == check)
        .unwrap()
        .findings
        .iter()
        .map(|finding| (finding.code, finding.status))
        .collect()
}

#[tokio::test]
async fn a_domain_that_published_everything_is_ok() {
    let key = our_key();
    let dns = dns(&key).await;
    let report = report(&dns, "client.test", &key).await;
    assert_eq!(report.status(), Status::Ok, "{report:#?}");
    assert_eq!(codes(&report, "dkim"), [("dkim.record", Status::Ok)]);
    assert_eq!(
        codes(&report, "dmarc"),
        [
            ("dmarc.record", Status::Ok),
            ("dmarc.dkim_alignment", Status::Ok),
            ("dmarc.spf_alignment", Status::Ok),
        ]
    );
    assert_eq!(codes(&report, "mx"), [("mx.record", Status::Ok)]);
    let spf = report.spf.as_ref().unwrap();
    assert!(
        spf.addresses
            .iter()
            .all(|address| address.outcome.result.as_str() == "pass")
    );
    assert!(
        report
            .sections
            .iter()
            .all(|section| section.suggested.is_none())
    );
}

#[tokio::test]
async fn a_domain_with_nothing_right_gets_every_fix() {
    let key = our_key();
    let dns = dns(&key).await;
    let report = report(&dns, "broken.test", &key).await;
    assert_eq!(report.status(), Status::Error);

    let spf = report
        .sections
        .iter()
        .find(|section| section.check == "spf")
        .unwrap();
    assert!(spf.findings.iter().any(|finding| finding.code == "spf.include_missing" && finding.status == Status::Error));
    assert_eq!(
        spf.suggested.as_ref().unwrap().value,
        "v=spf1 mx include:_spf.platform.test ~all",
        "the minimal edit keeps the tenant's terms"
    );

    let dkim = report
        .sections
        .iter()
        .find(|section| section.check == "dkim")
        .unwrap();
    assert_eq!(dkim.findings[0].code, "dkim.record_missing");
    assert_eq!(dkim.findings[0].status, Status::Error);
    let record = dkim.suggested.as_ref().unwrap();
    assert_eq!(record.name, "workplace._domainkey.broken.test");
    assert_eq!(record.value, sealpost_domain::dkim_txt_value(&key));

    assert_eq!(
        codes(&report, "dmarc")[..2],
        [
            ("dmarc.record_missing", Status::Warning),
            // d=broken.test matches the From domain, but without the record no signature
            // verifies: alignment is not "ok" (issue 16).
            ("dmarc.dkim_alignment", Status::Warning),
        ]
    );
    let dmarc = report
        .sections
        .iter()
        .find(|section| section.check == "dmarc")
        .unwrap();
    assert_eq!(
        dmarc.suggested.as_ref().unwrap().value,
        "v=DMARC1; p=none; rua=mailto:dmarc-reports@broken.test"
    );
    assert_eq!(codes(&report, "mx"), [("mx.implicit", Status::Warning)]);
}
