//! Mailings end to end: a sender refused with the reason, a mailing sent as one message per
//! recipient (each with only its own address), its recipients reaching "sent" on refresh, a
//! second send queueing nothing, a cancelled recipient making it "partly delivered", its
//! messages verifying with DKIM; then the troubleshooting
//! screen, a test mailing refused from an unproven domain and sent from a proven one, and the
//! checker's report of it.

use crate::support::{ACME_ADMIN, Harness, PASSWORD, assert_sentence};

async fn add_contact(harness: &Harness, name: &str, email: &str) {
    harness.goto("/t/acme/contacts/new").await;
    harness.fill("#contact-name", name).await;
    harness.fill("#contact-email", email).await;
    harness.click("#add-contact").await;
    assert_eq!(harness.text("#notice").await, "Contact added.");
}

/// Ticks the recipient and picks the sender whose labels contain the given addresses.
async fn compose(harness: &Harness, sender: &str, recipients: &[&str], subject: &str) {
    harness
        .browser
        .execute(
            "const [sender, recipients] = arguments;
             for (const option of document.querySelectorAll('#mailing-sender option'))
               if (option.textContent.includes(sender)) option.selected = true;
             for (const label of document.querySelectorAll('#mailing-recipients label'))
               if (recipients.some(r => label.textContent.includes(r)))
                 label.querySelector('input').checked = true;",
            vec![sender.into(), serde_json::json!(recipients)],
        )
        .await
        .unwrap();
    harness.fill("#mailing-subject", subject).await;
    harness
        .fill("#mailing-body", "The boiler in building B is fixed.")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailing_is_sent_and_its_message_verifies() {
    let mut harness = Harness::start("mailing").await;
    harness.signing_domain(harness.acme).await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    add_contact(&harness, "Facilities", "facilities@client.test").await;
    add_contact(&harness, "Elsewhere", "noreply@unsigned.test").await;
    add_contact(&harness, "Ann", "ann@receiver.test").await;
    add_contact(&harness, "Bob", "bob@receiver.test").await;
    add_contact(&harness, "Greylisted", "later@receiver.test").await;

    // A contact outside the signing domains is a recipient only, and is not offered as sender.
    harness.goto("/t/acme/contacts").await;
    let contacts = harness.text("#contact-list").await;
    assert!(contacts.contains("noreply@unsigned.test"), "{contacts}");
    harness.goto("/t/acme/mailings").await;
    let senders = harness.text("#mailing-sender").await;
    assert!(senders.contains("facilities@client.test"), "{senders}");
    assert!(!senders.contains("noreply@unsigned.test"), "{senders}");
    harness.shot("sender-choice").await;

    compose(
        &harness,
        "facilities@client.test",
        &[
            "ann@receiver.test",
            "bob@receiver.test",
            "later@receiver.test",
        ],
        "Work order 4711",
    )
    .await;
    harness.shot("compose").await;
    harness.click("#create-mailing").await;
    assert!(harness.text("#notice").await.contains("Send message"));
    assert_eq!(harness.text("#mailing-status").await, "draft");
    let mailing_path = harness.current_path().await;
    let csrf = harness
        .wait_for("input[name=csrf]")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    harness.click("#send-mailing").await;
    assert!(
        harness
            .text("#notice")
            .await
            .contains("accepted for delivery")
    );
    harness
        .refresh_until("#mailing-recipients", "deferred")
        .await;
    let recipients = harness.text("#mailing-recipients").await;
    assert_eq!(recipients.matches(" sent").count(), 2, "{recipients}");
    // The greylisted recipient waits, with its next attempt and the remote reply.
    assert!(recipients.contains("deferred"), "{recipients}");
    assert!(recipients.contains("451 4.7.1 greylisted"), "{recipients}");
    assert!(recipients.contains(" UTC"), "{recipients}");
    assert_eq!(harness.text("#mailing-status").await, "in progress");
    harness.shot("recipients-status").await;

    // Sending the same mailing again (a second click from an old page) queues nothing.
    let cookie = harness.session_cookie().await;
    let send = format!("{mailing_path}/send");
    let again = harness
        .raw_post(&send, &cookie, &format!("csrf={csrf}"))
        .await;
    assert_eq!(again, 409);

    // Each recipient was sent a message of its own: only its own address in To:, no other
    // recipient's anywhere in it, no Cc or Bcc. The greylisted one has not arrived yet.
    let everyone = [
        "ann@receiver.test",
        "bob@receiver.test",
        "later@receiver.test",
    ];
    let mut arrived = Vec::new();
    for message in harness.received.messages() {
        let text = String::from_utf8_lossy(&message).into_owned();
        let head = text.split("\r\n\r\n").next().unwrap().to_owned();
        let named: Vec<&str> = everyone
            .into_iter()
            .filter(|address| text.contains(address))
            .collect();
        assert_eq!(named.len(), 1, "{text}");
        let to: Vec<&str> = head
            .lines()
            .filter(|line| line.starts_with("To:"))
            .collect();
        assert_eq!(to.len(), 1, "{head}");
        assert!(to[0].contains(named[0]), "{head}");
        assert!(
            !head.contains("\nCc:") && !head.contains("\nBcc:"),
            "{head}"
        );
        arrived.push(named[0]);
    }
    arrived.sort_unstable();
    assert_eq!(arrived, ["ann@receiver.test", "bob@receiver.test"]);

    // The greylisted recipient's own message waits; its stored source names only it.
    let later = message_href(&harness, "later@receiver.test").await;
    let ann = message_href(&harness, "ann@receiver.test").await;
    assert_ne!(later, ann);
    harness.goto(&later).await;
    assert_eq!(harness.text("#message-status").await, "deferred");
    let raw = harness.text("#raw").await;
    assert!(
        raw.contains("To: \"Greylisted\" <later@receiver.test>"),
        "{raw}"
    );
    assert!(
        !raw.contains("ann@receiver.test") && !raw.contains("bob@receiver.test"),
        "{raw}"
    );

    harness.goto(&ann).await;
    assert_eq!(harness.text("#message-status").await, "sent");
    assert!(harness.text("#attempts").await.contains("250"));
    assert_eq!(harness.text("#dkim-result").await, "pass");
    assert!(harness.text("#dkim").await.contains("verified"));
    assert!(harness.text("#signing").await.contains("d=client.test"));
    assert!(harness.text("#raw").await.contains("DKIM-Signature:"));
    assert_eq!(harness.received.count(), 2);
    harness.scroll_to("#dkim").await;
    harness.shot("message-dkim-pass").await;

    harness.goto("/t/acme/messages").await;
    harness.fill("#filter-q", "4711").await;
    harness.click("#filter").await;
    let messages = harness.text("#messages").await;
    assert_eq!(messages.matches("Work order 4711").count(), 3, "{messages}");
    harness.goto("/t/acme").await;
    assert!(
        harness
            .text("#tile-messages")
            .await
            .contains("Work order 4711")
    );
    let figures = harness.text("#tile-figures").await;
    assert!(
        figures.contains("sent 2") && figures.contains("deferred 1"),
        "{figures}"
    );
    harness.shot("dashboard").await;

    // The greylisted recipient is given up on: delivered to two of three is "partly
    // delivered", not "failed".
    harness.goto(&later).await;
    harness.click_in_page("#cancel summary").await;
    harness.click("#cancel-confirm").await;
    harness.goto(&mailing_path).await;
    assert_eq!(harness.text("#mailing-status").await, "partly delivered");
    assert!(
        harness
            .text("#mailing-delivered")
            .await
            .contains("delivered to 2 of 3")
    );
    harness.shot("mailing-partly-delivered").await;
    harness.goto("/t/acme/mailings").await;
    assert!(
        harness.text("#mailings").await.contains("partly delivered"),
        "{}",
        harness.text("#mailings").await
    );
    harness.finish().await;
}

/// The address of the message that went to `recipient`, from the mailing page's recipients.
async fn message_href(harness: &Harness, recipient: &str) -> String {
    let href = harness
        .browser
        .execute(
            "for (const row of document.querySelectorAll('#mailing-recipients tbody tr'))
               if (row.textContent.includes(arguments[0]))
                 return row.querySelector('a.message-link').getAttribute('href');
             return null;",
            vec![recipient.into()],
        )
        .await
        .unwrap();
    href.as_str()
        .unwrap_or_else(|| panic!("no message link for {recipient}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn troubleshooting_sends_a_test_mailing_and_the_report_appears() {
    let mut harness = Harness::start("troubleshoot").await;
    harness.signing_domain(harness.acme).await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;

    harness.goto("/t/acme/troubleshoot").await;
    harness.fill("#sender", "facilities@unsigned.test").await;
    harness.click("#diagnose").await;
    let verdict = harness.text("#signing-verdict").await;
    assert!(verdict.contains("unsigned"), "{verdict}");
    // A test mailing from a domain the tenant has not proven is refused beside its button, in
    // a sentence with the way to prove it (issue 16, item 7).
    harness.click("#send-test-mailing").await;
    let refused = harness.error_beside("#send-test-mailing").await;
    assert!(
        refused.starts_with("The From domain unsigned.test has not been proven")
            && refused.contains("add unsigned.test as a sending domain"),
        "{refused}"
    );
    assert_sentence(&refused);
    assert_eq!(harness.value("#sender").await, "facilities@unsigned.test");
    harness.scroll_to("#step-test").await;
    harness.shot("test-mailing-unproven").await;

    harness.fill("#sender", "facilities@client.test").await;
    harness.click("#diagnose").await;
    assert_eq!(harness.text("#sender-domain").await, "client.test");
    assert!(
        harness
            .text("#step-signing")
            .await
            .contains("present and active")
    );
    assert!(
        harness
            .text("#signing-verdict")
            .await
            .contains("DKIM-signed")
    );
    assert!(
        harness
            .text("#report-dkim")
            .await
            .starts_with("DKIM record ok")
    );
    assert!(harness.text("#report-spf").await.contains("SPF"));
    assert!(harness.text("#report-dmarc").await.contains("DMARC"));
    harness.shot("diagnosis").await;

    harness.click("#send-test-mailing").await;
    let waiting = harness.text("#waiting").await;
    assert!(waiting.contains("@checker.test"), "{waiting}");
    harness.shot("waiting").await;

    // The inbound listener's part: the message reached the loopback server through the
    // checker domain's MX; hand it to the mail tester as the listener would.
    let address = waiting
        .split_whitespace()
        .map(|word| word.trim_end_matches('.'))
        .find(|word| word.ends_with("@checker.test"))
        .unwrap()
        .to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while harness.received.count() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the test mailing did not arrive"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let message = harness.received.messages().remove(0);
    harness
        .service
        .mail_tester()
        .receive_test_message(sealpost_service::Arrival {
            recipients: &[address],
            received: sealpost_mail_tester::Received {
                message: &message,
                client_ip: std::net::Ipv4Addr::LOCALHOST.into(),
                helo: "mta.platform.test",
                mail_from: "facilities@client.test",
            },
        })
        .await
        .unwrap();
    harness.browser.refresh().await.unwrap();
    let reports = harness.text("#reports").await;
    assert!(reports.contains("/ 10"), "{reports}");
    harness.shot("reports").await;
    harness.click("#reports a").await;
    harness.wait_for("#score").await;
    assert!(!harness.text("#problems").await.is_empty());
    assert!(
        harness
            .text("#checks")
            .await
            .to_lowercase()
            .contains("dkim")
    );
    harness.scroll_to("#problems").await;
    harness.shot("report").await;
    harness.finish().await;
}
