//! The reputation guard over the API on both backends: the operator reads a tenant's rates and
//! standing (good with no mail yet) and cannot resume a tenant that is not paused; the tenant
//! reads its own; a tenant key cannot reach the operator's route.

use axum::http::{Method, StatusCode};

use crate::support::*;

#[tokio::test]
async fn standing_is_read_by_the_operator_and_the_tenant() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let token = tenant_token(app, "acme").await;
        let (status, view) = call(
            app,
            Method::GET,
            "/api/v1/tenants/acme/reputation",
            Some(OPERATOR),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["standing"], "good");
        assert_eq!(view["sent"], 0);
        assert_eq!(view["pause_bounce_rate"], 0.1);
        let (status, own) = call(app, Method::GET, "/api/v1/reputation", Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(own, view);
        let refused = call(
            app,
            Method::POST,
            "/api/v1/tenants/acme/resume",
            Some(OPERATOR),
            None,
        )
        .await;
        assert_error(&refused, StatusCode::CONFLICT, "conflict", "not paused");
        let (status, _) = call(
            app,
            Method::GET,
            "/api/v1/tenants/acme/reputation",
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
