//! A scriptable SMTP server on 127.0.0.1 that answers as a test tells it to and records what it
//! received: commands, which of them came pipelined, and the message after un-stuffing.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

/// What the server does at a point of the conversation.
#[derive(Debug, Clone)]
pub enum Action {
    /// Sends this reply (lines separated by `\r\n`, without the final CRLF).
    Reply(String),
    /// Closes the connection.
    Close,
    /// Never answers; waits until the client goes away.
    Silent,
}

pub fn reply(text: &str) -> Action {
    Action::Reply(text.to_owned())
}

/// Rule key for the reply after the end of the message.
pub const END_OF_DATA: &str = "<end of data>";
/// Rule key that acts once the first bytes of the message arrived.
pub const DURING_DATA: &str = "<during data>";

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Script {
    greeting: Action,
    capabilities: Vec<String>,
    rules: Vec<(String, Action)>,
    tls: Option<Arc<ServerConfig>>,
    implicit_tls: bool,
    credentials: Option<(String, String)>,
    drop_first: usize,
}

impl Script {
    /// Greets with 220, offers `capabilities` in EHLO and accepts everything.
    pub fn new(capabilities: &[&str]) -> Self {
        Self {
            greeting: reply("220 mx.test ESMTP scripted"),
            capabilities: capabilities.iter().map(|c| (*c).to_owned()).collect(),
            rules: Vec::new(),
            tls: None,
            implicit_tls: false,
            credentials: None,
            drop_first: 0,
        }
    }

    pub fn greeting(mut self, action: Action) -> Self {
        self.greeting = action;
        self
    }

    /// Answers a command starting with `prefix` (case-insensitive), or a special point
    /// ([`END_OF_DATA`], [`DURING_DATA`]), with `action`. The first matching rule wins.
    pub fn on(mut self, prefix: &str, action: Action) -> Self {
        self.rules.push((prefix.to_ascii_uppercase(), action));
        self
    }

    /// Serves STARTTLS (when offered) with `config`.
    pub fn tls(mut self, config: Arc<ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Speaks TLS from the first byte with `config`.
    pub fn implicit_tls(mut self, config: Arc<ServerConfig>) -> Self {
        self.tls = Some(config);
        self.implicit_tls = true;
        self
    }

    /// AUTH succeeds with these credentials only.
    pub fn credentials(mut self, username: &str, password: &str) -> Self {
        self.credentials = Some((username.to_owned(), password.to_owned()));
        self
    }

    /// Closes the first `count` connections at once, before greeting.
    pub fn drop_first(mut self, count: usize) -> Self {
        self.drop_first = count;
        self
    }

    fn rule(&self, line: &str) -> Option<&Action> {
        let line = line.to_ascii_uppercase();
        self.rules
            .iter()
            .find(|(prefix, _)| line.starts_with(prefix.as_str()))
            .map(|(_, action)| action)
    }
}

/// What one connection received.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// Command lines without CRLF, and `<TLS>` where TLS started.
    pub commands: Vec<String>,
    /// The commands that arrived before the reply to the command before them was sent.
    pub pipelined: Vec<String>,
    /// Credentials from AUTH, decoded.
    pub credentials: Option<(String, String)>,
    /// The message after un-stuffing, without the final `.` line.
    pub message: Option<Vec<u8>>,
    /// The message as it came over the wire, dot-stuffed, final `.` line included.
    pub wire: Vec<u8>,
}

type Log = Arc<Mutex<Vec<Received>>>;

/// A running server; dropping it stops it.
pub struct Server {
    port: u16,
    log: Log,
    task: JoinHandle<()>,
}

impl Server {
    pub async fn start(script: Script) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let log: Log = Arc::default();
        let shared = Arc::clone(&log);
        let task = tokio::spawn(async move {
            let mut connections = 0usize;
            while let Ok((stream, _)) = listener.accept().await {
                connections += 1;
                let index = {
                    let mut log = shared.lock().unwrap_or_else(PoisonError::into_inner);
                    log.push(Received::default());
                    log.len() - 1
                };
                if connections <= script.drop_first {
                    drop(stream);
                    continue;
                }
                let connection = Connection {
                    script: script.clone(),
                    log: Arc::clone(&shared),
                    index,
                    buffer: Vec::new(),
                };
                tokio::spawn(connection.run(stream));
            }
        });
        Server { port, log, task }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What each connection received so far, in the order they came.
    pub fn received(&self) -> Vec<Received> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where a conversation goes after a command.
enum Next {
    Continue,
    StartTls,
    Stop,
}

struct Connection {
    script: Script,
    log: Log,
    index: usize,
    buffer: Vec<u8>,
}

impl Connection {
    async fn run(mut self, stream: TcpStream) {
        let acceptor = self.script.tls.clone().map(TlsAcceptor::from);
        // Errors are the client going away mid-conversation, which several tests are about.
        let _ended = match (acceptor, self.script.implicit_tls) {
            (Some(acceptor), true) => self.tls_from_start(stream, acceptor).await,
            (acceptor, _) => self.plain_then_tls(stream, acceptor).await,
        };
    }

