//! The SPF part of "Send these records to your IT department" (issue 16, item 8): for a domain
//! whose SPF record lacks the platform's include, the minimal edit of that record (the record
//! as it is, with the include added before its `all`, the record published now beside it); for
//! a domain without one, a new record.
//! Each with its full name, its name relative to the zone and copy buttons, and in the message
//! for the ticket.

use crate::support::{ACME_ADMIN, Harness, PASSWORD, PLATFORM_SPF};

/// What the hand-off should show for the SPF record of one signing domain.
struct Expected<'a> {
    domain: &'a str,
    title: &'a str,
    why: &'a str,
    host: &'a str,
    value: &'a str,
    /// The record published now that the hand-off's replaces, shown beside it.
    replaces: Option<&'a str>,
}

/// Adds `expected.domain` as a signing domain with a generated key, then checks the SPF
/// record of its hand-off.
async fn check_spf_handoff(harness: &mut Harness, expected: &Expected<'_>, shot: &str) {
    harness.goto("/t/acme/domains").await;
    harness.fill("#new-domain", expected.domain).await;
    harness.click("#create-domain").await;
    harness.click("#generate-key").await;
    harness.wait_for("#notice").await;

    assert_eq!(harness.text("#record-spf h3").await, expected.title);
    let why = harness.text("#record-spf .muted").await;
    assert!(why.contains(expected.why), "{why}");
    assert_eq!(harness.text("#spf-name").await, expected.domain);
    assert_eq!(harness.text("#spf-host").await, expected.host);
    assert_eq!(harness.text("#spf-value").await, expected.value);
    match expected.replaces {
        Some(current) => assert_eq!(harness.text("#spf-current").await, current),
        None => assert!(
            harness
                .browser
                .find(fantoccini::Locator::Css("#spf-current"))
                .await
                .is_err()
        ),
    }
    for part in ["name", "host", "value"] {
        harness
            .wait_for(&format!("#record-spf button[data-copy='spf-{part}']"))
            .await;
    }
    let copy = "#record-spf button[data-copy='spf-value']";
    harness.click_in_page(copy).await;
    let button = harness.copy_result(copy).await;
    assert!(
        button == "Copied" || button.starts_with("Selected"),
        "{button}"
    );
    // Nothing says that SPF could not be given.
    let page = harness.page_text().await;
    assert!(!page.contains("could not be edited"), "{page}");
    assert!(!page.contains("not configured"), "{page}");
    harness.click_in_page("#it-message summary").await;
    let message = harness.text("#it-text").await;
    assert!(
        message.contains(expected.value) && message.contains(expected.title),
        "{message}"
    );
    if let Some(current) = expected.replaces {
        let line = format!("It replaces the record published now: {current}");
        assert!(message.contains(&line), "{message}");
    }
    harness.scroll_to("#record-spf").await;
    harness.shot(shot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hand_off_edits_the_spf_record_or_gives_a_new_one() {
    let mut harness = Harness::start("spf-handoff").await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    harness.publish(|zone| zone.txt("mail.shop.test", &["v=spf1 mx ip4:192.0.2.10 ~all"]));

    let edited = format!("v=spf1 mx ip4:192.0.2.10 include:{PLATFORM_SPF} ~all");
    let edit = Expected {
        domain: "mail.shop.test",
        title: "SPF: add the platform",
        why: "Replace the SPF record of mail.shop.test with this one: it is your record with \
              the platform's servers added, nothing else changed.",
        host: "mail",
        value: &edited,
        replaces: Some("v=spf1 mx ip4:192.0.2.10 ~all"),
    };
    check_spf_handoff(
        &mut harness,
        &edit,
        "item8-spf-edit-of-the-record-they-have",
    )
    .await;

    let created = format!("v=spf1 include:{PLATFORM_SPF} ~all");
    let new_record = Expected {
        domain: "fresh.test",
        title: "SPF: allow the platform",
        why: "fresh.test has no SPF record yet: publish this one.",
        host: "@",
        value: &created,
        replaces: None,
    };
    check_spf_handoff(&mut harness, &new_record, "item8-spf-new-record").await;
    harness.finish().await;
}
