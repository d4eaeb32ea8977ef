//! MAIL, RCPT, DATA, RSET: the envelope and the exact bytes reach the backend, and 250 waits
//! for it.

use crate::support::backend::{REJECTED_SENDER, REVOKED_AT_SUBMISSION_SENDER, TEMPFAIL_SENDER};
use crate::support::server::TestServer;

#[tokio::test]
async fn a_message_is_queued_with_the_backend_id() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    assert_eq!(
        client
            .command("MAIL FROM:<facilities@client.example> SIZE=100 BODY=8BITMIME")
            .await,
        "250 2.1.0 Sender ok\r\n"
    );
    assert_eq!(
        client.command("RCPT TO:<tech@contractor.example>").await,
        "250 2.1.5 Recipient ok\r\n"
    );
    assert_eq!(
        client.command("RCPT TO:<desk@client.example>").await,
        "250 2.1.5 Recipient ok\r\n"
    );
    assert_eq!(
        client.command("DATA").await,
        "354 End data with <CR><LF>.<CR><LF>\r\n"
    );
    client
        .send("Subject: Work order 17\r\n\r\nPlease fix the door.\r\n.\r\n")
        .await;
    assert_eq!(client.reply().await, "250 2.0.0 Ok: queued as msg-1\r\n");

    let submissions = server.backend.submissions();
    assert_eq!(submissions.len(), 1);
    let submitted = &submissions[0];
    let identity = submitted
        .identity
        .as_ref()
        .expect("an authenticated submission");
    assert_eq!(identity.tenant, "tenant-a");
    assert_eq!(identity.username, "app-a");
    assert_eq!(submitted.envelope.mail_from, "facilities@client.example");
    assert_eq!(
        submitted.envelope.rcpt_to,
        ["tech@contractor.example", "desk@client.example"]
    );
    assert_eq!(submitted.envelope.helo, "client.example");
    assert!(!submitted.envelope.tls);
    assert!(submitted.envelope.peer.ip().is_loopback());
    assert_eq!(
        submitted.message,
        b"Subject: Work order 17\r\n\r\nPlease fix the door.\r\n"
    );

    // The session is ready for the next message.
    assert_eq!(
        client
            .command("MAIL FROM:<facilities@client.example>")
            .await,
        "250 2.1.0 Sender ok\r\n"
    );
}

#[tokio::test]
async fn dot_stuffed_lines_reach_the_backend_as_written() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    client
        .command("MAIL FROM:<facilities@client.example>")
        .await;
    client.command("RCPT TO:<tech@contractor.example>").await;
    client.command("DATA").await;
    let original = ".starts with a dot\r\n\r\n.\r\n..\r\nend. \r\n.x\r\n";
    let stuffed = "..starts with a dot\r\n\r\n..\r\n...\r\nend. \r\n..x\r\n.\r\n";
    client.send(stuffed).await;
    assert_eq!(client.reply().await, "250 2.0.0 Ok: queued as msg-1\r\n");
    assert_eq!(server.backend.submissions()[0].message, original.as_bytes());
}

#[tokio::test]
async fn pipelined_commands_in_one_write() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    client
        .send(
            "MAIL FROM:<facilities@client.example>\r\n\
             RCPT TO:<tech@contractor.example>\r\n\
             RCPT TO:<bad address>\r\n\
             RCPT TO:<desk@client.example>\r\n\
             DATA\r\n",
        )
        .await;
    assert_eq!(client.reply().await, "250 2.1.0 Sender ok\r\n");
    assert_eq!(client.reply().await, "250 2.1.5 Recipient ok\r\n");
    assert_eq!(
        client.reply().await,
        "501 5.1.3 Bad recipient address syntax\r\n"
    );
    assert_eq!(client.reply().await, "250 2.1.5 Recipient ok\r\n");
    assert_eq!(
        client.reply().await,
        "354 End data with <CR><LF>.<CR><LF>\r\n"
    );
    client
        .send("Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        .await;
    assert_eq!(client.reply().await, "250 2.0.0 Ok: queued as msg-1\r\n");
    assert_eq!(client.reply().await, "221 2.0.0 mx.test Bye\r\n");
    client.expect_closed().await;
    assert_eq!(
        server.backend.submissions()[0].envelope.rcpt_to,
        ["tech@contractor.example", "desk@client.example"]
    );
}

