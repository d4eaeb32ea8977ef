//! A webhook receiver for the benchmark's `--webhooks on` run: it reads each request (head and
//! Content-Length body), answers 204 and counts it, so the run shows that the events kept up.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

#[derive(Debug, Default)]
pub(crate) struct WebhookSink {
    received: AtomicUsize,
}

impl WebhookSink {
    pub(crate) fn received(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }

    pub(crate) async fn serve(self: Arc<Self>, listener: tokio::net::TcpListener) {
        while let Ok((stream, _)) = listener.accept().await {
            let sink = self.clone();
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                let mut length = 0usize;
                let mut line = String::new();
                loop {
                    line.clear();
                    if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(value) = lower.strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0u8; length];
                if stream.read_exact(&mut body).await.is_ok() {
                    sink.received.fetch_add(1, Ordering::SeqCst);
                    let _ = stream
                        .get_mut()
                        .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                        .await;
                }
            });
        }
    }
}
