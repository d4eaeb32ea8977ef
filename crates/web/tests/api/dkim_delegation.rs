//! DKIM by CNAME delegation through the API (SPEC S11.4): `dkim-delegation` answers the CNAMEs
//! to publish once, on a platform that serves a DKIM zone, and 409 with the reason elsewhere.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use sealpost_domain::{DkimZone, DomainName};
use sealpost_service::{Service, SystemClock};
use sealpost_store::testing;
use sealpost_vault::{MasterKey, Vault};
use serde_json::json;

use crate::support::*;

async fn domain_path(app: &axum::Router, token: &str, domain: &str) -> String {
    let (status, created) = call(
        app,
        Method::POST,
        "/api/v1/signing-domains",
        Some(token),
        Some(json!({"domain": domain, "selector": "workplace"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    format!(
        "/api/v1/signing-domains/{}/dkim-delegation",
        created["id"].as_str().unwrap()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cnames_are_offered_where_the_platform_serves_a_zone() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let resolver = sealpost_dns::Resolver::new(&sealpost_dns::ResolverConfig {
            nameserver: Some(([127, 0, 0, 1], 9).into()),
            cache: false,
            ..sealpost_dns::ResolverConfig::default()
        })
        .unwrap();
        let zone = DkimZone::new(DomainName::parse("dkim.platform.test").unwrap());
        let service = Service::open(
            store,
            Vault::new(MasterKey::generate()),
            Arc::new(SystemClock),
            resolver,
        )
        .await
        .unwrap()
        .with_dkim_zone(Some(zone));
        let app = sealpost_web::router(sealpost_web::AppState {
            service,
            operator_token: Some(Arc::from(OPERATOR)),
        });
        let token = tenant_token(&app, "acme").await;
        let path = domain_path(&app, &token, "mail.client-a.example").await;
        let (status, records) = call(&app, Method::GET, &path, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{records}");
        let records = records.as_array().unwrap();
        assert_eq!(records.len(), 2, "{records:?}");
        assert_eq!(
            records[0]["name"],
            "workplace._domainkey.mail.client-a.example"
        );
        assert_eq!(records[0]["host"], "workplace._domainkey.mail");
        assert_eq!(records[0]["type"], "CNAME");
        let value = records[0]["value"].as_str().unwrap();
        assert!(
            value.starts_with("workplace.mail-client--a-example.")
                && value.ends_with(".dkim.platform.test"),
            "{value}"
        );
        assert_eq!(
            records[1]["name"],
            "workplace2._domainkey.mail.client-a.example"
        );

        // A domain whose encoded name does not fit in one label is told to use the TXT record.
        let long = format!("{}.example", "a".repeat(60));
        let path = domain_path(&app, &token, &long).await;
        let refused = call(&app, Method::GET, &path, Some(&token), None).await;
        assert_error(
            &refused,
            StatusCode::CONFLICT,
            "conflict",
            "publish the TXT record",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_zone_delegation_is_refused_with_the_reason() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let token = tenant_token(app, "acme").await;
        let path = domain_path(app, &token, "client.example").await;
        let refused = call(app, Method::GET, &path, Some(&token), None).await;
        assert_error(
            &refused,
            StatusCode::CONFLICT,
            "conflict",
            "the platform serves no DKIM zone",
        );
    }
}
