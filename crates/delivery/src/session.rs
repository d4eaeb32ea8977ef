//! The SMTP client session: the only code that opens outbound connections and the only I/O of
//! the protocol. Both routes drive it, so a reply means the same thing whichever route sent the
//! command; the decisions themselves are in the sans-IO modules it calls.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use zeroize::Zeroizing;

use crate::capabilities::{Capabilities, Mechanism};
use crate::command::{self, Command};
use crate::connect_error::ConnectProblem;
use crate::envelope::HeloName;
use crate::options::{Password, Timeouts};
use crate::outcome::{Cause, Failure, Stage};
use crate::reply::{Reply, parse_reply};
use crate::tls::{TlsInfo, tls_info};
use crate::transcript::Transcript;

mod transaction;

/// How much is read from the socket at a time.
const READ_CHUNK: usize = 4096;

/// How much of the message is written under one timeout, in the spirit of RFC 5321 section
/// 4.5.3.2.5, which times each TCP send rather than the whole message.
const WRITE_CHUNK: usize = 64 * 1024;

/// How long a server has to close the connection after its reply to QUIT.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// The byte stream under the session: TCP, or TLS over TCP once a handshake is done.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    async fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(stream) => stream.read(buffer).await,
            Self::Tls(stream) => stream.read(buffer).await,
        }
    }

    /// Writes and flushes: rustls holds written data until flushed.
    async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Self::Plain(stream) => {
                stream.write_all(bytes).await?;
                stream.flush().await
            }
            Self::Tls(stream) => {
                stream.write_all(bytes).await?;
                stream.flush().await
            }
        }
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(stream) => stream.shutdown().await,
            Self::Tls(stream) => stream.shutdown().await,
        }
    }
}

/// A session between transactions, kept open without a transcript so that a pool can hold it
/// until the next message for the same server.
pub(crate) struct Parked {
    stream: Stream,
    address: SocketAddr,
    buffer: Vec<u8>,
    tls: Option<TlsInfo>,
    timeouts: Timeouts,
    /// The credentials the session authenticated with, so that a server echoing them in a
    /// later transaction is still redacted.
    secrets: Vec<Zeroizing<String>>,
}

/// One SMTP connection and the transcript it writes to.
pub(crate) struct Session<'t> {
    stream: Stream,
    address: SocketAddr,
    /// Bytes read but not yet parsed into replies.
    buffer: Vec<u8>,
    /// Replies owed by the server for commands already sent (more than one when pipelining).
    unanswered: usize,
    /// Set once a read or write failed or timed out: the conversation is then out of step, so
    /// nothing more is sent, not even QUIT.
    broken: bool,
    tls: Option<TlsInfo>,
    /// The credentials in the forms they were sent, so that a server echoing them back in a
    /// reply does not put them into transcripts and failure messages.
    secrets: Vec<Zeroizing<String>>,
    timeouts: Timeouts,
    transcript: &'t mut Transcript,
}

