//! The client against what is not a working spamd: nothing listening, something else
//! listening, a spamd that never answers, and a message too large to send.

use std::time::Duration;

use sealpost_spamd::{ProtocolError, SpamdClient, SpamdError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use sealpost_spamd::testing::free_loopback_address;

#[tokio::test]
async fn closed_port_is_refused() {
    let address = free_loopback_address();
    let client = SpamdClient::new(address, Duration::from_secs(5));

    let error = client
        .check(b"Subject: hi\r\n\r\nhi\r\n")
        .await
        .unwrap_err();

    assert!(matches!(error, SpamdError::Refused { address: refused } if refused == address));
    assert_eq!(
        error.to_string(),
        format!("spamd at {address} refused the connection; is spamd running and listening there?")
    );
}

#[tokio::test]
async fn garbage_answer_is_a_protocol_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        stream.read_to_end(&mut request).await.unwrap();
        stream
            .write_all(b"220 mail.example.com ESMTP ready\r\n")
            .await
            .unwrap();
        request
    });
    let client = SpamdClient::new(address, Duration::from_secs(5));

    let error = client
        .check(b"Subject: hi\r\n\r\nhi\r\n")
        .await
        .unwrap_err();

    let SpamdError::Protocol {
        error: ProtocolError::StatusLine { line },
        ..
    } = &error
    else {
        panic!("expected a status line error, got {error:?}");
    };
    assert_eq!(line, "220 mail.example.com ESMTP ready");
    assert_eq!(
        server.await.unwrap(),
        b"REPORT SPAMC/1.5\r\nContent-length: 19\r\n\r\nSubject: hi\r\n\r\nhi\r\n"
    );
}

#[tokio::test]
async fn silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    // The server reads the request and then holds the connection open without a word, like a
    // spamd whose children are all busy.
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        stream.read_to_end(&mut request).await.unwrap();
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    let timeout = Duration::from_millis(300);
    let client = SpamdClient::new(address, timeout);

    let error = client
        .check(b"Subject: hi\r\n\r\nhi\r\n")
        .await
        .unwrap_err();

    assert!(matches!(error, SpamdError::Timeout { timeout: waited, .. } if waited == timeout));
    assert_eq!(
        error.to_string(),
        format!("spamd at {address} did not answer within 300ms")
    );
    server.abort();
}

#[tokio::test]
async fn message_over_the_limit_is_not_sent() {
    // Nothing listens here, so a message that was sent would give Refused instead.
    let client =
        SpamdClient::new(free_loopback_address(), Duration::from_secs(5)).with_max_message_size(10);

    let error = client.check(b"Subject: eleven").await.unwrap_err();

    assert!(
        matches!(
            error,
            SpamdError::TooLarge {
                size: 15,
                limit: 10
            }
        ),
        "{error:?}"
    );
}
