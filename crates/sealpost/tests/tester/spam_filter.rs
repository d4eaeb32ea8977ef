//! SpamAssassin's score in the report when spamd is configured (Debian's spamd, network tests
//! off, on loopback).

use sealpost_spamd::testing::RunningSpamd;

use crate::support::{Demo, Smtp, check, problems};

const GTUBE: &str = "From: Hello <hello@client.example>\r\nTo: TO_ADDRESS\r\n\
Subject: Test spam mail (GTUBE)\r\nDate: Sat, 28 Nov 2026 08:00:00 +0000\r\n\
Message-ID: <gtube.1@client.example>\r\n\r\n\
XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n";

#[test]
fn spamassassin_scores_a_spam_message() {
    let spamd = RunningSpamd::start();
    let demo = Demo::start(&[("SEALPOST_CHECKER__SPAMD", spamd.address().to_string())]);
    let (address, token) = demo.test_address();
    let mut smtp = Smtp::connect(&demo.checker, "mail.sealpost.test");
    let reply = smtp.send(
        "hello@client.example",
        &address,
        &GTUBE.replace("TO_ADDRESS", &address),
    );
    assert!(reply.starts_with("250"), "{reply}");
    let report = demo.reports(&token, 1).remove(0);
    assert!(
        problems(&report).contains(&"spam_filter_spam".to_owned()),
        "{report}"
    );
    assert_eq!(check(&report, "spam_filter"), "fail");
    let found = report["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["name"] == "spam_filter")
        .unwrap()["found"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(found.contains("GTUBE"), "{found}");
}
