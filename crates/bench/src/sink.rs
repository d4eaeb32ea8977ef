//! The receiving side of every run: a minimal SMTP sink playing the recipients' MX host.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

/// The receiving server: a minimal SMTP sink playing the recipients' MX host. It answers every
/// command with success, counts the messages it receives, and keeps nothing, so that it is never
/// what limits the figures.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    pub(crate) received: AtomicUsize,
    /// Of those, the messages carrying a DKIM-Signature header.
    pub(crate) signed: AtomicUsize,
    /// Connections accepted, to show how many messages each carried.
    pub(crate) connections: AtomicUsize,
}

impl Sink {
    pub(crate) async fn serve(self: Arc<Self>, listener: tokio::net::TcpListener) {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            self.connections.fetch_add(1, Ordering::Relaxed);
            let sink = self.clone();
            tokio::spawn(async move {
                stream.set_nodelay(true).ok();
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                if write
                    .write_all(b"220 mx.receiver.test ESMTP\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let mut line = String::new();
                loop {
                    line.clear();
                    match reader.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-mx.receiver.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            if write.write_all(b"354 go ahead\r\n").await.is_err() {
                                return;
                            }
                            let mut signed = false;
                            loop {
                                line.clear();
                                match reader.read_line(&mut line).await {
                                    Ok(0) | Err(_) => return,
                                    Ok(_) if line == ".\r\n" => break,
                                    Ok(_) => {
                                        signed |= line.get(..15).is_some_and(|name| {
                                            name.eq_ignore_ascii_case("DKIM-Signature:")
                                        });
                                    }
                                }
                            }
                            if signed {
                                sink.signed.fetch_add(1, Ordering::Relaxed);
                            }
                            sink.received.fetch_add(1, Ordering::Relaxed);
                            b"250 2.0.0 queued\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    }
}
