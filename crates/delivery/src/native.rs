//! Native delivery (SPEC S1.1): straight to the recipient domain's MX hosts, trying them in order
//! until one takes the transaction, with opportunistic STARTTLS.

use std::net::{IpAddr, SocketAddr};

use sealpost_dns::{LookupError, Resolver};
use tokio_rustls::rustls::pki_types::ServerName;

use crate::capabilities::Capabilities;
use crate::data;
use crate::envelope::Envelope;
use crate::mx::{Exchanges, order_exchanges, random_key};
use crate::options::NativeOptions;
use crate::outcome::{
    Cause, DeliveryReport, Failure, FailureKind, RecipientOutcome, Stage, all_failed,
};
use crate::session::{Session, connect};
use crate::tls::{self, TlsInfo};
use crate::traffic::{Admission, Traffic};
use crate::transcript::Transcript;

/// A host to try and, for an implicit MX, its addresses already looked up.
struct MailHost {
    name: String,
    addresses: Option<Vec<IpAddr>>,
}

/// How one connection ended.
enum Attempt {
    /// The server's answers decide the outcome of every recipient.
    Decided {
        outcomes: Vec<RecipientOutcome>,
        tls: Option<TlsInfo>,
    },
    /// The server could not take the transaction; the next address may.
    Next(Failure),
    /// The TLS handshake failed, which leaves the connection unusable; the same server may
    /// still take the message without TLS.
    TlsFailed(Failure),
}

/// Whether to start TLS when the server offers it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum UseTls {
    WhenOffered,
    Never,
}

/// A failure that made delivery move on, and where it happened.
struct PassedOver {
    host: Option<String>,
    address: Option<SocketAddr>,
    failure: Failure,
}

/// Delivers `message` to the recipients of `envelope`, all at `domain`, through its MX hosts.
///
/// Hosts are tried by MX preference (equal preferences in random order); without MX records, the
/// domain's own addresses (implicit MX). Each address of a host is tried in turn, and a server
/// that cannot take the transaction (no connection, timeout, a 4xx before RCPT TO, a 5xx
/// greeting, a failed TLS handshake after a plaintext retry) passes delivery to the next one.
/// The first server that answers RCPT TO decides every outcome. When every server was passed
/// over, recipients fail temporarily if any server failed temporarily, since another attempt may
/// reach it, and permanently otherwise.
///
/// `domain` is the recipients' domain in ASCII (A-labels for an internationalised name).
/// `message` must have CRLF line endings only; it goes out unchanged apart from dot-stuffing.
pub async fn deliver_native(
    resolver: &Resolver,
    domain: &str,
    envelope: &Envelope,
    message: &[u8],
    options: &NativeOptions,
) -> DeliveryReport {
    deliver_native_shaped(
        resolver,
        domain,
        envelope,
        message,
        options,
        &Traffic::unshaped(),
    )
    .await
}

