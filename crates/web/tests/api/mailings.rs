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

/// A mailing to three contacts is three messages, each with only its own recipient in `To:`
/// and in its envelope, none naming the others (no Cc or Bcc either); sending it again queues
/// nothing more; its status summarises the three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailing_sends_each_recipient_a_message_of_its_own() {
    let dns = fixture_key_dns().await;
    let directory = tempfile::tempdir().unwrap();
    for store in sealpost_store::testing::fresh_stores(directory.path()).await {
        let app = app_with_dns(store, dns.addr()).await;
        let token = tenant_token(&app, "acme").await;
        let domain_path = add_domain_with_fixture_key(&app, &token).await;
        let activate = json!({"active": true});
        let (status, activated) = call(
            &app,
            Method::PATCH,
            &domain_path,
            Some(&token),
            Some(activate),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{activated}");
        let mut contacts = Vec::new();
        for (name, email) in [
            ("Facilities", "facilities@client.test"),
            ("Ann", "ann@receiver.test"),
            ("Bob", "bob@receiver.test"),
            ("Cyd", "cyd@receiver.test"),
        ] {
            let body = json!({"name": name, "email": email});
            let (status, contact) = call(
                &app,
                Method::POST,
                "/api/v1/contacts",
                Some(&token),
                Some(body),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{contact}");
            contacts.push(contact);
        }
        let body = json!({"sender": contacts[0]["id"],
            "recipients": [contacts[1]["id"], contacts[2]["id"], contacts[3]["id"]],
            "subject": "Work order 4711", "body": "The boiler is fixed."});
        let (status, mailing) = call(
            &app,
            Method::POST,
            "/api/v1/mailings",
            Some(&token),
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{mailing}");
        assert_eq!(mailing["status"], "draft");
        let send = format!("/api/v1/mailings/{}/send", mailing["id"].as_str().unwrap());
        let (status, sent) = call(&app, Method::POST, &send, Some(&token), None).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
        assert_eq!(sent["state"], "sent");
        assert_eq!(sent["status"], "in_progress");
        assert_eq!(sent["delivered"], 0);

        let recipients = sent["recipients"].as_array().unwrap();
        assert_eq!(recipients.len(), 3);
        let mut message_ids = Vec::new();
        for (index, recipient) in recipients.iter().enumerate() {
            let contact = &contacts[index + 1];
            assert_eq!(recipient["contact"]["id"], contact["id"]);
            assert_eq!(recipient["delivery"]["state"], "queued", "{recipient}");
            let id = recipient["message_id"].as_str().unwrap().to_owned();
            let path = format!("/api/v1/messages/{id}");
            let (_, message) = call(&app, Method::GET, &path, Some(&token), None).await;
            let addresses: Vec<&str> = message["recipients"]
                .as_array()
                .unwrap()
                .iter()
                .map(|recipient| recipient["address"].as_str().unwrap())
                .collect();
            assert_eq!(addresses, [contact["email"].as_str().unwrap()]);
            let (status, source) = raw_text(&app, &format!("{path}/raw"), &token).await;
            assert_eq!(status, StatusCode::OK);
            let to = format!(
                "\r\nTo: \"{}\" <{}>\r\n",
                contact["name"].as_str().unwrap(),
                contact["email"].as_str().unwrap()
            );
            assert!(source.contains(&to), "{source}");
            for other in contacts[1..]
                .iter()
                .filter(|other| other["id"] != contact["id"])
            {
                let address = other["email"].as_str().unwrap();
                assert!(!source.contains(address), "{address} in {source}");
            }
            for field in ["\r\nCc:", "\r\nBcc:"] {
                assert!(!source.contains(field), "{field} in {source}");
            }
            message_ids.push(id);
        }
        message_ids.sort();
        message_ids.dedup();
        assert_eq!(message_ids.len(), 3, "a message per recipient");

        // Sending again is refused and queues nothing.
        let (status, again) = call(&app, Method::POST, &send, Some(&token), None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        let (_, messages) = call(&app, Method::GET, "/api/v1/messages", Some(&token), None).await;
        assert_eq!(messages.as_array().unwrap().len(), 3, "{messages}");

        // Every recipient cancelled: delivered to none.
        for id in &message_ids {
            let cancel = format!("/api/v1/messages/{id}/cancel");
            let (status, _) = call(&app, Method::POST, &cancel, Some(&token), None).await;
            assert_eq!(status, StatusCode::OK);
        }
        let show = format!("/api/v1/mailings/{}", mailing["id"].as_str().unwrap());
        let (_, shown) = call(&app, Method::GET, &show, Some(&token), None).await;
        assert_eq!(shown["status"], "failed", "{shown}");
        let (_, listed) = call(&app, Method::GET, "/api/v1/mailings", Some(&token), None).await;
        assert_eq!(listed[0]["status"], "failed", "{listed}");
    }
}

/// Contacts are read, edited and deleted (issue 16, item 10): a taken address, a foreign or
/// unknown id and bad fields are refused; a contact a draft uses is kept with the draft named,
/// and once the draft is deleted the contact goes; a contact a sent mailing used keeps its
/// address and is not deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_are_edited_and_deleted_unless_a_mailing_needs_them() {
    let dns = fixture_key_dns().await;
    let directory = tempfile::tempdir().unwrap();
    for store in sealpost_store::testing::fresh_stores(directory.path()).await {
        let app = app_with_dns(store, dns.addr()).await;
        let token = tenant_token(&app, "acme").await;
        let other = tenant_token(&app, "other").await;
        let domain_path = add_domain_with_fixture_key(&app, &token).await;
        let (status, _) = call(
            &app,
            Method::PATCH,
            &domain_path,
            Some(&token),
            Some(json!({"active": true})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let mut ids = Vec::new();
        for (name, email) in [
            ("Facilities", "facilities@client.test"),
            ("Ann", "ann@receiver.test"),
            ("Bob", "bob@receiver.test"),
        ] {
            let body = json!({"name": name, "email": email});
            let (status, contact) = call(
                &app,
                Method::POST,
                "/api/v1/contacts",
                Some(&token),
                Some(body),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{contact}");
            ids.push(contact["id"].as_str().unwrap().to_owned());
        }
        let path = |id: &str| format!("/api/v1/contacts/{id}");

        let edit = json!({"name": "Ann Example", "email": "ann.example@receiver.test"});
        let (status, edited) =
            call(&app, Method::PUT, &path(&ids[1]), Some(&token), Some(edit)).await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        assert_eq!(edited["name"], "Ann Example");
        let (_, read) = call(&app, Method::GET, &path(&ids[1]), Some(&token), None).await;
        assert_eq!(read["email"], "ann.example@receiver.test");
        let taken = json!({"name": "Ann", "email": "bob@receiver.test"});
        let refused = call(&app, Method::PUT, &path(&ids[1]), Some(&token), Some(taken)).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "Another contact already has the address bob@receiver.test",
        );
        let blank = json!({"name": "", "email": "ann@receiver.test"});
        let refused = call(&app, Method::PUT, &path(&ids[1]), Some(&token), Some(blank)).await;
        assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.1);
        for (token, id) in [(&other, ids[1].as_str()), (&token, "not-an-id")] {
            let missing = call(&app, Method::DELETE, &path(id), Some(token), None).await;
            assert_error(&missing, StatusCode::NOT_FOUND, "not_found", "contact");
        }

        let body = json!({"sender": ids[0], "recipients": [ids[1]],
            "subject": "Boiler", "body": "Fixed."});
        let (status, draft) = call(
            &app,
            Method::POST,
            "/api/v1/mailings",
            Some(&token),
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{draft}");
        let kept = call(&app, Method::DELETE, &path(&ids[1]), Some(&token), None).await;
        assert_error(
            &kept,
            StatusCode::CONFLICT,
            "conflict",
            "The draft mailing \"Boiler\" uses this contact: delete that draft first",
        );
        let draft_path = format!("/api/v1/mailings/{}", draft["id"].as_str().unwrap());
        let (status, _) = call(&app, Method::DELETE, &draft_path, Some(&token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = call(&app, Method::DELETE, &path(&ids[1]), Some(&token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = call(&app, Method::GET, &path(&ids[1]), Some(&token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let body = json!({"sender": ids[0], "recipients": [ids[2]],
            "subject": "Lift", "body": "Serviced."});
        let (_, mailing) = call(
            &app,
            Method::POST,
            "/api/v1/mailings",
            Some(&token),
            Some(body),
        )
        .await;
        let send = format!("/api/v1/mailings/{}/send", mailing["id"].as_str().unwrap());
        let (status, _) = call(&app, Method::POST, &send, Some(&token), None).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let moved = json!({"name": "Bob", "email": "robert@receiver.test"});
        let refused = call(&app, Method::PUT, &path(&ids[2]), Some(&token), Some(moved)).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "The mailing \"Lift\" was sent to bob@receiver.test",
        );
        let renamed = json!({"name": "Robert", "email": "bob@receiver.test"});
        let (status, _) = call(
            &app,
            Method::PUT,
            &path(&ids[2]),
            Some(&token),
            Some(renamed),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "a sent mailing's contact may change its name"
        );
        let kept = call(&app, Method::DELETE, &path(&ids[2]), Some(&token), None).await;
        assert_error(
            &kept,
            StatusCode::CONFLICT,
            "conflict",
            "its delivery history needs it",
        );
    }
}
