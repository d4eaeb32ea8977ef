//! DKIM verification of uploaded messages and the DNS check of a signing domain, with keys from a
//! real DNS server.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use sealpost_store::testing;
use sealpost_vault::{MasterKey, Vault};
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_messages_are_verified_with_causes() {
    let vault = Vault::new(MasterKey::generate());
    let key = Arc::new(vault.import(&fixture("rsa2048-pkcs8.pem"), None).unwrap());
    let value = sealpost_domain::dkim_txt_value(&key.public_key_der());
    let dns = sealpost_testdns::TestDns::start(
        sealpost_testdns::Zone::new().txt_split("workplace._domainkey.client.test", &value),
    )
    .await
    .unwrap();
    let signer = sealpost_dkim::Signer::new(
        sealpost_domain::DomainName::parse("client.test").unwrap(),
        sealpost_domain::Selector::parse("workplace").unwrap(),
        key,
    );
    let body = "A line of a long body.\r\n".repeat(40_000);
    let message = format!("From: a@client.test\r\nSubject: Work order\r\n\r\n{body}");
    let signed = signer.sign(message.as_bytes(), 1_700_000_000).unwrap();

    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let app = app_with_dns(store, dns.addr()).await;
        let token = tenant_token(&app, "acme").await;

        let (status, report) = post_message(&app, Some(&token), signed.clone()).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["result"], "pass", "{report}");
        let signature = &report["signatures"][0];
        assert_eq!(signature["d"], "client.test");
        assert_eq!(signature["cause"], "verified");
        assert_eq!(signature["key"]["bits"], 2048);

        let tampered =
            String::from_utf8(signed.clone())
                .unwrap()
                .replacen("A line", "A changed line", 1);
        let (status, report) = post_message(&app, Some(&token), tampered.into_bytes()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(report["result"], "fail");
        assert_eq!(report["signatures"][0]["cause"], "body_modified");

        let (status, report) = post_message(&app, Some(&token), message.clone().into_bytes()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(report["result"], "none");
        assert_eq!(report["signatures"], json!([]));

        let empty = post_message(&app, Some(&token), Vec::new()).await;
        assert_error(
            &empty,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "empty",
        );
        let anonymous = post_message(&app, None, signed.clone()).await;
        assert_eq!(anonymous.0, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dns_check_compares_the_published_key_with_the_domains_own() {
    let dns = fixture_key_dns().await;
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let app = app_with_dns(store, dns.addr()).await;
        let token = tenant_token(&app, "acme").await;
        let other = tenant_token(&app, "other").await;
        let path = add_domain_with_fixture_key(&app, &token).await;

        let check_path = format!("{path}/dns-check");
        let (status, report) = call(&app, Method::GET, &check_path, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let section = |name: &str| {
            report["sections"]
                .as_array()
                .unwrap()
                .iter()
                .find(|section| section["check"] == name)
                .cloned()
                .unwrap()
        };
        assert_eq!(section("dkim")["findings"][0]["code"], "dkim.record");
        assert_eq!(section("dkim")["status"], "ok");
        // The platform is not configured in this test, and the zone has no SPF, DMARC or MX.
        assert_eq!(
            section("spf")["findings"][0]["code"],
            "spf.platform_not_configured"
        );
        assert_eq!(
            section("dmarc")["findings"][0]["code"],
            "dmarc.record_missing"
        );
        assert_eq!(section("mx")["findings"][0]["code"], "mx.no_mail_host");
        assert_eq!(report["status"], "error");

        // A new key waits for its record: the check still compares the active key, which DNS
        // carries; the pending key's record is looked up on its own selector.
        let (status, _) = call(
            &app,
            Method::POST,
            &format!("{path}/generate-key"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (_, report) = call(&app, Method::GET, &check_path, Some(&token), None).await;
        let dkim = report["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["check"] == "dkim")
            .cloned()
            .unwrap();
        assert_eq!(dkim["findings"][0]["code"], "dkim.record", "{dkim}");
        let (_, domain) = call(&app, Method::GET, &path, Some(&token), None).await;
        assert_eq!(domain["keys"][1]["state"], "pending");
        assert_eq!(
            domain["keys"][1]["record_name"],
            "workplace2._domainkey.client.test"
        );

        let foreign = call(&app, Method::GET, &check_path, Some(&other), None).await;
        assert_error(
            &foreign,
            StatusCode::NOT_FOUND,
            "not_found",
            "signing domain",
        );
    }
}
