//! DKIM by CNAME delegation on the pages (SPEC S11.4): on a platform that serves a DKIM zone,
//! the hand-off offers the CNAMEs (name, host and value) instead of the TXT record, and after
//! IT has published them the domain page says that the check found the key by delegation.

use sealpost_domain::{DkimZone, DomainName, Selector};

use crate::support::{ACME_ADMIN, Harness, PASSWORD, Platform};

const ZONE: &str = "dkim.platform.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hand_off_offers_the_cnames_and_the_domain_page_names_the_mode() {
    let platform = Platform {
        dkim_zone: Some(ZONE),
        ..Platform::default()
    };
    let mut harness = Harness::start_on("dkim-delegation", platform).await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    harness.goto("/t/acme/domains").await;
    harness.fill("#new-domain", "news.client.test").await;
    harness.click("#create-domain").await;
    harness.click("#generate-key").await;
    harness.wait_for("#notice").await;

    let zone = DkimZone::new(DomainName::parse(ZONE).unwrap());
    let domain = DomainName::parse("news.client.test").unwrap();
    let served = |selector: &str| {
        zone.served_name(harness.acme, &domain, &Selector::parse(selector).unwrap())
            .unwrap()
    };
    let expected = [
        (
            "workplace._domainkey.news.client.test",
            "workplace._domainkey.news",
            served("workplace"),
        ),
        (
            "workplace2._domainkey.news.client.test",
            "workplace2._domainkey.news",
            served("workplace2"),
        ),
    ];
    for (index, (name, host, value)) in expected.iter().enumerate() {
        let id = format!("#cname-{}", index + 1);
        assert_eq!(harness.text(&format!("{id}-name")).await, *name);
        assert_eq!(harness.text(&format!("{id}-host")).await, *host);
        assert_eq!(harness.text(&format!("{id}-value")).await, *value);
    }
    let why = harness.text("#record-delegation .muted").await;
    assert!(why.contains("no key rotation needs a DNS change"), "{why}");
    harness.scroll_to("#record-delegation").await;
    harness.shot("cnames").await;

    // IT publishes the CNAMEs; the test DNS serves the delegated record itself, standing in for
    // the platform's zone (crates/dkimzone's tests run the real one behind a resolver).
    let record = harness.text("#dkim-value").await;
    let (first_name, _, first_target) = expected[0].clone();
    harness.publish(|zone| {
        zone.cname(first_name, &first_target)
            .txt_split(&first_target, &record)
    });
    harness.click("#check-now").await;
    let summary = harness.text("#check-summary").await;
    assert!(summary.contains("DKIM by CNAME delegation"), "{summary}");
    harness.shot("delegated").await;
}
