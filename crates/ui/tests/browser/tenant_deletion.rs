//! The operator deletes a tenant from the tenant list (SPEC S11.5): the red Delete opens a
//! confirmation that needs the tenant's name typed out; a wrong name sends nothing, and the
//! server refuses a forged one; a tenant administrator cannot delete at all.

use sealpost_service::ServiceError;

use crate::support::{Harness, OPERATOR, OTHER_ADMIN, PASSWORD, assert_sentence};

/// Whether the browser holds the form back because the typed name does not match.
async fn name_refused(harness: &Harness, selector: &str) -> bool {
    harness
        .browser
        .execute(
            "return document.querySelector(arguments[0]).validity.patternMismatch;",
            vec![selector.into()],
        )
        .await
        .unwrap()
        == serde_json::Value::Bool(true)
}

async fn csrf(harness: &Harness) -> String {
    harness
        .wait_for("input[name=csrf]")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_deletes_a_tenant_after_typing_its_name() {
    let mut harness = Harness::start("tenant-deletion").await;
    harness.signing_domain(harness.other).await;

    // A tenant administrator cannot delete its own tenant, even with its own form token.
    harness.sign_in(OTHER_ADMIN, PASSWORD).await;
    let body = format!("csrf={}&confirm=other", csrf(&harness).await);
    let cookie = harness.session_cookie().await;
    assert_eq!(
        harness.raw_post("/t/other/delete", &cookie, &body).await,
        404
    );
    harness.sign_out().await;

    harness.sign_in(OPERATOR, PASSWORD).await;
    // The server checks the name too: a form without it is refused and deletes nothing.
    let cookie = harness.session_cookie().await;
    let body = format!("csrf={}&confirm=acme", csrf(&harness).await);
    assert_eq!(
        harness.raw_post("/t/other/delete", &cookie, &body).await,
        303
    );
    assert!(
        harness
            .service
            .accounts()
            .tenant(harness.other)
            .await
            .is_ok()
    );

    harness.browser.set_window_size(390, 844).await.unwrap();
    harness.goto("/").await;
    harness.click_in_page("#delete-other summary").await;
    harness.fill("#delete-other-name", "othe").await;
    assert!(name_refused(&harness, "#delete-other-name").await);
    harness.shot("confirm-390").await;
    harness.fill("#delete-other-name", "other").await;
    assert!(!name_refused(&harness, "#delete-other-name").await);
    harness.click("#delete-other-confirm").await;

    let notice = harness.text("#notice").await;
    assert_eq!(
        notice,
        "Tenant other was deleted with all its keys, mail, contacts and accounts."
    );
    assert_sentence(&notice);
    harness.wait_for("#tenant-acme").await;
    assert!(
        harness
            .browser
            .find(fantoccini::Locator::Css("#tenant-other"))
            .await
            .is_err()
    );
    assert!(matches!(
        harness.service.accounts().tenant(harness.other).await,
        Err(ServiceError::NotFound("tenant"))
    ));
    harness.shot("deleted-390").await;
    harness.sign_out().await;

    // The deleted tenant's administrator is gone with it.
    harness.sign_in(OTHER_ADMIN, PASSWORD).await;
    assert_eq!(harness.current_path().await, "/login");
    harness.finish().await;
}
