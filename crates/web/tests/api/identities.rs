//! Proven sending identities: a tenant may use a domain in From or MAIL FROM only after DNS
//! showed that the domain is the tenant's (its DKIM record with the tenant's key, or the
//! verification record with the tenant's token); another tenant's domain is refused at
//! submission and at activation.

use axum::Router;
use axum::http::{Method, StatusCode};
use sealpost_testdns::{TestDns, Zone};
use serde_json::{Value, json};

use crate::support::*;

async fn send_raw(app: &Router, token: &str, mail_from: &str, from: &str) -> (StatusCode, Value) {
    let raw = format!("From: {from}\nTo: a@receiver.test\nSubject: x\n\nbody\n");
    let body = json!({"mail_from": mail_from, "recipients": ["a@receiver.test"], "raw": raw});
    call(
        app,
        Method::POST,
        "/api/v1/messages/raw",
        Some(token),
        Some(body),
    )
    .await
}

/// Adds `client.test` with selector `workplace` and a freshly generated key; returns its path.
async fn add_domain_with_generated_key(app: &Router, token: &str) -> String {
    let body = json!({"domain": "client.test", "selector": "workplace"});
    let (status, created) = call(
        app,
        Method::POST,
        "/api/v1/signing-domains",
        Some(token),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = format!(
        "/api/v1/signing-domains/{}",
        created["id"].as_str().unwrap()
    );
    let generate = format!("{path}/generate-key");
    let (status, _) = call(app, Method::POST, &generate, Some(token), None).await;
    assert_eq!(status, StatusCode::OK);
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_cannot_send_as_another_tenants_domain() {
    let dns = fixture_key_dns().await;
    let (_directory, apps) = apps_with_dns(&dns).await;
    for app in &apps {
        let owner = tenant_token(app, "owner").await;
        let intruder = tenant_token(app, "intruder").await;
        // The owner's DKIM record carries its key: activation proves the domain.
        let path = add_domain_with_fixture_key(app, &owner).await;
        let activate = json!({"active": true});
        let (status, active) = call(
            app,
            Method::PATCH,
            &path,
            Some(&owner),
            Some(activate.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{active}");
        let (status, proven) = call(
            app,
            Method::GET,
            "/api/v1/sending-domains/client.test",
            Some(&owner),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(proven["status"], "proven");
        assert_eq!(proven["proof"], "dkim_record");
        let (status, sent) =
            send_raw(app, &owner, "bounce@client.test", "Desk <desk@client.test>").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{sent}");

        // The intruder adds the same domain and selector with its own key: the published record
        // carries the owner's key, so activation is refused and nothing changes.
        let intruder_path = add_domain_with_generated_key(app, &intruder).await;
        let refused = call(
            app,
            Method::PATCH,
            &intruder_path,
            Some(&intruder),
            Some(activate),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::CONFLICT,
            "domain_not_proven",
            "client.test is not proven yet",
        );
        let (_, still) = call(app, Method::GET, &intruder_path, Some(&intruder), None).await;
        assert_eq!(still["active"], false);

        // Unsigned mail From the owner's domain, or with its MAIL FROM, is refused with the
        // record that would prove it.
        let refused = send_raw(app, &intruder, "bounce@client.test", "desk@client.test").await;
        assert_error(
            &refused,
            StatusCode::FORBIDDEN,
            "sender_domain_not_proven",
            "the From domain client.test has not been proven to belong to this tenant; publish \
             the TXT record _sealpost.client.test",
        );
        let refused = send_raw(app, &intruder, "bounce@client.test", "a@unknown.test").await;
        assert_error(
            &refused,
            StatusCode::FORBIDDEN,
            "sender_domain_not_proven",
            "add unknown.test as a sending domain",
        );
        let composed = json!({"from": "desk@client.test", "to": ["a@receiver.test"],
            "subject": "x", "text": "t"});
        let refused = call(
            app,
            Method::POST,
            "/api/v1/messages",
            Some(&intruder),
            Some(composed),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::FORBIDDEN,
            "sender_domain_not_proven",
            "client.test",
        );
        let (_, listed) = call(app, Method::GET, "/api/v1/messages", Some(&intruder), None).await;
        assert_eq!(listed.as_array().unwrap().len(), 0, "nothing was queued");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tenant_proves_a_shared_domain_with_its_own_record() {
    let dns = TestDns::start(Zone::new()).await.unwrap();
    let (_directory, apps) = apps_with_dns(&dns).await;
    for app in &apps {
        dns.replace(Zone::new()).unwrap();
        let first = tenant_token(app, "first").await;
        let second = tenant_token(app, "second").await;

        // Nothing published: verification says what DNS showed and what to publish.
        let (status, added) = call(
            app,
            Method::POST,
            "/api/v1/sending-domains",
            Some(&first),
            Some(json!({"domain": "Shared.Test"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(added["status"], "pending");
        assert_eq!(
            added["verification_record"]["name"],
            "_sealpost.shared.test"
        );
        let token = added["verification_record"]["value"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(token.starts_with("sealpost-verification="), "{token}");
        let path = "/api/v1/sending-domains/shared.test/verify";
        let failed = call(app, Method::POST, path, Some(&first), None).await;
        assert_error(
            &failed,
            StatusCode::CONFLICT,
            "domain_not_proven",
            "there is no TXT record at _sealpost.shared.test",
        );
        // A DNS failure is said as such and proves nothing.
        dns.replace(Zone::new().servfail("_sealpost.shared.test"))
            .unwrap();
        let failed = call(app, Method::POST, path, Some(&first), None).await;
        assert_error(
            &failed,
            StatusCode::CONFLICT,
            "domain_not_proven",
            "DNS did not answer",
        );

        // The first tenant's record proves the domain for the first tenant only.
        let zone = prove_domain(app, &first, &dns, Zone::new(), "shared.test").await;
        let refused = call(app, Method::POST, path, Some(&second), None).await;
        assert_error(
            &refused,
            StatusCode::CONFLICT,
            "domain_not_proven",
            "not this tenant's token",
        );
        let refused = send_raw(app, &second, "b@shared.test", "b@shared.test").await;
        assert_eq!(refused.0, StatusCode::FORBIDDEN, "{}", refused.1);
        // Both records side by side: each tenant may send, each proven by its own token.
        prove_domain(app, &second, &dns, zone, "shared.test").await;
        for token in [&first, &second] {
            let (status, sent) =
                send_raw(app, token, "bounce@mail.shared.test", "a@shared.test").await;
            assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
        }
        // A tenant's list shows only its own domains; deleting one stops its use.
        let (_, listed) = call(
            app,
            Method::GET,
            "/api/v1/sending-domains",
            Some(&second),
            None,
        )
        .await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        let (status, _) = call(
            app,
            Method::DELETE,
            "/api/v1/sending-domains/shared.test",
            Some(&second),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let refused = send_raw(app, &second, "b@shared.test", "b@shared.test").await;
        assert_eq!(refused.0, StatusCode::FORBIDDEN);
        let gone = call(
            app,
            Method::GET,
            "/api/v1/sending-domains/shared.test",
            Some(&second),
            None,
        )
        .await;
        assert_error(&gone, StatusCode::NOT_FOUND, "not_found", "sending domain");
        let bad = call(
            app,
            Method::POST,
            "/api/v1/sending-domains",
            Some(&second),
            Some(json!({"domain": "http://x/"})),
        )
        .await;
        assert_error(
            &bad,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "not a URL",
        );
    }
}
