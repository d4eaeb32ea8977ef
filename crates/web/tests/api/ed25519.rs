//! Ed25519 keys through the API (RFC 8463): `generate-key` and `import-key` take an `algorithm`
//! (RSA unless asked), the key shows its algorithm and `k=ed25519` record, and a key of the
//! wrong algorithm, a wrong password or an unknown algorithm name is refused with its reason.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_keys_are_generated_and_imported_beside_rsa_keys() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let token = tenant_token(app, "acme").await;
        let (status, created) = call(
            app,
            Method::POST,
            "/api/v1/signing-domains",
            Some(&token),
            Some(json!({"domain": "client.example", "selector": "workplace"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let path = format!(
            "/api/v1/signing-domains/{}",
            created["id"].as_str().unwrap()
        );

        // Without a body the key is RSA, as before.
        let (status, domain) = call(
            app,
            Method::POST,
            &format!("{path}/generate-key"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{domain}");
        assert_eq!(domain["keys"][0]["algorithm"], "rsa");
        assert_eq!(domain["keys"][0]["bits"], 2048);

        let (status, domain) = call(
            app,
            Method::POST,
            &format!("{path}/generate-key"),
            Some(&token),
            Some(json!({"algorithm": "ed25519"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{domain}");
        let ed = &domain["keys"][1];
        assert_eq!(ed["algorithm"], "ed25519", "{domain}");
        assert_eq!(ed["bits"], 256);
        assert_eq!(ed["selector"], "workplace-ed");
        assert_eq!(ed["state"], "pending");
        assert_eq!(ed["record_name"], "workplace-ed._domainkey.client.example");
        let key_id = ed["id"].as_str().unwrap();
        let (status, record) = call(
            app,
            Method::GET,
            &format!("{path}/keys/{key_id}/dns-record"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{record}");
        let value = record["value"].as_str().unwrap();
        assert!(value.starts_with("v=DKIM1; k=ed25519; p="), "{value}");
        assert_eq!(value.len(), "v=DKIM1; k=ed25519; p=".len() + 44);

        let import = format!("{path}/import-key");
        let body = json!({
            "pem": fixture("ed25519-pkcs8-pbkdf2-aes256.pem"),
            "password": "fixture-pass",
            "algorithm": "ed25519",
        });
        let (status, domain) = call(app, Method::POST, &import, Some(&token), Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{domain}");
        assert_eq!(domain["keys"][2]["selector"], "workplace-ed2");
        assert_eq!(domain["keys"][2]["origin"], "imported");
        assert_eq!(domain["keys"][2]["algorithm"], "ed25519");

        let refusals = [
            (
                json!({"pem": fixture("ed25519.pem")}),
                "import it as the domain's Ed25519 key",
            ),
            (
                json!({"pem": fixture("rsa2048-pkcs8.pem"), "algorithm": "ed25519"}),
                "paste an Ed25519 key",
            ),
            (
                json!({"pem": fixture("ed25519-pkcs8-scrypt-aes256.pem"), "password": "wrong",
                       "algorithm": "ed25519"}),
                "the password is wrong",
            ),
        ];
        for (body, message) in refusals {
            let refused = call(app, Method::POST, &import, Some(&token), Some(body)).await;
            assert_error(
                &refused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "key_refused",
                message,
            );
        }
        let unknown = call(
            app,
            Method::POST,
            &format!("{path}/generate-key"),
            Some(&token),
            Some(json!({"algorithm": "ed448"})),
        )
        .await;
        assert!(unknown.0.is_client_error(), "{unknown:?}");
        let (_, domain) = call(app, Method::GET, &path, Some(&token), None).await;
        assert_eq!(
            domain["keys"].as_array().unwrap().len(),
            3,
            "refusals store nothing"
        );
    }
}