/// [`deliver_native`] within the limits of each host's destination in `traffic`: it waits
/// briefly for a free connection of the destination and is deferred when the destination is
/// throttled or stays busy; it reuses an idle session to the chosen server when there is one,
/// and leaves the session open afterwards for the next message. A throttling answer backs the
/// whole destination off.
pub async fn deliver_native_shaped(
    resolver: &Resolver,
    domain: &str,
    envelope: &Envelope,
    message: &[u8],
    options: &NativeOptions,
    traffic: &Traffic,
) -> DeliveryReport {
    let mut transcript = Transcript::default();
    let recipients = envelope.recipients();
    let fail_all = |failure: PassedOver, transcript: Transcript| DeliveryReport {
        host: failure.host,
        address: failure.address,
        tls: None,
        outcomes: all_failed(recipients, &failure.failure),
        transcript: transcript.into_lines(),
    };
    let before_connecting = |failure: Failure| PassedOver {
        host: None,
        address: None,
        failure,
    };

    if let Err(error) = data::check_line_endings(message) {
        let failure = Failure::new(Stage::Data, Cause::InvalidMessage(error));
        transcript.note(failure.to_string());
        return fail_all(before_connecting(failure), transcript);
    }
    let hosts = match mail_hosts(resolver, domain, &mut transcript).await {
        Ok(hosts) => hosts,
        Err(failure) => {
            transcript.note(failure.to_string());
            return fail_all(before_connecting(failure), transcript);
        }
    };

    let mut passed_over: Vec<PassedOver> = Vec::new();
    // At least one address is tried, whatever the option says.
    let limit = options.max_addresses.max(1);
    let mut budget = limit;
    let mut deferred = Vec::new();
    'hosts: for host in hosts {
        // One deferral per destination: its other hosts share its limits and its pause.
        let destination = traffic.destination(&host.name);
        if deferred.contains(&destination) {
            continue;
        }
        let admission = match traffic.admit(&host.name, domain).await {
            Ok(admission) => admission,
            Err(deferral) => {
                let failure = Failure::new(Stage::Connect, Cause::Deferred(deferral));
                transcript.note(failure.to_string());
                passed_over.push(PassedOver {
                    host: Some(host.name),
                    address: None,
                    failure,
                });
                deferred.push(destination);
                continue;
            }
        };
        let addresses = match host.addresses {
            Some(addresses) => addresses,
            None => match host_addresses(resolver, &host.name, &mut transcript).await {
                Ok(addresses) => addresses,
                Err(failure) => {
                    passed_over.push(PassedOver {
                        host: Some(host.name),
                        address: None,
                        failure,
                    });
                    continue;
                }
            },
        };
        for ip in addresses {
            if budget == 0 {
                transcript.note(format!(
                    "{limit} addresses tried, the most one attempt may try"
                ));
                break 'hosts;
            }
            budget -= 1;
            let address = SocketAddr::new(ip, options.port);
            let attempt = attempt_server(
                &host.name,
                address,
                Transaction { envelope, message },
                options,
                (traffic, &admission),
                &mut transcript,
            )
            .await;
            match attempt {
                Attempt::Decided { outcomes, tls } => {
                    return DeliveryReport {
                        host: Some(host.name),
                        address: Some(address),
                        tls,
                        outcomes,
                        transcript: transcript.into_lines(),
                    };
                }
                Attempt::Next(failure) | Attempt::TlsFailed(failure) => {
                    transcript.note(format!("passing over {} [{address}]", host.name));
                    passed_over.push(PassedOver {
                        host: Some(host.name.clone()),
                        address: Some(address),
                        failure,
                    });
                }
            }
        }
    }

    let decisive = choose_failure(passed_over)
        .unwrap_or_else(|| before_connecting(Failure::new(Stage::Dns, Cause::NoMailHost)));
    fail_all(decisive, transcript)
}

/// Of the failures met, the one that decides: the last temporary one, because a later attempt
/// may succeed where it happened; else the last one.
fn choose_failure(mut passed_over: Vec<PassedOver>) -> Option<PassedOver> {
    let last_temporary = passed_over
        .iter()
        .rposition(|passed| passed.failure.kind() == FailureKind::Temporary);
    match last_temporary {
        Some(index) => Some(passed_over.swap_remove(index)),
        None => passed_over.pop(),
    }
}

/// The hosts to try for `domain`: its MX hosts in order, or the domain itself with its addresses
/// when it has no MX records (RFC 5321 section 5.1).
async fn mail_hosts(
    resolver: &Resolver,
    domain: &str,
    transcript: &mut Transcript,
) -> Result<Vec<MailHost>, Failure> {
    let dns = |cause| Failure::new(Stage::Dns, cause);
    match resolver.mx(domain).await {
        Ok(records) => {
            let listed: Vec<String> = records
                .iter()
                .map(|(preference, exchange)| format!("{preference} {exchange}"))
                .collect();
            transcript.note(format!("MX of {domain}: {}", listed.join(", ")));
            match order_exchanges(records, random_key) {
                Exchanges::NullMx => Err(dns(Cause::NullMx)),
                Exchanges::Hosts(names) => Ok(names
                    .into_iter()
                    .map(|name| MailHost {
                        name,
                        addresses: None,
                    })
                    .collect()),
            }
        }
        Err(LookupError::NxDomain) => Err(dns(Cause::NoSuchDomain)),
        Err(LookupError::Temporary(error)) => Err(dns(Cause::DnsTemporary(format!(
            "MX lookup of {domain}: {error}"
        )))),
        Err(LookupError::NoData) => {
            transcript.note(format!(
                "{domain} has no MX records; its own addresses receive its mail (implicit MX)"
            ));
            match host_addresses(resolver, domain, transcript).await {
                Ok(addresses) => Ok(vec![MailHost {
                    name: domain.to_owned(),
                    addresses: Some(addresses),
                }]),
                Err(failure) if failure.cause == Cause::NoAddress => Err(dns(Cause::NoMailHost)),
                Err(failure) => Err(failure),
            }
        }
    }
}

