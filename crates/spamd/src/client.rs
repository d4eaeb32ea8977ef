//! The only I/O of this crate: one TCP connection to spamd per check, under one overall
//! deadline, with every way it can go wrong kept apart so that an operator reading the error
//! knows whether to start spamd, open its `--allowed-ips`, or look at what answered instead.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::protocol::{ProtocolError, SpamReport, encode_report_request, parse_report_response};

/// The largest message sent to spamd unless configured otherwise: 500 KiB, the limit spamc
/// applies by default, because SpamAssassin's rules are tuned for messages of that size and
/// scanning larger ones costs seconds of CPU per message.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 500 * 1024;

/// The most a `REPORT` answer is read: the report is a few kilobytes of text whatever the size
/// of the message, so anything near this is not spamd and is not worth holding in memory.
const MAX_RESPONSE_SIZE: usize = 1024 * 1024;

/// Asks one spamd for the score of messages.
///
/// The client holds no connection: spamd answers one request per connection and closes it, so
/// each `check` connects anew and the client can be shared freely.
#[derive(Debug, Clone)]
pub struct SpamdClient {
    address: SocketAddr,
    timeout: Duration,
    max_message_size: usize,
}

/// Why a message has no spam report. The messages name spamd's address, because an operator
/// may run several and has to know which one to look at.
#[derive(Debug, Error)]
pub enum SpamdError {
    /// The message is over the configured limit and was not sent, just as spamc would not send
    /// it; the checker reports the message as not scanned rather than scanning a truncated copy.
    #[error(
        "the message is {size} bytes, more than the {limit} bytes sent to spamd at most, so it \
         was not checked for spam"
    )]
    TooLarge {
        /// The message's size in bytes.
        size: usize,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// Nothing listens at the address: spamd is not running, or listens elsewhere.
    #[error("spamd at {address} refused the connection; is spamd running and listening there?")]
    Refused {
        /// spamd's address.
        address: SocketAddr,
    },
    /// The connection could not be made for another reason, such as no route to the host.
    #[error("could not connect to spamd at {address}: {error}")]
    Connect {
        /// spamd's address.
        address: SocketAddr,
        /// What the operating system said.
        error: io::Error,
    },
    /// The connection broke while the message or the answer was under way.
    #[error("the connection to spamd at {address} broke: {error}")]
    Io {
        /// spamd's address.
        address: SocketAddr,
        /// What the operating system said.
        error: io::Error,
    },
    /// Connecting, sending and the answer together took longer than the client's timeout;
    /// spamd may be overloaded (all children busy) or a firewall may drop the packets.
    #[error("spamd at {address} did not answer within {timeout:?}")]
    Timeout {
        /// spamd's address.
        address: SocketAddr,
        /// The client's overall timeout.
        timeout: Duration,
    },
    /// spamd answered, but with a failure status or with something that is not a report.
    #[error("spamd at {address}: {error}")]
    Protocol {
        /// spamd's address.
        address: SocketAddr,
        /// What was wrong with the answer.
        error: ProtocolError,
    },
}

impl SpamdClient {
    /// A client for the spamd at `address` that gives up on a check after `timeout` (connecting,
    /// sending and reading the answer together) and sends messages of up to
    /// [`DEFAULT_MAX_MESSAGE_SIZE`] bytes.
    pub fn new(address: SocketAddr, timeout: Duration) -> Self {
        Self {
            address,
            timeout,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
        }
    }

    /// The same client with another limit on the size of the messages it sends, for a spamd
    /// whose operator accepts larger (or only smaller) messages.
    pub fn with_max_message_size(self, max_message_size: usize) -> Self {
        Self {
            max_message_size,
            ..self
        }
    }

    /// Asks spamd to score `message`, a complete message as received (headers and body).
    ///
    /// A message over the size limit is not sent and gives [`SpamdError::TooLarge`], so that the
    /// caller can say "not scanned: too large" instead of showing a score for a part of it.
    pub async fn check(&self, message: &[u8]) -> Result<SpamReport, SpamdError> {
        if message.len() > self.max_message_size {
            return Err(SpamdError::TooLarge {
                size: message.len(),
                limit: self.max_message_size,
            });
        }
        let request = encode_report_request(message);
        let response = match tokio::time::timeout(self.timeout, self.exchange(&request)).await {
            Ok(response) => response?,
            Err(_elapsed) => {
                return Err(SpamdError::Timeout {
                    address: self.address,
                    timeout: self.timeout,
                });
            }
        };
        parse_report_response(&response).map_err(|error| SpamdError::Protocol {
            address: self.address,
            error,
        })
    }

    /// Sends the request and reads the answer to the end of the stream, which is where spamd
    /// ends it: it closes the connection after every answer.
    async fn exchange(&self, request: &[u8]) -> Result<Vec<u8>, SpamdError> {
        let address = self.address;
        let mut stream = TcpStream::connect(address)
            .await
            .map_err(|error| match error.kind() {
                io::ErrorKind::ConnectionRefused => SpamdError::Refused { address },
                _ => SpamdError::Connect { address, error },
            })?;
        let broke = |error| SpamdError::Io { address, error };
        stream.write_all(request).await.map_err(broke)?;
        // Half-closing tells spamd, as spamc does, that nothing follows the message.
        stream.shutdown().await.map_err(broke)?;
        let mut response = Vec::new();
        let limit = u64::try_from(MAX_RESPONSE_SIZE + 1).unwrap_or(u64::MAX);
        stream
            .take(limit)
            .read_to_end(&mut response)
            .await
            .map_err(broke)?;
        if response.len() > MAX_RESPONSE_SIZE {
            return Err(SpamdError::Protocol {
                address,
                error: ProtocolError::ResponseTooLarge {
                    limit: MAX_RESPONSE_SIZE,
                },
            });
        }
        Ok(response)
    }
}
