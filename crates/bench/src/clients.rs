//! The load: the benchmark message, and HTTP and SMTP clients that submit it and time each
//! acceptance.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

pub(crate) fn message(sequence: usize) -> String {
    let mut body = String::new();
    while body.len() < 4000 {
        body.push_str("The boiler in building B has been serviced and works again. ");
        body.push_str("\r\n");
    }
    format!(
        "From: Facilities <facilities@client.test>\r\nTo: someone@receiver.test\r\n\
         Subject: Work order {sequence}\r\n\r\n{body}"
    )
}

pub(crate) fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// When each message of a paced run is due: message N at `start` + N x `interval`.
#[derive(Clone, Copy)]
pub(crate) struct Pace {
    pub(crate) start: Instant,
    pub(crate) interval: Duration,
}

/// One keep-alive HTTP connection submitting messages in sequence; returns the latencies. With
/// `domains`, message N goes to `someone@dK.test` with K = N modulo `domains`. With a `pace`,
/// each message is sent when it is due and its latency counts from then, so a server that falls
/// behind the pace is charged for the wait (no coordinated omission).
pub(crate) async fn http_client(
    address: SocketAddr,
    token: String,
    sequences: Vec<usize>,
    domains: Option<usize>,
    pace: Option<Pace>,
) -> Vec<Duration> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.set_nodelay(true).ok();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut latencies = Vec::with_capacity(sequences.len());
    for sequence in sequences {
        let recipient = match domains {
            Some(domains) => format!("someone@d{}.test", sequence % domains),
            None => "someone@receiver.test".to_owned(),
        };
        let body = serde_json::json!({
            "mail_from": "bounce@client.test",
            "recipients": [recipient],
            "raw": message(sequence),
        })
        .to_string();
        let request = format!(
            "POST /api/v1/messages/raw HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let started = match pace {
            Some(pace) => {
                let due = pace.start + pace.interval * u32::try_from(sequence).expect("count");
                tokio::time::sleep_until(due.into()).await;
                due
            }
            None => Instant::now(),
        };
        write.write_all(request.as_bytes()).await.expect("send");
        let mut status = String::new();
        reader.read_line(&mut status).await.expect("status");
        assert!(status.starts_with("HTTP/1.1 202"), "{status}");
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().expect("length");
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await.expect("body");
        latencies.push(started.elapsed());
    }
    latencies
}

/// One SMTP session submitting messages in sequence; returns the latencies of DATA. With a token
/// it authenticates first (Sealpost); without, it relies on the client's address (Postfix).
pub(crate) async fn smtp_client(
    address: SocketAddr,
    token: Option<String>,
    sequences: Vec<usize>,
) -> Vec<Duration> {
    use base64::Engine as _;
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.set_nodelay(true).ok();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    pub(crate) async fn reply(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.expect("reply");
            if line.len() < 4 || line.as_bytes()[3] == b' ' {
                return line;
            }
        }
    }
    let banner = reply(&mut reader).await;
    assert!(banner.starts_with("220"), "{banner}");
    write.write_all(b"EHLO bench.test\r\n").await.expect("send");
    let ehlo = reply(&mut reader).await;
    assert!(ehlo.starts_with("250"), "{ehlo}");
    if let Some(token) = token {
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("\0acme\0{token}"));
        write
            .write_all(format!("AUTH PLAIN {credentials}\r\n").as_bytes())
            .await
            .expect("send");
        let auth = reply(&mut reader).await;
        assert!(auth.starts_with("235"), "{auth}");
    }
    let mut latencies = Vec::with_capacity(sequences.len());
    for sequence in sequences {
        let started = Instant::now();
        // MAIL, RCPT and DATA pipelined, then the message.
        write
            .write_all(
                b"MAIL FROM:<bounce@client.test>\r\nRCPT TO:<someone@receiver.test>\r\nDATA\r\n",
            )
            .await
            .expect("send");
        for _ in 0..3 {
            let reply = reply(&mut reader).await;
            assert!(reply.starts_with('2') || reply.starts_with('3'), "{reply}");
        }
        write
            .write_all(format!("{}.\r\n", message(sequence)).as_bytes())
            .await
            .expect("send");
        let accepted = reply(&mut reader).await;
        assert!(accepted.starts_with("250"), "{accepted}");
        latencies.push(started.elapsed());
    }
    latencies
}