/// The addresses of a mail host, IPv4 first.
async fn host_addresses(
    resolver: &Resolver,
    host: &str,
    transcript: &mut Transcript,
) -> Result<Vec<IpAddr>, Failure> {
    let cause = match resolver.ip(host).await {
        Ok(addresses) => {
            let listed: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
            transcript.note(format!("{host} has address {}", listed.join(", ")));
            return Ok(addresses);
        }
        Err(LookupError::NxDomain | LookupError::NoData) => Cause::NoAddress,
        Err(LookupError::Temporary(error)) => {
            Cause::DnsTemporary(format!("address lookup of {host}: {error}"))
        }
    };
    let failure = Failure::new(Stage::Dns, cause);
    transcript.note(format!("{host}: {failure}"));
    Err(failure)
}

/// This node's traffic, and the connection it admitted for the attempt.
type Shaped<'a> = (&'a Traffic, &'a Admission);

/// Tells the destination how its receiver answered: a throttling reply backs it off, a
/// transaction taken helps it recover.
fn shape(traffic: &Traffic, admission: &Admission, attempt: &Attempt) {
    let throttle = match attempt {
        Attempt::Decided { outcomes, .. } => outcomes
            .iter()
            .filter_map(RecipientOutcome::failure)
            .find(|failure| failure.cause.is_throttle()),
        Attempt::Next(failure) | Attempt::TlsFailed(failure) => {
            Some(failure).filter(|failure| failure.cause.is_throttle())
        }
    };
    match (throttle, attempt) {
        (Some(failure), _) => traffic.throttled(admission, failure.cause.to_string()),
        (None, Attempt::Decided { .. }) => traffic.delivered(admission),
        (None, _) => {}
    }
}

/// What is to be sent: the envelope and the message.
#[derive(Clone, Copy)]
struct Transaction<'a> {
    envelope: &'a Envelope,
    message: &'a [u8],
}

/// One server: with TLS when it offers it, and once more without TLS when the handshake failed
/// (opportunistic TLS). The destination learns how its receiver answered.
async fn attempt_server(
    host: &str,
    address: SocketAddr,
    transaction: Transaction<'_>,
    options: &NativeOptions,
    shaped: Shaped<'_>,
    transcript: &mut Transcript,
) -> Attempt {
    let mut attempt = try_address(
        host,
        address,
        UseTls::WhenOffered,
        transaction,
        options,
        shaped,
        transcript,
    )
    .await;
    if let Attempt::TlsFailed(_) = attempt {
        transcript.note("retrying the same server without TLS (opportunistic TLS)");
        attempt = try_address(
            host,
            address,
            UseTls::Never,
            transaction,
            options,
            shaped,
            transcript,
        )
        .await;
    }
    shape(shaped.0, shaped.1, &attempt);
    attempt
}

