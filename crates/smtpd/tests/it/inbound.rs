//! An inbound listener (the mail tester's): no AUTH, mail from anyone, but only to the mailboxes
//! the backend has, so it is never a relay.

use sealpost_smtpd::{Mode, SmtpdConfig};

use crate::support::backend::{LOCAL_MAILBOX, UNCHECKABLE_RECIPIENT};
use crate::support::server::{TestServer, config};

fn inbound() -> SmtpdConfig {
    let mut config = config();
    config.mode = Mode::Inbound;
    config
}

#[tokio::test]
async fn anyone_may_send_to_a_local_mailbox_and_nothing_else() {
    let server = TestServer::start_with(inbound()).await;
    let mut client = server.client().await;
    let ehlo = client.ehlo().await;
    assert!(!ehlo.contains("AUTH"), "no AUTH offered inbound: {ehlo}");
    assert_eq!(
        client.command("MAIL FROM:<bounce@sender.example>").await,
        "250 2.1.0 Sender ok\r\n"
    );
    assert_eq!(
        client.command("RCPT TO:<someone@elsewhere.example>").await,
        "550 5.1.1 <someone@elsewhere.example>: no such mailbox here, and this host relays \
         nothing\r\n"
    );
    assert_eq!(
        client.command(&format!("RCPT TO:<{LOCAL_MAILBOX}>")).await,
        "250 2.1.5 Recipient ok\r\n"
    );
    assert_eq!(
        client.command("DATA").await,
        "354 End data with <CR><LF>.<CR><LF>\r\n"
    );
    client.send("Subject: test\r\n\r\nHello.\r\n.\r\n").await;
    assert_eq!(client.reply().await, "250 2.0.0 Ok: queued as msg-1\r\n");

    let submissions = server.backend.submissions();
    assert_eq!(submissions.len(), 1);
    assert_eq!(submissions[0].identity, None);
    assert_eq!(submissions[0].envelope.rcpt_to, [LOCAL_MAILBOX]);
    assert_eq!(submissions[0].envelope.helo, "client.example");
}

#[tokio::test]
async fn the_null_sender_is_accepted_inbound_but_auth_is_not() {
    let server = TestServer::start_with(inbound()).await;
    let mut client = server.client().await;
    client.ehlo().await;
    let auth = client.command("AUTH PLAIN AGFwcC1hAHNlY3JldC1h").await;
    assert!(auth.starts_with("5"), "AUTH refused inbound: {auth}");
    assert_eq!(
        client.command("MAIL FROM:<>").await,
        "250 2.1.0 Sender ok\r\n"
    );
    assert_eq!(
        client.command(&format!("RCPT TO:<{LOCAL_MAILBOX}>")).await,
        "250 2.1.5 Recipient ok\r\n"
    );
    client.command("DATA").await;
    client
        .send("Subject: bounce\r\n\r\nReturned.\r\n.\r\n")
        .await;
    assert_eq!(client.reply().await, "250 2.0.0 Ok: queued as msg-1\r\n");
    assert_eq!(server.backend.submissions()[0].envelope.mail_from, "");
}

#[tokio::test]
async fn a_recipient_that_cannot_be_checked_is_deferred() {
    let server = TestServer::start_with(inbound()).await;
    let mut client = server.client().await;
    client.ehlo().await;
    client.command("MAIL FROM:<a@sender.example>").await;
    assert_eq!(
        client
            .command(&format!("RCPT TO:<{UNCHECKABLE_RECIPIENT}>"))
            .await,
        "451 4.3.0 Recipient cannot be checked now, try again later\r\n"
    );
    assert_eq!(
        client.command("DATA").await,
        "503 5.5.1 Need RCPT command\r\n"
    );
}

#[tokio::test]
async fn a_submission_listener_still_needs_auth_and_no_null_sender() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    client.ehlo().await;
    assert_eq!(
        client.command("MAIL FROM:<a@sender.example>").await,
        "530 5.7.0 Authentication required\r\n"
    );
}
