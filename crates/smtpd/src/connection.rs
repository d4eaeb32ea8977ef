//! The I/O of one connection: reads lines, runs the session's steps, writes replies, upgrades
//! to TLS, and enforces the deadlines: one for each command line (idle time included), one for
//! each message's content and one for the TLS handshake, each for the whole phase rather than
//! per read, so that a client trickling a byte at a time is cut off like a silent one.
//!
//! Replies are collected and written when the loop is about to wait for the client, so that
//! the replies to pipelined commands (RFC 2920) go out together.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tracing::Span;

use crate::backend::SubmissionBackend;
use crate::command::auth::{AuthOutcome, Credentials, Login};
use crate::config::SmtpdConfig;
use crate::input::{InputBuffer, Line};
use crate::limiter::AuthLimiter;
use crate::message::{MessageReceiver, Received};
use crate::reply::Reply;
use crate::session::{Session, Step};

/// What every connection of one listener shares.
pub(crate) struct Shared<B> {
    pub(crate) config: Arc<SmtpdConfig>,
    pub(crate) backend: Arc<B>,
    pub(crate) limiter: AuthLimiter,
    pub(crate) acceptor: Option<TlsAcceptor>,
    pub(crate) shutdown: CancellationToken,
}

/// How a run of the command loop ended.
enum Flow {
    Closed,
    StartTls,
}

/// What the loop does after a step.
enum Next {
    Continue,
    Close,
    StartTls,
}

/// How reading message content ended.
enum DataEnd {
    Received(Received),
    Closed,
    TimedOut,
}

/// How a wait for input ended.
enum Input {
    Data,
    Closed,
    TimedOut,
}

const READ_CHUNK: usize = 16 * 1024;

/// Serves one client from the greeting to the close. Errors end the connection and are
/// logged here, so the caller has nothing to handle.
pub(crate) async fn serve_connection<B: SubmissionBackend>(
    shared: Arc<Shared<B>>,
    tcp: TcpStream,
    peer: SocketAddr,
) {
    let mut session = Session::new(Arc::clone(&shared.config), peer);
    let mut plain = Io::new(tcp, &shared.config);
    plain.queue(&session.greeting());
    match drive(&shared, &mut session, &mut plain).await {
        Ok(Flow::Closed) => plain.shutdown().await,
        Ok(Flow::StartTls) => start_tls(&shared, &mut session, plain).await,
        Err(error) => tracing::debug!(%error, "connection ended by an I/O error"),
    }
    tracing::debug!("connection closed");
}

async fn start_tls<B: SubmissionBackend>(
    shared: &Shared<B>,
    session: &mut Session,
    plain: Io<TcpStream>,
) {
    // RFC 3207 5 and CVE-2011-0411: anything the client pipelined after STARTTLS arrived in
    // the clear and could have been injected by an attacker. It stays in the plaintext buffer,
    // which is dropped here; the TLS stream starts with an empty one.
    let discarded = plain.input.pending().len();
    if discarded > 0 {
        tracing::warn!(bytes = discarded, "discarded plaintext sent after STARTTLS");
    }
    // The acceptor and the session's offer of STARTTLS both come from `config.tls`, so a
    // session only asks for TLS when there is an acceptor; without one there is nothing to do
    // but close.
    let Some(acceptor) = shared.acceptor.clone() else {
        return;
    };
    let handshake = timeout(
        shared.config.timeouts.tls_handshake,
        acceptor.accept(plain.stream),
    );
    let tls = match handshake.await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            tracing::info!(%error, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::info!("TLS handshake timed out");
            return;
        }
    };
    let (_, connection) = tls.get_ref();
    tracing::debug!(
        version = ?connection.protocol_version(),
        cipher = ?connection.negotiated_cipher_suite().map(|suite| suite.suite()),
        "TLS started"
    );
    session.tls_started();
    let mut secure = Io::new(tls, &shared.config);
    match drive(shared, session, &mut secure).await {
        // The session refuses a second STARTTLS, so ending with it is ending.
        Ok(Flow::Closed | Flow::StartTls) => secure.shutdown().await,
        Err(error) => tracing::debug!(%error, "connection ended by an I/O error"),
    }
}