#[tokio::test]
async fn commands_out_of_order() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    assert_eq!(
        client.command("RCPT TO:<tech@contractor.example>").await,
        "503 5.5.1 Need MAIL before RCPT\r\n"
    );
    assert_eq!(
        client.command("DATA").await,
        "503 5.5.1 Need MAIL command\r\n"
    );
    client
        .command("MAIL FROM:<facilities@client.example>")
        .await;
    assert_eq!(
        client
            .command("MAIL FROM:<facilities@client.example>")
            .await,
        "503 5.5.1 Nested MAIL command\r\n"
    );
    assert_eq!(
        client.command("DATA").await,
        "503 5.5.1 Need RCPT command\r\n"
    );
    // The transaction survived the errors.
    assert_eq!(
        client.command("RCPT TO:<tech@contractor.example>").await,
        "250 2.1.5 Recipient ok\r\n"
    );
    assert_eq!(
        client.command("AUTH PLAIN AGFwcC1hAHNlY3JldC1h").await,
        "503 5.5.1 Already authenticated\r\n"
    );
}

#[tokio::test]
async fn rset_clears_the_transaction() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    client
        .command("MAIL FROM:<facilities@client.example>")
        .await;
    client.command("RCPT TO:<tech@contractor.example>").await;
    assert_eq!(client.command("RSET").await, "250 2.0.0 Ok\r\n");
    assert_eq!(
        client.command("DATA").await,
        "503 5.5.1 Need MAIL command\r\n"
    );
    assert_eq!(
        client.command("MAIL FROM:<other@client.example>").await,
        "250 2.1.0 Sender ok\r\n"
    );
}

#[tokio::test]
async fn sender_and_recipient_checks() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    assert_eq!(
        client.command("MAIL FROM:<>").await,
        "550 5.7.1 Null sender not allowed for submission, give the sender address\r\n"
    );
    assert_eq!(
        client.command("MAIL FROM:<user@localhost>").await,
        "501 5.1.7 Bad sender address syntax: domain is not fully qualified\r\n"
    );
    assert_eq!(
        client.command("MAIL FROM:<a..b@client.example>").await,
        "501 5.1.7 Bad sender address syntax\r\n"
    );
    assert_eq!(
        client
            .command("MAIL FROM:<facilities@client.example> SMTPUTF8")
            .await,
        "555 5.5.4 Unsupported parameter SMTPUTF8\r\n"
    );
    assert_eq!(
        client
            .command("MAIL FROM:<facilities@client.example> X-CUSTOM=1")
            .await,
        "555 5.5.4 Unsupported parameter X-CUSTOM=1\r\n"
    );
    assert_eq!(
        client
            .command("MAIL FROM:<facilities@client.example> AUTH=<>")
            .await,
        "250 2.1.0 Sender ok\r\n"
    );
    assert_eq!(
        client.command("RCPT TO:<postmaster>").await,
        "501 5.1.3 Bad recipient address syntax: a domain is required\r\n"
    );
    assert_eq!(
        client.command("RCPT TO:<tech@contractor>").await,
        "501 5.1.3 Bad recipient address syntax: domain is not fully qualified\r\n"
    );
    assert_eq!(
        client
            .command("RCPT TO:<tech@contractor.example> NOTIFY=NEVER")
            .await,
        "555 5.5.4 Unsupported RCPT parameter\r\n"
    );
}

