//! What a hostile or careless client sends to the message and tenant routes, each refused with
//! the reason and nothing stored: a reused Idempotency-Key with another request, NUL bytes,
//! over-long lines, 8-bit headers, messages over the size limit counted on the message, a From
//! group, addresses that delivery could not send, labels that would forge rows, and names DNS
//! cannot hold.

use axum::Router;
use axum::http::{Method, StatusCode};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::*;

/// A tenant whose domain client.test is proven (the fixture key's DKIM record is published and
/// its signing domain activated).
async fn ready_tenant(app: &Router, name: &str) -> String {
    let token = tenant_token(app, name).await;
    let path = add_domain_with_fixture_key(app, &token).await;
    let (status, active) = call(
        app,
        Method::PATCH,
        &path,
        Some(&token),
        Some(json!({"active": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{active}");
    token
}

fn raw_request(raw: &str, recipients: &[&str]) -> Value {
    json!({"mail_from": "bounce@client.test", "recipients": recipients, "raw": raw})
}

async fn post_raw(app: &Router, token: &str, body: Value) -> (StatusCode, Value) {
    call(
        app,
        Method::POST,
        "/api/v1/messages/raw",
        Some(token),
        Some(body),
    )
    .await
}

async fn message_count(app: &Router, token: &str) -> usize {
    let (_, listed) = call(app, Method::GET, "/api/v1/messages", Some(token), None).await;
    listed.as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_idempotency_key_with_another_request_is_refused() {
    let dns = fixture_key_dns().await;
    let (_directory, apps) = apps_with_dns(&dns).await;
    for app in &apps {
        let token = ready_tenant(app, "acme").await;
        let first = raw_request("From: a@client.test\n\nfirst\n", &["a@receiver.test"]);
        let key = [("idempotency-key", "order-1")];
        let path = "/api/v1/messages/raw";
        let (status, accepted) =
            call_with_headers(app, Method::POST, path, &token, &key, first.clone()).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        let (status, again) = call_with_headers(app, Method::POST, path, &token, &key, first).await;
        assert_eq!(
            (status, &again["replayed"]),
            (StatusCode::ACCEPTED, &json!(true))
        );
        assert_eq!(again["id"], accepted["id"]);

        let other = raw_request("From: a@client.test\n\nsecond\n", &["a@receiver.test"]);
        let refused = call_with_headers(app, Method::POST, path, &token, &key, other).await;
        assert_error(
            &refused,
            StatusCode::CONFLICT,
            "conflict",
            "was used for a different request",
        );
        let tab = [("idempotency-key", "a\tb")];
        let body = raw_request("From: a@client.test\n\nthird\n", &["a@receiver.test"]);
        let refused = call_with_headers(app, Method::POST, path, &token, &tab, body).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "Idempotency-Key",
        );
        assert_eq!(message_count(app, &token).await, 1);
    }
}

/// Keys revoked after they sent are refused at their next message, on both message routes and
/// for a replay of a key's first request, although the node has seen each key: each refusal
/// comes from the message's own reads, not from the key's read at the door.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_sends_nothing_more() {
    let dns = fixture_key_dns().await;
    let (_directory, apps) = apps_with_dns(&dns).await;
    for app in &apps {
        let first_token = ready_tenant(app, "acme").await;
        let keys_path = "/api/v1/tenants/acme/api-keys";
        let mut tokens = vec![first_token];
        for label in ["second", "third"] {
            let body = json!({ "label": label });
            let (status, key) =
                call(app, Method::POST, keys_path, Some(OPERATOR), Some(body)).await;
            assert_eq!(status, StatusCode::CREATED, "{key}");
            tokens.push(key["token"].as_str().unwrap().to_owned());
        }
        let path = "/api/v1/messages/raw";
        // One Idempotency-Key per key, so that a replay is one request sent again.
        let once = |body: &'static str| [("idempotency-key", body)];
        let requests: Vec<Value> = ["first", "second", "third"]
            .iter()
            .map(|body| {
                raw_request(
                    &format!("From: a@client.test\n\n{body}\n"),
                    &["a@receiver.test"],
                )
            })
            .collect();
        for ((token, request), body) in tokens
            .iter()
            .zip(&requests)
            .zip(["first", "second", "third"])
        {
            let headers = once(body);
            let sent = call_with_headers(app, Method::POST, path, token, &headers, request.clone());
            let (status, accepted) = sent.await;
            assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        }

        let (_, keys) = call(app, Method::GET, keys_path, Some(OPERATOR), None).await;
        for key in keys.as_array().unwrap() {
            let key_path = format!("{keys_path}/{}", key["id"].as_str().unwrap());
            let (status, _) = call(app, Method::DELETE, &key_path, Some(OPERATOR), None).await;
            assert_eq!(status, StatusCode::NO_CONTENT);
        }

        let another = raw_request("From: a@client.test\n\nanother\n", &["a@receiver.test"]);
        let composed = json!({"from": "a@client.test", "to": ["a@receiver.test"],
            "subject": "composed", "text": "composed"});
        let refusals = [
            call_with_headers(app, Method::POST, path, &tokens[0], &[], another).await,
            call_with_headers(
                app,
                Method::POST,
                path,
                &tokens[1],
                &once("second"),
                requests[1].clone(),
            )
            .await,
            call_with_headers(
                app,
                Method::POST,
                "/api/v1/messages",
                &tokens[2],
                &[],
                composed,
            )
            .await,
        ];
        for refused in &refusals {
            assert_error(refused, StatusCode::UNAUTHORIZED, "unauthorized", "API key");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_receivers_would_refuse_are_refused_at_submission() {
    let dns = fixture_key_dns().await;
    let (_directory, apps) = apps_with_dns(&dns).await;
    for app in &apps {
        let token = ready_tenant(app, "acme").await;
        let to = ["a@receiver.test"];
        let cases = [
            (
                format!(
                    "From: a@client.test\nSubject: {}\n\nbody\n",
                    "x".repeat(5000)
                ),
                "line 2 of the message is 5009 bytes long",
            ),
            (
                format!("From: a@client.test\n\n{}\n", "y".repeat(1000)),
                "line 3 of the message is 1000 bytes long; a line may be at most 998",
            ),
            (
                "From: a@client.test\nSubject: x\0y\n\nbody\n".to_owned(),
                "line 2 of the message holds a NUL byte",
            ),
            ("From: a@client.test\n\nbo\0dy\n".to_owned(), "NUL byte"),
            (
                "From: a@client.test\nSubject: Grüße\n\nbody\n".to_owned(),
                "line 2 of the header holds non-ASCII bytes",
            ),
            (
                "From: Team: a@client.test;\n\nbody\n".to_owned(),
                "is a group",
            ),
        ];
        for (raw, words) in cases {
            let refused = post_raw(app, &token, raw_request(&raw, &to)).await;
            assert_error(
                &refused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                words,
            );
        }
        let addresses = [
            ("jöhn@receiver.test", "needs SMTPUTF8"),
            ("a b@receiver.test", "unless quoted"),
            (
                &format!("{}@receiver.test", "l".repeat(65)) as &str,
                "longer than 64",
            ),
            (
                &format!(
                    "{}@{}.{}.{}.{}.test",
                    "a".repeat(20),
                    "b".repeat(60),
                    "c".repeat(60),
                    "d".repeat(60),
                    "e".repeat(60)
                ),
                "longer than 254",
            ),
            ("a@xn--zz.test", "not valid punycode"),
        ];
        for (address, words) in addresses {
            let body = raw_request("From: a@client.test\n\nbody\n", &[address]);
            let refused = post_raw(app, &token, body).await;
            assert_error(
                &refused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                words,
            );
        }
        assert_eq!(message_count(app, &token).await, 0, "nothing was queued");

        // A quoted local part and an internationalised domain are sendable; an address given
        // twice is queued once.
        let body = raw_request(
            "From: a@client.test\n\nbody\n",
            &[
                "\"john doe\"@receiver.test",
                "ann@bücher.test",
                "ANN@XN--BCHER-KVA.TEST",
                "ann@Bücher.test",
            ],
        );
        let (status, accepted) = post_raw(app, &token, body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        let path = format!("/api/v1/messages/{}", accepted["id"].as_str().unwrap());
        let (_, message) = call(app, Method::GET, &path, Some(&token), None).await;
        let recipients: Vec<&str> = message["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|recipient| recipient["address"].as_str().unwrap())
            .collect();
        assert_eq!(
            recipients,
            [
                "\"john doe\"@receiver.test",
                "ann@xn--bcher-kva.test",
                "ANN@xn--bcher-kva.test"
            ]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_size_limit_counts_the_message_not_its_transport_form() {
    let dns = fixture_key_dns().await;
    let (_directory, apps) = apps_with_dns(&dns).await;
    let app = &apps[0];
    let token = ready_tenant(app, "acme").await;
    let limit = sealpost_domain::limits::message::MAX_BYTES;
    let message = |size: usize| {
        let head = "From: a@client.test\r\n\r\n";
        let line = "z".repeat(76) + "\r\n";
        let mut text = head.to_owned();
        while text.len() + line.len() <= size {
            text.push_str(&line);
        }
        text.push_str(&"w".repeat(size - text.len()));
        base64::engine::general_purpose::STANDARD.encode(text)
    };
    let body = |size| {
        json!({"mail_from": "bounce@client.test", "recipients": ["a@receiver.test"],
            "raw_base64": message(size)})
    };
    // A message just under the limit travels as 33 MB of base64 and is accepted.
    let (status, accepted) = post_raw(app, &token, body(limit - 100)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    let refused = post_raw(app, &token, body(limit + 1)).await;
    assert_error(
        &refused,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        &format!("at most {limit} bytes"),
    );
}

#[tokio::test]
async fn labels_and_names_are_one_bounded_line() {
    let (_directory, apps) = apps().await;
    for app in &apps {
        tenant_token(app, "acme").await;
        let keys = "/api/v1/tenants/acme/api-keys";
        let forged = json!({"label": "app\r\nkey-0000\tforged row"});
        let refused = call(app, Method::POST, keys, Some(OPERATOR), Some(forged)).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "one line",
        );
        let long = json!({"label": "l".repeat(60_000)});
        let refused = call(app, Method::POST, keys, Some(OPERATOR), Some(long)).await;
        assert_eq!(refused.0.as_u16() / 100, 4, "{}", refused.1);
        let nul = json!({"name": "other", "display_name": "Other\u{0}Ltd"});
        let refused = call(
            app,
            Method::POST,
            "/api/v1/tenants",
            Some(OPERATOR),
            Some(nul),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "one line",
        );
        let (_, listed) = call(app, Method::GET, keys, Some(OPERATOR), None).await;
        assert_eq!(
            listed.as_array().unwrap().len(),
            1,
            "only the first key exists"
        );

        // A DKIM record name DNS cannot hold is refused when the domain is added.
        let token = tenant_token(app, "names").await;
        let domain = format!(
            "{}.{}.{}.example",
            "a".repeat(60),
            "b".repeat(60),
            "c".repeat(60)
        );
        let body = json!({"domain": domain, "selector": "s".repeat(60)});
        let refused = call(
            app,
            Method::POST,
            "/api/v1/signing-domains",
            Some(&token),
            Some(body),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "longer than 253",
        );
        let body = json!({"domain": "xn--zz.example", "selector": "s1"});
        let refused = call(
            app,
            Method::POST,
            "/api/v1/signing-domains",
            Some(&token),
            Some(body),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "not valid punycode",
        );
    }
}
