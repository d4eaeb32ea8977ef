//! Every page at phone width (390 px) and at 1280 px: no sideways scrolling, no word broken in
//! the middle in a table, at 390 px every table value beside its column's name, a favicon, no
//! disabled checkbox, and `Cache-Control: no-store`. Then an unknown address under the tenant
//! gets the UI's 404 page, and after signing out Back shows no page of the tenant.

use sealpost_service::{Arrival, ContactForm, MailingForm};

use crate::support::{ACME_ADMIN, Harness, PASSWORD};

const WIDTHS: [(u32, u32); 2] = [(390, 844), (1280, 1000)];

/// What the page measures about itself; every list names what is wrong.
const MEASURE: &str = r#"
const root = document.documentElement;
const found = { overflow: root.scrollWidth - root.clientWidth, broken: [], unlabelled: [],
  disabled_checkboxes: document.querySelectorAll('input[type=checkbox][disabled]').length,
  icon: !!document.querySelector('link[rel=icon]') };
for (const cell of document.querySelectorAll('table.list th, table.list td')) {
  if (!cell.getClientRects().length) continue;
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    // Words and addresses short enough for any line: each must sit on one line.
    for (const match of node.data.matchAll(/[\p{L}\p{N}@._]+/gu)) {
      if (match[0].length > 24) continue;
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
      if (lines.size > 1) found.broken.push(match[0]);
    }
  }
}
for (const cell of document.querySelectorAll('table.list td')) {
  if (!cell.getClientRects().length || cell.colSpan > 1 || !cell.textContent.trim()) continue;
  const header = cell.closest('table').querySelectorAll('thead th')[cell.cellIndex];
  if (!header || header.getClientRects().length) continue;
  const before = getComputedStyle(cell, '::before').content;
  const labelled = cell.dataset.label === header.textContent && !['none', 'normal'].includes(before);
  if (!labelled) found.unlabelled.push(`${header.textContent}: ${cell.textContent.trim()}`);
}
return found;
"#;

/// The response's Cache-Control, fetched by the page itself with its cookies.
const CACHE_CONTROL: &str = r#"
const done = arguments[arguments.length - 1];
fetch(location.href, { redirect: 'manual' }).then((response) => done(response.headers.get('cache-control')));
"#;

/// Measures the page open in the browser and adds what is wrong to `problems`.
async fn measure(harness: &Harness, page: &str, width: u32, problems: &mut Vec<String>) {
    harness.wait_for("main").await;
    let found = harness.browser.execute(MEASURE, vec![]).await.unwrap();
    let at = format!("{page} at {width} px");
    if found["overflow"].as_i64().unwrap() > 0 {
        problems.push(format!(
            "{at}: scrolls sideways by {} px",
            found["overflow"]
        ));
    }
    for (key, what) in [
        ("broken", "words broken mid-word"),
        ("unlabelled", "values without their label"),
    ] {
        if !found[key].as_array().unwrap().is_empty() {
            problems.push(format!("{at}: {what}: {}", found[key]));
        }
    }
    if found["disabled_checkboxes"].as_u64().unwrap() > 0 {
        problems.push(format!("{at}: a disabled checkbox"));
    }
    if found["icon"] != serde_json::Value::Bool(true) {
        problems.push(format!("{at}: no favicon"));
    }
}

async fn cache_control(harness: &Harness) -> String {
    let value = harness
        .browser
        .execute_async(CACHE_CONTROL, vec![])
        .await
        .unwrap();
    value.as_str().unwrap_or_default().to_owned()
}

