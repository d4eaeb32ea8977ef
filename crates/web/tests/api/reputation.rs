//! The reputation guard over the API on both backends: the operator reads a tenant's rates and
//! standing (good with no mail yet) and cannot resume a tenant that is not paused; the tenant
//! reads its own; a tenant key cannot reach the operator's route; a paused tenant's waiting
//! messages say they are held.

use axum::http::{Method, StatusCode};
use sealpost_domain::Timestamp;
use sealpost_store::testing;
use serde_json::json;

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

/// While a tenant's sending is paused, its messages with recipients waiting say why, in the
/// message and in the list: since when and for what reason; a message with no recipient
/// waiting, and every message after the resume, says nothing of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_tenant_s_waiting_messages_say_they_are_held() {
    let dns = fixture_key_dns().await;
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let app = app_with_dns(store.clone(), dns.addr()).await;
        let token = tenant_token(&app, "acme").await;
        let domain_path = add_domain_with_fixture_key(&app, &token).await;
        let active = Some(json!({"active": true}));
        call(&app, Method::PATCH, &domain_path, Some(&token), active).await;
        let mut ids = Vec::new();
        for to in ["someone@receiver.test", "else@receiver.test"] {
            let compose = json!({"from": "facilities@client.test", "to": [to],
                "subject": "Work order", "text": "The boiler is fixed."});
            let path = "/api/v1/messages";
            let (status, accepted) =
                call(&app, Method::POST, path, Some(&token), Some(compose)).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
            ids.push(accepted["id"].as_str().unwrap().to_owned());
        }
        let cancel = format!("/api/v1/messages/{}/cancel", ids[1]);
        let (status, _) = call(&app, Method::POST, &cancel, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
        let held = |id: String| {
            let (app, token) = (app.clone(), token.clone());
            async move {
                let path = format!("/api/v1/messages/{id}");
                let (status, message) = call(&app, Method::GET, &path, Some(&token), None).await;
                assert_eq!(status, StatusCode::OK, "{message}");
                let (_, list) =
                    call(&app, Method::GET, "/api/v1/messages", Some(&token), None).await;
                let listed = list
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|m| m["id"] == id.as_str());
                assert_eq!(listed.unwrap()["held"], message["held"]);
                message["held"].clone()
            }
        };
        assert_eq!(held(ids[0].clone()).await, json!(null));

        let name = sealpost_domain::TenantName::parse("acme").unwrap();
        let tenant = store.tenant_by_name(&name).await.unwrap().id;
        let pause = store.pause_sending(tenant, Timestamp(1_800_000_000), "bounce rate 12.50 %");
        assert!(pause.await.unwrap());
        let expected = json!({"since": 1_800_000_000, "reason": "bounce rate 12.50 %"});
        assert_eq!(held(ids[0].clone()).await, expected);
        assert_eq!(held(ids[1].clone()).await, json!(null), "nothing waits");

        let resume = "/api/v1/tenants/acme/resume";
        let (status, _) = call(&app, Method::POST, resume, Some(OPERATOR), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(held(ids[0].clone()).await, json!(null));
    }
}
