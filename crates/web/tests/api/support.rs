//! What the API tests share: routers on both backends (with a DNS server when a test needs
//! one), requests with and without tokens, and tenants with API keys.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use sealpost_service::{Service, SystemClock};
use sealpost_store::{Store, testing};
use sealpost_vault::{MasterKey, Vault};
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub const OPERATOR: &str = "operator-secret-token";

/// Where one-click unsubscribe links point.
pub const PUBLIC_URL: &str = "https://mail.platform.test";

pub fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vault/resources/keys")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// The router on `store`, looking DNS up at `nameserver` (most tests make no lookups and pass
/// a loopback port nothing serves).
pub async fn app_with_dns(store: Store, nameserver: std::net::SocketAddr) -> Router {
    let resolver = sealpost_dns::Resolver::new(&sealpost_dns::ResolverConfig {
        nameserver: Some(nameserver),
        cache: false,
        ..sealpost_dns::ResolverConfig::default()
    })
    .unwrap();
    let vault = Vault::new(MasterKey::generate());
    let service = Service::open(store, vault, Arc::new(SystemClock), resolver)
        .await
        .unwrap()
        .with_relay_test(
            sealpost_service::DeliveryNode::new("mta.platform.test")
                .unwrap()
                .relay,
        )
        .with_public_url(Some(PUBLIC_URL.to_owned()));
    sealpost_web::router(sealpost_web::AppState {
        service,
        operator_token: Some(Arc::from(OPERATOR)),
    })
}

pub async fn app(store: Store) -> Router {
    app_with_dns(store, ([127, 0, 0, 1], 9).into()).await
}

/// One router per backend.
pub async fn apps() -> (tempfile::TempDir, Vec<Router>) {
    let directory = tempfile::tempdir().unwrap();
    let mut apps = Vec::new();
    for store in testing::fresh_stores(directory.path()).await {
        apps.push(app(store).await);
    }
    (directory, apps)
}

pub async fn call(
    app: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

/// Creates a tenant and returns its API token.
pub async fn tenant_token(app: &Router, name: &str) -> String {
    let body = json!({"name": name, "display_name": format!("{name} Ltd")});
    let (status, _) = call(
        app,
        Method::POST,
        "/api/v1/tenants",
        Some(OPERATOR),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/api/v1/tenants/{name}/api-keys");
    let (status, key) = call(
        app,
        Method::POST,
        &path,
        Some(OPERATOR),
        Some(json!({"label": "app"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    key["token"].as_str().unwrap().to_owned()
}

#[track_caller]
pub fn assert_error(result: &(StatusCode, Value), status: StatusCode, code: &str, message: &str) {
    assert_eq!(result.0, status, "{}", result.1);
    assert_eq!(result.1["error"]["code"], code, "{}", result.1);
    let text = result.1["error"]["message"].as_str().unwrap();
    assert!(text.contains(message), "{text:?} lacks {message:?}");
}

pub async fn post_message(
    app: &Router,
    token: Option<&str>,
    message: Vec<u8>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/dkim/verify")
        .header("content-type", "message/rfc822");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(message)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

pub async fn call_with_headers(
    app: &Router,
    method: Method,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

pub async fn raw_text(app: &Router, path: &str, token: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// The fixture key's DKIM record at `workplace._domainkey.<domain>`.
pub fn fixture_key_zone(domain: &str) -> sealpost_testdns::Zone {
    let key = Vault::new(MasterKey::generate())
        .import(&fixture("rsa2048-pkcs8.pem"), None)
        .unwrap();
    let value = sealpost_domain::dkim_txt_value(&key.public_key_der());
    sealpost_testdns::Zone::new().txt_split(&format!("workplace._domainkey.{domain}"), &value)
}

/// A DNS server publishing the fixture key at `workplace._domainkey.client.test`.
pub async fn fixture_key_dns() -> sealpost_testdns::TestDns {
    sealpost_testdns::TestDns::start(fixture_key_zone("client.test"))
        .await
        .unwrap()
}

/// One router per backend, all looking DNS up at `dns`.
pub async fn apps_with_dns(dns: &sealpost_testdns::TestDns) -> (tempfile::TempDir, Vec<Router>) {
    let directory = tempfile::tempdir().unwrap();
    let mut apps = Vec::new();
    for store in testing::fresh_stores(directory.path()).await {
        apps.push(app_with_dns(store, dns.addr()).await);
    }
    (directory, apps)
}

/// Proves `domain` for the tenant of `token` as a tenant would: adds it as a sending domain,
/// publishes the verification record it shows (served from now on by `dns`, with `zone`), and
/// verifies it. Returns the zone with the record, to build on.
pub async fn prove_domain(
    app: &Router,
    token: &str,
    dns: &sealpost_testdns::TestDns,
    zone: sealpost_testdns::Zone,
    domain: &str,
) -> sealpost_testdns::Zone {
    let (status, added) = call(
        app,
        Method::POST,
        "/api/v1/sending-domains",
        Some(token),
        Some(json!({"domain": domain})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let record = &added["verification_record"];
    let zone = zone.txt(
        record["name"].as_str().unwrap(),
        &[record["value"].as_str().unwrap()],
    );
    dns.replace(zone.clone()).unwrap();
    let path = format!("/api/v1/sending-domains/{domain}/verify");
    let (status, verified) = call(app, Method::POST, &path, Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["status"], "proven");
    zone
}

/// Adds `client.test` (selector `workplace`) with the fixture key; returns the domain's path.
pub async fn add_domain_with_fixture_key(app: &Router, token: &str) -> String {
    let body = json!({"domain": "client.test", "selector": "workplace"});
    let (status, created) = call(
        app,
        Method::POST,
        "/api/v1/signing-domains",
        Some(token),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = format!(
        "/api/v1/signing-domains/{}",
        created["id"].as_str().unwrap()
    );
    let import = json!({"pem": fixture("rsa2048-pkcs8.pem")});
    let (status, imported) = call(
        app,
        Method::POST,
        &format!("{path}/import-key"),
        Some(token),
        Some(import),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    path
}