    async fn tls_from_start(&mut self, stream: TcpStream, acceptor: TlsAcceptor) -> io::Result<()> {
        let mut tls = acceptor.accept(stream).await?;
        self.record(|received| received.commands.push("<TLS>".into()));
        self.greet(&mut tls).await?;
        self.converse(&mut tls, true).await.map(drop)
    }

    async fn plain_then_tls(
        &mut self,
        mut stream: TcpStream,
        acceptor: Option<TlsAcceptor>,
    ) -> io::Result<()> {
        if let Next::Stop = self.greet(&mut stream).await? {
            return Ok(());
        }
        let Next::StartTls = self.converse(&mut stream, false).await? else {
            return Ok(());
        };
        let Some(acceptor) = acceptor else {
            // No certificate: answer the client's hello with something that is not TLS.
            let mut hello = [0u8; 512];
            let _hello = stream.read(&mut hello).await?;
            stream.write_all(b"this is not TLS\r\n").await?;
            return Ok(());
        };
        let mut tls = acceptor.accept(stream).await?;
        self.record(|received| received.commands.push("<TLS>".into()));
        self.converse(&mut tls, true).await.map(drop)
    }

    async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        secured: bool,
    ) -> io::Result<Next> {
        // Bytes already buffered when the last reply went out were sent without waiting for it.
        let mut ahead = 0usize;
        loop {
            let Some((line, was_ahead)) = self.line(stream, ahead).await? else {
                return Ok(Next::Stop);
            };
            self.record(|received| {
                received.commands.push(line.clone());
                if was_ahead {
                    received.pipelined.push(line.clone());
                }
            });
            if ["MAIL", "RSET"]
                .iter()
                .any(|verb| line.to_ascii_uppercase().starts_with(verb))
            {
                // Give a pipelining client the moment it needs to have sent what follows.
                self.fill(stream, Duration::from_millis(50)).await?;
            }
            let next = self.answer(stream, &line, secured).await?;
            ahead = self.buffer.len();
            match next {
                Next::Continue => {}
                other => return Ok(other),
            }
        }
    }

