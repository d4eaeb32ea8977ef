//! The return path (bounces) on a signing domain's page: a domain outside the signing domain
//! refused beside the field in a sentence with what was typed kept, bounces.client.test set with
//! its MX and SPF records (full and host-relative names, copy buttons), "Check now" naming each
//! missing record with its problem, the records published and found, and removal after a
//! confirmation; then the same at 390 px. On a platform without an inbound host the section says
//! that bounces cannot come back, and asks for nothing.

use crate::support::{
    ACME_ADMIN, Harness, INBOUND_HOST, PASSWORD, PLATFORM_SPF, Platform, assert_sentence,
};

const RETURN_PATH: &str = "bounces.client.test";

async fn overflow(harness: &Harness) -> i64 {
    harness
        .browser
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_path_is_set_checked_found_and_removed() {
    let mut harness = Harness::start("return-path").await;
    let domain = harness.signing_domain(harness.acme).await;
    let page = format!("/t/acme/domains/{domain}");
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    harness.goto(&page).await;
    assert_eq!(harness.text("#return-path-status").await, "not set up");
    assert_eq!(harness.value("#return-path-input").await, RETURN_PATH);

    refused_outside_the_domain(&mut harness).await;
    set_and_check(&mut harness).await;
    published_and_found(&mut harness).await;
    remove(&mut harness).await;

    harness.browser.set_window_size(390, 844).await.unwrap();
    harness.goto(&page).await;
    harness.click("#set-return-path").await;
    harness.click("#check-return-path").await;
    harness.wait_for("#return-path-check").await;
    assert_eq!(overflow(&harness).await, 0);
    harness.scroll_to("#return-path").await;
    harness.shot("390-records").await;
    harness.scroll_to("#return-path-spf").await;
    harness.shot("390-records-spf").await;
    harness.finish().await;
}

async fn refused_outside_the_domain(harness: &mut Harness) {
    harness
        .fill("#return-path-input", "bounces.other.test")
        .await;
    harness.click("#set-return-path").await;
    let error = harness.error_beside("#return-path-input").await;
    assert_eq!(
        error,
        "Enter a subdomain of client.test, such as bounces.client.test: bounces.other.test is \
         not part of client.test, so receivers would not count it as your domain."
    );
    assert_sentence(&error);
    assert_eq!(
        harness.value("#return-path-input").await,
        "bounces.other.test"
    );
    assert_eq!(harness.text("#return-path-status").await, "not set up");
    harness.scroll_to("#return-path").await;
    harness.shot("1280-outside-the-domain").await;
}

async fn set_and_check(harness: &mut Harness) {
    harness.fill("#return-path-input", RETURN_PATH).await;
    harness.click("#set-return-path").await;
    assert!(
        harness
            .text("#notice")
            .await
            .starts_with("The return-path domain was saved.")
    );
    assert_eq!(harness.text("#return-path-name").await, RETURN_PATH);
    assert_eq!(
        harness.text("#return-path-status").await,
        "records not found yet"
    );
    for (record, kind, value) in [
        ("mx", "MX", format!("10 {INBOUND_HOST}.")),
        ("spf", "TXT", format!("v=spf1 include:{PLATFORM_SPF} -all")),
    ] {
        let id = format!("#return-path-{record}");
        assert_eq!(harness.text(&format!("{id}-name")).await, RETURN_PATH);
        assert_eq!(harness.text(&format!("{id}-host")).await, "bounces");
        assert_eq!(harness.text(&format!("{id}-type")).await, kind);
        assert_eq!(harness.text(&format!("{id}-value")).await, value);
    }
    let copy = "#return-path-mx button[data-copy='return-path-mx-value']";
    harness.click_in_page(copy).await;
    let button = harness.copy_result(copy).await;
    assert!(
        button == "Copied" || button.starts_with("Selected"),
        "{button}"
    );
    harness.scroll_to("#return-path").await;
    harness.shot("1280-records-to-publish").await;

    harness.click("#check-return-path").await;
    let summary = harness.text("#return-path-check").await;
    assert!(
        summary.starts_with("Not in use yet: 2 records are missing."),
        "{summary}"
    );
    for record in ["mx", "spf"] {
        let id = format!("#return-path-{record}");
        assert_eq!(harness.text(&format!("{id} .found")).await, "missing");
        let problem = harness.text(&format!("{id} .problem")).await;
        assert_sentence(&problem);
    }
    harness.scroll_to("#return-path").await;
    harness.shot("1280-check-missing").await;
}

async fn published_and_found(harness: &mut Harness) {
    harness.publish(|zone| {
        zone.mx(RETURN_PATH, 10, INBOUND_HOST)
            .a(INBOUND_HOST, std::net::Ipv4Addr::LOCALHOST)
            .txt(
                RETURN_PATH,
                &[&format!("v=spf1 include:{PLATFORM_SPF} -all")],
            )
    });
    harness.click("#check-return-path").await;
    let summary = harness.text("#return-path-check").await;
    assert!(
        summary.starts_with("Both records were found: mail from client.test goes out with"),
        "{summary}"
    );
    assert_eq!(harness.text("#return-path-status").await, "in use");
    for record in ["mx", "spf"] {
        let id = format!("#return-path-{record}");
        assert_eq!(harness.text(&format!("{id} .found")).await, "found");
    }
    harness.scroll_to("#return-path").await;
    harness.shot("1280-check-found").await;
}

async fn remove(harness: &mut Harness) {
    assert!(
        !harness
            .wait_for("#remove-return-path")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    harness.click_in_page("#return-path-removal summary").await;
    let question = harness.text("#return-path-removal form p").await;
    assert!(
        question.starts_with(&format!("Remove the return-path domain {RETURN_PATH}?")),
        "{question}"
    );
    harness.shot("1280-remove-asks-first").await;
    harness.click("#remove-return-path").await;
    assert!(
        harness
            .text("#notice")
            .await
            .starts_with("The return-path domain was removed")
    );
    assert_eq!(harness.text("#return-path-status").await, "not set up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_inbound_host_the_section_says_bounces_cannot_come_back() {
    let platform = Platform {
        inbound_host: None,
        ..Platform::default()
    };
    let mut harness = Harness::start_on("no-inbound-host", platform).await;
    let domain = harness.signing_domain(harness.acme).await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    harness.goto(&format!("/t/acme/domains/{domain}")).await;
    let text = harness.text("#return-path-unavailable").await;
    assert!(
        text.starts_with("Bounces cannot be received on this platform"),
        "{text}"
    );
    let section = harness.text("#return-path").await;
    assert!(!section.contains("MX"), "{section}");
    assert!(!section.contains("Check now"), "{section}");
    assert_eq!(
        harness
            .browser
            .find_all(fantoccini::Locator::Css("#return-path form"))
            .await
            .unwrap()
            .len(),
        0
    );
    harness.scroll_to("#return-path").await;
    harness.shot("1280-no-inbound-host").await;
    harness.finish().await;
}
