//! The API through the real router (`oneshot`) on both backends, and through a real socket.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use sealpost_service::{Service, Store, SystemClock};
use sealpost_store::testing;
use sealpost_vault::{MasterKey, Vault};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const OPERATOR: &str = "operator-secret-token";

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vault/resources/keys")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// The router on `store`, looking DNS up at `nameserver` (most tests make no lookups and pass
/// a loopback port nothing serves).
async fn app_with_dns(store: Store, nameserver: std::net::SocketAddr) -> Router {
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
        .with_delivery(sealpost_service::DeliverySettings::new("mta.platform.test").unwrap());
    sealpost_web::router(sealpost_web::AppState {
        service,
        operator_token: Some(Arc::from(OPERATOR)),
    })
}

async fn app(store: Store) -> Router {
    app_with_dns(store, ([127, 0, 0, 1], 9).into()).await
}

/// One router per backend.
async fn apps() -> (tempfile::TempDir, Vec<Router>) {
    let directory = tempfile::tempdir().unwrap();
    let mut apps = Vec::new();
    for store in testing::fresh_stores(directory.path()).await {
        apps.push(app(store).await);
    }
    (directory, apps)
}

async fn call(
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
async fn tenant_token(app: &Router, name: &str) -> String {
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
fn assert_error(result: &(StatusCode, Value), status: StatusCode, code: &str, message: &str) {
    assert_eq!(result.0, status, "{}", result.1);
    assert_eq!(result.1["error"]["code"], code, "{}", result.1);
    let text = result.1["error"]["message"].as_str().unwrap();
    assert!(text.contains(message), "{text:?} lacks {message:?}");
}

#[tokio::test]
async fn operator_routes_need_the_operator_token() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let none = call(app, Method::GET, "/api/v1/tenants", None, None).await;
        assert_error(
            &none,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authorization",
        );
        let wrong = call(app, Method::GET, "/api/v1/tenants", Some("nope"), None).await;
        assert_error(
            &wrong,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "operator token",
        );
        let token = tenant_token(app, "acme").await;
        let tenant_key = call(app, Method::GET, "/api/v1/tenants", Some(&token), None).await;
        assert_eq!(tenant_key.0, StatusCode::UNAUTHORIZED);

        let body = json!({"name": "acme"});
        let again = call(
            app,
            Method::POST,
            "/api/v1/tenants",
            Some(OPERATOR),
            Some(body),
        )
        .await;
        assert_error(&again, StatusCode::CONFLICT, "conflict", "already exists");
        let body = json!({"name": "Not Valid"});
        let bad = call(
            app,
            Method::POST,
            "/api/v1/tenants",
            Some(OPERATOR),
            Some(body),
        )
        .await;
        assert_error(
            &bad,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "tenant name",
        );
        let path = "/api/v1/tenants/nobody/api-keys";
        let unknown = call(app, Method::POST, path, Some(OPERATOR), Some(json!({}))).await;
        assert_error(&unknown, StatusCode::NOT_FOUND, "not_found", "tenant");

        let (status, keys) = call(
            app,
            Method::GET,
            "/api/v1/tenants/acme/api-keys",
            Some(OPERATOR),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(keys.as_array().unwrap().len(), 1);
        assert!(
            !keys.to_string().contains(&token),
            "tokens are shown once only"
        );
        assert!(token.starts_with("sp_") && token.len() == 67);

        let works = call(
            app,
            Method::GET,
            "/api/v1/signing-domains",
            Some(&token),
            None,
        )
        .await;
        assert_eq!(works.0, StatusCode::OK);
        let key_path = format!(
            "/api/v1/tenants/acme/api-keys/{}",
            keys[0]["id"].as_str().unwrap()
        );
        let foreign = call(app, Method::DELETE, &key_path, Some(&token), None).await;
        assert_eq!(
            foreign.0,
            StatusCode::UNAUTHORIZED,
            "tenants cannot revoke keys"
        );
        let (status, _) = call(app, Method::DELETE, &key_path, Some(OPERATOR), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let revoked = call(
            app,
            Method::GET,
            "/api/v1/signing-domains",
            Some(&token),
            None,
        )
        .await;
        assert_error(
            &revoked,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "API key",
        );
        let again = call(app, Method::DELETE, &key_path, Some(OPERATOR), None).await;
        assert_error(&again, StatusCode::NOT_FOUND, "not_found", "API key");
    }
}

#[tokio::test]
async fn signing_domain_lifecycle() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let token = tenant_token(app, "acme").await;
        let token = Some(token.as_str());
        let body = json!({"domain": "Bücher.example", "selector": "workplace"});
        let (status, created) = call(
            app,
            Method::POST,
            "/api/v1/signing-domains",
            token,
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["domain"], "xn--bcher-kva.example");
        assert_eq!(created["domain_unicode"], "bücher.example");
        assert_eq!(created["active"], false);
        assert_eq!(created["key"], Value::Null);
        let path = format!(
            "/api/v1/signing-domains/{}",
            created["id"].as_str().unwrap()
        );

        let activate = json!({"active": true});
        let no_key = call(app, Method::PATCH, &path, token, Some(activate.clone())).await;
        assert_error(
            &no_key,
            StatusCode::CONFLICT,
            "no_key",
            "generate a key pair or import",
        );
        let record_path = format!("{path}/dns-record");
        let no_record = call(app, Method::GET, &record_path, token, None).await;
        assert_error(&no_record, StatusCode::CONFLICT, "no_key", "no key yet");

        let import_path = format!("{path}/import-key");
        let body =
            json!({"pem": fixture("rsa2048-pkcs8-pbkdf2-aes256.pem"), "password": "fixture-pass"});
        let (status, imported) = call(app, Method::POST, &import_path, token, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{imported}");
        let key = &imported["key"];
        assert_eq!(key["bits"], 2048);
        assert_eq!(key["hash_algorithm"], "sha256");
        assert_eq!(key["origin"], "imported");
        assert_eq!(
            key["public_key_pem"].as_str().unwrap(),
            fixture("rsa2048-public.pem")
        );
        assert!(!imported.to_string().contains("PRIVATE"));

        let (status, active) = call(app, Method::PATCH, &path, token, Some(activate)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(active["active"], true);

        let (status, record) = call(app, Method::GET, &record_path, token, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(record["name"], "workplace._domainkey.xn--bcher-kva.example");
        assert_eq!(record["type"], "TXT");
        assert!(
            record["value"]
                .as_str()
                .unwrap()
                .starts_with("v=DKIM1; k=rsa; p=MIIBIjAN")
        );
        let strings = record["strings"].as_array().unwrap();
        assert!(strings.len() == 2 && strings.iter().all(|s| s.as_str().unwrap().len() <= 255));
        assert!(record["advice"].as_str().unwrap().contains("activate"));

        let generate_path = format!("{path}/generate-key");
        let (status, regenerated) = call(app, Method::POST, &generate_path, token, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(regenerated["key"]["origin"], "generated");
        assert_eq!(
            regenerated["active"], false,
            "a new key waits for its DNS record"
        );
        assert_ne!(regenerated["key"]["public_key_pem"], key["public_key_pem"]);

        let rename = json!({"selector": "s2026"});
        let (status, renamed) = call(app, Method::PATCH, &path, token, Some(rename)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(renamed["selector"], "s2026");

        let (status, listed) = call(app, Method::GET, "/api/v1/signing-domains", token, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed.as_array().unwrap().len(), 1);

        let (status, _) = call(app, Method::DELETE, &path, token, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let gone = call(app, Method::GET, &path, token, None).await;
        assert_error(&gone, StatusCode::NOT_FOUND, "not_found", "signing domain");
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_stored() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let raw_token = tenant_token(app, "acme").await;
        let token = Some(raw_token.as_str());
        let create = |domain: &str, selector: &str| json!({"domain": domain, "selector": selector});
        let list = "/api/v1/signing-domains";

        let bad = call(
            app,
            Method::POST,
            list,
            token,
            Some(create("http://x.example/", "s")),
        )
        .await;
        assert_error(
            &bad,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "not a URL",
        );
        let bad = call(
            app,
            Method::POST,
            list,
            token,
            Some(create("x.example", "a b")),
        )
        .await;
        assert_error(
            &bad,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "DKIM selector",
        );
        let extra = json!({"domain": "x.example", "selector": "s", "private_key": "x"});
        let bad = call(app, Method::POST, list, token, Some(extra)).await;
        assert_error(
            &bad,
            StatusCode::BAD_REQUEST,
            "bad_request",
            "unknown field",
        );
        let missing = json!({"domain": "x.example"});
        let bad = call(app, Method::POST, list, token, Some(missing)).await;
        assert_error(&bad, StatusCode::BAD_REQUEST, "bad_request", "selector");

        let (_, created) = call(
            app,
            Method::POST,
            list,
            token,
            Some(create("x.example", "s")),
        )
        .await;
        let dup = call(
            app,
            Method::POST,
            list,
            token,
            Some(create("X.example.", "s")),
        )
        .await;
        assert_error(
            &dup,
            StatusCode::CONFLICT,
            "conflict",
            "domain and selector",
        );

        let import = format!(
            "/api/v1/signing-domains/{}/import-key",
            created["id"].as_str().unwrap()
        );
        let cases = [
            ("ec-pkcs8.pem", None, "DKIM signing keys must be RSA"),
            ("ed25519.pem", None, "DKIM signing keys must be RSA"),
            ("dsa.pem", None, "DKIM signing keys must be RSA"),
            ("rsa1024-pkcs8.pem", None, "only 2048-bit keys are accepted"),
            ("rsa3072-pkcs8.pem", None, "only 2048-bit keys are accepted"),
            ("rsa4096-pkcs8.pem", None, "only 2048-bit keys are accepted"),
            ("certificate.pem", None, "certificate, not a private key"),
            ("rsa2048-public.pem", None, "this is a public key"),
            ("rsa2048-pkcs1-aes128.pem", None, "give the password"),
            (
                "rsa2048-pkcs1-aes128.pem",
                Some("wrong"),
                "the password is wrong",
            ),
            ("rsa2048-pkcs8.pem", Some("fixture-pass"), "not encrypted"),
        ];
        for (name, password, message) in cases {
            let body = json!({"pem": fixture(name), "password": password});
            let refused = call(app, Method::POST, &import, token, Some(body)).await;
            assert_error(
                &refused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "key_refused",
                message,
            );
        }
        let truncated: String = fixture("rsa2048-pkcs8.pem")
            .lines()
            .take(8)
            .collect::<Vec<_>>()
            .join("\n");
        let refused = call(
            app,
            Method::POST,
            &import,
            token,
            Some(json!({"pem": truncated})),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "key_refused",
            "cut off",
        );

        let path = import.trim_end_matches("/import-key");
        let (_, unchanged) = call(app, Method::GET, path, token, None).await;
        assert_eq!(unchanged, created, "refused imports store nothing");

        let huge = json!({"pem": "A".repeat(100_000)});
        let too_large = call(app, Method::POST, &import, token, Some(huge)).await;
        assert_eq!(too_large.0, StatusCode::PAYLOAD_TOO_LARGE);
        let plain = Request::post(&import)
            .header("authorization", format!("Bearer {raw_token}"))
            .body(Body::from("pem"))
            .unwrap();
        let response = app.clone().oneshot(plain).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

        let bad_token = call(app, Method::GET, list, Some("sp_00"), None).await;
        assert_error(
            &bad_token,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "API key",
        );
    }
}

#[tokio::test]
async fn tenant_isolation_matrix() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let acme = tenant_token(app, "acme").await;
        let globex = tenant_token(app, "globex").await;
        let body = json!({"domain": "acme.example", "selector": "workplace"});
        let (_, domain) = call(
            app,
            Method::POST,
            "/api/v1/signing-domains",
            Some(&acme),
            Some(body),
        )
        .await;
        let path = format!("/api/v1/signing-domains/{}", domain["id"].as_str().unwrap());
        call(
            app,
            Method::POST,
            &format!("{path}/generate-key"),
            Some(&acme),
            None,
        )
        .await;
        let (_, before) = call(app, Method::GET, &path, Some(&acme), None).await;

        let import = json!({"pem": fixture("rsa2048-pkcs8.pem")});
        let attempts = [
            (Method::GET, path.clone(), None),
            (Method::PATCH, path.clone(), Some(json!({"active": true}))),
            (Method::DELETE, path.clone(), None),
            (Method::POST, format!("{path}/generate-key"), None),
            (Method::POST, format!("{path}/import-key"), Some(import)),
            (Method::GET, format!("{path}/dns-record"), None),
        ];
        for (method, target, body) in attempts {
            let label = format!("{method} {target}");
            let result = call(app, method, &target, Some(&globex), body).await;
            assert_eq!(result.0, StatusCode::NOT_FOUND, "{label}: {}", result.1);
            assert_eq!(result.1["error"]["code"], "not_found", "{label}");
        }
        let (_, theirs) = call(
            app,
            Method::GET,
            "/api/v1/signing-domains",
            Some(&globex),
            None,
        )
        .await;
        assert_eq!(theirs, json!([]));
        let (_, after) = call(app, Method::GET, &path, Some(&acme), None).await;
        assert_eq!(after, before);

        let malformed = call(
            app,
            Method::GET,
            "/api/v1/signing-domains/not-an-id",
            Some(&acme),
            None,
        )
        .await;
        assert_eq!(malformed.0, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let app = app(store).await;
    let (status, document) = call(&app, Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v1/tenants",
        "/api/v1/tenants/{tenant}/api-keys",
        "/api/v1/signing-domains",
        "/api/v1/signing-domains/{id}",
        "/api/v1/signing-domains/{id}/generate-key",
        "/api/v1/signing-domains/{id}/import-key",
        "/api/v1/signing-domains/{id}/dns-record",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert!(document["components"]["securitySchemes"]["api_key"].is_object());
}

/// The same router served on a real loopback socket, spoken to with plain HTTP/1.1.
#[tokio::test]
async fn serves_over_a_real_socket() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let app = app(store).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let body = r#"{"name":"acme"}"#;
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "POST /api/v1/tenants HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {OPERATOR}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(
        response.starts_with("HTTP/1.1 201 Created\r\n"),
        "{response}"
    );
    assert!(
        response.contains("content-type: application/json"),
        "{response}"
    );
    let json_body = response.split("\r\n\r\n").nth(1).unwrap();
    let tenant: Value = serde_json::from_str(json_body).unwrap();
    assert_eq!(tenant["name"], "acme");
    assert_eq!(tenant["display_name"], "acme");
}

/// Posts a raw message to the verification route.
async fn post_message(app: &Router, token: Option<&str>, message: Vec<u8>) -> (StatusCode, Value) {
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
    let vault = Vault::new(MasterKey::generate());
    let key = vault.import(&fixture("rsa2048-pkcs8.pem"), None).unwrap();
    let value = sealpost_domain::dkim_txt_value(&key.public_key_der());
    let dns = sealpost_testdns::TestDns::start(
        sealpost_testdns::Zone::new().txt_split("workplace._domainkey.client.test", &value),
    )
    .await
    .unwrap();
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let app = app_with_dns(store, dns.addr()).await;
        let token = tenant_token(&app, "acme").await;
        let other = tenant_token(&app, "other").await;
        let body = json!({"domain": "client.test", "selector": "workplace"});
        let (status, created) = call(
            &app,
            Method::POST,
            "/api/v1/signing-domains",
            Some(&token),
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let path = format!(
            "/api/v1/signing-domains/{}",
            created["id"].as_str().unwrap()
        );
        let import = json!({"pem": fixture("rsa2048-pkcs8.pem")});
        let (status, _) = call(
            &app,
            Method::POST,
            &format!("{path}/import-key"),
            Some(&token),
            Some(import),
        )
        .await;
        assert_eq!(status, StatusCode::OK);

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

        // A new key no longer matches what is published.
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
        assert_eq!(dkim["findings"][0]["code"], "dkim.different_key");
        assert_eq!(
            dkim["suggested"]["name"],
            "workplace._domainkey.client.test"
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

async fn call_with_headers(
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

async fn raw_text(app: &Router, path: &str, token: &str) -> (StatusCode, String) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_accepted_signed_stored_and_shown() {
    let vault = Vault::new(MasterKey::generate());
    let key = vault.import(&fixture("rsa2048-pkcs8.pem"), None).unwrap();
    let value = sealpost_domain::dkim_txt_value(&key.public_key_der());
    let dns = sealpost_testdns::TestDns::start(
        sealpost_testdns::Zone::new().txt_split("workplace._domainkey.client.test", &value),
    )
    .await
    .unwrap();
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let app = app_with_dns(store, dns.addr()).await;
        let token = tenant_token(&app, "acme").await;
        let other = tenant_token(&app, "other").await;
        let body = json!({"domain": "client.test", "selector": "workplace"});
        let (_, created) = call(
            &app,
            Method::POST,
            "/api/v1/signing-domains",
            Some(&token),
            Some(body),
        )
        .await;
        let domain_path = format!(
            "/api/v1/signing-domains/{}",
            created["id"].as_str().unwrap()
        );
        let import = json!({"pem": fixture("rsa2048-pkcs8.pem")});
        call(
            &app,
            Method::POST,
            &format!("{domain_path}/import-key"),
            Some(&token),
            Some(import),
        )
        .await;
        call(
            &app,
            Method::PATCH,
            &domain_path,
            Some(&token),
            Some(json!({"active": true})),
        )
        .await;

        let compose = json!({
            "from": "Facilities <facilities@client.test>",
            "to": ["Someone <someone@receiver.test>"],
            "bcc": ["audit@archive.test"],
            "subject": "Work order 4711 ✓",
            "text": "The boiler is fixed.",
            "html": "<p>The boiler is fixed.</p>",
            "headers": {"X-Work-Order": "4711"},
            "attachments": [{"filename": "report.txt", "content_type": "text/plain", "content_base64": "aGVsbG8="}],
        });
        let idempotent = [("idempotency-key", "order-4711")];
        let (status, accepted) = call_with_headers(
            &app,
            Method::POST,
            "/api/v1/messages",
            &token,
            &idempotent,
            compose.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        assert_eq!(accepted["replayed"], false);
        let id = accepted["id"].as_str().unwrap().to_owned();
        let (status, again) = call_with_headers(
            &app,
            Method::POST,
            "/api/v1/messages",
            &token,
            &idempotent,
            compose,
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(
            (again["id"].as_str().unwrap(), &again["replayed"]),
            (id.as_str(), &json!(true))
        );

        let path = format!("/api/v1/messages/{id}");
        let (status, message) = call(&app, Method::GET, &path, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(message["signing"]["signed"], true);
        assert_eq!(message["signing"]["domain"], "client.test");
        assert_eq!(message["mail_from"], "facilities@client.test");
        let addresses: Vec<&str> = message["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["address"].as_str().unwrap())
            .collect();
        assert_eq!(addresses, ["someone@receiver.test", "audit@archive.test"]);
        assert!(
            message["recipients"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["state"] == "queued")
        );

        let (status, source) = raw_text(&app, &format!("{path}/raw"), &token).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            source.starts_with("DKIM-Signature: v=1; a=rsa-sha256;"),
            "{source}"
        );
        assert!(
            !source.contains("audit@archive.test"),
            "Bcc must not appear in the message"
        );
        assert!(source.contains("X-Work-Order: 4711\r\n"));
        let (status, verification) = call(
            &app,
            Method::GET,
            &format!("{path}/dkim"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(verification["result"], "pass", "{verification}");

        // A raw message from a domain the tenant does not have goes out unsigned, with the reason.
        let raw = json!({"mail_from": "bounce@other.test", "recipients": ["a@receiver.test"], "raw": "From: a@other.test\nSubject: x\n\nbody\n"});
        let (status, accepted) =
            call_with_headers(&app, Method::POST, "/api/v1/messages/raw", &token, &[], raw).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        let unsigned_path = format!("/api/v1/messages/{}", accepted["id"].as_str().unwrap());
        let (_, unsigned) = call(&app, Method::GET, &unsigned_path, Some(&token), None).await;
        assert_eq!(unsigned["signing"]["signed"], false);
        assert_eq!(
            unsigned["signing"]["unsigned_code"],
            "from_domain_not_a_signing_domain"
        );

        // Cancel what waits; a second cancel changes nothing.
        let (_, cancelled) = call(
            &app,
            Method::POST,
            &format!("{path}/cancel"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(cancelled["changed"], 2);
        let (_, cancelled) = call(
            &app,
            Method::POST,
            &format!("{path}/cancel"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(cancelled["changed"], 0);
        let (_, listed) = call(&app, Method::GET, "/api/v1/messages", Some(&token), None).await;
        assert_eq!(listed.as_array().unwrap().len(), 2);

        // Bad input is refused and nothing is queued.
        let bad = [
            (
                json!({"from": "a@client.test", "to": ["b@receiver.test"], "subject": "x\r\nBcc: v@victim.test", "text": "t"}),
                "line break",
            ),
            (
                json!({"from": "a@client.test", "to": [], "subject": "x", "text": "t"}),
                "at least one recipient",
            ),
            (
                json!({"from": "a@client.test", "to": ["not-an-address"], "subject": "x", "text": "t"}),
                "not a valid e-mail address",
            ),
            (
                json!({"from": "a@client.test", "to": ["b@receiver.test"], "subject": "x"}),
                "text or an HTML body",
            ),
            (
                json!({"from": "a@client.test", "to": ["b@receiver.test"], "subject": "x", "text": "t", "headers": {"DKIM-Signature": "x"}}),
                "may not be set",
            ),
        ];
        for (body, words) in bad {
            let refused =
                call_with_headers(&app, Method::POST, "/api/v1/messages", &token, &[], body).await;
            assert_error(
                &refused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                words,
            );
        }
        let refused = call_with_headers(
            &app,
            Method::POST,
            "/api/v1/messages/raw",
            &token,
            &[],
            json!({"mail_from": "a@client.test", "recipients": ["b@receiver.test"]}),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "exactly one of raw",
        );
        let unknown_field = call_with_headers(
            &app,
            Method::POST,
            "/api/v1/messages",
            &token,
            &[],
            json!({"from": "a@client.test", "subject": "x", "text": "t", "priority": 1}),
        )
        .await;
        assert_eq!(unknown_field.0, StatusCode::BAD_REQUEST);
        let (_, listed) = call(&app, Method::GET, "/api/v1/messages", Some(&token), None).await;
        assert_eq!(listed.as_array().unwrap().len(), 2);

        // Another tenant sees nothing.
        let foreign = call(&app, Method::GET, &path, Some(&other), None).await;
        assert_error(&foreign, StatusCode::NOT_FOUND, "not_found", "message");
        let (status, _) = raw_text(&app, &format!("{path}/raw"), &other).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn delivery_settings_keep_the_relay_password_sealed_and_write_only() {
    const PASSWORD: &str = "s3cret-relay-passw0rd";
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let app = app(store.clone()).await;
        let token = tenant_token(&app, "acme").await;
        let path = "/api/v1/settings/delivery";
        let (status, native) = call(&app, Method::GET, path, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(native, json!({"mode": "native", "relay": null}));

        let without_password = json!({"mode": "relay", "host": "smtp.client.test", "port": 465, "username": "facilities", "use_ssl": true});
        let refused = call(
            &app,
            Method::PUT,
            path,
            Some(&token),
            Some(without_password.clone()),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "password",
        );
        let mut with_password = without_password.clone();
        with_password["password"] = json!(PASSWORD);
        let (status, relay) =
            call(&app, Method::PUT, path, Some(&token), Some(with_password)).await;
        assert_eq!(status, StatusCode::OK, "{relay}");
        assert_eq!(relay["mode"], "relay");
        assert_eq!(relay["relay"]["password_set"], true);
        assert_eq!(relay["relay"]["tls_mode"], "default");
        assert!(!relay.to_string().contains(PASSWORD));

        // Saving the form without a password keeps the stored one.
        let (status, kept) = call(
            &app,
            Method::PUT,
            path,
            Some(&token),
            Some(without_password),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(kept["relay"]["password_set"], true);

        let bad = [
            (
                json!({"mode": "relay", "host": "not a host", "port": 25}),
                "host",
            ),
            (
                json!({"mode": "relay", "host": "smtp.client.test", "port": 0}),
                "port",
            ),
            (
                json!({"mode": "relay", "host": "smtp.client.test", "port": 25, "tls_mode": "sometimes"}),
                "tls_mode",
            ),
            (
                json!({"mode": "relay", "host": "smtp.client.test", "port": 465, "use_ssl": true, "tls_mode": "none"}),
                "use SSL",
            ),
            (json!({"mode": "carrier-pigeon"}), "mode"),
        ];
        for (body, words) in bad {
            let refused = call(&app, Method::PUT, path, Some(&token), Some(body)).await;
            assert_error(
                &refused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                words,
            );
        }
        let (_, unchanged) = call(&app, Method::GET, path, Some(&token), None).await;
        assert_eq!(unchanged["relay"]["host"], "smtp.client.test");

        // The stored password is sealed: neither the row nor the SQLite files hold it.
        let tenant_id = store.list_tenants().await.unwrap()[0].id;
        let sealed = store
            .sealed_relay_password(tenant_id)
            .await
            .unwrap()
            .unwrap();
        assert!(
            !sealed
                .windows(PASSWORD.len())
                .any(|window| window == PASSWORD.as_bytes())
        );
        for entry in std::fs::read_dir(directory.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !bytes
                    .windows(PASSWORD.len())
                    .any(|window| window == PASSWORD.as_bytes())
            );
        }

        let (status, native) = call(
            &app,
            Method::PUT,
            path,
            Some(&token),
            Some(json!({"mode": "native"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(native["mode"], "native");
    }
}

/// A mail server on loopback that offers AUTH PLAIN without TLS and accepts any login: enough for
/// "Test connection" with TLS mode none. Returns its port and what it received.
async fn login_server() -> (u16, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = tokio::io::BufReader::new(read).lines();
        let mut received = String::new();
        write
            .write_all(b"220 relay.client.test ESMTP\r\n")
            .await
            .unwrap();
        while let Ok(Some(line)) = lines.next_line().await {
            received.push_str(&line);
            received.push('\n');
            let reply: &[u8] = match line
                .split(' ')
                .next()
                .unwrap_or("")
                .to_ascii_uppercase()
                .as_str()
            {
                "EHLO" => b"250-relay.client.test\r\n250 AUTH PLAIN LOGIN\r\n",
                "AUTH" => b"235 2.7.0 Authentication successful\r\n",
                "QUIT" => b"221 2.0.0 Bye\r\n",
                _ => b"502 5.5.1 not here\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
        received
    });
    (port, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_shows_a_transcript_without_the_password() {
    const PASSWORD: &str = "relay-secret-4711";
    let directory = tempfile::tempdir().unwrap();
    let store = testing::fresh_stores(directory.path()).await.remove(0);
    let app = app(store).await;
    let token = tenant_token(&app, "acme").await;
    let path = "/api/v1/settings/delivery/test";
    let native = call(&app, Method::POST, path, Some(&token), None).await;
    assert_error(
        &native,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        "does not use its own mail server",
    );

    let (port, server) = login_server().await;
    let relay = json!({"mode": "relay", "host": "127.0.0.1", "port": port, "username": "facilities", "password": PASSWORD, "tls_mode": "none"});
    let (status, _) = call(
        &app,
        Method::PUT,
        "/api/v1/settings/delivery",
        Some(&token),
        Some(relay),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, test) = call(&app, Method::POST, path, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["success"], true, "{test}");
    let transcript = test["transcript"].to_string();
    assert!(transcript.contains("AUTH PLAIN ***"), "{transcript}");
    assert!(transcript.contains("235 2.7.0"), "{transcript}");
    use base64::Engine as _;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("\0facilities\0{PASSWORD}"));
    assert!(!test.to_string().contains(PASSWORD) && !test.to_string().contains(&encoded));
    // The server really received the credentials: the redaction is in the transcript only.
    assert!(server.await.unwrap().contains(&encoded));
}

#[tokio::test]
async fn metrics_need_the_operator_token() {
    let directory = tempfile::tempdir().unwrap();
    let store = testing::fresh_stores(directory.path()).await.remove(0);
    let app = app(store).await;
    tenant_token(&app, "acme").await;
    let (status, _) = raw_text(&app, "/metrics", "sp_not-an-operator").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, text) = raw_text(&app, "/metrics", OPERATOR).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("# TYPE sealpost_accepted_total counter"),
        "{text}"
    );
    assert!(
        text.contains("sealpost_queue_recipients{state=\"queued\"} 0"),
        "{text}"
    );
    assert!(text.contains("sealpost_queue_oldest_seconds 0"), "{text}");
}
