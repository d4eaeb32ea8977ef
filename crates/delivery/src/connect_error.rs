//! Why a connection did not open or broke off, in words a person can act on. This is the one
//! reading of the operating system's socket errors (`io::ErrorKind`), so the API, the UI, the
//! CLI and a message's history all say "nothing accepts connections at 127.0.0.1 port 9
//! (connection refused)" instead of "Connection refused (os error 111)".

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// What happened to a connection, by the socket error's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectProblem {
    /// Nothing listens on that port, or a firewall rejects the connection.
    Refused,
    /// The connection attempt got no answer within the time limit.
    NoAnswer(Duration),
    /// No route to the host or its network.
    Unreachable,
    /// The peer (or something between) reset or aborted the connection.
    Reset,
    /// The server closed the connection in the middle of the conversation.
    Closed,
    /// The local system did not allow the connection.
    NotPermitted,
    /// Anything else, with the system's own words.
    Other(String),
}

impl ConnectProblem {
    /// The problem behind a socket error.
    pub fn from_io(error: &io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::ConnectionRefused => Self::Refused,
            io::ErrorKind::TimedOut => Self::NoAnswer(Duration::ZERO),
            io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => Self::Unreachable,
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => Self::Reset,
            io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof => Self::Closed,
            io::ErrorKind::PermissionDenied => Self::NotPermitted,
            _ => Self::Other(error.to_string()),
        }
    }

    /// The sentence for a connection to `address` that did not open.
    pub fn opening(&self, address: SocketAddr) -> String {
        let (ip, port) = (address.ip(), address.port());
        match self {
            Self::Refused => format!(
                "Nothing accepts connections at {ip} port {port} (connection refused): check \
                 the host, the port and the firewall"
            ),
            Self::NoAnswer(limit) if limit.is_zero() => format!(
                "No answer from {ip} port {port} (timed out): check the host, the port and the \
                 firewall, which may drop the connection silently"
            ),
            Self::NoAnswer(limit) => format!(
                "No answer from {ip} port {port} within {} seconds (timed out): check the host, \
                 the port and the firewall, which may drop the connection silently",
                limit.as_secs_f32()
            ),
            Self::Unreachable => format!(
                "{ip} cannot be reached from the platform (no route to the host): check the host \
                 and whether it is reachable from the internet"
            ),
            Self::Reset | Self::Closed => format!(
                "{ip} port {port} closed the connection at once: check the port and whether the \
                 server accepts connections from the platform"
            ),
            Self::NotPermitted => format!(
                "The platform's network does not allow connections to {ip} port {port}: ask the \
                 platform operator"
            ),
            Self::Other(text) => format!("Could not connect to {ip} port {port}: {text}"),
        }
    }
}

impl fmt::Display for ConnectProblem {
    /// The problem in the middle of a conversation, where the address is already known.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused => formatter.write_str("the connection was refused"),
            Self::NoAnswer(_) => formatter.write_str("the server stopped answering"),
            Self::Unreachable => formatter.write_str("the server could no longer be reached"),
            Self::Reset => formatter.write_str("the connection was reset"),
            Self::Closed => formatter.write_str("the server closed the connection"),
            Self::NotPermitted => formatter.write_str("the local system refused the connection"),
            Self::Other(text) => formatter.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(kind: io::ErrorKind, expect: &str) {
        let address: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let problem = ConnectProblem::from_io(&io::Error::from(kind));
        assert_eq!(problem.opening(address), expect);
    }

    #[test]
    fn socket_errors_read_as_sentences() {
        check(
            io::ErrorKind::ConnectionRefused,
            "Nothing accepts connections at 127.0.0.1 port 9 (connection refused): check the \
             host, the port and the firewall",
        );
        check(
            io::ErrorKind::HostUnreachable,
            "127.0.0.1 cannot be reached from the platform (no route to the host): check the \
             host and whether it is reachable from the internet",
        );
        check(
            io::ErrorKind::ConnectionReset,
            "127.0.0.1 port 9 closed the connection at once: check the port and whether the \
             server accepts connections from the platform",
        );
        check(
            io::ErrorKind::TimedOut,
            "No answer from 127.0.0.1 port 9 (timed out): check the host, the port and the \
             firewall, which may drop the connection silently",
        );
    }

    #[test]
    fn a_time_limit_is_named() {
        let address: SocketAddr = "[2001:db8::1]:465".parse().unwrap();
        let text = ConnectProblem::NoAnswer(Duration::from_secs(10)).opening(address);
        assert!(text.starts_with("No answer from 2001:db8::1 port 465 within 10 seconds"));
    }
}
