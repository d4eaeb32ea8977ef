//! Delivery through a tenant's own mail server (SPEC S1.2) and its "Test connection" (SPEC S1.3):
//! validated TLS, SMTP AUTH, and failures reported precisely because the caller does not retry.

use std::net::{IpAddr, SocketAddr};

use sealpost_dns::{LookupError, Resolver};
use sealpost_domain::TlsMode;
use tokio::net::TcpStream;

use crate::capabilities::Capabilities;
use crate::data;
use crate::envelope::Envelope;
use crate::options::{RelayConfig, RelayOptions};
use crate::outcome::{Cause, DeliveryReport, Failure, RecipientOutcome, Stage, all_failed};
use crate::pool::SessionPool;
use crate::session::{Session, connect};
use crate::tls::{self, TlsInfo};
use crate::traffic::Traffic;
use crate::transcript::{Transcript, TranscriptLine};

/// The result of "Test connection": connect, TLS, EHLO, AUTH, QUIT, no mail sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionTest {
    /// The TLS of the connection, also when a later step failed; `None` when it stayed
    /// unencrypted or the handshake failed.
    pub tls: Option<TlsInfo>,
    /// What was said, with the credentials replaced by `***`.
    pub transcript: Vec<TranscriptLine>,
    /// What failed; `None` when the relay accepted the credentials.
    pub failure: Option<Failure>,
}

impl ConnectionTest {
    /// Whether the relay accepted the credentials over the connection the settings ask for.
    pub fn success(&self) -> bool {
        self.failure.is_none()
    }
}

/// Delivers `message` through `relay`, authenticating with its credentials.
///
/// The relay's certificate is validated against `options.trusted_roots` whenever TLS is used.
/// The password never travels unencrypted unless the relay's TLS mode is
/// [`TlsMode::None`]. A failure before RCPT TO fails every recipient; after it, recipients have
/// their own outcomes as with native delivery. The relay is tried once; retrying is the caller's
/// decision, and SPEC S1.2 says not to.
pub async fn deliver_relay(
    resolver: &Resolver,
    relay: &RelayConfig,
    envelope: &Envelope,
    message: &[u8],
    options: &RelayOptions,
) -> DeliveryReport {
    let unshared = Traffic::unshaped();
    deliver_relay_reusing(resolver, relay, envelope, message, options, &unshared).await
}

/// [`deliver_relay`], reusing an open session to the same relay with the same settings and
/// credentials from `traffic`'s pool (RSET, then the transaction) and leaving the session open
/// afterwards for the next message. A pooled session that no longer answers RSET is replaced by
/// a new connection before the message is sent, so reuse never sends a message twice.
pub async fn deliver_relay_reusing(
    resolver: &Resolver,
    relay: &RelayConfig,
    envelope: &Envelope,
    message: &[u8],
    options: &RelayOptions,
    traffic: &Traffic,
) -> DeliveryReport {
    let mut transcript = Transcript::default();
    let recipients = envelope.recipients();
    let report = |address, tls, outcomes, transcript: Transcript| DeliveryReport {
        host: Some(relay.host.clone()),
        address,
        tls,
        outcomes,
        transcript: transcript.into_lines(),
    };
    if let Err(error) = data::check_line_endings(message) {
        let failure = Failure::new(Stage::Data, Cause::InvalidMessage(error));
        transcript.note(failure.to_string());
        return report(None, None, all_failed(recipients, &failure), transcript);
    }
    let key = pool_key(relay);
    let pool = traffic.pool();
    let (session, capabilities, carried, sent) =
        match send_reusing(pool, &key, envelope, message, &mut transcript).await {
            Some(reused) => reused,
            None => match open(resolver, relay, options, &mut transcript).await {
                Ok((mut session, capabilities)) => {
                    let sent = session.send_mail(&capabilities, envelope, message).await;
                    (session, capabilities, 0, sent)
                }
                Err(abandoned) => {
                    let outcomes = all_failed(recipients, &abandoned.failure);
                    return report(abandoned.address, abandoned.tls, outcomes, transcript);
                }
            },
        };
    let address = Some(session.address());
    let tls = session.tls().cloned();
    let outcomes = match sent {
        Ok(outcomes) => {
            pool.checkin(&key, session, capabilities, carried + 1, u32::MAX)
                .await;
            outcomes
        }
        Err(failure) => {
            session.quit().await;
            all_failed(recipients, &failure)
        }
    };
    report(address, tls, outcomes, transcript)
}

