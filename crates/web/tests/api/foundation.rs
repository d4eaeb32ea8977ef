//! Tenants, API keys and signing domains: operator routes, the lifecycle of a domain, refusals of
//! bad input, tenant isolation, the OpenAPI document and a real socket.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use sealpost_store::{Store, testing};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::*;

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
    let dns = sealpost_testdns::TestDns::start(sealpost_testdns::Zone::new())
        .await
        .unwrap();
    let (_directory, apps) = apps_with_dns(&dns).await;
    for app in &apps {
        dns.replace(sealpost_testdns::Zone::new()).unwrap();
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

        // Activation asks DNS for proof that the domain is the tenant's: without the DKIM record
        // (or the verification record) it is refused with both records named.
        let unproven = call(app, Method::PATCH, &path, token, Some(activate.clone())).await;
        assert_error(
            &unproven,
            StatusCode::CONFLICT,
            "domain_not_proven",
            "Publish the TXT record _sealpost.xn--bcher-kva.example",
        );
        dns.replace(fixture_key_zone("xn--bcher-kva.example"))
            .unwrap();
        let (status, active) = call(app, Method::PATCH, &path, token, Some(activate)).await;
        assert_eq!(status, StatusCode::OK, "{active}");
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
        assert!(
            record["advice"]
                .as_str()
                .unwrap()
                .contains("once the record carries it")
        );

        // A new key waits for its record under a selector of its own; the active key keeps
        // signing.
        let generate_path = format!("{path}/generate-key");
        let (status, regenerated) = call(app, Method::POST, &generate_path, token, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(regenerated["active"], true, "a new key never stops signing");
        assert_eq!(regenerated["key"]["origin"], "imported");
        assert_eq!(regenerated["key"]["state"], "active");
        let pending = &regenerated["keys"][1];
        assert_eq!(
            (&pending["state"], &pending["selector"], &pending["origin"]),
            (&json!("pending"), &json!("workplace2"), &json!("generated"))
        );
        assert!(
            regenerated["next_step"]
                .as_str()
                .unwrap()
                .contains("workplace2._domainkey.xn--bcher-kva.example"),
            "{regenerated}"
        );
        let rename = json!({"selector": "s2026"});
        let fixed = call(app, Method::PATCH, &path, token, Some(rename)).await;
        assert_error(&fixed, StatusCode::CONFLICT, "conflict", "no key");

        // Promotion waits for DNS, names the record, and may be forced with a warning.
        let promote_path = format!("{path}/keys/{}/promote", pending["id"].as_str().unwrap());
        let early = call(app, Method::POST, &promote_path, token, Some(json!({}))).await;
        assert_error(
            &early,
            StatusCode::CONFLICT,
            "conflict",
            "workplace2._domainkey.xn--bcher-kva.example",
        );
        let unknown = call(
            app,
            Method::POST,
            &promote_path,
            token,
            Some(json!({"force": 1})),
        )
        .await;
        assert_eq!(unknown.0, StatusCode::BAD_REQUEST, "{}", unknown.1);
        let (status, forced) = call(
            app,
            Method::POST,
            &promote_path,
            token,
            Some(json!({"force": true})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{forced}");
        let states: Vec<(&Value, &Value, &Value)> = forced["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| (&key["selector"], &key["state"], &key["forced"]))
            .collect();
        assert_eq!(
            states,
            [
                (&json!("workplace"), &json!("retiring"), &json!(false)),
                (&json!("workplace2"), &json!("active"), &json!(true))
            ]
        );
        let again = call(app, Method::POST, &promote_path, token, Some(json!({}))).await;
        assert_error(
            &again,
            StatusCode::CONFLICT,
            "conflict",
            "only a pending key",
        );
        let (status, events) = call(app, Method::GET, &format!("{path}/events"), token, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(events[0]["kind"], "key.active");
        assert_eq!(events[0]["warning"], true);
        let old_record = format!(
            "{path}/keys/{}/dns-record",
            forced["keys"][0]["id"].as_str().unwrap()
        );
        let (status, old) = call(app, Method::GET, &old_record, token, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(old["name"], "workplace._domainkey.xn--bcher-kva.example");
        let foreign_key = call(
            app,
            Method::GET,
            &format!("{path}/keys/{}/dns-record", created["id"].as_str().unwrap()),
            token,
            None,
        )
        .await;
        assert_error(&foreign_key, StatusCode::NOT_FOUND, "not_found", "key");

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
