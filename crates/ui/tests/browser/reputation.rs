//! The reputation guard in the UI (SPEC S10.5), at 1280 px and at 390 px: a tenant whose bounce
//! rate crossed the pause threshold reads why on its dashboard, with its rates, and on the page
//! of a message held meanwhile; the operator sees it paused on the tenant list and resumes it
//! behind a confirmation; the tenant cannot.

use std::time::{Duration, Instant};

use sealpost_domain::{Feedback, MessageId, RecipientState, ReputationPolicy};

use crate::support::{ACME_ADMIN, Harness, OPERATOR, PASSWORD, Platform, assert_sentence};

const READERS: [&str; 4] = [
    "reader0@receiver.test",
    "reader1@receiver.test",
    "reader2@receiver.test",
    "reader3@receiver.test",
];

/// Sends acme one message to four readers, waits until the receiver accepted all four, and
/// records a hard bounce for the first: 25 % bounces over four delivered, above the 10 % that
/// pauses sending once four delivered recipients are enough to judge.
async fn pause_acme(harness: &Harness) {
    harness.signing_domain(harness.acme).await;
    let id: MessageId = harness
        .submit(harness.acme, &READERS, "Boiler fixed")
        .await
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let message = loop {
        let message = harness
            .service
            .messages()
            .message(harness.acme, id)
            .await
            .unwrap();
        let sent = message
            .recipients
            .iter()
            .all(|recipient| recipient.state == RecipientState::Sent);
        if sent {
            break message;
        }
        assert!(Instant::now() < deadline, "not delivered: {message:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    harness
        .service
        .feedback()
        .record_feedback(
            harness.acme,
            message.recipients[0].id,
            Feedback::HardBounce,
            "550 5.1.1 no such user",
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_resumes_a_tenant_paused_for_its_bounce_rate() {
    let platform = Platform {
        reputation: ReputationPolicy {
            min_volume: 4,
            ..ReputationPolicy::default()
        },
        ..Platform::default()
    };
    let mut harness = Harness::start_on("reputation", platform).await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    // While it stands well, the dashboard has no banner but shows its rates.
    harness.wait_for("#tile-reputation").await;
    assert!(!harness.page_text().await.contains("Sending is paused"));
    assert_eq!(harness.text("#standing").await, "sending normally");

    pause_acme(&harness).await;
    // A message accepted meanwhile is held, and its page says why and until when.
    let held = harness
        .submit(harness.acme, &["held@receiver.test"], "Held back")
        .await;
    for (width, height) in [(1280, 1000), (390, 844)] {
        harness
            .browser
            .set_window_size(width, height)
            .await
            .unwrap();
        harness.goto("/t/acme").await;
        let banner = harness.text("#reputation-banner").await;
        assert_eq!(
            banner,
            "Sending is paused: the bounce rate 25.00 % over the last 7 days is above 10.00 % \
             (1 of 4 delivered). New mail is accepted and held until the platform operator \
             resumes it."
        );
        assert_sentence(&banner);
        assert_eq!(
            harness.text("#bounce-rate").await,
            "25.00 % (1 of 4 delivered)"
        );
        assert_eq!(
            harness.text("#complaint-rate").await,
            "0.00 % (0 of 4 delivered)"
        );
        assert_eq!(harness.text("#standing").await, "sending paused");
        harness.shot(&format!("paused-dashboard-{width}")).await;
        harness.goto(&format!("/t/acme/messages/{held}")).await;
        let notice = harness.text("#held").await;
        assert!(
            notice.starts_with("Held: this tenant's sending is paused since ")
                && notice.contains(" UTC: the bounce rate 25.00 % over the last 7 days is above")
                && notice.ends_with(
                    "go out when the platform operator resumes it; their \
                     expiry moves on by the pause."
                ),
            "{notice}"
        );
        assert_sentence(&notice);
        let recipients = harness.text("#recipients").await;
        assert!(recipients.contains("when sending resumes"), "{recipients}");
        assert!(!harness.page_text().await.contains("Retry now"));
        harness.shot(&format!("held-message-{width}")).await;
    }
    harness.goto("/t/acme").await;

    // The tenant cannot resume itself, even with its own form token.
    let csrf = harness
        .wait_for("input[name=csrf]")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let cookie = harness.session_cookie().await;
    let status = harness
        .raw_post("/t/acme/resume", &cookie, &format!("csrf={csrf}"))
        .await;
    assert_eq!(status, 404);
    harness.sign_out().await;

    harness.sign_in(OPERATOR, PASSWORD).await;
    assert_eq!(harness.text("#standing-acme").await, "sending paused");
    assert_eq!(harness.text("#standing-other").await, "sending normally");
    assert!(
        harness
            .text("#tenant-acme")
            .await
            .contains("Because the bounce rate 25.00 %")
    );
    harness.click_in_page("#resume-acme summary").await;
    harness.shot("operator-confirms-resume-390").await;
    harness.click("#resume-acme-confirm").await;
    assert_eq!(
        harness.text("#notice").await,
        "Sending resumed for Acme Facilities: its held mail goes out now."
    );
    assert_eq!(harness.text("#standing-acme").await, "sending normally");
    harness.shot("operator-resumed-390").await;

    harness.browser.set_window_size(1280, 1000).await.unwrap();
    harness.goto("/t/acme").await;
    harness.wait_for("#tile-reputation").await;
    assert!(!harness.page_text().await.contains("Sending is paused"));
    assert!(
        harness
            .browser
            .find(fantoccini::Locator::Css("#reputation-banner"))
            .await
            .is_err()
    );
    harness.shot("resumed-dashboard-1280").await;
    harness.finish().await;
}