/// One connection to one address of `host`: an idle one of the pool, or a new one.
async fn try_address(
    host: &str,
    address: SocketAddr,
    use_tls: UseTls,
    transaction: Transaction<'_>,
    options: &NativeOptions,
    shaped: Shaped<'_>,
    transcript: &mut Transcript,
) -> Attempt {
    // Only the first, TLS-when-offered attempt reuses: a plaintext retry follows a TLS failure
    // on a connection of its own.
    if use_tls == UseTls::WhenOffered
        && let Some(attempt) = try_idle(host, address, transaction, shaped, transcript).await
    {
        return attempt;
    }
    shaped.0.make_room(shaped.1).await;
    let stream = match connect(host, address, options.timeouts.connect, transcript).await {
        Ok(stream) => stream,
        Err(failure) => return Attempt::Next(failure),
    };
    let mut session = Session::new(stream, address, options.timeouts, transcript);
    // A 5xx greeting says this server gives no service, which says nothing of the other MX hosts.
    if let Err(failure) = session.greeting().await {
        session.quit().await;
        return Attempt::Next(failure);
    }
    let envelope = transaction.envelope;
    let mut capabilities = match session.hello(&options.helo_name).await {
        Ok(capabilities) => capabilities,
        Err(failure) => return give_up_or_next(session, failure, envelope).await,
    };
    if capabilities.starttls && use_tls == UseTls::WhenOffered {
        match session.starttls().await {
            Ok(()) => {
                let connector = match tls::opportunistic_connector() {
                    Ok(connector) => connector,
                    Err(error) => {
                        let failure = Failure::new(Stage::Tls, Cause::Tls(error.to_string()));
                        return Attempt::TlsFailed(failure);
                    }
                };
                let name = tls::server_name(host)
                    .unwrap_or_else(|_| ServerName::IpAddress(address.ip().into()));
                session = match session.handshake(&connector, name, false).await {
                    Ok(session) => session,
                    Err(failure) => return Attempt::TlsFailed(failure),
                };
                // RFC 3207 section 4.2: what the server said before TLS is forgotten.
                capabilities = match session.hello(&options.helo_name).await {
                    Ok(capabilities) => capabilities,
                    Err(failure) => return give_up_or_next(session, failure, envelope).await,
                };
            }
            // A refused STARTTLS leaves the session usable without TLS (RFC 3207 section 4).
            Err(failure) if failure.reply().is_some() => {
                session.note("STARTTLS refused; going on without TLS");
            }
            Err(failure) => return Attempt::Next(failure),
        }
    }
    transact(host, session, capabilities, transaction, shaped).await
}

/// The transaction on an idle session to this server, if there is one that still answers RSET;
/// `None` sends the caller to open a new connection.
async fn try_idle(
    host: &str,
    address: SocketAddr,
    transaction: Transaction<'_>,
    shaped: Shaped<'_>,
    transcript: &mut Transcript,
) -> Option<Attempt> {
    let idle = shaped.0.pool().checkout(host, address).await?;
    let transactions = idle.transactions;
    let mut session = Session::resume(idle.parked, transcript);
    session.note(format!(
        "reusing the open connection to {host} [{address}] for message {}",
        transactions + 1
    ));
    let sent = session
        .reset_and_send_mail(
            &idle.capabilities,
            transaction.envelope,
            transaction.message,
        )
        .await;
    match sent {
        Ok(sent) => Some(
            settle(
                host,
                session,
                idle.capabilities,
                transactions,
                transaction,
                shaped,
                sent,
            )
            .await,
        ),
        Err(_) => {
            session.note("the open connection no longer answers; opening a new one");
            session.quit().await;
            None
        }
    }
}

/// The transaction on a new session, settled as [`settle`] says.
async fn transact(
    host: &str,
    mut session: Session<'_>,
    capabilities: Capabilities,
    transaction: Transaction<'_>,
    shaped: Shaped<'_>,
) -> Attempt {
    let sent = session
        .send_mail(&capabilities, transaction.envelope, transaction.message)
        .await;
    settle(host, session, capabilities, 0, transaction, shaped, sent).await
}

/// What a transaction on `session` concluded; afterwards the session goes back to the pool
/// (which ends it when it has carried what its destination allows), or ends after a failure.
async fn settle(
    host: &str,
    session: Session<'_>,
    capabilities: Capabilities,
    transactions: u32,
    transaction: Transaction<'_>,
    (traffic, admission): Shaped<'_>,
    sent: Result<Vec<RecipientOutcome>, Failure>,
) -> Attempt {
    let tls = session.tls().cloned();
    match sent {
        Ok(outcomes) => {
            let most = admission.messages_per_connection;
            traffic
                .pool()
                .checkin(host, session, capabilities, transactions + 1, most)
                .await;
            Attempt::Decided { outcomes, tls }
        }
        Err(failure) => give_up_or_next(session, failure, transaction.envelope).await,
    }
}

/// After a failure the server's answers decide: a permanent one fails every recipient here, a
/// temporary one lets the next server try.
async fn give_up_or_next(session: Session<'_>, failure: Failure, envelope: &Envelope) -> Attempt {
    let tls = session.tls().cloned();
    session.quit().await;
    match failure.kind() {
        FailureKind::Temporary => Attempt::Next(failure),
        FailureKind::Permanent => Attempt::Decided {
            outcomes: all_failed(envelope.recipients(), &failure),
            tls,
        },
    }
}