/// A recipient that delivery could not send is refused at RCPT, never accepted with 250 and
/// failed later.
#[tokio::test]
async fn recipients_delivery_cannot_send_are_refused_at_rcpt() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    client
        .command("MAIL FROM:<facilities@client.example>")
        .await;
    let long = format!(
        "{}@{}.example",
        "a".repeat(64),
        "b".repeat(63) + "." + &"c".repeat(63) + "." + &"d".repeat(54)
    );
    assert_eq!(long.len(), 255);
    // smtp-proto itself refuses a control character, a space or a missing @ in the path,
    // without saying why.
    for (recipient, problem) in [
        ("tech\tdesk@contractor.example", ""),
        ("tech\u{1}desk@contractor.example", ""),
        ("tech desk@contractor.example", ""),
        ("tech@", ": invalid domain"),
        ("tech", ""),
        (
            "j\u{f6}rg@contractor.example",
            ": non-ASCII addresses need SMTPUTF8, which is not offered",
        ),
        (&long, ": address too long"),
    ] {
        assert_eq!(
            client.command(&format!("RCPT TO:<{recipient}>")).await,
            format!("501 5.1.3 Bad recipient address syntax{problem}\r\n"),
            "{recipient}"
        );
    }
    assert_eq!(
        client.command("DATA").await,
        "503 5.5.1 Need RCPT command\r\n"
    );
}

#[tokio::test]
async fn backend_temporary_failure_is_451() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    assert_eq!(
        client.send_message_from(TEMPFAIL_SENDER).await,
        "451 4.3.0 Temporary failure, try again later\r\n"
    );
    assert_eq!(
        client.command("DATA").await,
        "503 5.5.1 Need MAIL command\r\n"
    );
}

/// A backend that confirms the login with the message may find it revoked only then: the
/// message is refused as a recheck would refuse the transaction, and the login ends.
#[tokio::test]
async fn credentials_revoked_at_submission_end_the_login() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    assert_eq!(
        client.send_message_from(REVOKED_AT_SUBMISSION_SENDER).await,
        "530 5.7.0 Authentication no longer valid (the credentials were revoked), authenticate \
         again\r\n"
    );
    assert_eq!(
        client
            .command("MAIL FROM:<facilities@client.example>")
            .await,
        "530 5.7.0 Authentication required\r\n"
    );
    // A new AUTH opens the session again.
    assert_eq!(
        client.command("AUTH PLAIN AGFwcC1hAHNlY3JldC1h").await,
        "235 2.7.0 Authentication successful\r\n"
    );
    assert_eq!(
        client
            .command("MAIL FROM:<facilities@client.example>")
            .await,
        "250 2.1.0 Sender ok\r\n"
    );
}

#[tokio::test]
async fn backend_rejection_is_passed_on() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    assert_eq!(
        client.send_message_from(REJECTED_SENDER).await,
        "550 5.7.1 From domain not allowed\r\n"
    );
    assert!(server.backend.submissions().is_empty());
}

#[tokio::test]
async fn a_client_that_leaves_mid_data_submits_nothing() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    client
        .command("MAIL FROM:<facilities@client.example>")
        .await;
    client.command("RCPT TO:<tech@contractor.example>").await;
    client.command("DATA").await;
    client.send("Subject: half\r\n\r\nthe first half\r\n").await;
    drop(client);
    let backend = std::sync::Arc::clone(&server.backend);
    // `stop` returns once every session has ended, so the session has seen the close.
    server.stop().await;
    assert!(backend.submissions().is_empty());
}

#[tokio::test]
async fn a_message_with_a_nul_byte_is_refused_at_the_end_of_data() {
    let server = TestServer::start().await;
    let mut client = server.authenticated().await;
    client
        .command("MAIL FROM:<facilities@client.example>")
        .await;
    client.command("RCPT TO:<tech@contractor.example>").await;
    client.command("DATA").await;
    client
        .send_bytes(b"Subject: x\r\n\r\nfirst\r\nsec\0ond\r\n.\r\n")
        .await;
    assert_eq!(
        client.reply().await,
        "550 5.6.0 The message contains a NUL byte (line 4), which mail cannot carry; remove it\r\n"
    );
    assert!(server.backend.submissions().is_empty());
    // The session goes on in step.
    assert_eq!(client.command("NOOP").await, "250 2.0.0 Ok\r\n");
}
