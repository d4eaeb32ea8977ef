//! `POST /api/v1/messages` builds a message that travels: long and Unicode headers folded and
//! encoded within the line limits, a client's encoded-word name left unquoted, quoted content
//! type parameters accepted, and every refusal naming the field the client sent.

use axum::http::{Method, StatusCode};
use sealpost_store::testing;
use serde_json::{Value, json};

use crate::support::*;

fn message(changes: Value) -> Value {
    let mut body = json!({
        "from": "Facilities <facilities@client.test>",
        "to": ["someone@receiver.test"],
        "subject": "Work order 4711",
        "text": "The boiler is fixed.",
    });
    for (name, value) in changes.as_object().unwrap() {
        body[name] = value.clone();
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_messages_fold_encode_and_name_the_field_at_fault() {
    let dns = fixture_key_dns().await;
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let app = app_with_dns(store, dns.addr()).await;
        let token = tenant_token(&app, "acme").await;
        let domain_path = add_domain_with_fixture_key(&app, &token).await;
        call(
            &app,
            Method::PATCH,
            &domain_path,
            Some(&token),
            Some(json!({"active": true})),
        )
        .await;
        let submit = |body: Value| {
            call_with_headers(&app, Method::POST, "/api/v1/messages", &token, &[], body)
        };

        let long = message(json!({
            "from": "=?UTF-8?B?UHLDvGZ1bmc=?= <facilities@client.test>",
            "reply_to": "Prüfstelle Nord <desk@client.test>",
            "subject": "Prüfung der Heizungsanlage ✓ ".repeat(90),
            "text": "one very long line ".repeat(300),
            "headers": {"X-Note": "x".repeat(1200)},
            "attachments": [{"filename": "notes.txt", "content_type": "text/plain; charset=\"utf-8\"", "content_base64": "aGVsbG8="}],
        }));
        let (status, accepted) = submit(long).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        let path = format!("/api/v1/messages/{}/raw", accepted["id"].as_str().unwrap());
        let (status, source) = raw_text(&app, &path, &token).await;
        assert_eq!(status, StatusCode::OK);
        for line in source.split("\r\n") {
            assert!(line.len() <= 998, "a line of {} octets", line.len());
        }
        let (head, _) = source.split_once("\r\n\r\n").unwrap();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", "\t");
        let subject = unfolded
            .split("\r\n")
            .find(|line| line.starts_with("Subject:"))
            .unwrap();
        for word in subject.split(' ').skip(1) {
            assert!(word.len() <= 75, "{word} is {} long", word.len());
        }
        assert!(
            unfolded.contains("\r\nFrom: =?UTF-8?B?UHLDvGZ1bmc=?= <facilities@client.test>\r\n"),
            "{head}"
        );
        assert!(
            source.contains("Content-Type: text/plain; charset=utf-8; name=\"notes.txt\"\r\n"),
            "{source}"
        );

        let refusals = [
            (json!({"from": "not an address"}), "from: "),
            (json!({"from": "Name <facilities@client.test"}), "from: "),
            (
                json!({"from": "Desk\u{0} <facilities@client.test>"}),
                "from: ",
            ),
            (json!({"reply_to": "nobody"}), "reply_to: "),
            (json!({"to": ["Some\u{1}one <b@receiver.test>"]}), "to: "),
            (json!({"subject": "Hi\u{0}there"}), "subject: "),
            (json!({"headers": {"X-Order": "47\u{0}11"}}), "headers: "),
            (json!({"text": null}), "text: "),
        ];
        for (changes, field) in refusals {
            let refused = submit(message(changes.clone())).await;
            assert_error(
                &refused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                "",
            );
            let text = refused.1["error"]["message"].as_str().unwrap();
            assert!(text.starts_with(field), "{changes}: {text:?}");
        }
    }
}
