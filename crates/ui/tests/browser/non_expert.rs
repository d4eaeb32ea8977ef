//! The help article's whole flow as a tenant administrator who is not a mail expert follows it,
//! at 1280 px and at 390 px: client settings, the E-mail tab and the own mail server (tested
//! before saving, kept when switching back to native, warnings, errors in words), signing
//! domains (a new one with a typo first, a key, the records for the IT department, activation),
//! contacts (a recipient is not told to add a signing domain; edit; delete refused while a
//! mailing needs the contact), a test mailing, its message source and DKIM verification, and
//! the mail tester's score. Screenshots are named after the issue item they show.

use fantoccini::Locator;

use crate::support::{ACME_ADMIN, Harness, PASSWORD};

const RELAY_PASSWORD: &str = "relay-secret-2718";

/// A port on which nothing listens.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn value(harness: &Harness, selector: &str) -> String {
    harness
        .wait_for(selector)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// The page's visible text, counted for `needle`.
async fn visible_count(harness: &Harness, needle: &str) -> usize {
    harness.page_text().await.matches(needle).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_expert_follows_the_help_article_at_both_widths() {
    let mut harness = Harness::start("non-expert").await;
    for (width, height) in [(1280, 1000), (390, 844)] {
        harness
            .browser
            .set_window_size(width, height)
            .await
            .unwrap();
        if width == 1280 {
            walk(&mut harness).await;
        } else {
            revisit_on_a_phone(&mut harness).await;
        }
    }
    harness.finish().await;
}

async fn walk(harness: &mut Harness) {
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    harness.shot("1280-dashboard").await;
    own_mail_server(harness).await;
    let domain_path = signing_domain(harness).await;
    contacts(harness).await;
    test_mailing_and_score(harness, &domain_path).await;
}

/// Item 2 and item 7 on the E-mail tab.
async fn own_mail_server(harness: &mut Harness) {
    harness
        .click("nav.sections a[href='/t/acme/settings/email']")
        .await;
    harness.click_in_page("#mode-relay").await;
    let closed = closed_port();
    harness.fill("#relay-host", "127.0.0.1").await;
    harness.fill("#relay-port", &closed.to_string()).await;
    harness.fill("#relay-username", "facilities").await;
    harness.fill("#relay-password", RELAY_PASSWORD).await;
    harness
        .wait_for("#relay-tls")
        .await
        .select_by_value("none")
        .await
        .unwrap();
    harness.click("#test-connection").await;
    // The result heads the page, in words, and names what to check.
    let result = harness.text("#test-result").await;
    assert!(
        result.contains(&format!(
            "Nothing accepts connections at 127.0.0.1 port {closed} (connection refused): check \
             the host, the port and the firewall"
        )),
        "{result}"
    );
    assert!(!result.contains("os error"), "{result}");
    // What was typed stays; nothing was saved.
    assert_eq!(value(harness, "#relay-port").await, closed.to_string());
    assert!(
        harness
            .wait_for("#mode-relay")
            .await
            .prop("checked")
            .await
            .unwrap()
            .is_some_and(|checked| checked == "true")
    );
    assert_eq!(
        harness
            .service
            .relays()
            .delivery_mode(harness.acme)
            .await
            .unwrap(),
        sealpost_domain::DeliveryMode::Native
    );
    harness.shot("item2-test-refused-in-words").await;

    harness
        .fill("#relay-port", &harness.smtp_port.to_string())
        .await;
    harness.fill("#relay-password", RELAY_PASSWORD).await;
    harness.click("#test-connection").await;
    assert!(harness.text("#test-result").await.contains("succeeded"));
    assert!(harness.text("#test-unsaved").await.contains("not saved"));
    // TLS mode none with a password names the risk before anything is saved.
    let warning = harness.text("#warning-password_without_tls").await;
    assert!(
        warning.contains("sends the password unencrypted"),
        "{warning}"
    );
    harness.shot("item2-test-before-saving-and-warning").await;

    // A port that is not a number: the error stands next to the port, in a sentence.
    harness.fill("#relay-port", "five-eight-seven").await;
    harness.fill("#relay-password", RELAY_PASSWORD).await;
    harness.click("#save-settings").await;
    let error = harness.text("#port-error").await;
    assert!(error.starts_with("Enter a port from 1 to 65535"), "{error}");
    assert!(!error.contains("port:"), "{error}");
    assert_eq!(value(harness, "#relay-host").await, "127.0.0.1");
    assert_eq!(value(harness, "#relay-port").await, "five-eight-seven");
    harness.shot("item7-relay-port-error-next-to-field").await;

    harness
        .fill("#relay-port", &harness.smtp_port.to_string())
        .await;
    harness.fill("#relay-password", RELAY_PASSWORD).await;
    harness.click_in_page("#relay-ssl").await;
    harness
        .wait_for("#relay-tls")
        .await
        .select_by_value("required")
        .await
        .unwrap();
    harness.click("#test-connection").await;
    let contradiction = harness.text("#warning-ssl_with_starttls").await;
    assert!(
        contradiction.contains("contradict each other"),
        "{contradiction}"
    );
    harness.shot("item2-ssl-with-starttls-warning").await;
    harness.click_in_page("#relay-ssl").await;
    harness
        .wait_for("#relay-tls")
        .await
        .select_by_value("default")
        .await
        .unwrap();
    harness.fill("#relay-password", RELAY_PASSWORD).await;
    harness.click("#save-settings").await;
    assert!(harness.text("#notice").await.contains("saved"));

    // Back to native: the own mail server's settings are kept, disabled.
    harness.click_in_page("#mode-native").await;
    harness.click("#save-settings").await;
    assert!(harness.text("#notice").await.contains("settings are kept"));
    assert!(harness.text("#relay-kept").await.contains("Not in use"));
    assert_eq!(value(harness, "#relay-host").await, "127.0.0.1");
    assert_eq!(
        value(harness, "#relay-port").await,
        harness.smtp_port.to_string()
    );
    let page = harness.browser.source().await.unwrap();
    assert!(
        !page.contains(RELAY_PASSWORD),
        "the relay password is shown"
    );
    harness.shot("item2-native-keeps-the-relay-settings").await;
}

/// Item 7 (new domain), item 8 (the records for the IT department) and activation.
async fn signing_domain(harness: &mut Harness) -> String {
    harness
        .click("nav.sections a[href='/t/acme/domains']")
        .await;
    harness
        .fill("#new-domain", "https://mail.client.test/")
        .await;
    harness.click("#create-domain").await;
    let error = harness.text("#domain-error").await;
    assert!(
        error.contains("nter the domain only, e.g. client.example"),
        "{error}"
    );
    assert!(!error.starts_with("domain:"), "{error}");
    assert_eq!(
        value(harness, "#new-domain").await,
        "https://mail.client.test/"
    );
    harness.shot("item7-domain-error-next-to-field").await;

    harness.fill("#new-domain", "mail.client.test").await;
    harness.click("#create-domain").await;
    let domain_path = harness.current_path().await;
    harness.click("#generate-key").await;
    assert!(harness.text("#notice").await.contains("RSA-2048"));

    // Every record the domain needs, each with its name relative to the zone.
    let records = harness.text("#dns-records").await;
    assert!(
        records.contains("Send these records to your IT department"),
        "{records}"
    );
    assert_eq!(
        harness.text("#dkim-host").await,
        "workplace._domainkey.mail"
    );
    assert_eq!(
        harness.text("#dkim-name").await,
        "workplace._domainkey.mail.client.test"
    );
    let dkim_value = harness.text("#dkim-value").await;
    assert!(
        dkim_value.starts_with("v=DKIM1; k=rsa; p=MIIB"),
        "{dkim_value}"
    );
    assert_eq!(harness.text("#dmarc-host").await, "_dmarc.mail");
    assert!(
        harness
            .text("#dmarc-value")
            .await
            .starts_with("v=DMARC1; p=none")
    );
    for id in ["dkim-name", "dkim-host", "dkim-value", "dmarc-value"] {
        harness
            .wait_for(&format!("#dns-records button[data-copy='{id}']"))
            .await;
    }
    // Copy buttons sit beside the text, never on it.
    let overlaps: i64 = harness
        .browser
        .execute(
            "let overlaps = 0;
             for (const button of document.querySelectorAll('#dns-records button.copy')) {
               const text = document.getElementById(button.dataset.copy);
               if (!text || !text.offsetParent) continue;
               const a = button.getBoundingClientRect(), b = text.getBoundingClientRect();
               if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
                 overlaps++;
             }
             return overlaps;",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert_eq!(overlaps, 0, "copy buttons overlap their text");
    // The record's value is shown once, not five times (the public key's PEM, wrapped at 64
    // characters, is another thing).
    let key_base64 = dkim_value.trim_start_matches("v=DKIM1; k=rsa; p=");
    let shown = visible_count(harness, &key_base64[..70]).await;
    assert_eq!(shown, 1, "the DKIM key is shown {shown} times");
    harness.click_in_page("#it-message summary").await;
    let message = harness.text("#it-text").await;
    assert!(
        message.contains("workplace._domainkey") && message.contains("_dmarc"),
        "{message}"
    );
    harness.scroll_to("#dns-records").await;
    harness.shot("item8-records-for-the-it-department").await;

    // The IT department publishes the record; activation finds it.
    let name = harness.text("#dkim-name").await;
    harness.publish(|zone| zone.txt_split(&name, &dkim_value));
    harness.click("#activate").await;
    assert_eq!(harness.text("#domain-status").await, "active");
    harness.click("#check-now").await;
    let dmarc = harness.text("#report-dmarc").await;
    assert!(dmarc.contains("DMARC"), "{dmarc}");
    let codes = harness
        .browser
        .find_all(Locator::Css("#dns-report h3 code, #dns-report h2 code"))
        .await
        .unwrap();
    assert!(codes.is_empty(), "internal codes as headings");
    let page = harness.page_text().await;
    assert!(!page.contains("--selector"), "a CLI flag on the page");
    harness.shot("item8-activated-and-checked").await;
    domain_path
}

/// Item 10: contacts, and item 7 on the contact form.
async fn contacts(harness: &mut Harness) {
    harness
        .click("nav.sections a[href='/t/acme/contacts']")
        .await;
    harness.click("#new-contact").await;
    harness.fill("#contact-name", "Facilities").await;
    harness.fill("#contact-email", "facilities@client").await;
    harness.click("#add-contact").await;
    let error = harness.text("#email-error").await;
    assert!(
        error.contains("\"facilities@client\" is not valid") && !error.starts_with("email"),
        "{error}"
    );
    assert_eq!(value(harness, "#contact-email").await, "facilities@client");
    assert_eq!(value(harness, "#contact-name").await, "Facilities");
    harness.shot("item7-contact-error-next-to-field").await;
    harness
        .fill("#contact-email", "facilities@mail.client.test")
        .await;
    harness.click("#add-contact").await;
    assert!(harness.text("#contact-role").await.contains("sender"));

    for (name, email) in [("Ann", "ann@gmail.example"), ("Bob", "bob@receiver.test")] {
        harness.goto("/t/acme/contacts/new").await;
        harness.fill("#contact-name", name).await;
        harness.fill("#contact-email", email).await;
        harness.click("#add-contact").await;
    }
    harness.goto("/t/acme/contacts").await;
    let list = harness.text("#contact-list").await;
    assert!(!list.contains("gmail.example as"), "{list}");
    let page = harness.page_text().await;
    assert!(
        !page.contains("add gmail.example"),
        "a recipient is told to add its provider's domain"
    );
    harness.shot("item10-contacts-say-who-can-send").await;

    // Edit Ann.
    harness.click("#contact-list a:first-of-type").await;
    let path = harness.current_path().await;
    let name = value(harness, "#contact-name").await;
    harness
        .fill("#contact-name", &format!("{name} Example"))
        .await;
    harness.click("#save-contact").await;
    assert!(harness.text("#notice").await.contains("saved"));
    assert_eq!(harness.current_path().await, path);

    // The mailing's sender choice offers only contacts that can send.
    harness.goto("/t/acme/mailings").await;
    let senders: Vec<String> = {
        let mut texts = Vec::new();
        for option in harness
            .browser
            .find_all(Locator::Css("#mailing-sender option"))
            .await
            .unwrap()
        {
            texts.push(option.text().await.unwrap());
        }
        texts
    };
    assert!(
        senders
            .iter()
            .any(|text| text.contains("facilities@mail.client.test")),
        "{senders:?}"
    );
    assert!(
        !senders.iter().any(|text| text.contains("gmail.example")),
        "{senders:?}"
    );
    harness.shot("item10-sender-choice").await;

    // A mailing without a sender: the error stands next to the sender, the subject stays.
    harness.fill("#mailing-subject", "Lift inspection").await;
    harness.click("#create-mailing").await;
    let error = harness.text("#sender-error").await;
    assert_eq!(error, "Choose a sender contact.");
    assert_eq!(value(harness, "#mailing-subject").await, "Lift inspection");
    harness.shot("item7-mailing-error-next-to-field").await;
}

/// The test mailing, its message source and DKIM verification, the mail tester's score, and
/// a contact that a sent mailing needs.
async fn test_mailing_and_score(harness: &mut Harness, domain_path: &str) {
    // Troubleshooting: an invalid sender gets its error once, and no test mailing button.
    harness.goto("/t/acme/troubleshoot").await;
    harness.fill("#sender", "not an address").await;
    harness.click("#diagnose").await;
    let page = harness.page_text().await;
    let error = harness.error_beside("#sender").await;
    assert_eq!(page.matches(error.as_str()).count(), 1, "{page}");
    assert!(
        harness
            .browser
            .find_all(Locator::Css("#send-test-mailing"))
            .await
            .unwrap()
            .is_empty()
    );
    harness.shot("troubleshoot-invalid-sender-once").await;

    // A mailing to Bob from Facilities, sent: Bob is kept while the mailing needs him.
    harness.goto("/t/acme/mailings").await;
    let sender = harness
        .browser
        .execute(
            "return [...document.querySelectorAll('#mailing-sender option')]
               .find(o => o.text.includes('facilities@mail.client.test')).value;",
            vec![],
        )
        .await
        .unwrap();
    harness
        .wait_for("#mailing-sender")
        .await
        .select_by_value(sender.as_str().unwrap())
        .await
        .unwrap();
    harness
        .browser
        .execute(
            "[...document.querySelectorAll('#mailing-recipients label')]
               .find(l => l.textContent.includes('bob@receiver.test'))
               .querySelector('input').click();",
            vec![],
        )
        .await
        .unwrap();
    harness.fill("#mailing-subject", "Work order 4711").await;
    harness.fill("#mailing-body", "The boiler is fixed.").await;
    harness.click("#create-mailing").await;
    harness.click("#send-mailing").await;
    harness.goto("/t/acme/contacts").await;
    harness
        .browser
        .execute(
            "[...document.querySelectorAll('#contact-list a')]
               .find(a => a.textContent.includes('Bob')).click();",
            vec![],
        )
        .await
        .unwrap();
    harness.wait_for("#delete-contact").await;
    harness.click_in_page("#delete-contact summary").await;
    harness.click("#confirm-delete-contact").await;
    let refused = harness.text("#error").await;
    assert!(refused.contains("Work order 4711"), "{refused}");
    harness.shot("item10-delete-refused-with-the-reason").await;

    // The message: its source and its DKIM verification.
    harness.goto("/t/acme/messages").await;
    harness.shot("1280-messages").await;
    harness.click("#messages tbody a").await;
    assert_eq!(harness.text("#dkim-result").await, "pass");
    assert!(harness.text("#raw").await.contains("DKIM-Signature:"));
    harness.scroll_to("#dkim-result").await;
    harness.shot("1280-message-source-and-dkim").await;

    // A test mailing to the mail tester, and its score.
    harness.goto("/t/acme/troubleshoot").await;
    harness.fill("#sender", "facilities@mail.client.test").await;
    harness.click("#diagnose").await;
    harness.click("#send-test-mailing").await;
    let waiting = harness.text("#waiting").await;
    let address = waiting
        .split_whitespace()
        .map(|word| word.trim_end_matches('.'))
        .find(|word| word.ends_with("@checker.test"))
        .unwrap()
        .to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let message = loop {
        let found = harness
            .received
            .messages()
            .into_iter()
            .find(|message| String::from_utf8_lossy(message).contains(&address));
        if let Some(message) = found {
            break message;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the test mailing did not arrive"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    harness
        .service
        .mail_tester()
        .receive_test_message(sealpost_service::Arrival {
            recipients: &[address],
            received: sealpost_mail_tester::Received {
                message: &message,
                client_ip: std::net::Ipv4Addr::LOCALHOST.into(),
                helo: "mta.platform.test",
                mail_from: "facilities@mail.client.test",
            },
        })
        .await
        .unwrap();
    harness.browser.refresh().await.unwrap();
    let reports = harness.text("#reports").await;
    assert!(reports.contains("/ 10"), "{reports}");
    harness.click("#reports a").await;
    harness.wait_for("#score").await;
    harness.shot("1280-mail-tester-score").await;
    harness.goto(domain_path).await;
    harness.shot("1280-signing-domain").await;
}

/// At 390 px: the pages of the flow keep their labels and do not scroll sideways.
async fn revisit_on_a_phone(harness: &mut Harness) {
    for (path, name) in [
        ("/t/acme/settings/email", "390-item2-email-tab"),
        ("/t/acme/domains", "390-signing-domains"),
        ("/t/acme/contacts", "390-item10-contacts"),
        ("/t/acme/mailings", "390-mailings"),
    ] {
        harness.goto(path).await;
        let sideways: i64 = harness
            .browser
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .unwrap()
            .as_i64()
            .unwrap();
        assert!(sideways <= 0, "{path} scrolls sideways by {sideways} px");
        harness.shot(name).await;
    }
    harness.goto("/t/acme/domains").await;
    harness.click("#domains a").await;
    harness.scroll_to("#dns-records").await;
    let overlaps: i64 = harness
        .browser
        .execute(
            "let overlaps = 0;
             for (const button of document.querySelectorAll('#dns-records button.copy')) {
               const text = document.getElementById(button.dataset.copy);
               if (!text || !text.offsetParent) continue;
               const a = button.getBoundingClientRect(), b = text.getBoundingClientRect();
               if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
                 overlaps++;
             }
             return overlaps;",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert_eq!(overlaps, 0, "copy buttons overlap their text at 390 px");
    harness
        .shot("390-item8-records-for-the-it-department")
        .await;
}
