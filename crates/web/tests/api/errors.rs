//! Errors that axum answers by itself (405, 413, a query string that does not parse) reach
//! the client in the API's JSON form, and a 413 names the limit.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use sealpost_store::{Store, testing};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::{OPERATOR, app, assert_error, call, tenant_token};

async fn sqlite_app() -> (tempfile::TempDir, axum::Router) {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    (directory, app(store).await)
}

#[tokio::test]
async fn a_method_the_route_does_not_have_is_405_json() {
    let (_directory, app) = sqlite_app().await;
    let request = Request::delete("/api/v1/tenants")
        .header("authorization", format!("Bearer {OPERATOR}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let allow = response.headers().get("allow").cloned();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_error(
        &(status, body),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "DELETE is not allowed on this route; the Allow header lists its methods",
    );
    assert_eq!(allow.unwrap(), "GET,HEAD,POST");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_json_naming_the_limit() {
    let (_directory, app) = sqlite_app().await;
    let huge = json!({"name": "A".repeat(100_000)});
    let refused = call(
        &app,
        Method::POST,
        "/api/v1/tenants",
        Some(OPERATOR),
        Some(huge),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "the request body is larger than the limit of 65536 bytes",
    );

    // A raw message route, refused on its Content-Length before anything is read.
    let token = tenant_token(&app, "acme").await;
    let request = Request::post("/api/v1/dkim/verify")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "message/rfc822")
        .header("content-length", "40000000")
        .body(Body::from("x"))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_error(
        &(status, body),
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "the request body is larger than the limit of 39387136 bytes",
    );
}

#[tokio::test]
async fn a_query_string_that_does_not_parse_is_400_json() {
    let (_directory, app) = sqlite_app().await;
    let token = tenant_token(&app, "acme").await;
    let refused = call(
        &app,
        Method::GET,
        "/api/v1/troubleshoot",
        Some(&token),
        None,
    )
    .await;
    assert_error(
        &refused,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "missing field `sender`",
    );
}

/// serde reads a struct from an array of its fields in order; the API takes only the object
/// its document describes, on every route with a JSON body.
#[tokio::test]
async fn a_json_array_in_place_of_the_object_is_refused() {
    let (_directory, app) = sqlite_app().await;
    let refused = call(
        &app,
        Method::POST,
        "/api/v1/tenants",
        Some(OPERATOR),
        Some(json!(["acme"])),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "the request body must be a JSON object",
    );
    let token = tenant_token(&app, "acme").await;
    let refused = call(
        &app,
        Method::PUT,
        "/api/v1/settings/delivery",
        Some(&token),
        Some(json!(["native", null])),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "the request body must be a JSON object",
    );
    let (status, native) = call(
        &app,
        Method::PUT,
        "/api/v1/settings/delivery",
        Some(&token),
        Some(json!({"mode": "native"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{native}");
}
