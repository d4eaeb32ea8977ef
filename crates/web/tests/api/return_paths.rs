//! Return-path domains over the API on both backends: set for a signing domain (answered with
//! the records to publish, or none when the platform cannot receive bounces), read, removed;
//! a domain outside the signing domain, an unknown signing domain and another tenant's are
//! refused.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_return_path_is_set_read_and_removed_per_tenant() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let acme = tenant_token(app, "acme").await;
        let other = tenant_token(app, "other").await;
        let body = json!({"domain": "client.example", "selector": "mail"});
        let (status, _) = call(
            app,
            Method::POST,
            "/api/v1/signing-domains",
            Some(&acme),
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let path = "/api/v1/return-paths/client.example";
        let outside = call(
            app,
            Method::PUT,
            path,
            Some(&acme),
            Some(json!({"return_path": "bounces.other.example"})),
        )
        .await;
        assert_error(
            &outside,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "return_path",
        );
        let unknown = call(
            app,
            Method::PUT,
            "/api/v1/return-paths/nosuch.example",
            Some(&acme),
            Some(json!({"return_path": "bounces.nosuch.example"})),
        )
        .await;
        assert_error(
            &unknown,
            StatusCode::NOT_FOUND,
            "not_found",
            "signing domain",
        );

        let (status, set) = call(
            app,
            Method::PUT,
            path,
            Some(&acme),
            Some(json!({"return_path": "bounces.client.example"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{set}");
        assert_eq!(set["return_path"], "bounces.client.example");
        assert_eq!(set["verified"], false);
        // This test platform has no inbound host: nothing to publish, and a check says why.
        assert_eq!(set["records"], json!([]));
        let check = call(
            app,
            Method::POST,
            &format!("{path}/check"),
            Some(&acme),
            None,
        )
        .await;
        assert_error(&check, StatusCode::CONFLICT, "conflict", "inbound host");

        let (status, shown) = call(app, Method::GET, path, Some(&acme), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(shown, set);
        let hidden = call(app, Method::GET, path, Some(&other), None).await;
        assert_error(&hidden, StatusCode::NOT_FOUND, "not_found", "return path");
        let (status, _) = call(app, Method::DELETE, path, Some(&acme), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let gone = call(app, Method::GET, path, Some(&acme), None).await;
        assert_error(&gone, StatusCode::NOT_FOUND, "not_found", "return path");
    }
}
