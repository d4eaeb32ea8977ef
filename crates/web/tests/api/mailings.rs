//! Contacts, mailings, the mail tester and troubleshooting over the API: the error paths, on
//! both backends (the happy paths run end to end in the binary's tester tests).

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn mailing_routes_refuse_bad_input_and_other_tenants() {
    let (_directory, apps) = apps().await;
    for app in apps {
        let acme = tenant_token(&app, "acme").await;
        let globex = tenant_token(&app, "globex").await;
        let post = |path: &'static str, token: String, body: serde_json::Value| {
            let app = app.clone();
            async move { call(&app, Method::POST, path, Some(&token), Some(body)).await }
        };

        let (status, _) = call(&app, Method::GET, "/api/v1/contacts", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let refused = post(
            "/api/v1/contacts",
            acme.clone(),
            json!({"name": "A", "email": "nope"}),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "email",
        );
        let refused = post(
            "/api/v1/contacts",
            acme.clone(),
            json!({"name": "A", "email": "a@client.example", "phone": "1"}),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::BAD_REQUEST,
            "bad_request",
            "unknown field `phone`",
        );
        let (status, sender) = post(
            "/api/v1/contacts",
            acme.clone(),
            json!({"name": "Facilities", "email": "facilities@client.example"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{sender}");
        let again = post(
            "/api/v1/contacts",
            acme.clone(),
            json!({"name": "Again", "email": "facilities@client.example"}),
        )
        .await;
        assert_error(&again, StatusCode::CONFLICT, "conflict", "contact");

        let refused = post(
            "/api/v1/mailings",
            acme.clone(),
            json!({"sender": "not-an-id", "recipients": [], "subject": "S", "body": "B"}),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "sender",
        );
        // The sender's domain is not a signing domain of the tenant: said, with the domain.
        let refused = post(
            "/api/v1/mailings",
            acme.clone(),
            json!({"sender": sender["id"], "recipients": [sender["id"]], "subject": "S",
                "body": "B"}),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "client.example is not one of the tenant's signing domains",
        );
        // Another tenant's contact does not exist for this one.
        let refused = post(
            "/api/v1/mailings",
            globex.clone(),
            json!({"sender": sender["id"], "recipients": [sender["id"]], "subject": "S",
                "body": "B"}),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::CONFLICT,
            "conflict",
            "no such contact",
        );

        let missing = "/api/v1/mailings/01a21f00-0000-7000-8000-000000000000";
        let (status, _) = call(&app, Method::GET, missing, Some(&acme), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = call(
            &app,
            Method::GET,
            "/api/v1/mailings/garbage",
            Some(&acme),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, list) = call(&app, Method::GET, "/api/v1/mailings", Some(&acme), None).await;
        assert_eq!((status, list), (StatusCode::OK, json!([])));
    }
}

#[tokio::test]
async fn the_mail_tester_and_troubleshooting_say_what_is_missing() {
    let (_directory, apps) = apps().await;
    for app in apps {
        let acme = tenant_token(&app, "acme").await;
        // This installation has no [checker] domain.
        let refused = call(
            &app,
            Method::POST,
            "/api/v1/checker/addresses",
            Some(&acme),
            None,
        )
        .await;
        assert_error(
            &refused,
            StatusCode::CONFLICT,
            "conflict",
            "[checker] domain",
        );
        let refused = call(
            &app,
            Method::POST,
            "/api/v1/checker/test-mailings",
            Some(&acme),
            Some(json!({"sender": "a@client.example"})),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::CONFLICT,
            "conflict",
            "[checker] domain",
        );
        let (status, reports) = call(
            &app,
            Method::GET,
            "/api/v1/checker/reports",
            Some(&acme),
            None,
        )
        .await;
        assert_eq!((status, reports), (StatusCode::OK, json!([])));
        let (status, _) = call(
            &app,
            Method::GET,
            "/api/v1/checker/reports/01a21f00-0000-7000-8000-000000000000",
            Some(&acme),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let refused = call(
            &app,
            Method::GET,
            "/api/v1/troubleshoot?sender=not%20an%20address",
            Some(&acme),
            None,
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "sender",
        );
    }
}
