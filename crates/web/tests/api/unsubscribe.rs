//! One-click unsubscribe over HTTP on both backends (RFC 8058): a message asked for with
//! `one_click_unsubscribe` carries List-Unsubscribe with a link to the platform and
//! List-Unsubscribe-Post; a GET of the link shows a confirmation page that unsubscribes no one,
//! a POST suppresses the address for that tenant, and the next message to it ends `suppressed`.
//! A forged token gets a 404 page; a message with two recipients, or with List-Unsubscribe of
//! its own, is refused with the reason.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::json;
use tower::ServiceExt as _;

use crate::support::*;

async fn page(app: &Router, method: Method, path: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("List-Unsubscribe=One-Click"))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn a_one_click_link_unsubscribes_its_recipient() {
    let dns = fixture_key_dns().await;
    let (_directory, apps) = apps_with_dns(&dns).await;
    for app in &apps {
        let token = tenant_token(app, "acme").await;
        prove_domain(
            app,
            &token,
            &dns,
            fixture_key_zone("client.test"),
            "client.test",
        )
        .await;
        let message = |to: Vec<&str>, extra: serde_json::Value| {
            let mut body = json!({"from": "News <news@client.test>", "to": to,
                "subject": "Our news", "text": "Hello", "one_click_unsubscribe": true});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            body
        };
        let two = call(
            app,
            Method::POST,
            "/api/v1/messages",
            Some(&token),
            Some(message(
                vec!["a@receiver.test", "b@receiver.test"],
                json!({}),
            )),
        )
        .await;
        assert_error(
            &two,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "only one recipient",
        );
        let own = call(
            app,
            Method::POST,
            "/api/v1/messages",
            Some(&token),
            Some(message(
                vec!["a@receiver.test"],
                json!({"headers": {"List-Unsubscribe": "<mailto:x@client.test>"}}),
            )),
        )
        .await;
        assert_error(
            &own,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "of its own",
        );

        let (status, accepted) = call(
            app,
            Method::POST,
            "/api/v1/messages",
            Some(&token),
            Some(message(vec!["reader@receiver.test"], json!({}))),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        let id = accepted["id"].as_str().unwrap();
        let (_, source) = raw_text(app, &format!("/api/v1/messages/{id}/raw"), &token).await;
        let prefix = format!("List-Unsubscribe: <{PUBLIC_URL}/unsubscribe/");
        assert!(source.starts_with(&prefix), "{source}");
        assert!(
            source.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
            "{source}"
        );
        let link = source["List-Unsubscribe: <".len()..]
            .split('>')
            .next()
            .unwrap()
            .strip_prefix(PUBLIC_URL)
            .unwrap()
            .to_owned();

        // A forged link, and a GET (a link scanner, or a person before confirming), change
        // nothing.
        let last = if link.ends_with('0') { '1' } else { '0' };
        let forged = format!("{}{last}", &link[..link.len() - 1]);
        let (status, text) = page(app, Method::POST, &forged).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(text.contains("not valid"), "{text}");
        let (status, text) = page(app, Method::GET, &link).await;
        assert_eq!(status, StatusCode::OK);
        assert!(text.contains("<form method=\"post\""), "{text}");
        let missing = call(
            app,
            Method::GET,
            "/api/v1/suppressions/reader@receiver.test",
            Some(&token),
            None,
        )
        .await;
        assert_error(&missing, StatusCode::NOT_FOUND, "not_found", "suppression");

        let (status, text) = page(app, Method::POST, &link).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert!(text.contains("unsubscribed"), "{text}");
        let (status, entry) = call(
            app,
            Method::GET,
            "/api/v1/suppressions/reader@receiver.test",
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(entry["reason"], "unsubscribe");
        assert_eq!(entry["message_id"], id);

        let (_, next) = call(
            app,
            Method::POST,
            "/api/v1/messages",
            Some(&token),
            Some(
                json!({"from": "news@client.test", "to": ["reader@receiver.test"],
                "subject": "More news", "text": "Hello again"}),
            ),
        )
        .await;
        let (_, shown) = call(
            app,
            Method::GET,
            &format!("/api/v1/messages/{}", next["id"].as_str().unwrap()),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(shown["recipients"][0]["state"], "suppressed", "{shown}");
    }
}