/// The command loop on one stream, until the client quits, something closes the connection,
/// or the session asks for TLS.
async fn drive<B, S>(shared: &Shared<B>, session: &mut Session, io: &mut Io<S>) -> io::Result<Flow>
where
    B: SubmissionBackend,
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let max_line_length = shared.config.limits.max_line_length;
    // The deadline of the line being waited for, set when the wait for it begins and cleared
    // when it is complete.
    let mut line_deadline = None;
    loop {
        let step = match io.input.next_line(max_line_length) {
            Some(Line::Complete(line)) => {
                line_deadline = None;
                session.command(&line)
            }
            Some(Line::TooLong) => {
                line_deadline = None;
                session.line_too_long()
            }
            None => {
                io.flush().await?;
                let deadline = *line_deadline
                    .get_or_insert_with(|| Instant::now() + shared.config.timeouts.command);
                let input = tokio::select! {
                    biased;
                    () = shared.shutdown.cancelled() => None,
                    input = io.read(deadline) => Some(input?),
                };
                match input {
                    Some(Input::Data) => continue,
                    Some(Input::Closed) => return Ok(Flow::Closed),
                    Some(Input::TimedOut) => {
                        tracing::info!("command line deadline passed");
                        io.queue(&session.timeout_reply());
                        io.flush().await?;
                        return Ok(Flow::Closed);
                    }
                    None => {
                        io.queue(&session.shutdown_reply());
                        io.flush().await?;
                        return Ok(Flow::Closed);
                    }
                }
            }
        };
        match run_step(shared, session, io, step).await? {
            Next::Continue => {}
            Next::Close => {
                io.flush().await?;
                return Ok(Flow::Closed);
            }
            Next::StartTls => {
                io.flush().await?;
                return Ok(Flow::StartTls);
            }
        }
    }
}

/// Carries out a step and the steps that follow from it until one needs the client again.
async fn run_step<B, S>(
    shared: &Shared<B>,
    session: &mut Session,
    io: &mut Io<S>,
    mut step: Step,
) -> io::Result<Next>
where
    B: SubmissionBackend,
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    loop {
        step = match step {
            Step::Reply(reply) => {
                io.queue(&reply);
                return Ok(Next::Continue);
            }
            Step::Close(reply) => {
                io.queue(&reply);
                return Ok(Next::Close);
            }
            Step::StartTls(reply) => {
                io.queue(&reply);
                return Ok(Next::StartTls);
            }
            Step::Authenticate(credentials) => {
                let outcome = authenticate(shared, session.peer, credentials).await;
                let step = session.auth_finished(outcome);
                if let Some(login) = &session.login {
                    Span::current().record("tenant", login.identity.tenant.as_str());
                }
                step
            }
            Step::RecheckLogin {
                transaction,
                credentials,
            } => {
                // Not counted by the AUTH limiter: the client proved these credentials once,
                // and a refusal now means they were revoked, not guessed.
                let checked = shared
                    .backend
                    .recheck_login(&credentials.username, &credentials.password)
                    .await;
                session.login_rechecked(transaction, checked)
            }
            Step::ReceiveMessage { reply, pending } => {
                io.queue(&reply);
                io.flush().await?;
                let max_size = shared.config.limits.max_message_size;
                let deadline = Instant::now() + shared.config.timeouts.data;
                match io.receive_message(max_size, deadline).await? {
                    DataEnd::Received(received) => session.message_received(pending, received),
                    DataEnd::Closed => {
                        tracing::info!("client went away during DATA, nothing submitted");
                        return Ok(Next::Close);
                    }
                    DataEnd::TimedOut => {
                        tracing::info!("message deadline passed during DATA, nothing submitted");
                        Step::Close(session.timeout_reply())
                    }
                }
            }
            Step::Submit(submission) => {
                let size = submission.message.len();
                let recipients = submission.envelope.rcpt_to.len();
                tracing::debug!(size, recipients, "submitting");
                let result = shared
                    .backend
                    .submit(
                        submission.identity.as_ref(),
                        submission.envelope,
                        submission.message,
                    )
                    .await;
                Step::Reply(session.submit_finished(result))
            }
            Step::CheckRecipient(address) => {
                let answer = shared.backend.accept_recipient(&address).await;
                session.recipient_checked(address, answer)
            }
        }
    }
}

