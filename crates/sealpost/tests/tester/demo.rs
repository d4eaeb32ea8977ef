//! The closed loop in the offline demo: a test mailing from the demo tenant goes through
//! signing, the queue and native delivery (MX from the embedded DNS) to the inbound listener,
//! and its report shows DKIM, SPF and DMARC passing.

use serde_json::json;

use crate::support::{Demo, check, problems};

#[test]
fn a_demo_test_mailing_arrives_and_passes_dkim_spf_and_dmarc() {
    let demo = Demo::start(&[]);
    let (status, sent) = demo.request(
        "POST",
        "/api/v1/checker/test-mailings",
        Some(json!({"sender": "hello@client.example"})),
    );
    assert_eq!(status, 202, "{sent}");
    let token = sent["token"].as_str().unwrap();
    assert!(
        sent["address"]
            .as_str()
            .unwrap()
            .ends_with("@checker.sealpost.test")
    );

    let reports = demo.reports(token, 1);
    let report = &reports[0];
    for name in ["dkim", "spf", "dmarc", "ptr", "spf_helo"] {
        assert_eq!(check(report, name), "pass", "{name} in {report}");
    }
    assert_eq!(report["report"]["score"], 10.0, "{report}");
    assert_eq!(problems(report), ["list_unsubscribe_missing"]);
    assert_eq!(report["client_ip"], "127.0.0.1");
    assert_eq!(report["helo"], "mail.sealpost.test");
    assert_eq!(report["mail_from"], "hello@client.example");

    // The queued message shows the recipient delivered, and the stored report keeps the
    // message exactly as it arrived, signature included.
    let message_id = sent["message_id"].as_str().unwrap();
    let message = demo.settled_message(message_id);
    assert_eq!(message["recipients"][0]["state"], "sent", "{message}");
    let id = report["id"].as_str().unwrap();
    let (status, raw) = demo.request("GET", &format!("/api/v1/checker/reports/{id}/raw"), None);
    assert_eq!(status, 200);
    assert!(raw.as_str().unwrap().starts_with("DKIM-Signature: v=1;"));
}

#[test]
fn a_mailing_to_the_demo_contacts_is_sent_and_a_foreign_sender_is_refused() {
    let demo = Demo::start(&[]);
    let (_, contacts) = demo.request("GET", "/api/v1/contacts", None);
    let id_of = |email_end: &str| {
        contacts
            .as_array()
            .unwrap()
            .iter()
            .find(|contact| contact["email"].as_str().unwrap().ends_with(email_end))
            .map(|contact| contact["id"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let sender = id_of("@client.example");
    let tester = id_of("@checker.sealpost.test");
    let (status, mailing) = demo.request(
        "POST",
        "/api/v1/mailings",
        Some(
            json!({"sender": sender, "recipients": [tester], "subject": "Hello",
            "body": "A first mailing."}),
        ),
    );
    assert_eq!(status, 201, "{mailing}");
    assert_eq!(mailing["state"], "draft");
    let id = mailing["id"].as_str().unwrap();
    let (status, sent) = demo.request("POST", &format!("/api/v1/mailings/{id}/send"), None);
    assert_eq!(status, 202, "{sent}");
    let (status, again) = demo.request("POST", &format!("/api/v1/mailings/{id}/send"), None);
    assert_eq!(status, 409, "{again}");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (_, mailing) = demo.request("GET", &format!("/api/v1/mailings/{id}"), None);
        if mailing["recipients"][0]["delivery"]["state"] == "sent" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{mailing}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let (status, foreign) = demo.request(
        "POST",
        "/api/v1/contacts",
        Some(json!({"name": "Someone", "email": "someone@elsewhere.example"})),
    );
    assert_eq!(status, 201, "{foreign}");
    let (status, refused) = demo.request(
        "POST",
        "/api/v1/mailings",
        Some(
            json!({"sender": foreign["id"], "recipients": [tester], "subject": "Hi",
            "body": "Body"}),
        ),
    );
    assert_eq!(status, 422, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("elsewhere.example is not one of the tenant's signing domains"),
        "{message}"
    );
}

#[test]
fn the_demo_prints_its_secrets_once_and_never_logs_them() {
    let demo = Demo::start(&[("SEALPOST_LOG", "debug,hickory_server=warn".to_owned())]);
    let value_after = |label: &str| {
        let rest = demo
            .announced
            .split(label)
            .nth(1)
            .unwrap_or_else(|| panic!("{label} not announced in {}", demo.announced));
        rest.split(|c: char| c.is_whitespace() || c == ')')
            .next()
            .unwrap()
            .to_owned()
    };
    let operator = value_after("Operator token (tenant administration API): ");
    let password = value_after(", password ");
    assert!(demo.announced.contains("sign in as admin@demo.invalid"));
    let (status, _) = demo.request(
        "POST",
        "/api/v1/checker/test-mailings",
        Some(json!({"sender": "hello@client.example"})),
    );
    assert_eq!(status, 202);
    let logs = demo.logs();
    assert!(logs.contains("DEMO MODE"), "{logs}");
    for secret in [&demo.api_key, &operator, &password] {
        assert!(secret.len() >= 32, "{secret}");
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs");
    }
}
