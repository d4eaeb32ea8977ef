//! The client against a real spamd: the two verdicts the mail tester shows.

use std::time::Duration;

use sealpost_spamd::SpamdClient;

use sealpost_spamd::testing::RunningSpamd;

/// Generous, because the first check after start-up also warms spamd's child up.
const TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn gtube_message_is_spam_and_names_the_gtube_rule() {
    let spamd = RunningSpamd::start();
    let client = SpamdClient::new(spamd.address(), TIMEOUT);

    let report = client
        .check(include_bytes!("messages/gtube.eml"))
        .await
        .unwrap();

    assert!(report.is_spam, "{report:?}");
    assert!(report.score >= report.threshold, "{report:?}");
    let gtube = report.rules.iter().find(|rule| rule.name == "GTUBE");
    let gtube = gtube.unwrap_or_else(|| panic!("no GTUBE rule in {report:?}"));
    assert_eq!(gtube.score, 1000.0);
    assert!(
        gtube
            .description
            .contains("Generic Test for Unsolicited Bulk Email"),
        "{gtube:?}"
    );
}

#[tokio::test]
async fn ordinary_message_is_not_spam() {
    let spamd = RunningSpamd::start();
    let client = SpamdClient::new(spamd.address(), TIMEOUT);

    let report = client
        .check(include_bytes!("messages/ordinary.eml"))
        .await
        .unwrap();

    assert!(!report.is_spam, "{report:?}");
    assert!(report.score < report.threshold, "{report:?}");
    assert_eq!(report.threshold, 5.0, "{report:?}");
    assert!(
        report.rules.iter().all(|rule| rule.name != "GTUBE"),
        "{report:?}"
    );
}
