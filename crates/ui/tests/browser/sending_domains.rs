//! Sending domains: a mistyped domain refused beside the field in a sentence, a domain added
//! with its verification record, "Verify now" refused beside its button with what DNS showed,
//! the record published and the domain proven, then deleted after a confirmation.

use fantoccini::Locator;

use crate::support::{ACME_ADMIN, Harness, PASSWORD, assert_sentence};

const CARD: &str = "[data-domain='newsletter.test']";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_is_proven_by_its_verification_record() {
    let mut harness = Harness::start("sending-domains").await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    harness
        .click("nav.sections a[href='/t/acme/sending-domains']")
        .await;
    assert!(
        harness
            .text("#no-sending-domains")
            .await
            .contains("No sending domain yet")
    );

    // Mistyped domains: the reason beside the field in a sentence without the API's field
    // names, and the typed text kept (issue 16, item 7).
    for (typed, reason) in [
        (
            "https://client.example/",
            "enter the domain only, e.g. client.example, not a URL.",
        ),
        (
            "not a domain",
            "\"not a domain\" is not a valid domain name",
        ),
    ] {
        harness.fill("#new-sending-domain", typed).await;
        harness.click("#add-sending-domain").await;
        let error = harness.error_beside("#new-sending-domain").await;
        assert!(error.contains(reason), "{error}");
        assert_sentence(&error);
        assert_eq!(harness.value("#new-sending-domain").await, typed);
    }
    harness.shot("item7-invalid-domain-beside-the-field").await;

    harness.fill("#new-sending-domain", "Newsletter.test").await;
    harness.click("#add-sending-domain").await;
    let notice = harness.text("#notice").await;
    assert!(notice.contains("newsletter.test was added"), "{notice}");
    assert_eq!(harness.text(&format!("{CARD} .status")).await, "pending");
    assert_eq!(
        harness.text(&format!("{CARD} .record-name")).await,
        "_sealpost.newsletter.test"
    );
    assert_eq!(harness.text(&format!("{CARD} .record-type")).await, "TXT");
    let value = harness.text(&format!("{CARD} .record-value")).await;
    let token = value.strip_prefix("sealpost-verification=").unwrap();
    assert_eq!(token.len(), 32, "{value}");
    // The copy button puts the value on the clipboard, or selects it where that is refused.
    let copy = format!("{CARD} button[data-copy$='-value']");
    harness.click_in_page(&copy).await;
    let button = harness.copy_result(&copy).await;
    assert!(
        button == "Copied" || button.starts_with("Selected"),
        "{button}"
    );
    harness.shot("pending").await;

    // Nothing published yet: the verification says what DNS showed, in a sentence beside the
    // domain's "Verify now" (issue 16, item 7), not somewhere at the top of the page.
    harness.click(&format!("{CARD} button.verify")).await;
    let error = harness.text(&format!("{CARD} .verify-error")).await;
    assert!(
        error.contains("there is no TXT record at _sealpost.newsletter.test"),
        "{error}"
    );
    assert_sentence(&error);
    let error_id = harness
        .wait_for(&format!("{CARD} .verify-error"))
        .await
        .attr("id")
        .await
        .unwrap();
    let described_by = harness
        .wait_for(&format!("{CARD} button.verify"))
        .await
        .attr("aria-describedby")
        .await
        .unwrap();
    assert_eq!(described_by, error_id, "the button does not name its error");
    assert!(harness.browser.find(Locator::Css("#error")).await.is_err());
    assert_eq!(harness.text(&format!("{CARD} .status")).await, "pending");
    harness.scroll_to(CARD).await;
    harness.shot("item7-verify-refused-beside-the-button").await;

    // Another tenant's token is not this tenant's proof.
    harness.publish(|zone| {
        zone.txt(
            "_sealpost.newsletter.test",
            &["sealpost-verification=00000000000000000000000000000000"],
        )
    });
    harness.click(&format!("{CARD} button.verify")).await;
    let error = harness.text(&format!("{CARD} .verify-error")).await;
    assert!(error.contains("not this tenant's token"), "{error}");

    // The IT department publishes the record shown: verified, proven, and no more to verify.
    harness.publish(|zone| zone.txt("_sealpost.newsletter.test", &[&value]));
    harness.click(&format!("{CARD} button.verify")).await;
    let notice = harness.text("#notice").await;
    assert!(notice.contains("newsletter.test is proven"), "{notice}");
    assert_eq!(harness.text(&format!("{CARD} .status")).await, "proven");
    let proof = harness.text(&format!("{CARD} .proof")).await;
    assert!(
        proof.contains("by the TXT record _sealpost.newsletter.test") && proof.contains(" UTC"),
        "{proof}"
    );
    let verify_buttons = harness
        .browser
        .find_all(Locator::Css(&format!("{CARD} button.verify")))
        .await
        .unwrap();
    assert!(
        verify_buttons.is_empty(),
        "a proven domain offers to verify"
    );
    harness.shot("proven").await;
    let known = harness
        .service
        .signing_domains()
        .list_sending_domains(harness.acme)
        .await
        .unwrap();
    assert!(known[0].proof.is_some(), "{known:?}");

    // Deleting asks first, and says what follows.
    harness
        .click_in_page(&format!("{CARD} details.confirm summary"))
        .await;
    let confirm = harness.text(&format!("{CARD} details.confirm p")).await;
    assert!(confirm.contains("will be refused"), "{confirm}");
    harness.shot("confirm-delete").await;
    harness.click(&format!("{CARD} button.delete")).await;
    assert!(harness.text("#notice").await.contains("was deleted"));
    harness.wait_for("#no-sending-domains").await;
    assert!(
        harness
            .service
            .signing_domains()
            .list_sending_domains(harness.acme)
            .await
            .unwrap()
            .is_empty()
    );
    harness.finish().await;
}
