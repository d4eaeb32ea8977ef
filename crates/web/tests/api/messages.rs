//! Messages: submission (composed and raw), status, stored source and its verification, cancel,
//! refusals; and the metrics.

use axum::http::{Method, StatusCode};
use sealpost_store::testing;
use sealpost_vault::{MasterKey, Vault};
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_accepted_signed_stored_and_shown() {
    let dns = fixture_key_dns().await;
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let app = app_with_dns(store, dns.addr()).await;
        let token = tenant_token(&app, "acme").await;
        let other = tenant_token(&app, "other").await;
        let domain_path = add_domain_with_fixture_key(&app, &token).await;
        call(
            &app,
            Method::PATCH,
            &domain_path,
            Some(&token),
            Some(json!({"active": true})),
        )
        .await;

        let compose = json!({
            "from": "Facilities <facilities@client.test>",
            "to": ["Someone <someone@receiver.test>"],
            "bcc": ["audit@archive.test"],
            "subject": "Work order 4711 ✓",
            "text": "The boiler is fixed.",
            "html": "<p>The boiler is fixed.</p>",
            "headers": {"X-Work-Order": "4711"},
            "attachments": [{"filename": "report.txt", "content_type": "text/plain", "content_base64": "aGVsbG8="}],
        });
        let idempotent = [("idempotency-key", "order-4711")];
        let (status, accepted) = call_with_headers(
            &app,
            Method::POST,
            "/api/v1/messages",
            &token,
            &idempotent,
            compose.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        assert_eq!(accepted["replayed"], false);
        let id = accepted["id"].as_str().unwrap().to_owned();
        let (status, again) = call_with_headers(
            &app,
            Method::POST,
            "/api/v1/messages",
            &token,
            &idempotent,
            compose,
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(
            (again["id"].as_str().unwrap(), &again["replayed"]),
            (id.as_str(), &json!(true))
        );

        let path = format!("/api/v1/messages/{id}");
        let (status, message) = call(&app, Method::GET, &path, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(message["signing"]["signed"], true);
        assert_eq!(message["signing"]["domain"], "client.test");
        assert_eq!(message["signing"]["dkim_verdict"], json!(null));
        assert_eq!(message["subject"], "Work order 4711 ✓");
        assert_eq!(message["mail_from"], "facilities@client.test");
        let addresses: Vec<&str> = message["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["address"].as_str().unwrap())
            .collect();
        assert_eq!(addresses, ["someone@receiver.test", "audit@archive.test"]);
        assert!(
            message["recipients"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["state"] == "queued")
        );

        let (status, source) = raw_text(&app, &format!("{path}/raw"), &token).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            source.starts_with("DKIM-Signature: v=1; a=rsa-sha256;"),
            "{source}"
        );
        assert!(
            !source.contains("audit@archive.test"),
            "Bcc must not appear in the message"
        );
        assert!(source.contains("X-Work-Order: 4711\r\n"));
        let (status, verification) = call(
            &app,
            Method::GET,
            &format!("{path}/dkim"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(verification["result"], "pass", "{verification}");
        let verdict = |message: &serde_json::Value| message["signing"]["dkim_verdict"].clone();
        let (_, message) = call(&app, Method::GET, &path, Some(&token), None).await;
        assert_eq!(verdict(&message), "pass");

        // The selector's record is replaced with another key: the next verification fails,
        // and the message and the list say so from then on without asking DNS.
        let other_key = Vault::new(MasterKey::generate()).generate().unwrap();
        let replaced = sealpost_domain::dkim_txt_value(&other_key.public_key_der());
        dns.replace(
            sealpost_testdns::Zone::new().txt_split("workplace._domainkey.client.test", &replaced),
        )
        .unwrap();
        let dkim_path = format!("{path}/dkim");
        let (_, verification) = call(&app, Method::GET, &dkim_path, Some(&token), None).await;
        assert_eq!(verification["result"], "fail", "{verification}");
        let (_, message) = call(&app, Method::GET, &path, Some(&token), None).await;
        assert_eq!(verdict(&message), "fail");
        let (status, listed) = call(
            &app,
            Method::GET,
            "/api/v1/messages?q=4711",
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        assert_eq!(verdict(&listed[0]), "fail", "{listed}");
        dns.replace(fixture_key_zone("client.test")).unwrap();

        // A raw message from a proven domain that is not a signing domain (the tenant publishes
        // only the SPF include) goes out unsigned, with the reason.
        prove_domain(
            &app,
            &token,
            &dns,
            fixture_key_zone("client.test"),
            "other.test",
        )
        .await;
        let raw = json!({"mail_from": "bounce@other.test", "recipients": ["a@receiver.test"], "raw": "From: a@other.test\nSubject: x\n\nbody\n"});
        let (status, accepted) =
            call_with_headers(&app, Method::POST, "/api/v1/messages/raw", &token, &[], raw).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        let unsigned_path = format!("/api/v1/messages/{}", accepted["id"].as_str().unwrap());
        let (_, unsigned) = call(&app, Method::GET, &unsigned_path, Some(&token), None).await;
        assert_eq!(unsigned["signing"]["signed"], false);
        assert_eq!(
            unsigned["signing"]["unsigned_code"],
            "from_domain_not_a_signing_domain"
        );

        // Cancel what waits; a second cancel changes nothing.
        let (_, cancelled) = call(
            &app,
            Method::POST,
            &format!("{path}/cancel"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(cancelled["changed"], 2);
        let (_, cancelled) = call(
            &app,
            Method::POST,
            &format!("{path}/cancel"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(cancelled["changed"], 0);
        let (_, listed) = call(&app, Method::GET, "/api/v1/messages", Some(&token), None).await;
        assert_eq!(listed.as_array().unwrap().len(), 2);

        // Bad input is refused and nothing is queued.
        let bad = [
            (
                json!({"from": "a@client.test", "to": ["b@receiver.test"], "subject": "x\r\nBcc: v@victim.test", "text": "t"}),
                "line break",
            ),
            (
                json!({"from": "a@client.test", "to": [], "subject": "x", "text": "t"}),
                "at least one recipient",
            ),
            (
                json!({"from": "a@client.test", "to": ["not-an-address"], "subject": "x", "text": "t"}),
                "not a valid e-mail address",
            ),
            (
                json!({"from": "a@client.test", "to": ["b@receiver.test"], "subject": "x"}),
                "text or an HTML body",
            ),
            (
                json!({"from": "a@client.test", "to": ["b@receiver.test"], "subject": "x", "text": "t", "headers": {"DKIM-Signature": "x"}}),
                "may not be set",
            ),
        ];
        for (body, words) in bad {
            let refused =
                call_with_headers(&app, Method::POST, "/api/v1/messages", &token, &[], body).await;
            assert_error(
                &refused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                words,
            );
        }
        let refused = call_with_headers(
            &app,
            Method::POST,
            "/api/v1/messages/raw",
            &token,
            &[],
            json!({"mail_from": "a@client.test", "recipients": ["b@receiver.test"]}),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "exactly one of raw",
        );
        let unknown_field = call_with_headers(
            &app,
            Method::POST,
            "/api/v1/messages",
            &token,
            &[],
            json!({"from": "a@client.test", "subject": "x", "text": "t", "priority": 1}),
        )
        .await;
        assert_eq!(unknown_field.0, StatusCode::BAD_REQUEST);
        let (_, listed) = call(&app, Method::GET, "/api/v1/messages", Some(&token), None).await;
        assert_eq!(listed.as_array().unwrap().len(), 2);

        // Another tenant sees nothing.
        let foreign = call(&app, Method::GET, &path, Some(&other), None).await;
        assert_error(&foreign, StatusCode::NOT_FOUND, "not_found", "message");
        let (status, _) = raw_text(&app, &format!("{path}/raw"), &other).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn metrics_need_the_operator_token() {
    let directory = tempfile::tempdir().unwrap();
    let store = testing::fresh_stores(directory.path()).await.remove(0);
    let app = app(store).await;
    tenant_token(&app, "acme").await;
    let (status, _) = raw_text(&app, "/metrics", "sp_not-an-operator").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, text) = raw_text(&app, "/metrics", OPERATOR).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("# TYPE sealpost_accepted_total counter"),
        "{text}"
    );
    assert!(
        text.contains("sealpost_queue_recipients{state=\"queued\"} 0"),
        "{text}"
    );
    assert!(text.contains("sealpost_queue_oldest_seconds 0"), "{text}");
}

/// A recipient that delivery would refuse is refused at submission with 422 naming it, composed
/// (To, Cc, Bcc) or raw, and nothing is queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipients_delivery_cannot_send_are_refused_with_their_address() {
    let directory = tempfile::tempdir().unwrap();
    let long = format!(
        "{}@{}.test",
        "a".repeat(64),
        "b".repeat(63) + "." + &"c".repeat(63) + "." + &"d".repeat(57)
    );
    assert_eq!(long.len(), 255);
    let bad = [
        ("john doe@receiver.test", "\"john doe@receiver.test\""),
        ("john\u{1}doe@receiver.test", "john\\u{1}doe@receiver.test"),
        ("john", "\"john\""),
        ("j\u{f6}rg@receiver.test", "\"j\u{f6}rg@receiver.test\""),
        (long.as_str(), long.as_str()),
    ];
    for store in testing::fresh_stores(directory.path()).await {
        let app = app(store).await;
        let token = tenant_token(&app, "acme").await;
        for (recipient, named) in &bad {
            let raw = json!({"mail_from": "a@client.test", "recipients": ["b@receiver.test", recipient],
                "raw": "From: a@client.test\r\nSubject: x\r\n\r\nbody\r\n"});
            let composed = json!({"from": "a@client.test", "to": ["b@receiver.test"],
                "bcc": [format!("Someone <{recipient}>")], "subject": "x", "text": "t"});
            for (path, body) in [
                ("/api/v1/messages/raw", raw),
                ("/api/v1/messages", composed),
            ] {
                let refused = call_with_headers(&app, Method::POST, path, &token, &[], body).await;
                assert_error(
                    &refused,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_input",
                    named,
                );
            }
        }
        let (_, listed) = call(&app, Method::GET, "/api/v1/messages", Some(&token), None).await;
        assert_eq!(listed.as_array().unwrap().len(), 0);
    }
}