/// Which pooled sessions may carry a message for `relay`: the same server and the same
/// settings and credentials (the password only as a digest), so a changed setting never rides
/// on a session opened under the old one.
fn pool_key(relay: &RelayConfig) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        relay.password.expose().as_bytes(),
    );
    let fingerprint: String = digest.as_ref()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!(
        "relay {}:{} {} {} {:?} {fingerprint}",
        relay.host, relay.port, relay.username, relay.implicit_tls, relay.tls_mode
    )
}

/// The transaction on an open session to the relay from the pool that still answers RSET, with
/// the session and what it carried before; `None` when there is no such session.
async fn send_reusing<'t>(
    pool: &SessionPool,
    key: &str,
    envelope: &Envelope,
    message: &[u8],
    transcript: &'t mut Transcript,
) -> Option<(
    Session<'t>,
    Capabilities,
    u32,
    Result<Vec<RecipientOutcome>, Failure>,
)> {
    let idle = pool.checkout_any(key).await?;
    let carried = idle.transactions;
    let capabilities = idle.capabilities;
    let mut session = Session::resume(idle.parked, transcript);
    session.note(format!(
        "reusing the open connection to the relay for message {}",
        carried + 1
    ));
    match session
        .reset_and_send_mail(&capabilities, envelope, message)
        .await
    {
        Ok(sent) => Some((session, capabilities, carried, sent)),
        Err(_) => {
            session.note("the open connection no longer answers; opening a new one");
            session.quit().await;
            None
        }
    }
}

/// Connects to `relay`, secures the connection as configured, authenticates and says QUIT,
/// recording everything for the person who clicked "Test connection".
pub async fn test_relay_connection(
    resolver: &Resolver,
    relay: &RelayConfig,
    options: &RelayOptions,
) -> ConnectionTest {
    let mut transcript = Transcript::default();
    let (tls, failure) = match open(resolver, relay, options, &mut transcript).await {
        Ok((session, _)) => {
            let tls = session.tls().cloned();
            session.quit().await;
            (tls, None)
        }
        Err(abandoned) => (abandoned.tls, Some(abandoned.failure)),
    };
    ConnectionTest {
        tls,
        transcript: transcript.into_lines(),
        failure,
    }
}

/// The value of a step, or, when it failed, the end of the session and the failure with the
/// address.
macro_rules! or_quit {
    ($session:ident, $step:expr) => {
        match $step {
            Ok(value) => value,
            Err(failure) => return Err(abandon($session, failure).await),
        }
    };
}

/// Why a session with the relay could not be opened, and how far it got.
struct Abandoned {
    failure: Failure,
    address: Option<SocketAddr>,
    tls: Option<TlsInfo>,
}

impl Abandoned {
    /// A failure before a connection was made.
    fn unconnected(failure: Failure) -> Self {
        Self {
            failure,
            address: None,
            tls: None,
        }
    }
}

/// Ends the session politely after `failure` and tells how far it got.
async fn abandon(session: Session<'_>, failure: Failure) -> Abandoned {
    let address = Some(session.address());
    let tls = session.tls().cloned();
    session.quit().await;
    Abandoned {
        failure,
        address,
        tls,
    }
}