/// The tenant's pages with something on each: a signing domain checked, messages, a mailing,
/// a diagnosis, a mail tester report and a webhook endpoint with a test event.
async fn pages(harness: &Harness) -> Vec<(&'static str, String)> {
    let domain = harness.signing_domain(harness.acme).await;
    let message = harness
        .submit(
            harness.acme,
            &[
                "hello@receiver.test",
                "facilities.department@receiver.test",
                "later@receiver.test",
            ],
            "Problems with the boiler in building B, second floor",
        )
        .await;
    let service = &harness.service;
    let mut contacts = Vec::new();
    for (name, email) in [
        ("Facilities", "hello@client.test"),
        ("Ann", "ann@receiver.test"),
    ] {
        let form = ContactForm {
            name: name.to_owned(),
            email: email.to_owned(),
        };
        contacts.push(
            service
                .mailings()
                .add_contact(harness.acme, form)
                .await
                .unwrap()
                .id,
        );
    }
    let mailing = service
        .mailings()
        .create_mailing(
            harness.acme,
            MailingForm {
                sender: Some(contacts[0]),
                recipients: vec![contacts[1]],
                subject: "Problems with the boiler".to_owned(),
                body: "It is fixed.".to_owned(),
            },
        )
        .await
        .unwrap();
    let address = service
        .mail_tester()
        .issue_test_address(harness.acme)
        .await
        .unwrap();
    let report = service
        .mail_tester()
        .receive_test_message(Arrival {
            recipients: &[address.address],
            received: sealpost_mail_tester::Received {
                message: b"From: hello@client.test\r\nTo: x@checker.test\r\nSubject: Problems\r\n\r\nHello\r\n",
                client_ip: std::net::Ipv4Addr::LOCALHOST.into(),
                helo: "mta.platform.test",
                mail_from: "hello@client.test",
            },
        })
        .await
        .unwrap()
        .remove(0);
    let webhook = service
        .webhooks()
        .create_webhook(
            harness.acme,
            "https://hooks.client.example/sealpost-events",
            &["message.bounced".to_owned(), "domain.failed".to_owned()],
        )
        .await
        .unwrap()
        .endpoint
        .id;
    service
        .webhooks()
        .send_test_event(harness.acme, &webhook.to_string())
        .await
        .unwrap();
    vec![
        ("dashboard", "/t/acme".to_owned()),
        ("settings", "/t/acme/settings/email".to_owned()),
        ("domains", "/t/acme/domains".to_owned()),
        ("domain", format!("/t/acme/domains/{domain}?check=now")),
        ("sending-domains", "/t/acme/sending-domains".to_owned()),
        ("mailings", "/t/acme/mailings".to_owned()),
        ("mailing", format!("/t/acme/mailings/{}", mailing.id)),
        ("messages", "/t/acme/messages".to_owned()),
        ("message", format!("/t/acme/messages/{message}")),
        (
            "troubleshoot",
            "/t/acme/troubleshoot?from=hello%40client.test".to_owned(),
        ),
        ("checker", "/t/acme/checker".to_owned()),
        ("checker-report", format!("/t/acme/checker/{report}")),
        ("webhooks", "/t/acme/webhooks".to_owned()),
        ("webhook", format!("/t/acme/webhooks/{webhook}")),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_phone_keeps_its_words_and_is_not_cached() {
    let mut harness = Harness::start("layout").await;
    let pages = pages(&harness).await;
    let mut problems = Vec::new();
    for (width, height) in WIDTHS {
        harness
            .browser
            .set_window_size(width, height)
            .await
            .unwrap();
        harness.goto("/login").await;
        measure(&harness, "login", width, &mut problems).await;
        harness.shot(&format!("login-{width}")).await;
    }
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    for (width, height) in WIDTHS {
        harness
            .browser
            .set_window_size(width, height)
            .await
            .unwrap();
        for (name, path) in &pages {
            harness.goto(path).await;
            measure(&harness, name, width, &mut problems).await;
            harness.shot(&format!("{name}-{width}")).await;
            if width == WIDTHS[0].0 {
                let cache = cache_control(&harness).await;
                if cache != "no-store" {
                    problems.push(format!("{name}: Cache-Control {cache:?}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");

    // The favicon the pages name is there.
    let icon = harness
        .browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(document.querySelector('link[rel=icon]').href)
               .then((response) => done(response.ok && response.headers.get('content-type')));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(icon, "image/svg+xml");

    // An address under the tenant that is no page is the UI's 404 page, not an empty answer.
    harness.goto("/t/acme/no-such-page").await;
    assert_eq!(harness.text("h1").await, "404");
    assert_eq!(harness.text("#error").await, "This page does not exist.");
    harness.shot("unknown-page").await;

    // After signing out, Back asks the server again and shows the sign-in page, not the
    // tenant's messages from the browser's cache.
    harness.goto("/t/acme/messages").await;
    assert!(harness.text("#messages").await.contains("Problems with"));
    harness.sign_out().await;
    harness.browser.back().await.unwrap();
    harness.wait_for("#sign-in").await;
    let page = harness.page_text().await;
    assert!(!page.contains("Problems with"), "{page}");
    harness.shot("back-after-sign-out").await;
    harness.finish().await;
}
