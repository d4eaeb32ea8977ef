//! Signing in and out, refused sign-ins, forged forms, and tenant isolation.

use crate::support::{ACME_ADMIN, Harness, OPERATOR, OTHER_ADMIN, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_refused_and_right_one_signs_in() {
    let mut harness = Harness::start("sign-in").await;
    harness.sign_in(ACME_ADMIN, "not the password").await;
    let error = harness.text("#error").await;
    assert!(error.contains("not right"), "{error}");
    harness.shot("wrong-password").await;

    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    assert_eq!(harness.current_path().await, "/t/acme");
    let page = harness.page_text().await;
    assert!(page.contains("Acme Facilities"), "{page}");
    harness.shot("dashboard").await;

    // The same dashboard on a phone-sized screen: one column, nothing cut off.
    harness.browser.set_window_size(390, 844).await.unwrap();
    harness.browser.refresh().await.unwrap();
    harness.wait_for("#tile-figures").await;
    harness.shot("dashboard-narrow").await;
    harness.browser.set_window_size(1280, 1000).await.unwrap();

    harness.sign_out().await;
    harness.goto("/t/acme").await;
    harness.wait_for("#sign-in").await;
    assert_eq!(harness.current_path().await, "/login");
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_rate_limited() {
    let mut harness = Harness::start("rate-limit").await;
    for _ in 0..5 {
        harness.sign_in(OPERATOR, "guess guess guess").await;
        harness.wait_for("#error").await;
    }
    // Even the right password waits now.
    harness.sign_in(OPERATOR, PASSWORD).await;
    let error = harness.text("#error").await;
    assert!(error.contains("too many wrong passwords"), "{error}");
    harness.shot("locked").await;
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_without_csrf_token_is_refused() {
    let mut harness = Harness::start("csrf").await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;

    // In the browser: the hidden token removed from the form before it is sent.
    harness.goto("/t/acme/domains").await;
    harness.fill("#new-domain", "forged.test").await;
    harness
        .browser
        .execute(
            "document.querySelector('form.fields input[name=csrf]').remove();",
            vec![],
        )
        .await
        .unwrap();
    harness.click("#create-domain").await;
    let error = harness.text("#error").await;
    assert!(error.contains("another site"), "{error}");
    harness.shot("refused").await;

    // From outside the browser, with the session cookie a forging site would ride on.
    let cookie = harness.session_cookie().await;
    let body = "domain=forged.test&selector=workplace";
    assert_eq!(
        harness.raw_post("/t/acme/domains", &cookie, body).await,
        403
    );
    let wrong = format!("{body}&csrf=0000");
    assert_eq!(
        harness.raw_post("/t/acme/domains", &cookie, &wrong).await,
        403
    );
    assert!(
        harness
            .service
            .signing_domains()
            .list_signing_domains(harness.acme)
            .await
            .unwrap()
            .is_empty()
    );
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_admin_cannot_reach_another_tenant() {
    let mut harness = Harness::start("isolation").await;
    let other_domain = harness.signing_domain(harness.other).await;
    harness.sign_in(ACME_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-settings").await;
    for path in [
        "/t/other".to_owned(),
        "/t/other/domains".to_owned(),
        format!("/t/other/domains/{other_domain}"),
        // The other tenant's domain id under the own tenant's path is not found either.
        format!("/t/acme/domains/{other_domain}"),
        "/t/other/sending-domains".to_owned(),
    ] {
        harness.goto(&path).await;
        let page = harness.page_text().await;
        assert!(page.contains("404"), "{path}: {page}");
        assert!(!page.contains("Other Corp"), "{path}: {page}");
    }
    harness.shot("other-tenant-404").await;
    // Verifying or deleting the other tenant's sending domain from the own tenant's path is not
    // found, and does not add the domain to the own tenant either.
    harness.goto("/t/acme/sending-domains").await;
    let csrf = harness
        .wait_for("input[name=csrf]")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let cookie = harness.session_cookie().await;
    for action in ["verify", "delete"] {
        let path = format!("/t/acme/sending-domains/client.test/{action}");
        let status = harness
            .raw_post(&path, &cookie, &format!("csrf={csrf}"))
            .await;
        assert_eq!(status, 404, "{path}");
    }
    assert!(
        harness
            .service
            .signing_domains()
            .list_sending_domains(harness.acme)
            .await
            .unwrap()
            .is_empty()
    );
    let other_known = harness
        .service
        .signing_domains()
        .list_sending_domains(harness.other)
        .await
        .unwrap();
    assert!(other_known[0].proof.is_some(), "{other_known:?}");
    harness.goto("/t/acme").await;
    harness.sign_out().await;

    // The other tenant's administrator sees their domain; the operator sees both tenants.
    harness.sign_in(OTHER_ADMIN, PASSWORD).await;
    harness.wait_for("#tile-domains").await;
    assert!(harness.text("#tile-domains").await.contains("client.test"));
    harness.sign_out().await;
    harness.sign_in(OPERATOR, PASSWORD).await;
    let tenants = harness.text("#tenants").await;
    assert!(
        tenants.contains("Acme Facilities") && tenants.contains("Other Corp"),
        "{tenants}"
    );
    harness.shot("operator-tenants").await;
    harness
        .goto(&format!("/t/other/domains/{other_domain}"))
        .await;
    assert!(harness.text("#domain-status").await.contains("active"));
    harness.finish().await;
}
