//! The DKIM record, DMARC and MX checks against a real DNS server on loopback, one zone holding
//! every case.

use base64::Engine as _;
use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_dnsauth::dkim_record::{DkimPublication, DkimRecordCause, check_dkim_record};
use sealpost_dnsauth::dmarc::{DmarcFound, Policy, check_dmarc};
use sealpost_dnsauth::mx::{MxCause, check_mx};
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

fn key_der(name: &str) -> Vec<u8> {
    let pem = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../vault/resources/keys")
            .join(name),
    )
    .unwrap();
    let vault = Vault::new(MasterKey::generate());
    vault.import(&pem, None).unwrap().public_key_der()
}

fn resolver(dns: &TestDns) -> Resolver {
    Resolver::new(&ResolverConfig {
        nameserver: Some(dns.addr()),
        cache: false,
        timeout: std::time::Duration::from_millis(500),
        ..ResolverConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn dkim_records_are_compared_key_to_key_and_each_cause_is_named() {
    let ours = key_der("rsa2048-pkcs8.pem");
    let other = Vault::new(MasterKey::generate())
        .generate()
        .unwrap()
        .public_key_der();
    let value = sealpost_domain::dkim_txt_value(&ours);
    let base64 = base64::engine::general_purpose::STANDARD;
    // The same key written as a bare PKCS#1 key, with other tags in another order.
    let pkcs1 = std::process::Command::new("openssl")
        .args([
            "rsa",
            "-pubin",
            "-inform",
            "DER",
            "-RSAPublicKey_out",
            "-outform",
            "DER",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(&ours)?;
            child.wait_with_output()
        })
        .unwrap()
        .stdout;
    let rewritten = format!("k=rsa;  p={}", base64.encode(&pkcs1));

    let mut zone = Zone::new();
    zone = zone.txt_split("s._domainkey.ok.test", &value);
    zone = zone.txt_split("s._domainkey.rewritten.test", &rewritten);
    zone = zone.txt_split("s._domainkey.doubled.test.doubled.test", &value);
    zone = zone.txt_split("s._domainkey.several.test", &value);
    zone = zone.txt("s._domainkey.several.test", &["v=DKIM1; k=rsa; p="]);
    zone = zone.txt_split(
        "s._domainkey.other.test",
        &sealpost_domain::dkim_txt_value(&other),
    );
    zone = zone.txt("s._domainkey.revoked.test", &["v=DKIM1; k=rsa; p="]);
    zone = zone.txt_split("s._domainkey.testing.test", &format!("{value}; t=y"));
    zone = zone.txt(
        "s._domainkey.ed.test",
        &["v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="],
    );
    zone = zone.txt_split(
        "s._domainkey.sha1.test",
        &value.replace("k=rsa", "k=rsa; h=sha1"),
    );
    zone = zone.txt("s._domainkey.garbage.test", &["v=DKIM1; p=@@@"]);
    zone = zone.cname("s._domainkey.alias.test", "s.keys.provider.test");
    zone = zone.txt_split("s.keys.provider.test", &value);
    zone = zone.servfail("s._domainkey.broken.test");
    let dns = TestDns::start(zone).await.unwrap();
    let resolver = resolver(&dns);

    let cases: Vec<(&str, Option<&[u8]>, &str)> = vec![
        ("ok.test", Some(&ours), "ok"),
        ("rewritten.test", Some(&ours), "ok"),
        ("ok.test", None, "valid_uncompared"),
        ("missing.test", Some(&ours), "no_record"),
        ("doubled.test", Some(&ours), "doubled_name"),
        ("several.test", Some(&ours), "several_records"),
        ("other.test", Some(&ours), "different_key"),
        ("revoked.test", Some(&ours), "revoked"),
        ("testing.test", Some(&ours), "testing_mode"),
        ("ed.test", Some(&ours), "key_type_not_rsa"),
        ("sha1.test", Some(&ours), "hash_excludes_sha256"),
        ("garbage.test", Some(&ours), "syntax_error"),
        ("alias.test", Some(&ours), "ok"),
        ("broken.test", Some(&ours), "dns_error"),
    ];
    for (domain, key, code) in cases {
        let check = check_dkim_record(&resolver, domain, "s", key).await;
        assert_eq!(check.cause.code(), code, "{domain}: {check:#?}");
        assert!(!check.fix().is_empty() && !check.describe().is_empty());
    }

    let alias = check_dkim_record(&resolver, "alias.test", "s", Some(&ours)).await;
    assert_eq!(alias.cname_chain, ["s.keys.provider.test"]);
    let doubled = check_dkim_record(&resolver, "doubled.test", "s", Some(&ours)).await;
    assert!(
        doubled
            .fix()
            .contains("Enter only the part before the domain (\"s._domainkey\")"),
        "{}",
        doubled.fix()
    );
    let different = check_dkim_record(&resolver, "other.test", "s", Some(&ours)).await;
    match &different.cause {
        DkimRecordCause::DifferentKey {
            ours: mine,
            published,
        } => {
            assert_eq!(mine, &sealpost_dkim::fingerprint(&ours));
            assert_eq!(published, &sealpost_dkim::fingerprint(&other));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(different.expected_value.as_deref(), Some(value.as_str()));
    assert!(
        check_dkim_record(&resolver, "ok.test", "s", Some(&ours))
            .await
            .usable()
    );
    assert!(!different.usable());
}

#[tokio::test]
async fn dmarc_policies_alignment_and_advice() {
    let zone = Zone::new()
        .txt(
            "_dmarc.client.test",
            &["v=DMARC1; p=quarantine; sp=reject; adkim=s; rua=mailto:d@client.test"],
        )
        .txt("_dmarc.relaxed.test", &["v=DMARC1; p=none"])
        .txt("_dmarc.relaxed.test", &["some other text"])
        .txt("_dmarc.several.test", &["v=DMARC1; p=none"])
        .txt("_dmarc.several.test", &["v=DMARC1; p=reject"])
        .txt("_dmarc.invalid.test", &["v=DMARC1; p=maybe"])
        .servfail("_dmarc.broken.test");
    let dns = TestDns::start(zone).await.unwrap();
    let resolver = resolver(&dns);

    let own = check_dmarc(&resolver, "client.test", "client.test", "client.test").await;
    assert_eq!(own.applied_policy, Some(Policy::Quarantine));
    assert!(own.dkim_aligned && own.spf_aligned);
    assert_eq!(
        own.advised_record,
        "v=DMARC1; p=quarantine; sp=reject; adkim=s; rua=mailto:d@client.test"
    );

    // A subdomain without a record of its own falls under the organisational domain's sp=, and
    // adkim=s makes d=client.test unaligned with mail.client.test.
    let sub = check_dmarc(
        &resolver,
        "mail.client.test",
        "client.test",
        "bounce.client.test",
    )
    .await;
    assert!(matches!(&sub.found, DmarcFound::Record { name, .. } if name == "_dmarc.client.test"));
    assert_eq!(sub.applied_policy, Some(Policy::Reject));
    assert!(!sub.dkim_aligned);
    assert!(sub.spf_aligned);

    let relaxed = check_dmarc(&resolver, "relaxed.test", "relaxed.test", "platform.test").await;
    assert_eq!(relaxed.applied_policy, Some(Policy::None));
    assert!(!relaxed.spf_aligned);
    assert_eq!(
        relaxed.advised_record,
        "v=DMARC1; p=none; rua=mailto:dmarc-reports@relaxed.test"
    );

    let none = check_dmarc(&resolver, "nothing.test", "nothing.test", "nothing.test").await;
    assert_eq!(none.found, DmarcFound::None);
    assert_eq!(
        none.advised_record,
        "v=DMARC1; p=none; rua=mailto:dmarc-reports@nothing.test"
    );
    let several = check_dmarc(&resolver, "several.test", "several.test", "several.test").await;
    assert!(matches!(
        several.found,
        DmarcFound::Several { count: 2, .. }
    ));
    let invalid = check_dmarc(&resolver, "invalid.test", "invalid.test", "invalid.test").await;
    assert!(matches!(invalid.found, DmarcFound::Invalid { .. }));
    let broken = check_dmarc(&resolver, "broken.test", "broken.test", "broken.test").await;
    assert!(matches!(broken.found, DmarcFound::Dns(_)));
}

#[tokio::test]
async fn mx_hosts_null_mx_and_missing_mail_hosts() {
    let zone = Zone::new()
        .mx("client.test", 20, "backup.client.test")
        .mx("client.test", 10, "mx.client.test")
        .mx("null.test", 0, ".")
        .a("implicit.test", std::net::Ipv4Addr::new(192, 0, 2, 1))
        .txt("textonly.test", &["hello"])
        .servfail("broken.test");
    let dns = TestDns::start(zone).await.unwrap();
    let resolver = resolver(&dns);
    let check = check_mx(&resolver, "client.test").await;
    assert_eq!(
        check.cause,
        MxCause::Hosts(vec![
            (10, "mx.client.test".into()),
            (20, "backup.client.test".into())
        ])
    );
    for (domain, code) in [
        ("null.test", "null_mx"),
        ("implicit.test", "implicit_mx"),
        ("textonly.test", "no_mail_host"),
        ("absent.test", "nxdomain"),
        ("broken.test", "dns_error"),
    ] {
        let check = check_mx(&resolver, domain).await;
        assert_eq!(check.code(), code, "{check:?}");
        assert!(!check.fix().is_empty());
    }
}

/// A CNAME into the platform's DKIM zone (SPEC S11.4): delegated when it points at the expected
/// name; a CNAME elsewhere that does not lead to the key is named, with both names; a TXT record
/// reached through the tenant's own alias stays a TXT record.
#[tokio::test]
async fn a_cname_to_the_platforms_zone_is_delegation_and_a_wrong_one_is_named() {
    let ours = key_der("rsa2048-pkcs8.pem");
    let value = sealpost_domain::dkim_txt_value(&ours);
    let expected = "s.delegated-test.t1.dkim.platform.test";
    let zone = Zone::new()
        .cname("s._domainkey.delegated.test", expected)
        .txt_split(expected, &value)
        .cname(
            "s._domainkey.wrong.test",
            "s.other-test.t2.dkim.platform.test",
        )
        .cname("s._domainkey.alias.test", "s.keys.provider.test")
        .txt_split("s.keys.provider.test", &value)
        .txt_split("s._domainkey.plain.test", &value);
    let dns = TestDns::start(zone).await.unwrap();
    let resolver = resolver(&dns);
    let check = |domain: &'static str| {
        let resolver = resolver.clone();
        let ours = ours.clone();
        async move {
            check_dkim_record(&resolver, domain, "s", Some(&ours))
                .await
                .with_delegation(&expected.replace("delegated-test", &domain.replace('.', "-")))
        }
    };

    let delegated = check("delegated.test").await;
    assert_eq!(delegated.cause.code(), "ok", "{delegated:#?}");
    assert_eq!(delegated.publication, DkimPublication::Delegated);

    let wrong = check("wrong.test").await;
    assert_eq!(wrong.publication, DkimPublication::Txt);
    assert_eq!(
        wrong.describe(),
        "The CNAME points at s.other-test.t2.dkim.platform.test, expected \
         s.wrong-test.t1.dkim.platform.test."
    );
    assert!(
        wrong
            .fix()
            .starts_with("Change the CNAME at s._domainkey.wrong.test to point at s.wrong-test"),
        "{}",
        wrong.fix()
    );
    assert!(!wrong.usable());

    for domain in ["alias.test", "plain.test"] {
        let txt = check(domain).await;
        assert_eq!(txt.cause.code(), "ok", "{txt:#?}");
        assert_eq!(txt.publication, DkimPublication::Txt, "{domain}");
    }
}
