//! A loopback SMTP server for the browser tests: it plays both the recipients' mail server
//! (native delivery reaches it through the test DNS's MX) and the tenant's own mail server
//! ("Test connection" authenticates against it). It accepts every message and every AUTH, and
//! keeps what it received; recipients whose local part starts with "later" get a temporary
//! 451, so a test can watch a recipient be deferred. Like a real server, it refuses DATA when no
//! recipient of the transaction was accepted.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Default)]
pub struct Received(Arc<Mutex<Vec<Vec<u8>>>>);

impl Received {
    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// The messages received so far, byte for byte (dot-stuffing undone).
    pub fn messages(&self) -> Vec<Vec<u8>> {
        self.0.lock().unwrap().clone()
    }
}

/// Starts the server on 127.0.0.1 and returns its port and what it receives.
pub async fn start() -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Received::default();
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(session(stream, store.clone()));
        }
    });
    (port, received)
}

async fn session(stream: TcpStream, received: Received) {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    if writer.write_all(b"220 sink.test ESMTP\r\n").await.is_err() {
        return;
    }
    let mut line = String::new();
    let mut auth_login_steps = 0;
    let mut accepted_recipients = 0;
    loop {
        line.clear();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_ascii_uppercase();
        let answer: &[u8] = if auth_login_steps > 0 {
            auth_login_steps -= 1;
            if auth_login_steps == 0 {
                b"235 2.7.0 authenticated\r\n"
            } else {
                b"334 UGFzc3dvcmQ6\r\n"
            }
        } else if command.starts_with("EHLO") {
            b"250-sink.test\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
        } else if command.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if command.starts_with("AUTH LOGIN") {
            auth_login_steps = 2;
            b"334 VXNlcm5hbWU6\r\n"
        } else if command.starts_with("AUTH") {
            b"235 2.7.0 authenticated\r\n"
        } else if command.starts_with("DATA") && accepted_recipients == 0 {
            b"554 5.5.1 Error: no valid recipients\r\n"
        } else if command.starts_with("DATA") {
            accepted_recipients = 0;
            if writer.write_all(b"354 go ahead\r\n").await.is_err() {
                return;
            }
            let mut message = Vec::new();
            loop {
                let mut data = String::new();
                match reader.read_line(&mut data).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if data == ".\r\n" {
                    break;
                }
                let line = data.strip_prefix('.').unwrap_or(&data);
                message.extend_from_slice(line.as_bytes());
            }
            received.0.lock().unwrap().push(message);
            b"250 2.0.0 queued as sink\r\n"
        } else if command.starts_with("RCPT TO:<LATER") {
            b"451 4.7.1 greylisted, try again later\r\n"
        } else if command.starts_with("RCPT") {
            accepted_recipients += 1;
            b"250 2.1.5 ok\r\n"
        } else if command.starts_with("MAIL") || command.starts_with("RSET") {
            accepted_recipients = 0;
            b"250 2.0.0 ok\r\n"
        } else if command.starts_with("QUIT") {
            let _ = writer.write_all(b"221 2.0.0 bye\r\n").await;
            return;
        } else {
            b"250 2.0.0 ok\r\n"
        };
        if writer.write_all(answer).await.is_err() {
            return;
        }
    }
}
