//! Lists that page and search on the server, status words that tell the truth, draft mailings
//! that can be deleted, and the account pages (issue 16, items 4, 5 and 9, and "Account
//! pages"), in headless Chromium.

use sealpost_service::{ContactForm, MailingForm};

use crate::support::{ACME_ADMIN, Harness, OPERATOR, PASSWORD};

/// How many messages the list test queues: more than the 200 the list once read before
/// filtering, so a search that finds the oldest proves it looks at every message.
const MESSAGES: usize = 205;

async fn displayed(harness: &Harness, selector: &str) -> bool {
    harness
        .wait_for(selector)
        .await
        .is_displayed()
        .await
        .unwrap()
}

async fn rows(harness: &Harness, selector: &str) -> usize {
    harness
        .browser
        .find_all(fantoccini::Locator::Css(selector))
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_and_search_every_row_and_statuses_tell_the_truth() {
    let mut harness = Harness::start("lists").await;
    harness.signing_domain(harness.acme).await;
    harness
        .submit(harness.acme, &["oldest@receiver.test"], "Boiler report")
        .await;
    for number in 1..MESSAGES {
        let to = format!("r{number}@receiver.test");
        harness
            .submit(
                harness.acme,
                &[to.as_str()],
                &format!("Work order {number}"),
            )
            .await;
    }
    // A domain the tenant proved by its verification record but does not sign for: its mail
    // goes out unsigned by the tenant.
    let sending = harness
        .service
        .signing_domains()
        .add_sending_domain(harness.acme, "newsletter.test")
        .await
        .unwrap();
    harness.publish(|zone| zone.txt("_sealpost.newsletter.test", &[&sending.record_value()]));
    harness
        .service
        .signing_domains()
        .verify_sending_domain(harness.acme, "newsletter.test")
        .await
        .unwrap();
    let raw = "From: News <news@newsletter.test>\r\nTo: ann@receiver.test\r\n\
               Subject: Unsigned news\r\n\r\nHello.\r\n";
    let unsigned = harness
        .service
        .submissions()
        .submit(
            harness.acme,
            sealpost_service::Submission {
                mail_from: "news@newsletter.test".to_owned(),
                recipients: vec!["ann@receiver.test".to_owned()],
                raw: raw.as_bytes().to_vec(),
                idempotency_key: None,
                source: sealpost_domain::SubmissionSource::Http,
            },
        )
        .await
        .unwrap();

    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    harness.goto("/t/acme/messages").await;
    let total = harness.text("#list-total").await;
    assert_eq!(total, format!("Showing 50 of {} messages", MESSAGES + 1));
    assert_eq!(rows(&harness, "#messages tbody tr").await, 50);
    harness.shot("messages-first-page").await;
    harness.click("#next-page").await;
    harness.wait_for("#first-page").await;
    assert_eq!(
        harness.text("#list-total").await,
        format!("Showing 50 of {} messages", MESSAGES + 1)
    );
    // The search looks at every message: the oldest, far past the newest 200, is found.
    harness.fill("#filter-q", "boiler").await;
    harness.click("#filter").await;
    harness.wait_for("#list-total").await;
    assert_eq!(harness.text("#list-total").await, "1 message");
    assert!(harness.text("#messages").await.contains("Boiler report"));
    harness.shot("messages-search-finds-the-oldest").await;

    // Unsigned mail that was delivered is not a green "sent".
    let path = format!("/t/acme/messages/{}", unsigned.id);
    harness.goto(&path).await;
    harness
        .refresh_until("#message-status", "sent unsigned")
        .await;
    let class = harness
        .wait_for("#message-status")
        .await
        .attr("class")
        .await
        .unwrap()
        .unwrap();
    assert!(class.contains("warning"), "{class}");
    harness.goto("/t/acme/messages?q=unsigned").await;
    assert!(harness.text("#messages").await.contains("sent unsigned"));
    harness.shot("message-sent-unsigned").await;

    // The dashboard's figures lead to the same messages in the list.
    harness.goto("/t/acme").await;
    let figure = harness.text("#figure-sent").await;
    let count: usize = figure.rsplit(' ').next().unwrap().parse().unwrap();
    harness.shot("dashboard-figures-link").await;
    harness.click("#figure-sent").await;
    harness.wait_for("#since").await;
    assert_eq!(harness.current_path().await, "/t/acme/messages");
    // Delivery goes on meanwhile, so the list may hold more sent messages than the figure.
    let total = harness.text("#list-total").await;
    let listed: usize = total
        .trim_end_matches(" messages")
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        listed >= count && count > 0,
        "{total} after a figure of {count}"
    );
    let chosen = harness
        .browser
        .find(fantoccini::Locator::Css("#filter-state option[selected]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(chosen, "sent");
    harness.shot("messages-from-dashboard-figure").await;
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draft_mailings_are_deleted_after_confirmation_and_mailings_filter_by_status() {
    let mut harness = Harness::start("mailing-delete").await;
    harness.signing_domain(harness.acme).await;
    let mailings = harness.service.mailings();
    let sender = mailings
        .add_contact(
            harness.acme,
            ContactForm {
                name: "Facilities".into(),
                email: "facilities@client.test".into(),
            },
        )
        .await
        .unwrap();
    let ann = mailings
        .add_contact(
            harness.acme,
            ContactForm {
                name: "Ann".into(),
                email: "ann@receiver.test".into(),
            },
        )
        .await
        .unwrap();
    let mut made = Vec::new();
    for subject in ["Boiler checked", "Heating plan"] {
        let form = MailingForm {
            sender: Some(sender.id),
            recipients: vec![ann.id],
            subject: subject.into(),
            body: "Text".into(),
        };
        made.push(mailings.create_mailing(harness.acme, form).await.unwrap());
    }
    mailings
        .send_mailing(harness.acme, made[0].id)
        .await
        .unwrap();

    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    harness.goto("/t/acme/mailings?status=draft").await;
    assert_eq!(harness.text("#list-total").await, "1 mailing");
    assert!(harness.text("#mailings").await.contains("Heating plan"));
    harness.shot("mailings-drafts").await;

    // A sent mailing has no delete; a draft asks first, in red.
    harness
        .goto(&format!("/t/acme/mailings/{}", made[0].id))
        .await;
    harness.wait_for("#mailing-status").await;
    assert!(harness.page_text().await.contains("Boiler checked"));
    assert_eq!(rows(&harness, "#delete-mailing").await, 0);
    let draft = format!("/t/acme/mailings/{}", made[1].id);
    harness.goto(&draft).await;
    assert!(!displayed(&harness, "#delete-mailing-confirm").await);
    // A GET of the delete address deletes nothing.
    harness.goto(&format!("{draft}/delete")).await;
    harness.wait_for("#mailing-status").await;
    assert_eq!(harness.current_path().await, draft);
    harness.click_in_page("#delete-mailing summary").await;
    let button = harness.wait_for("#delete-mailing-confirm").await;
    assert_eq!(
        button.attr("class").await.unwrap().as_deref(),
        Some("danger")
    );
    harness.shot("mailing-delete-asks").await;
    harness.click("#delete-mailing-confirm").await;
    harness.wait_for("#notice").await;
    assert!(
        harness
            .text("#notice")
            .await
            .contains("Draft mailing deleted")
    );
    assert_eq!(harness.current_path().await, "/t/acme/mailings");
    assert!(!harness.text("#mailings").await.contains("Heating plan"));
    harness.shot("mailing-deleted").await;
    harness.goto(&draft).await;
    let gone = harness.page_text().await;
    assert!(gone.contains("404") && gone.contains("not found"), "{gone}");
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_passwords_and_users_are_managed_in_the_ui() {
    let mut harness = Harness::start("accounts").await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;

    // A new key's secret is shown once, and it works until it is revoked.
    harness.goto("/t/acme/api-keys").await;
    harness.fill("#key-label", "production").await;
    harness.click("#create-key").await;
    let token = harness.text("#new-key-secret").await;
    assert!(token.starts_with("sp_"), "{token}");
    let accounts = harness.service.accounts();
    assert_eq!(
        accounts.authenticate(&token).await.unwrap(),
        Some(harness.acme)
    );
    harness.shot("api-key-shown-once").await;
    harness.goto("/t/acme/api-keys").await;
    assert!(!harness.page_text().await.contains(&token));
    assert!(harness.text("#api-keys").await.contains("production"));
    let revoke = harness
        .browser
        .find(fantoccini::Locator::Css(
            "#api-keys details.confirm button.danger",
        ))
        .await
        .unwrap();
    assert!(!revoke.is_displayed().await.unwrap());
    harness
        .click_in_page("#api-keys details.confirm summary")
        .await;
    harness.shot("api-key-revoke-asks").await;
    harness
        .click("#api-keys details.confirm button.danger")
        .await;
    harness.wait_for("#notice").await;
    assert!(harness.text("#notice").await.contains("revoked"));
    assert_eq!(accounts.authenticate(&token).await.unwrap(), None);

    // The password changes only with the current one, and the session ends with it.
    harness.goto("/account/password").await;
    harness.fill("#current-password", "not the password").await;
    harness
        .fill("#new-password", "a much longer new secret")
        .await;
    harness
        .fill("#repeat-password", "a much longer new secret")
        .await;
    harness.click("#change-password").await;
    assert!(
        harness
            .text("#password-error")
            .await
            .contains("is not your current password")
    );
    harness.shot("password-wrong-current").await;
    harness.fill("#current-password", PASSWORD).await;
    harness
        .fill("#new-password", "a much longer new secret")
        .await;
    harness
        .fill("#repeat-password", "a much longer new secret")
        .await;
    harness.click("#change-password").await;
    harness.wait_for("#sign-in-again").await;
    harness.goto("/t/acme").await;
    harness.wait_for("#sign-in").await;
    harness
        .sign_in(ACME_ADMIN, "a much longer new secret")
        .await;
    harness.wait_for("#tile-settings").await;

    // Accounts are the operator's: a client administrator does not find the page.
    harness.goto("/users").await;
    assert!(
        harness
            .page_text()
            .await
            .contains("This page does not exist")
    );
    harness.goto("/t/acme").await;
    harness.sign_out().await;
    harness.sign_in(OPERATOR, PASSWORD).await;
    harness.goto("/users").await;
    harness.fill("#user-email", "new@acme.test").await;
    harness
        .fill("#user-password", "twelve chars at least")
        .await;
    harness.click("#add-user").await;
    harness.wait_for("#notice").await;
    let users = harness.text("#users").await;
    assert!(users.contains("new@acme.test"), "{users}");
    assert!(
        users.contains("administrator of Acme Facilities"),
        "{users}"
    );
    harness.shot("users-added").await;
    // The service lets any operator list accounts; this one stands for the signed-in operator.
    let operator = sealpost_domain::User {
        id: sealpost_domain::UserId::new(&sealpost_service::SystemClock),
        email: sealpost_domain::Email::parse(OPERATOR).unwrap(),
        role: sealpost_domain::UserRole::Operator,
        created_at: sealpost_domain::Timestamp(0),
    };
    let listed = accounts.list_users(&operator).await.unwrap();
    let added = listed
        .iter()
        .find(|user| user.email.as_str() == "new@acme.test")
        .unwrap();
    let remove = format!("#remove-{}", added.id);
    assert!(!displayed(&harness, &format!("#remove-confirm-{}", added.id)).await);
    harness.click_in_page(&format!("{remove} summary")).await;
    harness.shot("user-remove-asks").await;
    harness
        .click(&format!("#remove-confirm-{}", added.id))
        .await;
    harness.wait_for("#notice").await;
    assert!(!harness.text("#users").await.contains("new@acme.test"));
    harness.finish().await;
}
