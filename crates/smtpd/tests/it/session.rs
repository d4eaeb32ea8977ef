//! Greeting, EHLO/HELO, the simple commands and protocol errors.

use crate::support::server::{TestServer, config};

#[tokio::test]
async fn greeting_and_ehlo_on_loopback_without_tls() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
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
        client.command("HELO client.example").await,
        "250 mx.test\r\n"
    );
}

#[tokio::test]
async fn simple_commands() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    assert_eq!(client.command("NOOP").await, "250 2.0.0 Ok\r\n");
    assert_eq!(client.command("RSET").await, "250 2.0.0 Ok\r\n");
    assert_eq!(
        client.command("VRFY someone").await,
        "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"
    );
    assert_eq!(
        client.command("HELP").await,
        "214 2.0.0 Mail submission (RFC 6409): EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, RSET, NOOP, QUIT\r\n"
    );
    assert_eq!(
        client.command("EXPN staff").await,
        "502 5.5.1 Command not implemented\r\n"
    );
    assert_eq!(client.command("QUIT").await, "221 2.0.0 mx.test Bye\r\n");
    client.expect_closed().await;
}

#[tokio::test]
async fn unknown_commands_and_syntax_errors() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    assert_eq!(
        client.command("XYZZY").await,
        "500 5.5.2 Command unrecognized\r\n"
    );
    assert_eq!(
        client.command("EHLO").await,
        "501 5.5.4 Syntax: EHLO domain\r\n"
    );
    assert_eq!(
        client.command("STARTTLS").await,
        "502 5.5.1 STARTTLS not available\r\n"
    );
    let long = format!("NOOP {}", "x".repeat(5000));
    assert_eq!(client.command(&long).await, "500 5.5.6 Line too long\r\n");
    assert_eq!(client.command("NOOP").await, "250 2.0.0 Ok\r\n");
}

#[tokio::test]
async fn too_many_errors_close_the_connection() {
    let mut config = config();
    config.limits.max_errors = 3;
    let server = TestServer::start_with(config).await;
    let mut client = server.client().await;
    assert_eq!(
        client.command("XYZZY").await,
        "500 5.5.2 Command unrecognized\r\n"
    );
    assert_eq!(
        client.command("PLUGH").await,
        "500 5.5.2 Command unrecognized\r\n"
    );
    assert_eq!(
        client.command("MAIL FROM:<a@client.example>").await,
        "503 5.5.1 Send EHLO or HELO first\r\n"
    );
    // The limit counts every protocol error; the third ends the session.
    assert_eq!(
        client.command("XYZZY").await,
        "421 4.7.0 mx.test Too many errors, closing connection\r\n"
    );
    client.expect_closed().await;
}
