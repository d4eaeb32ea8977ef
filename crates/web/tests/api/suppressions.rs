//! The suppression list over the API on both backends: add, read, list, remove, import and
//! export per tenant; every bad input refused with a precise error and nothing stored; one
//! tenant's entries invisible to another.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn entries_are_added_listed_and_removed_per_tenant() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let acme = tenant_token(app, "acme").await;
        let other = tenant_token(app, "other").await;
        let body = json!({"address": "Gone@Client.test", "detail": "asked by phone"});
        let (status, created) = call(
            app,
            Method::POST,
            "/api/v1/suppressions",
            Some(&acme),
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["address"], "gone@client.test");
        assert_eq!(created["reason"], "manual");
        assert_eq!(created["detail"], "asked by phone");
        assert_eq!(created["message_id"], serde_json::Value::Null);

        let path = "/api/v1/suppressions/GONE@client.test";
        let (status, shown) = call(app, Method::GET, path, Some(&acme), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(shown, created);
        let (status, listed) =
            call(app, Method::GET, "/api/v1/suppressions", Some(&acme), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed, json!([created]));

        // The other tenant sees none of it and cannot remove it.
        let (_, listed) = call(app, Method::GET, "/api/v1/suppressions", Some(&other), None).await;
        assert_eq!(listed, json!([]));
        let refused = call(app, Method::DELETE, path, Some(&other), None).await;
        assert_error(&refused, StatusCode::NOT_FOUND, "not_found", "suppression");

        let (status, _) = call(app, Method::DELETE, path, Some(&acme), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let gone = call(app, Method::GET, path, Some(&acme), None).await;
        assert_error(&gone, StatusCode::NOT_FOUND, "not_found", "suppression");
    }
}

#[tokio::test]
async fn bad_entries_are_refused_and_store_nothing() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let acme = tenant_token(app, "acme").await;
        for (body, message) in [
            (
                json!({"address": "nobody"}),
                "address: \"nobody\" is not a valid",
            ),
            (
                json!({"address": "a@client.test", "reason": "spam"}),
                "reason: \"spam\" is not one of",
            ),
            (
                json!({"address": "a@client.test", "detail": "two\nlines"}),
                "detail: must be one line",
            ),
        ] {
            let refused = call(
                app,
                Method::POST,
                "/api/v1/suppressions",
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
        let refused = call(
            app,
            Method::GET,
            "/api/v1/suppressions/not-an-address",
            Some(&acme),
            None,
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "address",
        );

        let csv = "address,reason\nfine@client.test,complaint\nbroken@,manual\n";
        let refused = call(
            app,
            Method::POST,
            "/api/v1/suppressions/import",
            Some(&acme),
            Some(json!({"csv": csv})),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "csv: nothing was imported; line 3: ",
        );
        let (_, listed) = call(app, Method::GET, "/api/v1/suppressions", Some(&acme), None).await;
        assert_eq!(listed, json!([]));
    }
}

#[tokio::test]
async fn an_import_is_exported_as_csv_and_reads_back() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let acme = tenant_token(app, "acme").await;
        let csv =
            "address,reason,detail\nfine@client.test,complaint,\"FBL, Yahoo\"\nx@client.test\n";
        let (status, summary) = call(
            app,
            Method::POST,
            "/api/v1/suppressions/import",
            Some(&acme),
            Some(json!({"csv": csv})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{summary}");
        assert_eq!(summary, json!({"read": 2, "added": 2}));

        let (status, export) = raw_text(app, "/api/v1/suppressions/export", &acme).await;
        assert_eq!(status, StatusCode::OK);
        let lines: Vec<&str> = export.lines().collect();
        assert_eq!(lines[0], "address,reason,detail,created_at,message_id");
        assert!(
            lines[1].starts_with("fine@client.test,complaint,\"FBL, Yahoo\","),
            "{export}"
        );
        assert!(lines[2].starts_with("x@client.test,manual,,"), "{export}");

        let (status, again) = call(
            app,
            Method::POST,
            "/api/v1/suppressions/import",
            Some(&acme),
            Some(json!({"csv": export})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again, json!({"read": 2, "added": 0}));
    }
}