/// Asks the backend about credentials unless the client's address is blocked, and counts a
/// refusal against the address.
async fn authenticate<B: SubmissionBackend>(
    shared: &Shared<B>,
    peer: SocketAddr,
    credentials: Credentials,
) -> AuthOutcome {
    if shared.limiter.is_blocked(peer.ip(), Instant::now()) {
        return AuthOutcome::Blocked;
    }
    let checked = shared
        .backend
        .authenticate(&credentials.username, &credentials.password)
        .await;
    match checked {
        Ok(Some(identity)) => AuthOutcome::Granted(Login {
            identity,
            credentials,
        }),
        Ok(None) => {
            shared.limiter.record_failure(peer.ip(), Instant::now());
            AuthOutcome::Denied {
                username: credentials.username,
            }
        }
        Err(error) => AuthOutcome::Unavailable(error),
    }
}

/// A stream with its input buffer and the replies not yet written.
struct Io<S> {
    stream: S,
    input: InputBuffer,
    output: Vec<u8>,
    read_buffer: Vec<u8>,
    write_timeout: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Io<S> {
    fn new(stream: S, config: &SmtpdConfig) -> Self {
        Self {
            stream,
            input: InputBuffer::default(),
            output: Vec::new(),
            read_buffer: vec![0; READ_CHUNK],
            write_timeout: config.timeouts.command,
        }
    }

    fn queue(&mut self, reply: &Reply) {
        tracing::trace!(code = reply.code(), "reply");
        reply.write_to(&mut self.output);
    }

    /// Writes the queued replies. A client that does not read them for a whole command
    /// timeout is treated as gone.
    async fn flush(&mut self) -> io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        let write = async {
            self.stream.write_all(&self.output).await?;
            self.stream.flush().await
        };
        match timeout(self.write_timeout, write).await {
            Ok(written) => written?,
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
        }
        self.output.clear();
        Ok(())
    }

    /// Ends the stream in order. Over TLS this sends close_notify, which lets the client tell
    /// a finished session from a cut one.
    async fn shutdown(&mut self) {
        match timeout(self.write_timeout, self.stream.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::debug!(%error, "orderly close failed"),
            Err(_) => tracing::debug!("orderly close timed out"),
        }
    }

    /// Reads once into the input buffer, unless `deadline` passes first. Cancel-safe: `read`
    /// loses nothing when dropped.
    async fn read(&mut self, deadline: Instant) -> io::Result<Input> {
        match timeout_at(deadline, self.stream.read(&mut self.read_buffer)).await {
            Err(_) => Ok(Input::TimedOut),
            Ok(Ok(0)) => Ok(Input::Closed),
            Ok(Ok(count)) => {
                self.input.extend(&self.read_buffer[..count]);
                Ok(Input::Data)
            }
            Ok(Err(error)) => Err(error),
        }
    }

    /// Reads message content up to the final `.` line, starting with what is already
    /// buffered, unless `deadline` passes first; whatever follows it stays buffered for the
    /// command loop.
    async fn receive_message(&mut self, max_size: usize, deadline: Instant) -> io::Result<DataEnd> {
        let mut receiver = MessageReceiver::new(max_size);
        let buffered = self.input.pending();
        let consumed = receiver.ingest(buffered);
        let buffered_length = buffered.len();
        match consumed {
            Some(consumed) => {
                self.input.consume(consumed);
                return Ok(DataEnd::Received(receiver.finish()));
            }
            None => self.input.consume(buffered_length),
        }
        loop {
            let count = match timeout_at(deadline, self.stream.read(&mut self.read_buffer)).await {
                Err(_) => return Ok(DataEnd::TimedOut),
                Ok(Ok(0)) => return Ok(DataEnd::Closed),
                Ok(Ok(count)) => count,
                Ok(Err(error)) => return Err(error),
            };
            let chunk = &self.read_buffer[..count];
            if let Some(consumed) = receiver.ingest(chunk) {
                self.input.extend(&chunk[consumed..]);
                return Ok(DataEnd::Received(receiver.finish()));
            }
        }
    }
}
