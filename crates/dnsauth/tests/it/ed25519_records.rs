//! The DKIM record check of an Ed25519 key (RFC 8463) against a real DNS server on loopback: the
//! record must say `k=ed25519` and carry exactly our 32-byte key, and every other case is named.

use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_dnsauth::dkim_record::check_dkim_record_for;
use sealpost_domain::KeyAlgorithm;
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

#[tokio::test]
async fn ed25519_records_are_compared_key_to_key() {
    let vault = Vault::new(MasterKey::generate());
    let ours = vault
        .generate_key(KeyAlgorithm::Ed25519)
        .unwrap()
        .public_key_der();
    let other = vault
        .generate_key(KeyAlgorithm::Ed25519)
        .unwrap()
        .public_key_der();
    let rsa = vault.generate().unwrap().public_key_der();
    let value = sealpost_domain::dkim_txt_value_for(KeyAlgorithm::Ed25519, &ours);
    let zone = Zone::new()
        .txt("s._domainkey.ok.test", &[&value])
        .txt(
            "s._domainkey.other.test",
            &[&sealpost_domain::dkim_txt_value_for(
                KeyAlgorithm::Ed25519,
                &other,
            )],
        )
        .txt_split(
            "s._domainkey.rsa.test",
            &sealpost_domain::dkim_txt_value(&rsa),
        )
        .txt("s._domainkey.revoked.test", &["v=DKIM1; k=ed25519; p="])
        .txt("s._domainkey.short.test", &["v=DKIM1; k=ed25519; p=AAAA"]);
    let dns = TestDns::start(zone).await.unwrap();
    let resolver = Resolver::new(&ResolverConfig {
        nameserver: Some(dns.addr()),
        cache: false,
        ..ResolverConfig::default()
    })
    .unwrap();
    let cases = [
        ("ok.test", "ok"),
        ("other.test", "different_key"),
        ("rsa.test", "key_type_not_ed25519"),
        ("revoked.test", "revoked"),
        ("short.test", "syntax_error"),
        ("missing.test", "no_record"),
    ];
    for (domain, code) in cases {
        let check =
            check_dkim_record_for(&resolver, domain, "s", KeyAlgorithm::Ed25519, Some(&ours)).await;
        assert_eq!(check.cause.code(), code, "{domain}: {check:#?}");
        assert_eq!(check.expected_value.as_deref(), Some(value.as_str()));
        assert_eq!(check.usable(), code == "ok", "{domain}");
    }
    let wrong_type = check_dkim_record_for(
        &resolver,
        "rsa.test",
        "s",
        KeyAlgorithm::Ed25519,
        Some(&ours),
    )
    .await;
    assert!(
        wrong_type.fix().contains("ed25519-sha256"),
        "{}",
        wrong_type.fix()
    );
}
