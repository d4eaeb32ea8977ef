//! Webhook endpoints over the API on both backends: an endpoint is added with its secret shown
//! once and never again, changed, rotated (a new secret, the old one kept signing for a while),
//! sent a test event, and removed; bad URLs (other schemes, credentials, private addresses) and
//! unknown event types are refused and store nothing; another tenant sees none of it.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn endpoints_are_added_changed_rotated_and_removed_per_tenant() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let acme = tenant_token(app, "acme").await;
        let other = tenant_token(app, "other").await;
        let body = json!({"url": "https://hooks.client.example/sealpost",
            "event_types": ["message.bounced", "message.delivered"]});
        let (status, created) = call(
            app,
            Method::POST,
            "/api/v1/webhooks",
            Some(&acme),
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let secret = created["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"), "{created}");
        let webhook = &created["webhook"];
        assert_eq!(
            webhook["event_types"],
            json!(["message.delivered", "message.bounced"])
        );
        assert_eq!(webhook["enabled"], true);
        let path = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());

        // The secret leaves only once.
        let (status, shown) = call(app, Method::GET, &path, Some(&acme), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&shown, webhook);
        let (_, listed) = call(app, Method::GET, "/api/v1/webhooks", Some(&acme), None).await;
        assert_eq!(listed, json!([webhook]));
        assert!(!listed.to_string().contains(&secret[6..]));

        let (status, changed) = call(
            app,
            Method::PATCH,
            &path,
            Some(&acme),
            Some(json!({"event_types": ["*"], "enabled": false})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["event_types"], json!(["*"]));
        assert_eq!(changed["enabled"], false);

        let (status, rotated) = call(
            app,
            Method::POST,
            &format!("{path}/rotate-secret"),
            Some(&acme),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{rotated}");
        assert_ne!(rotated["secret"], json!(secret));
        let (_, shown) = call(app, Method::GET, &path, Some(&acme), None).await;
        assert!(
            shown["previous_secret_until"].as_i64().unwrap()
                > shown["created_at"].as_i64().unwrap()
        );

        let (status, _) = call(
            app,
            Method::POST,
            &format!("{path}/test"),
            Some(&acme),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let (status, log) = call(
            app,
            Method::GET,
            &format!("{path}/deliveries"),
            Some(&acme),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(log[0]["event_type"], "test");
        assert_eq!(log[0]["state"], "pending");
        let replay = call(
            app,
            Method::POST,
            &format!("{path}/deliveries/{}/replay", log[0]["id"]),
            Some(&acme),
            None,
        )
        .await;
        assert_error(&replay, StatusCode::CONFLICT, "conflict", "given up");

        // Another tenant sees nothing of it.
        let (_, listed) = call(app, Method::GET, "/api/v1/webhooks", Some(&other), None).await;
        assert_eq!(listed, json!([]));
        for method in [Method::GET, Method::DELETE] {
            let refused = call(app, method, &path, Some(&other), None).await;
            assert_error(
                &refused,
                StatusCode::NOT_FOUND,
                "not_found",
                "webhook endpoint",
            );
        }

        let (status, _) = call(app, Method::DELETE, &path, Some(&acme), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let gone = call(app, Method::GET, &path, Some(&acme), None).await;
        assert_error(
            &gone,
            StatusCode::NOT_FOUND,
            "not_found",
            "webhook endpoint",
        );
    }
}

#[tokio::test]
async fn bad_endpoints_are_refused_and_store_nothing() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let acme = tenant_token(app, "acme").await;
        for (body, message) in [
            (json!({"url": "ftp://hooks.client.example/"}), "https://"),
            (
                json!({"url": "https://user:pw@hooks.client.example/"}),
                "password",
            ),
            (json!({"url": "http://127.0.0.1:8080/"}), "private"),
            (json!({"url": "http://[::1]/"}), "private"),
            (json!({"url": "http://169.254.169.254/latest/"}), "private"),
            (
                json!({"url": "https://hooks.client.example/", "event_types": ["message.opened"]}),
                "not an event type",
            ),
        ] {
            let refused = call(
                app,
                Method::POST,
                "/api/v1/webhooks",
                Some(&acme),
                Some(body),
            )
            .await;
            assert_error(
                &refused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                message,
            );
        }
        let (_, listed) = call(app, Method::GET, "/api/v1/webhooks", Some(&acme), None).await;
        assert_eq!(listed, json!([]));
    }
}