impl<'t> Session<'t> {
    /// A session on a connection just opened with [`connect`].
    pub(crate) fn new(
        stream: TcpStream,
        address: SocketAddr,
        timeouts: Timeouts,
        transcript: &'t mut Transcript,
    ) -> Session<'t> {
        Session {
            stream: Stream::Plain(stream),
            address,
            buffer: Vec::new(),
            unanswered: 0,
            broken: false,
            tls: None,
            secrets: Vec::new(),
            timeouts,
            transcript,
        }
    }

    /// Takes a parked session up again, writing to `transcript` from now on.
    pub(crate) fn resume(parked: Parked, transcript: &'t mut Transcript) -> Session<'t> {
        Session {
            stream: parked.stream,
            address: parked.address,
            buffer: parked.buffer,
            unanswered: 0,
            broken: false,
            tls: parked.tls,
            secrets: parked.secrets,
            timeouts: parked.timeouts,
            transcript,
        }
    }

    /// Sets the session aside between transactions; `None` when it is out of step (a broken
    /// conversation, or replies still owed), which only QUIT or closing can end. A relay
    /// session keeps the credentials it authenticated with (zeroized when it ends) only to
    /// redact them.
    pub(crate) fn park(self) -> Option<Parked> {
        if self.broken || self.unanswered > 0 {
            return None;
        }
        Some(Parked {
            stream: self.stream,
            address: self.address,
            buffer: self.buffer,
            tls: self.tls,
            timeouts: self.timeouts,
            secrets: self.secrets,
        })
    }

    /// The address connected to.
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// The TLS of the connection, once there is one.
    pub(crate) fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// Records an event in the transcript.
    pub(crate) fn note(&mut self, text: impl Into<String>) {
        self.transcript.note(text);
    }

    /// Waits for the 220 greeting (RFC 5321 section 4.3.1).
    pub(crate) async fn greeting(&mut self) -> Result<(), Failure> {
        self.unanswered += 1;
        let reply = self
            .read_reply(Stage::Greeting, self.timeouts.command)
            .await?;
        expect(reply, Stage::Greeting, |code| code == 220).map(drop)
    }

    /// Sends EHLO, and HELO when EHLO is refused with 5xx as by a server that predates ESMTP
    /// (RFC 5321 section 4.1.4). A server greeted with HELO offers no extension.
    pub(crate) async fn hello(&mut self, name: &HeloName) -> Result<Capabilities, Failure> {
        let reply = self.command(Command::Ehlo(name), Stage::Ehlo).await?;
        if reply.is_positive() {
            return Ok(Capabilities::from_ehlo(&reply));
        }
        if !(500..600).contains(&reply.code) {
            return Err(Failure::new(Stage::Ehlo, Cause::Reply(reply)));
        }
        let reply = self.command(Command::Helo(name), Stage::Ehlo).await?;
        expect(reply, Stage::Ehlo, |code| code == 250)?;
        Ok(Capabilities::default())
    }

    /// Sends STARTTLS and expects 220 (RFC 3207). After a refusal the session can go on
    /// unencrypted; after a 220 the caller must call [`Session::handshake`].
    pub(crate) async fn starttls(&mut self) -> Result<(), Failure> {
        let reply = self.command(Command::StartTls, Stage::Tls).await?;
        expect(reply, Stage::Tls, |code| code == 220)?;
        // Bytes after the 220 were sent before the handshake and would be read as if they came
        // through TLS: the STARTTLS injection flaw (CVE-2011-0411 and its kind).
        if !self.buffer.is_empty() {
            self.broken = true;
            return Err(self.record(Failure::new(
                Stage::Tls,
                Cause::Protocol("the server sent data after its reply to STARTTLS".into()),
            )));
        }
        Ok(())
    }

    /// Runs the TLS handshake on the connection (implicit TLS, or after STARTTLS), with `name`
    /// for SNI and, when `verified`, for the certificate check done by `connector`.
    pub(crate) async fn handshake(
        self,
        connector: &TlsConnector,
        name: ServerName<'static>,
        verified: bool,
    ) -> Result<Session<'t>, Failure> {
        let Session {
            stream,
            address,
            timeouts,
            transcript,
            ..
        } = self;
        let Stream::Plain(tcp) = stream else {
            let failure = Failure::new(
                Stage::Tls,
                Cause::Protocol("a TLS handshake was started on a TLS connection".into()),
            );
            transcript.note(failure.to_string());
            return Err(failure);
        };
        transcript.note(format!("TLS handshake with {}", name.to_str()));
        let tls = match tokio::time::timeout(timeouts.command, connector.connect(name, tcp)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(error)) => {
                let failure = Failure::new(Stage::Tls, Cause::Tls(error.to_string()));
                transcript.note(failure.to_string());
                return Err(failure);
            }
            Err(_) => {
                let failure = Failure::new(Stage::Tls, Cause::Timeout(timeouts.command));
                transcript.note(failure.to_string());
                return Err(failure);
            }
        };
        let info = tls_info(tls.get_ref().1, verified);
        transcript.note(format!("TLS established: {info}"));
        Ok(Session {
            stream: Stream::Tls(Box::new(tls)),
            address,
            // Nothing read before the handshake belongs to the TLS session (see `starttls`).
            buffer: Vec::new(),
            unanswered: 0,
            broken: false,
            tls: Some(info),
            secrets: Vec::new(),
            timeouts,
            transcript,
        })
    }

    /// SMTP AUTH (RFC 4954) with `mechanism`. The transcript shows `***` for the credentials.
    pub(crate) async fn authenticate(
        &mut self,
        mechanism: Mechanism,
        username: &str,
        password: &Password,
    ) -> Result<(), Failure> {
        self.secrets
            .push(Zeroizing::new(password.expose().to_owned()));
        let reply = match mechanism {
            Mechanism::Plain => {
                let response = command::plain_response(username, password.expose());
                self.secrets.push(response.clone());
                self.command(Command::AuthPlain(&response), Stage::Auth)
                    .await?
            }
            Mechanism::Login => {
                let user = command::login_answer(username);
                let secret = command::login_answer(password.expose());
                self.secrets.extend([user.clone(), secret.clone()]);
                let challenge = self.command(Command::AuthLogin, Stage::Auth).await?;
                expect(challenge, Stage::Auth, |code| code == 334)?;
                let challenge = self
                    .command(Command::AuthLoginAnswer(&user), Stage::Auth)
                    .await?;
                expect(challenge, Stage::Auth, |code| code == 334)?;
                self.command(Command::AuthLoginAnswer(&secret), Stage::Auth)
                    .await?
            }
        };
        expect(reply, Stage::Auth, |code| code == 235).map(drop)
    }

    /// Ends the session: QUIT and its reply when the conversation is still in step, then the TLS
    /// close. Nothing can go wrong that matters any more, so failures here end it silently.
    pub(crate) async fn quit(mut self) {
        if self.broken {
            return;
        }
        let limit = self.timeouts.command;
        self.transcript.client(Command::Quit.transcript());
        let quit = Command::Quit.wire();
        if !matches!(
            tokio::time::timeout(limit, self.stream.write_all(quit.as_bytes())).await,
            Ok(Ok(()))
        ) {
            return;
        }
        // Replies still owed to pipelined commands, which a transaction reads itself, would
        // come before the reply to QUIT.
        self.unanswered += 1;
        while self.unanswered > 0 {
            let Ok(Ok(reply)) = tokio::time::timeout(limit, self.next_reply()).await else {
                return;
            };
            self.transcript.server(&reply);
            if reply.code == 221 {
                break;
            }
        }
        let _closed = tokio::time::timeout(limit, self.stream.shutdown()).await;
        // RFC 5321 section 4.1.1.10: after its 221 the server closes. Until it has, it still
        // counts the connection against its limit, so the connection is not given up (and a
        // new one to the same destination not opened) before the close, or a short while.
        let mut rest = [0u8; READ_CHUNK];
        let _ = tokio::time::timeout(limit.min(CLOSE_WAIT), async {
            while matches!(self.stream.read(&mut rest).await, Ok(count) if count > 0) {}
        })
        .await;
    }

    /// Sends one command and reads its reply.
    async fn command(&mut self, command: Command<'_>, stage: Stage) -> Result<Reply, Failure> {
        self.send(&[command], stage).await?;
        self.read_reply(stage, self.timeouts.command).await
    }

    /// Sends `commands` in one write, recording each.
    async fn send(&mut self, commands: &[Command<'_>], stage: Stage) -> Result<(), Failure> {
        let mut wire = Zeroizing::new(Vec::new());
        for command in commands {
            self.transcript.client(command.transcript());
            wire.extend_from_slice(command.wire().as_bytes());
        }
        self.unanswered += commands.len();
        self.write(&wire, stage).await
    }

    /// Writes `bytes` within the command timeout.
    async fn write(&mut self, bytes: &[u8], stage: Stage) -> Result<(), Failure> {
        let limit = self.timeouts.command;
        match tokio::time::timeout(limit, self.stream.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => {
                Err(self.fail(stage, Cause::Connection(ConnectProblem::from_io(&error))))
            }
            Err(_) => Err(self.fail(stage, Cause::Timeout(limit))),
        }
    }

    /// Reads the next reply, all of it within `limit`, and records it.
    async fn read_reply(&mut self, stage: Stage, limit: Duration) -> Result<Reply, Failure> {
        let cause = match tokio::time::timeout(limit, self.next_reply()).await {
            Ok(Ok(reply)) => {
                self.transcript.server(&reply);
                return Ok(reply);
            }
            Ok(Err(cause)) => cause,
            Err(_) => Cause::Timeout(limit),
        };
        Err(self.fail(stage, cause))
    }

    /// Reads until the buffer holds a complete reply and takes it out.
    async fn next_reply(&mut self) -> Result<Reply, Cause> {
        loop {
            match parse_reply(&self.buffer) {
                Ok(Some((mut reply, used))) => {
                    self.buffer.drain(..used);
                    self.unanswered = self.unanswered.saturating_sub(1);
                    reply.redact(&self.secrets);
                    return Ok(reply);
                }
                Ok(None) => {}
                Err(error) => return Err(Cause::Protocol(error.to_string())),
            }
            let mut chunk = [0u8; READ_CHUNK];
            match self.stream.read(&mut chunk).await {
                Ok(0) => {
                    return Err(Cause::Connection(ConnectProblem::Closed));
                }
                Ok(count) => self.buffer.extend_from_slice(&chunk[..count]),
                Err(error) => return Err(Cause::Connection(ConnectProblem::from_io(&error))),
            }
        }
    }

    /// Marks the session out of step and records the failure.
    fn fail(&mut self, stage: Stage, cause: Cause) -> Failure {
        self.broken = true;
        self.record(Failure::new(stage, cause))
    }

    fn record(&mut self, failure: Failure) -> Failure {
        self.transcript.note(failure.to_string());
        failure
    }
}

/// Opens a TCP connection to `address` of `host` within `limit`.
pub(crate) async fn connect(
    host: &str,
    address: SocketAddr,
    limit: Duration,
    transcript: &mut Transcript,
) -> Result<TcpStream, Failure> {
    transcript.note(format!("connecting to {host} [{address}]"));
    let problem = match tokio::time::timeout(limit, TcpStream::connect(address)).await {
        Ok(Ok(stream)) => {
            transcript.note("connected");
            return Ok(stream);
        }
        Ok(Err(error)) => ConnectProblem::from_io(&error),
        Err(_) => ConnectProblem::NoAnswer(limit),
    };
    let cause = Cause::Connect { address, problem };
    let failure = Failure::new(Stage::Connect, cause);
    transcript.note(failure.to_string());
    Err(failure)
}

/// Passes `reply` on when `accept` takes its code, and makes it the failure at `stage` otherwise.
fn expect(reply: Reply, stage: Stage, accept: impl Fn(u16) -> bool) -> Result<Reply, Failure> {
    match accept(reply.code) {
        true => Ok(reply),
        false => Err(Failure::new(stage, Cause::Reply(reply))),
    }
}
