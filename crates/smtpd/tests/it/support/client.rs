//! A line-level SMTP client over plain TCP or TLS that returns replies exactly as sent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sealpost_smtpd::TlsSettings;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// How long a test waits for a reply before it fails instead of hanging.
const REPLY_WAIT: Duration = Duration::from_secs(5);

pub struct Client<S = TcpStream> {
    stream: BufReader<S>,
}

impl Client<TcpStream> {
    pub async fn connect(address: SocketAddr) -> Self {
        let stream = TcpStream::connect(address).await.expect("connect");
        Self {
            stream: BufReader::new(stream),
        }
    }

    /// Runs the TLS handshake after a `220` to STARTTLS, trusting the server's own
    /// self-signed certificate for `localhost`.
    pub async fn start_tls(self, tls: &TlsSettings) -> Client<TlsStream<TcpStream>> {
        let mut roots = RootCertStore::empty();
        for certificate in tls.certificate_chain() {
            roots
                .add(certificate.clone())
                .expect("trust the test certificate");
        }
        let config = ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = TlsConnector::from(Arc::new(config));
        let name = ServerName::try_from("localhost").expect("server name");
        // Any bytes the server sent after its 220 would be lost here; there must be none.
        assert!(self.stream.buffer().is_empty(), "unread bytes before TLS");
        let stream = connector
            .connect(name, self.stream.into_inner())
            .await
            .expect("TLS handshake");
        Client {
            stream: BufReader::new(stream),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// Writes raw bytes, for pipelining and message content.
    pub async fn send(&mut self, data: &str) {
        self.send_bytes(data.as_bytes()).await;
    }

    pub async fn send_bytes(&mut self, data: &[u8]) {
        let stream = self.stream.get_mut();
        stream.write_all(data).await.expect("write");
        stream.flush().await.expect("flush");
    }

    /// Sends one command line and returns the reply.
    pub async fn command(&mut self, line: &str) -> String {
        self.send(&format!("{line}\r\n")).await;
        self.reply().await
    }

    /// Sends a short message from `sender` to one recipient, without checking the replies on
    /// the way, and returns the reply to its end.
    pub async fn send_message_from(&mut self, sender: &str) -> String {
        self.command(&format!("MAIL FROM:<{sender}>")).await;
        self.command("RCPT TO:<tech@contractor.example>").await;
        self.command("DATA").await;
        self.send("Subject: x\r\n\r\nx\r\n.\r\n").await;
        self.reply().await
    }

    pub async fn ehlo(&mut self) -> String {
        self.command("EHLO client.example").await
    }

    /// Reads one complete reply, all its lines with their CRLF.
    pub async fn reply(&mut self) -> String {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            let read = timeout(REPLY_WAIT, self.stream.read_line(&mut line))
                .await
                .expect("a reply in time")
                .expect("read a reply");
            assert!(
                read > 0,
                "connection closed while waiting for a reply; got {reply:?}"
            );
            reply.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return reply;
            }
        }
    }

    /// Asserts that the server closed the connection without sending anything more.
    pub async fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        let read = timeout(REPLY_WAIT, self.stream.read_to_end(&mut rest))
            .await
            .expect("the server closes in time");
        // A reset after the server closed counts as closed as well.
        if read.is_ok() {
            assert_eq!(
                String::from_utf8_lossy(&rest),
                "",
                "bytes after the last reply"
            );
        }
    }
}
