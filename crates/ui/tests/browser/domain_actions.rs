//! A signing domain's destructive actions ask first and look destructive (replace key,
//! deactivate; delete a sending domain), and "Check now" puts its outcome at the top of the
//! page in one line.

use crate::support::{ACME_ADMIN, Harness, PASSWORD};

/// The colour of destructive actions, `--bad` in the stylesheet.
const DANGER: &str = "rgb(180, 35, 24)";

async fn displayed(harness: &Harness, selector: &str) -> bool {
    harness
        .wait_for(selector)
        .await
        .is_displayed()
        .await
        .unwrap()
}

async fn style(harness: &Harness, selector: &str, property: &str) -> String {
    let value = harness
        .browser
        .execute(
            "return getComputedStyle(document.querySelector(arguments[0]))[arguments[1]];",
            vec![selector.into(), property.into()],
        )
        .await
        .unwrap();
    value.as_str().unwrap().to_owned()
}

/// Opens the confirmation behind `summary` and checks that `button` waited behind it and is
/// styled as destructive.
async fn confirm_opens(harness: &Harness, summary: &str, button: &str) {
    assert!(!displayed(harness, button).await, "{button} shows at once");
    assert_eq!(style(harness, summary, "color").await, DANGER, "{summary}");
    harness.click_in_page(summary).await;
    assert!(displayed(harness, button).await, "{button}");
    assert_eq!(
        style(harness, button, "backgroundColor").await,
        DANGER,
        "{button}"
    );
}

async fn public_key(harness: &Harness) -> String {
    harness
        .wait_for("#public-key")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destructive_actions_ask_first_and_the_check_heads_the_page() {
    let mut harness = Harness::start("domain-actions").await;
    let id = harness.signing_domain(harness.acme).await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    harness.goto(&format!("/t/acme/domains/{id}")).await;

    // A new key of an active domain waits for its record; the current key keeps signing, and
    // the badges say so. Using the new key before DNS carries it asks first, in red.
    let old_key = public_key(&harness).await;
    harness.click_in_page("#replace-key > summary").await;
    let warning = harness.text("#replace-warning").await;
    assert!(
        warning.contains("The current key keeps signing until DNS carries the new one"),
        "{warning}"
    );
    harness.scroll_to("#key").await;
    harness.shot("replace-key").await;
    harness.click("#generate-key").await;
    assert!(harness.text("#notice").await.contains("RSA-2048"));
    assert_eq!(public_key(&harness).await, old_key);
    assert_eq!(harness.text("#domain-status").await, "active");
    assert!(harness.text("#domain-dns-status").await.starts_with("DNS "));
    let pending = harness.text("#key-workplace2").await;
    assert!(
        pending.contains("pending") && pending.contains("Publish the TXT record"),
        "{pending}"
    );
    confirm_opens(
        &harness,
        "#force-promote-workplace2 > summary",
        "#force-promote-button-workplace2",
    )
    .await;
    harness.shot("force-promote").await;
    harness.click("#force-promote-button-workplace2").await;
    assert!(harness.text("#notice").await.contains("signs from now on"));
    let promoted = harness.text("#key-workplace2").await;
    assert!(
        promoted.contains("active") && promoted.contains("forced"),
        "{promoted}"
    );
    assert!(harness.text("#key-workplace").await.contains("retiring"));
    assert!(harness.text("#history").await.contains("by force"));
    assert_eq!(harness.text("#domain-status").await, "active");

    confirm_opens(&harness, "#deactivation > summary", "#deactivate").await;
    let question = harness.text("#deactivation").await;
    assert!(question.contains("Deactivate client.test?"), "{question}");
    harness.shot("deactivate").await;
    harness.click("#deactivate").await;
    assert!(harness.text("#notice").await.contains("inactive"));
    assert_eq!(
        harness.text("#domain-status").await,
        "key ready, not active"
    );

    // "Check now" sits at the end of the page; its outcome is the first thing on the next.
    harness.scroll_to("#check-now").await;
    harness.click("#check-now").await;
    let summary = harness.text("#check-summary").await;
    assert!(summary.starts_with("DNS check: "), "{summary}");
    assert!(summary.contains("SPF"), "{summary}");
    let in_view = harness
        .browser
        .execute(
            "const box = document.querySelector('#check-summary').getBoundingClientRect();
             return box.top >= 0 && box.bottom <= window.innerHeight;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(in_view, serde_json::Value::Bool(true));
    harness.shot("check-summary").await;
    // The check recorded its result: the badge says when and what.
    assert!(harness.text("#dns-checked").await.starts_with("Checked "));
    // So did the records beside DKIM, each with its result and time in words.
    let dmarc = harness.text("#rechecked-dmarc").await;
    assert!(
        dmarc.contains("DMARC at _dmarc.client.test") && dmarc.contains("Checked "),
        "{dmarc}"
    );

    // Deleting the signing domain asks first, in red, then the list no longer has it.
    harness.scroll_to("#delete").await;
    confirm_opens(&harness, "#deletion > summary", "#delete-domain").await;
    harness.shot("delete-signing-domain").await;
    harness.click("#delete-domain").await;
    assert!(!harness.text("#domains").await.contains("client.test"));

    // Deleting a sending domain asked first already; it looks destructive too.
    harness.goto("/t/acme/sending-domains").await;
    let card = "[data-domain='client.test']";
    confirm_opens(
        &harness,
        &format!("{card} details.confirm > summary"),
        &format!("{card} button.delete"),
    )
    .await;
    harness.shot("delete-sending-domain").await;
    harness.finish().await;
}