    async fn greet<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
    ) -> io::Result<Next> {
        act(stream, self.script.greeting.clone()).await
    }

    async fn answer<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        line: &str,
        secured: bool,
    ) -> io::Result<Next> {
        let verb = line
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        if verb == "DATA" {
            return self.data(stream).await;
        }
        if let Some(action) = self.script.rule(line).cloned() {
            return act(stream, action).await;
        }
        match verb.as_str() {
            "EHLO" => {
                let mut lines = vec!["mx.test greets you".to_owned()];
                lines.extend(
                    self.script
                        .capabilities
                        .iter()
                        .filter(|capability| !(secured && *capability == "STARTTLS"))
                        .cloned(),
                );
                let last = lines.len() - 1;
                let text: Vec<String> = lines
                    .iter()
                    .enumerate()
                    .map(|(index, line)| {
                        let separator = if index == last { ' ' } else { '-' };
                        format!("250{separator}{line}")
                    })
                    .collect();
                send(stream, &text.join("\r\n")).await?;
            }
            "HELO" => send(stream, "250 mx.test").await?,
            "STARTTLS" => {
                send(stream, "220 2.0.0 ready to start TLS").await?;
                return Ok(Next::StartTls);
            }
            "AUTH" => self.auth(stream, line).await?,
            "QUIT" => {
                send(stream, "221 2.0.0 bye").await?;
                return Ok(Next::Stop);
            }
            "MAIL" | "RCPT" | "RSET" | "NOOP" => send(stream, "250 2.0.0 ok").await?,
            _ => send(stream, "500 5.5.2 unknown command").await?,
        }
        Ok(Next::Continue)
    }

    /// AUTH PLAIN (with or without initial response) and AUTH LOGIN.
    async fn auth<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        line: &str,
    ) -> io::Result<()> {
        let words: Vec<&str> = line.split(' ').collect();
        let mechanism = words.get(1).map(|word| word.to_ascii_uppercase());
        let credentials = match (mechanism.as_deref(), words.get(2)) {
            (Some("PLAIN"), initial) => {
                let response = match initial {
                    Some(response) => (*response).to_owned(),
                    None => self.prompt(stream, "334 ").await?,
                };
                let decoded = decode(&response);
                let mut parts = decoded.split('\0').skip(1);
                let username = parts.next().unwrap_or_default().to_owned();
                let password = parts.next().unwrap_or_default().to_owned();
                (username, password)
            }
            (Some("LOGIN"), _) => {
                let username = decode(&self.prompt(stream, "334 VXNlcm5hbWU6").await?);
                let password = decode(&self.prompt(stream, "334 UGFzc3dvcmQ6").await?);
                (username, password)
            }
            _ => return send(stream, "504 5.5.4 unrecognised mechanism").await,
        };
        let accepted = self.script.credentials.as_ref() == Some(&credentials);
        self.record(|received| received.credentials = Some(credentials));
        match accepted {
            true => send(stream, "235 2.7.0 authentication successful").await,
            false => send(stream, "535 5.7.8 authentication credentials invalid").await,
        }
    }

    async fn prompt<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        challenge: &str,
    ) -> io::Result<String> {
        send(stream, challenge).await?;
        let line = self.line(stream, 0).await?.map(|(line, _)| line);
        let line = line.ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        self.record(|received| received.commands.push(line.clone()));
        Ok(line)
    }

    /// DATA: the 354 (or the scripted refusal), the message up to the `.` line, un-stuffed, then
    /// the reply to its end.
    async fn data<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
    ) -> io::Result<Next> {
        let go_ahead = self
            .script
            .rule("DATA")
            .cloned()
            .unwrap_or_else(|| reply("354 end data with <CR><LF>.<CR><LF>"));
        match go_ahead {
            Action::Reply(text) if text.starts_with("354") => send(stream, &text).await?,
            other => return act(stream, other).await,
        }
        let mut message = Vec::new();
        let mut first = true;
        loop {
            let Some(raw) = self.raw_line(stream).await? else {
                return Ok(Next::Stop);
            };
            if first {
                first = false;
                if let Some(action) = self.script.rule(DURING_DATA).cloned() {
                    self.record(|received| received.wire.extend_from_slice(&raw));
                    return act(stream, action).await;
                }
            }
            self.record(|received| received.wire.extend_from_slice(&raw));
            if raw == b".\r\n" {
                break;
            }
            let unstuffed = raw.strip_prefix(b".").unwrap_or(&raw);
            message.extend_from_slice(unstuffed);
        }
        self.record(|received| received.message = Some(message));
        let end = self
            .script
            .rule(END_OF_DATA)
            .cloned()
            .unwrap_or_else(|| reply("250 2.0.0 queued as 4711"));
        act(stream, end).await
    }

    /// The next command line without CRLF, and whether it was already buffered `ahead` of the
    /// last reply. `None` when the client closed the connection.
    async fn line<S: AsyncRead + Unpin>(
        &mut self,
        stream: &mut S,
        ahead: usize,
    ) -> io::Result<Option<(String, bool)>> {
        let Some(raw) = self.raw_line(stream).await? else {
            return Ok(None);
        };
        let was_ahead = ahead >= raw.len();
        let text = String::from_utf8_lossy(&raw).trim_end().to_owned();
        Ok(Some((text, was_ahead)))
    }

    /// The next line with its line end.
    async fn raw_line<S: AsyncRead + Unpin>(
        &mut self,
        stream: &mut S,
    ) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&byte| byte == b'\n') {
                return Ok(Some(self.buffer.drain(..=end).collect()));
            }
            let mut chunk = [0u8; 4096];
            let count = stream.read(&mut chunk).await?;
            if count == 0 {
                return Ok(None);
            }
            self.buffer.extend_from_slice(&chunk[..count]);
        }
    }

    /// Reads whatever arrives within `wait`.
    async fn fill<S: AsyncRead + Unpin>(
        &mut self,
        stream: &mut S,
        wait: Duration,
    ) -> io::Result<()> {
        let mut chunk = [0u8; 4096];
        if let Ok(count) = tokio::time::timeout(wait, stream.read(&mut chunk)).await {
            self.buffer.extend_from_slice(&chunk[..count?]);
        }
        Ok(())
    }

    fn record(&self, change: impl FnOnce(&mut Received)) {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut log[self.index]);
    }
}

async fn act<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    action: Action,
) -> io::Result<Next> {
    match action {
        Action::Reply(text) => {
            send(stream, &text).await?;
            Ok(match text.starts_with("221") || text.starts_with("421") {
                true => Next::Stop,
                false => Next::Continue,
            })
        }
        Action::Close => Ok(Next::Stop),
        Action::Silent => silent(stream).await,
    }
}

/// Reads and ignores everything until the client closes the connection.
async fn silent<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Next> {
    let mut chunk = [0u8; 4096];
    while stream.read(&mut chunk).await? > 0 {}
    Ok(Next::Stop)
}

async fn send<S: AsyncWrite + Unpin>(stream: &mut S, text: &str) -> io::Result<()> {
    stream.write_all(format!("{text}\r\n").as_bytes()).await?;
    stream.flush().await
}

fn decode(text: &str) -> String {
    let bytes = BASE64.decode(text.trim()).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}
