//! Sending domains: a mistyped domain refused beside the field, a domain added with its
//! verification record, "Verify now" refused with what DNS showed, the record published and
//! the domain proven, then deleted after a confirmation.

use fantoccini::Locator;

use crate::support::{ACME_ADMIN, Harness, PASSWORD};

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

    // A mistyped domain: the reason beside the field, and the typed text kept.
    harness
        .fill("#new-sending-domain", "news letter.test")
        .await;
    harness.click("#add-sending-domain").await;
    let error = harness.text("#new-sending-domain-error").await;
    assert!(
        error.contains("\"news letter.test\" is not a valid domain name"),
        "{error}"
    );
    let typed = harness
        .wait_for("#new-sending-domain")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(typed.as_deref(), Some("news letter.test"));
    harness.shot("invalid-domain").await;

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
    let button = harness.text(&copy).await;
    assert!(
        button == "Copied" || button.starts_with("Selected"),
        "{button}"
    );
    harness.shot("pending").await;

    // Nothing published yet: the verification says what DNS showed, at the top of the page.
    harness.click(&format!("{CARD} button.verify")).await;
    let error = harness.text("#error").await;
    assert!(
        error.contains(
            "newsletter.test is not proven yet: there is no TXT record at \
             _sealpost.newsletter.test"
        ),
        "{error}"
    );
    assert_eq!(harness.text(&format!("{CARD} .status")).await, "pending");
    harness.shot("verify-refused").await;

    // Another tenant's token is not this tenant's proof.
    harness.publish(|zone| {
        zone.txt(
            "_sealpost.newsletter.test",
            &["sealpost-verification=00000000000000000000000000000000"],
        )
    });
    harness.click(&format!("{CARD} button.verify")).await;
    let error = harness.text("#error").await;
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
