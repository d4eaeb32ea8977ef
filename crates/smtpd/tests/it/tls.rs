//! STARTTLS: what EHLO offers before and after, AUTH over TLS, and the reset it implies.

use crate::support::server::{TestServer, tls_config};

#[tokio::test]
async fn starttls_then_auth_and_a_message() {
    let server = TestServer::start_with(tls_config()).await;
    let mut client = server.client().await;
    assert_eq!(
        client.ehlo().await,
        "250-mx.test\r\n\
         250-PIPELINING\r\n\
         250-SIZE 1024\r\n\
         250-8BITMIME\r\n\
         250-ENHANCEDSTATUSCODES\r\n\
         250 STARTTLS\r\n"
    );
    assert_eq!(
        client.command("AUTH PLAIN AGFwcC1hAHNlY3JldC1h").await,
        "538 5.7.11 Encryption required for requested authentication mechanism\r\n"
    );
    assert_eq!(
        client.command("STARTTLS").await,
        "220 2.0.0 Ready to start TLS\r\n"
    );
    let tls = server.tls.as_ref().expect("TLS settings");
    let mut client = client.start_tls(tls).await;

    // RFC 3207: the greeting is forgotten, so the client must say EHLO again.
    assert_eq!(
        client.command("AUTH PLAIN AGFwcC1hAHNlY3JldC1h").await,
        "503 5.5.1 Send EHLO first\r\n"
    );
    assert_eq!(
        client.ehlo().await,
        "250-mx.test\r\n\
         250-PIPELINING\r\n\
         250-SIZE 1024\r\n\
         250-8BITMIME\r\n\
         250-ENHANCEDSTATUSCODES\r\n\
         250 AUTH PLAIN LOGIN\r\n"
    );
    assert_eq!(
        client.command("STARTTLS").await,
        "503 5.5.1 TLS already active\r\n"
    );
    assert_eq!(
        client.command("AUTH PLAIN AGFwcC1hAHNlY3JldC1h").await,
        "235 2.7.0 Authentication successful\r\n"
    );
    client
        .command("MAIL FROM:<facilities@client.example>")
        .await;
    client.command("RCPT TO:<tech@contractor.example>").await;
    client.command("DATA").await;
    client.send("Subject: over TLS\r\n\r\nx\r\n.\r\n").await;
    assert_eq!(client.reply().await, "250 2.0.0 Ok: queued as msg-1\r\n");
    assert!(server.backend.submissions()[0].envelope.tls);
    assert_eq!(client.command("QUIT").await, "221 2.0.0 mx.test Bye\r\n");
    client.expect_closed().await;
}

#[tokio::test]
async fn plaintext_pipelined_after_starttls_is_discarded() {
    let server = TestServer::start_with(tls_config()).await;
    let mut client = server.client().await;
    client.ehlo().await;
    // An attacker in the path could have appended the second line; it must not be run, or
    // its 252 would be the first reply over TLS.
    client.send("STARTTLS\r\nVRFY injected\r\n").await;
    assert_eq!(client.reply().await, "220 2.0.0 Ready to start TLS\r\n");
    let tls = server.tls.as_ref().expect("TLS settings");
    let mut client = client.start_tls(tls).await;
    assert_eq!(client.command("RSET").await, "250 2.0.0 Ok\r\n");
}

#[tokio::test]
async fn starttls_takes_no_parameters() {
    let server = TestServer::start_with(tls_config()).await;
    let mut client = server.client().await;
    client.ehlo().await;
    // RFC 3207 4: "501 Syntax error (no parameters allowed)".
    assert_eq!(
        client.command("STARTTLS foo").await,
        "501 5.5.4 Syntax error (no parameters allowed)\r\n"
    );
    assert_eq!(
        client.command("STARTTLS").await,
        "220 2.0.0 Ready to start TLS\r\n"
    );
}
