//! Deleting a tenant through the API (SPEC S11.5): operator only, 404 for an unknown tenant, and
//! afterwards nothing of the tenant answers while another tenant is untouched.

use axum::http::{Method, StatusCode};

use crate::support::*;

#[tokio::test]
async fn the_operator_deletes_a_tenant_and_only_that_tenant() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        let doomed = tenant_token(app, "doomed").await;
        let kept = tenant_token(app, "kept").await;
        let doomed_domain = add_domain_with_fixture_key(app, &doomed).await;
        let kept_domain = add_domain_with_fixture_key(app, &kept).await;

        let unknown = call(
            app,
            Method::DELETE,
            "/api/v1/tenants/nobody",
            Some(OPERATOR),
            None,
        )
        .await;
        assert_error(&unknown, StatusCode::NOT_FOUND, "not_found", "tenant");
        // A tenant's API key is no operator token, whichever tenant it names.
        for token in [&doomed, &kept] {
            let refused = call(
                app,
                Method::DELETE,
                "/api/v1/tenants/doomed",
                Some(token),
                None,
            )
            .await;
            assert_eq!(refused.0, StatusCode::UNAUTHORIZED);
        }
        let (status, _) = call(
            app,
            Method::GET,
            "/api/v1/tenants/doomed",
            Some(OPERATOR),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "refused deletions delete nothing");

        let (status, body) = call(
            app,
            Method::DELETE,
            "/api/v1/tenants/doomed",
            Some(OPERATOR),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

        let gone = call(
            app,
            Method::GET,
            "/api/v1/tenants/doomed",
            Some(OPERATOR),
            None,
        )
        .await;
        assert_error(&gone, StatusCode::NOT_FOUND, "not_found", "tenant");
        let again = call(
            app,
            Method::DELETE,
            "/api/v1/tenants/doomed",
            Some(OPERATOR),
            None,
        )
        .await;
        assert_eq!(again.0, StatusCode::NOT_FOUND);
        let (status, _) = call(app, Method::GET, &doomed_domain, Some(&doomed), None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "the deleted tenant's key is revoked"
        );

        let (status, domain) = call(app, Method::GET, &kept_domain, Some(&kept), None).await;
        assert_eq!(status, StatusCode::OK, "{domain}");
        let (status, tenants) =
            call(app, Method::GET, "/api/v1/tenants", Some(OPERATOR), None).await;
        assert_eq!(status, StatusCode::OK);
        let names: Vec<&str> = tenants
            .as_array()
            .unwrap()
            .iter()
            .map(|tenant| tenant["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["kept"]);
    }
}
