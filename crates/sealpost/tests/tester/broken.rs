//! Messages with known faults, sent straight to the inbound listener, each reported with its
//! problem; and recipients the listener must refuse.

use crate::support::{Demo, Smtp, check, problems};

const HELO: &str = "mail.sealpost.test";

/// Sends each message to a fresh test address and returns its report.
fn report_of(demo: &Demo, mail_from: &str, message: &str) -> serde_json::Value {
    let (address, token) = demo.test_address();
    let message = message.replace("TO_ADDRESS", &address);
    let mut smtp = Smtp::connect(&demo.checker, HELO);
    let reply = smtp.send(mail_from, &address, &message);
    assert!(reply.starts_with("250"), "{reply}");
    demo.reports(&token, 1).remove(0)
}

const PLAIN: &str = "From: Hello <hello@client.example>\r\nTo: TO_ADDRESS\r\n\
Subject: A plain message\r\nDate: Sat, 28 Nov 2026 08:00:00 +0000\r\n\
Message-ID: <plain.1@client.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nHello, this is a short plain message.\r\n";

#[test]
fn an_unsigned_message_has_no_dkim() {
    let demo = Demo::start(&[]);
    let report = report_of(&demo, "hello@client.example", PLAIN);
    assert!(
        problems(&report).contains(&"dkim_none".to_owned()),
        "{report}"
    );
    assert_eq!(check(&report, "spf"), "pass");
}

#[test]
fn a_body_changed_after_signing_fails_dkim() {
    let demo = Demo::start(&[]);
    let (status, sent) = demo.request(
        "POST",
        "/api/v1/checker/test-mailings",
        Some(serde_json::json!({"sender": "hello@client.example"})),
    );
    assert_eq!(status, 202);
    let id = sent["message_id"].as_str().unwrap();
    let (_, raw) = demo.request("GET", &format!("/api/v1/messages/{id}/raw"), None);
    // The parts are base64, so the change is a line added at the end of the body, as a
    // mailing-list footer would be.
    let tampered = format!("{}Added after signing.\r\n", raw.as_str().unwrap());
    let report = report_of(&demo, "hello@client.example", &tampered);
    assert!(
        problems(&report).contains(&"dkim_fail".to_owned()),
        "{report}"
    );
    let dkim = report["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["name"] == "dkim")
        .unwrap();
    assert!(
        dkim["found"].as_str().unwrap().contains("body_modified"),
        "{dkim}"
    );
}

#[test]
fn a_sender_domain_that_forbids_this_node_fails_spf() {
    let demo = Demo::start(&[]);
    let message = PLAIN.replace("hello@client.example", "billing@spoofed.example");
    let report = report_of(&demo, "billing@spoofed.example", &message);
    assert!(
        problems(&report).contains(&"spf_fail".to_owned()),
        "{report}"
    );
    assert_eq!(check(&report, "spf"), "fail");
}

#[test]
fn a_missing_date_and_an_html_only_body_are_reported() {
    let demo = Demo::start(&[]);
    let undated = PLAIN.replace("Date: Sat, 28 Nov 2026 08:00:00 +0000\r\n", "");
    let report = report_of(&demo, "hello@client.example", &undated);
    assert!(
        problems(&report).contains(&"date_missing".to_owned()),
        "{report}"
    );

    let html = PLAIN.replace("text/plain", "text/html").replace(
        "Hello, this is a short plain message.",
        "<html><body><p>Hello, this is a short message in HTML only.</p></body></html>",
    );
    let report = report_of(&demo, "hello@client.example", &html);
    assert!(
        problems(&report).contains(&"html_only".to_owned()),
        "{report}"
    );
}

#[test]
fn only_live_test_addresses_are_accepted() {
    let demo = Demo::start(&[]);
    let mut smtp = Smtp::connect(&demo.checker, HELO);
    assert!(
        smtp.command("MAIL FROM:<a@client.example>")
            .starts_with("250")
    );
    for refused in [
        "someone@client.example",
        "postmaster@checker.sealpost.test",
        "test-000000000000000000000000@checker.sealpost.test",
    ] {
        let reply = smtp.command(&format!("RCPT TO:<{refused}>"));
        assert!(reply.starts_with("550 5.1.1"), "{refused}: {reply}");
    }
    let reply = smtp.command("AUTH PLAIN AGRlbW8AeA==");
    assert!(reply.starts_with('5'), "{reply}");
}
