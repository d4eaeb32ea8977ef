//! Lists page and search on the server (issue 16, item 4): `limit` and `cursor` in the query,
//! the rows as a JSON array, `X-Total-Count` and `X-Next-Cursor` in the headers, filters that
//! look at every row, their error paths; and deleting a draft mailing.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use sealpost_store::testing;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::*;

/// A GET with the paging headers: (status, total, next cursor, body).
async fn page(app: &Router, path: &str, token: &str) -> (StatusCode, u64, Option<String>, Value) {
    let request = Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let total = header("x-total-count").map_or(0, |text| text.parse().unwrap());
    let next = header("x-next-cursor");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, total, next, serde_json::from_slice(&bytes).unwrap())
}

/// Every page of a list, following `X-Next-Cursor`; the ids in order.
async fn walk(app: &Router, path: &str, token: &str) -> (u64, Vec<String>) {
    let mut ids = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let url = match &next {
            Some(cursor) => format!("{path}&cursor={cursor}"),
            None => path.to_owned(),
        };
        let (status, total, cursor, rows) = page(app, &url, token).await;
        assert_eq!(status, StatusCode::OK, "{rows}");
        for row in rows.as_array().unwrap() {
            ids.push(row["id"].as_str().unwrap().to_owned());
        }
        match cursor {
            Some(cursor) => next = Some(cursor),
            None => return (total, ids),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_mailings_and_contacts_page_with_a_cursor_and_filter_every_row() {
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
        let mut accepted = Vec::new();
        for number in 0..5 {
            let raw = format!(
                "From: a@client.test\r\nTo: r{number}@receiver.test\r\nSubject: Work order {number}\r\n\r\nbody\r\n"
            );
            let body = json!({"mail_from": "a@client.test",
                "recipients": [format!("r{number}@receiver.test")], "raw": raw});
            let (status, message) = call_with_headers(
                &app,
                Method::POST,
                "/api/v1/messages/raw",
                &token,
                &[],
                body,
            )
            .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{message}");
            accepted.push(message["id"].as_str().unwrap().to_owned());
        }
        let (total, ids) = walk(&app, "/api/v1/messages?limit=2", &token).await;
        assert_eq!(total, 5);
        let mut newest_first = accepted.clone();
        newest_first.reverse();
        assert_eq!(
            ids, newest_first,
            "three pages, newest first, each message once"
        );
        let (status, total, next, rows) = page(&app, "/api/v1/messages?q=ORDER%203", &token).await;
        assert_eq!((status, total, next), (StatusCode::OK, 1, None));
        assert_eq!(rows[0]["id"], accepted[3].as_str());
        let (_, total, _, rows) = page(
            &app,
            "/api/v1/messages?state=queued&q=r1%40receiver",
            &token,
        )
        .await;
        assert_eq!(
            (total, rows[0]["id"].as_str()),
            (1, Some(accepted[1].as_str()))
        );
        let (_, total, _, _) = page(&app, "/api/v1/messages?state=failed", &token).await;
        assert_eq!(total, 0);
        let (_, total, _, rows) = page(&app, "/api/v1/messages", &other).await;
        assert_eq!((total, rows), (0, json!([])), "another tenant sees none");

        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("cursor=nonsense", "cursor"),
            ("state=lost", "state"),
        ] {
            let path = format!("/api/v1/messages?{query}");
            let refused = call(&app, Method::GET, &path, Some(&token), None).await;
            assert_error(
                &refused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                field,
            );
        }

        // Contacts page by name; mailings page newest first and filter by status.
        let mut contacts = Vec::new();
        for (name, email) in [
            ("Facilities", "facilities@client.test"),
            ("Ann", "ann@receiver.test"),
            ("Bob", "bob@receiver.test"),
        ] {
            let (status, contact) = call(
                &app,
                Method::POST,
                "/api/v1/contacts",
                Some(&token),
                Some(json!({"name": name, "email": email})),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{contact}");
            contacts.push(contact["id"].as_str().unwrap().to_owned());
        }
        let (total, ids) = walk(&app, "/api/v1/contacts?limit=2", &token).await;
        assert_eq!(total, 3);
        assert_eq!(
            ids,
            [
                contacts[1].as_str(),
                contacts[2].as_str(),
                contacts[0].as_str()
            ]
        );
        let (_, total, _, _) = page(&app, "/api/v1/contacts?q=RECEIVER", &token).await;
        assert_eq!(total, 2);
        let wrong_kind = page(&app, "/api/v1/messages?limit=1", &token)
            .await
            .2
            .unwrap();
        let refused = call(
            &app,
            Method::GET,
            &format!("/api/v1/contacts?cursor={wrong_kind}"),
            Some(&token),
            None,
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "cursor",
        );

        let mut mailings = Vec::new();
        for subject in ["First", "Second", "Third"] {
            let body = json!({"sender": contacts[0], "recipients": [contacts[1], contacts[2]],
                "subject": subject, "body": "Text"});
            let (status, mailing) = call(
                &app,
                Method::POST,
                "/api/v1/mailings",
                Some(&token),
                Some(body),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{mailing}");
            mailings.push(mailing["id"].as_str().unwrap().to_owned());
        }
        let send = format!("/api/v1/mailings/{}/send", mailings[0]);
        let (status, sent) = call(&app, Method::POST, &send, Some(&token), None).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
        let (total, ids) = walk(&app, "/api/v1/mailings?limit=2", &token).await;
        assert_eq!(total, 3);
        assert_eq!(
            ids,
            [
                mailings[2].as_str(),
                mailings[1].as_str(),
                mailings[0].as_str()
            ]
        );
        let (_, total, _, rows) = page(&app, "/api/v1/mailings?status=draft", &token).await;
        assert_eq!(total, 2);
        assert!(
            rows.as_array()
                .unwrap()
                .iter()
                .all(|row| row["status"] == "draft")
        );
        let (_, total, _, rows) = page(&app, "/api/v1/mailings?status=in_progress", &token).await;
        assert_eq!(
            (total, rows[0]["id"].as_str()),
            (1, Some(mailings[0].as_str()))
        );
        let (_, total, _, _) = page(&app, "/api/v1/mailings?q=third", &token).await;
        assert_eq!(total, 1);
        let refused = call(
            &app,
            Method::GET,
            "/api/v1/mailings?status=sent",
            Some(&token),
            None,
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "status",
        );

        // Only a draft is deleted; a sent mailing keeps its record, another tenant's is unknown.
        let draft = format!("/api/v1/mailings/{}", mailings[1]);
        let (status, _) = call(&app, Method::DELETE, &draft, Some(&other), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = call(&app, Method::DELETE, &draft, Some(&token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = call(&app, Method::GET, &draft, Some(&token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let sent_path = format!("/api/v1/mailings/{}", mailings[0]);
        let refused = call(&app, Method::DELETE, &sent_path, Some(&token), None).await;
        assert_error(&refused, StatusCode::CONFLICT, "conflict", "only a draft");
        let (_, total, _, _) = page(&app, "/api/v1/contacts", &token).await;
        assert_eq!(total, 3, "the contacts stay");
    }
}