/// A session with the relay that is ready for a transaction: connected, secured as configured,
/// greeted and authenticated. On failure, the address connected to if any.
async fn open<'t>(
    resolver: &Resolver,
    relay: &RelayConfig,
    options: &RelayOptions,
    transcript: &'t mut Transcript,
) -> Result<(Session<'t>, Capabilities), Abandoned> {
    let addresses = relay_addresses(resolver, &relay.host, transcript)
        .await
        .map_err(Abandoned::unconnected)?;
    let (stream, address) = connect_first(&relay.host, &addresses, relay.port, options, transcript)
        .await
        .map_err(Abandoned::unconnected)?;
    let mut session = Session::new(stream, address, options.timeouts, transcript);
    if relay.implicit_tls {
        session = secure(session, relay, options).await?;
    }
    or_quit!(session, session.greeting().await);
    let mut capabilities = or_quit!(session, session.hello(&options.helo_name).await);
    let start_tls = match (relay.implicit_tls, relay.tls_mode) {
        (true, _) | (false, TlsMode::None) => false,
        (false, TlsMode::Opportunistic) => capabilities.starttls,
        (false, TlsMode::Required) => {
            if !capabilities.starttls {
                let failure = Failure::new(Stage::Tls, Cause::TlsNotOffered);
                session.note(failure.to_string());
                return Err(abandon(session, failure).await);
            }
            true
        }
    };
    if start_tls {
        or_quit!(session, session.starttls().await);
        session = secure(session, relay, options).await?;
        capabilities = or_quit!(session, session.hello(&options.helo_name).await);
    }

    if session.tls().is_none() && relay.tls_mode != TlsMode::None {
        let failure = Failure::new(Stage::Tls, Cause::CleartextAuthRefused);
        session.note(failure.to_string());
        return Err(abandon(session, failure).await);
    }
    let Some(mechanism) = capabilities.auth_mechanism() else {
        let offered = capabilities.auth.clone();
        let failure = Failure::new(Stage::Auth, Cause::AuthNotOffered { offered });
        session.note(failure.to_string());
        return Err(abandon(session, failure).await);
    };
    or_quit!(
        session,
        session
            .authenticate(mechanism, &relay.username, &relay.password)
            .await
    );
    session.note("authenticated");
    Ok((session, capabilities))
}

/// The TLS handshake with the relay, its certificate checked against the trusted roots and the
/// relay's host name (or IP address).
async fn secure<'t>(
    mut session: Session<'t>,
    relay: &RelayConfig,
    options: &RelayOptions,
) -> Result<Session<'t>, Abandoned> {
    let address = session.address();
    let prepared = tls::verifying_connector(&options.trusted_roots)
        .map_err(|error| error.to_string())
        .and_then(|connector| Ok((connector, tls::server_name(&relay.host)?)));
    let (connector, name) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            let failure = Failure::new(Stage::Tls, Cause::Tls(error));
            session.note(failure.to_string());
            return Err(abandon(session, failure).await);
        }
    };
    // A failed handshake leaves no session to end.
    session
        .handshake(&connector, name, true)
        .await
        .map_err(|failure| Abandoned {
            failure,
            address: Some(address),
            tls: None,
        })
}

/// The relay's addresses: the host itself when it is an IP address, else its A and AAAA records
/// through Sealpost's resolver, so that the configured name server applies here too.
async fn relay_addresses(
    resolver: &Resolver,
    host: &str,
    transcript: &mut Transcript,
) -> Result<Vec<IpAddr>, Failure> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let cause = match resolver.ip(host).await {
        Ok(addresses) => return Ok(addresses),
        Err(LookupError::NxDomain) => Cause::NoSuchDomain,
        Err(LookupError::NoData) => Cause::NoAddress,
        Err(LookupError::Temporary(error)) => {
            Cause::DnsTemporary(format!("address lookup of {host}: {error}"))
        }
    };
    let failure = Failure::new(Stage::Dns, cause);
    transcript.note(format!("{host}: {failure}"));
    Err(failure)
}

/// A connection to the first address that takes one.
async fn connect_first(
    host: &str,
    addresses: &[IpAddr],
    port: u16,
    options: &RelayOptions,
    transcript: &mut Transcript,
) -> Result<(TcpStream, SocketAddr), Failure> {
    let mut last = Failure::new(Stage::Dns, Cause::NoAddress);
    for ip in addresses {
        let address = SocketAddr::new(*ip, port);
        match connect(host, address, options.timeouts.connect, transcript).await {
            Ok(stream) => return Ok((stream, address)),
            Err(failure) => last = failure,
        }
    }
    Err(last)
}
