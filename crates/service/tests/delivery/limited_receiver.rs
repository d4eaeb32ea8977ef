//! A receiving SMTP server on loopback that enforces what large providers enforce: a limit on
//! connections open at once (the connection beyond it is greeted with 421 4.7.0 and closed) and
//! on messages per second (MAIL FROM beyond it is answered 451 4.7.1). It counts connections,
//! the most open at once, its refusals and the messages it took. Several listeners (one per
//! loopback address) may share one count, as the MX hosts of one provider do. It closes a
//! connection a moment after its reply to QUIT.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How long after its 221 the receiver takes to close the connection.
const CLOSE_DELAY: std::time::Duration = std::time::Duration::from_millis(50);

/// What the receivers saw, together.
#[derive(Debug, Default)]
pub struct Seen {
    pub connections: usize,
    pub open: usize,
    pub most_open: usize,
    pub refused_connections: usize,
    pub refused_messages: usize,
    /// The recipients of each message taken.
    pub delivered: Vec<String>,
    /// Messages taken on each connection, in the order the connections ended.
    pub per_connection: Vec<usize>,
    second: Option<(Instant, u32)>,
}

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub connections: usize,
    pub messages_per_second: u32,
    /// How long the reply to the end of DATA takes: a slow receiver.
    pub data_delay: std::time::Duration,
}

/// Listeners sharing one [`Seen`].
#[derive(Clone)]
pub struct Receiver {
    pub seen: Arc<Mutex<Seen>>,
    policy: Policy,
}

impl Receiver {
    pub fn new(policy: Policy) -> Self {
        Self {
            seen: Arc::default(),
            policy,
        }
    }

    /// Listens on `ip` at `port` (0 for any free port) and returns the port.
    pub async fn listen(&self, ip: IpAddr, port: u16) -> u16 {
        let listener = TcpListener::bind(SocketAddr::new(ip, port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let this = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let this = this.clone();
                tokio::spawn(async move { this.serve(stream).await });
            }
        });
        port
    }

    async fn serve(&self, mut stream: TcpStream) {
        let admitted = {
            let mut seen = self.seen.lock().unwrap();
            seen.connections += 1;
            if seen.open >= self.policy.connections {
                seen.refused_connections += 1;
                false
            } else {
                seen.open += 1;
                seen.most_open = seen.most_open.max(seen.open);
                true
            }
        };
        if !admitted {
            let _ = stream
                .write_all(b"421 4.7.0 Too many concurrent connections from your IP\r\n")
                .await;
            return;
        }
        let mut taken = 0;
        let _ = self.converse(&mut stream, &mut taken).await;
        let mut seen = self.seen.lock().unwrap();
        seen.open -= 1;
        seen.per_connection.push(taken);
    }

    async fn converse(&self, stream: &mut TcpStream, taken: &mut usize) -> std::io::Result<()> {
        let (read, mut write) = stream.split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 limited.test ESMTP\r\n").await?;
        let mut recipients = Vec::new();
        // Whether the transaction's MAIL FROM was accepted: as a real server does, this one
        // refuses recipients without it and DATA without a recipient.
        let mut mail = false;
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 limited.test\r\n",
                "MAIL" => {
                    recipients.clear();
                    mail = self.book_message();
                    if mail {
                        b"250 2.0.0 OK\r\n"
                    } else {
                        b"451 4.7.1 Rate limited, try again later\r\n"
                    }
                }
                "RSET" => {
                    recipients.clear();
                    mail = false;
                    b"250 2.0.0 OK\r\n"
                }
                "NOOP" => b"250 2.0.0 OK\r\n",
                "RCPT" if !mail => b"503 5.5.1 Error: need MAIL command\r\n",
                "DATA" if recipients.is_empty() => b"554 5.5.1 Error: no valid recipients\r\n",
                "RCPT" => {
                    let address = line.trim_end();
                    let address = address[address.find('<').map_or(0, |at| at + 1)..]
                        .trim_end_matches('>')
                        .to_owned();
                    recipients.push(address);
                    b"250 2.1.5 OK\r\n"
                }
                "DATA" => {
                    mail = false;
                    write.write_all(b"354 go on\r\n").await?;
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).await? == 0 {
                            return Ok(());
                        }
                        if line == ".\r\n" {
                            break;
                        }
                    }
                    tokio::time::sleep(self.policy.data_delay).await;
                    let mut seen = self.seen.lock().unwrap();
                    seen.delivered.append(&mut recipients);
                    drop(seen);
                    *taken += 1;
                    b"250 2.0.0 queued\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 2.0.0 bye\r\n").await?;
                    // The connection counts until it is closed, a moment after the 221, so a
                    // sender that opens the next one on the 221 alone finds it still counted.
                    tokio::time::sleep(CLOSE_DELAY).await;
                    return Ok(());
                }
                _ => b"502 5.5.2 not here\r\n",
            };
            write.write_all(reply).await?;
        }
    }

    /// Books one message in the current second, or refuses it when the second is spent.
    fn book_message(&self) -> bool {
        let mut seen = self.seen.lock().unwrap();
        let now = Instant::now();
        let (started, count) = match seen.second {
            Some((started, count)) if now.duration_since(started).as_secs() < 1 => (started, count),
            _ => (now, 0),
        };
        if count >= self.policy.messages_per_second {
            seen.refused_messages += 1;
            return false;
        }
        seen.second = Some((started, count + 1));
        true
    }
}
