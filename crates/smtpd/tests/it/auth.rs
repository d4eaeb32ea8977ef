//! AUTH PLAIN and LOGIN, wrong credentials, the failure limits, and AUTH without TLS.

use crate::support::backend::UNCHECKABLE_USER;
use crate::support::server::{TestServer, config};

/// base64 of "\0app-a\0secret-a"
const PLAIN_APP_A: &str = "AGFwcC1hAHNlY3JldC1h";
/// base64 of "\0app-a\0wrong"
const PLAIN_WRONG: &str = "AGFwcC1hAHdyb25n";

fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn plain_with_initial_response() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    client.ehlo().await;
    assert_eq!(
        client.command(&format!("AUTH PLAIN {PLAIN_APP_A}")).await,
        "235 2.7.0 Authentication successful\r\n"
    );
    assert_eq!(
        client.command(&format!("AUTH PLAIN {PLAIN_APP_A}")).await,
        "503 5.5.1 Already authenticated\r\n"
    );
}

#[tokio::test]
async fn plain_with_continuation_and_a_password_with_spaces() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    client.ehlo().await;
    assert_eq!(client.command("AUTH PLAIN").await, "334 \r\n");
    assert_eq!(
        client.command(&base64("app-b\0app-b\0pass word:b")).await,
        "235 2.7.0 Authentication successful\r\n"
    );
}

#[tokio::test]
async fn login() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    client.ehlo().await;
    assert_eq!(client.command("AUTH LOGIN").await, "334 VXNlcm5hbWU6\r\n");
    assert_eq!(
        client.command(&base64("app-a")).await,
        "334 UGFzc3dvcmQ6\r\n"
    );
    assert_eq!(
        client.command(&base64("secret-a")).await,
        "235 2.7.0 Authentication successful\r\n"
    );
}

#[tokio::test]
async fn login_with_initial_user_name() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    client.ehlo().await;
    let command = format!("AUTH LOGIN {}", base64("app-a"));
    assert_eq!(client.command(&command).await, "334 UGFzc3dvcmQ6\r\n");
    assert_eq!(
        client.command(&base64("secret-a")).await,
        "235 2.7.0 Authentication successful\r\n"
    );
}

#[tokio::test]
async fn cancelled_undecodable_and_unknown_mechanisms() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    assert_eq!(
        client.command(&format!("AUTH PLAIN {PLAIN_APP_A}")).await,
        "503 5.5.1 Send EHLO first\r\n"
    );
    client.ehlo().await;
    assert_eq!(client.command("AUTH LOGIN").await, "334 VXNlcm5hbWU6\r\n");
    assert_eq!(
        client.command("*").await,
        "501 5.0.0 Authentication cancelled\r\n"
    );
    assert_eq!(
        client.command("AUTH PLAIN !!!").await,
        "501 5.5.2 Cannot decode AUTH response\r\n"
    );
    assert_eq!(
        client.command("AUTH CRAM-MD5").await,
        "504 5.5.4 Unrecognized authentication type\r\n"
    );
    assert_eq!(server.backend.auth_calls(), 0);
}

#[tokio::test]
async fn wrong_password_then_close_after_three_failures() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    client.ehlo().await;
    let wrong = format!("AUTH PLAIN {PLAIN_WRONG}");
    let invalid = "535 5.7.8 Authentication credentials invalid\r\n";
    assert_eq!(client.command(&wrong).await, invalid);
    assert_eq!(client.command(&wrong).await, invalid);
    assert_eq!(
        client.command(&wrong).await,
        "421 4.7.0 mx.test Too many failed authentication attempts, closing connection\r\n"
    );
    client.expect_closed().await;
}

#[tokio::test]
async fn failures_from_one_address_are_counted_across_connections() {
    let mut config = config();
    config.limits.max_auth_failures_per_ip = 2;
    let server = TestServer::start_with(config).await;
    let wrong = format!("AUTH PLAIN {PLAIN_WRONG}");
    let mut first = server.client().await;
    first.ehlo().await;
    assert!(first.command(&wrong).await.starts_with("535 "));
    assert!(first.command(&wrong).await.starts_with("535 "));
    first.command("QUIT").await;

    // Even the right password is not checked now: the address is blocked for the window.
    let mut second = server.client().await;
    second.ehlo().await;
    assert_eq!(
        second.command(&format!("AUTH PLAIN {PLAIN_APP_A}")).await,
        "421 4.7.0 mx.test Too many failed authentication attempts from your address, try again later\r\n"
    );
    second.expect_closed().await;
    assert_eq!(server.backend.auth_calls(), 2);
}

#[tokio::test]
async fn backend_unavailable_is_a_temporary_failure() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    client.ehlo().await;
    let command = format!("AUTH PLAIN {}", base64(&format!("\0{UNCHECKABLE_USER}\0x")));
    assert_eq!(
        client.command(&command).await,
        "454 4.7.0 Temporary authentication failure\r\n"
    );
    assert_eq!(
        client.command(&format!("AUTH PLAIN {PLAIN_APP_A}")).await,
        "235 2.7.0 Authentication successful\r\n"
    );
}

#[tokio::test]
async fn auth_is_refused_without_tls_unless_loopback_is_allowed() {
    let mut config = config();
    config.allow_plain_auth_on_loopback = false;
    let server = TestServer::start_with(config).await;
    let mut client = server.client().await;
    assert_eq!(
        client.ehlo().await,
        "250-mx.test\r\n\
         250-PIPELINING\r\n\
         250-SIZE 1024\r\n\
         250-8BITMIME\r\n\
         250 ENHANCEDSTATUSCODES\r\n"
    );
    assert_eq!(
        client.command(&format!("AUTH PLAIN {PLAIN_APP_A}")).await,
        "538 5.7.11 Encryption required for requested authentication mechanism\r\n"
    );
    assert_eq!(server.backend.auth_calls(), 0);
}

#[tokio::test]
async fn mail_without_auth_is_refused() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    client.ehlo().await;
    assert_eq!(
        client
            .command("MAIL FROM:<facilities@client.example>")
            .await,
        "530 5.7.0 Authentication required\r\n"
    );
    assert_eq!(
        client.command("RCPT TO:<someone@elsewhere.example>").await,
        "503 5.5.1 Need MAIL before RCPT\r\n"
    );
}

#[tokio::test]
async fn revoked_credentials_end_the_session_at_the_next_transaction() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    assert_eq!(
        client
            .command("MAIL FROM:<facilities@client.example>")
            .await,
        "250 2.1.0 Sender ok\r\n"
    );
    client.command("RSET").await;

    server.backend.revoke("app-a");
    assert_eq!(
        client
            .command("MAIL FROM:<facilities@client.example>")
            .await,
        "530 5.7.0 Authentication no longer valid (the credentials were revoked), authenticate again\r\n"
    );
    assert_eq!(
        client.command("RCPT TO:<tech@contractor.example>").await,
        "503 5.5.1 Need MAIL before RCPT\r\n"
    );
    // The session is no longer authenticated, so MAIL asks for AUTH again.
    assert_eq!(
        client
            .command("MAIL FROM:<facilities@client.example>")
            .await,
        "530 5.7.0 Authentication required\r\n"
    );
    assert!(server.backend.submissions().is_empty());
}
