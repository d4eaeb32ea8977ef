//! What the caller decides: timeouts, the port of MX hosts, the tenant relay's settings and the
//! roots its certificate must chain to.

use std::fmt;
use std::time::Duration;

use sealpost_domain::TlsMode;
use zeroize::Zeroizing;

use crate::envelope::HeloName;
use crate::tls::TrustedRoots;

/// How long each step may take. A step that takes longer fails temporarily.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the TCP connection.
    pub connect: Duration,
    /// Each reply, from the greeting to QUIT, each TLS handshake and each write of the message;
    /// RFC 5321 section 4.5.3.2 suggests at least 5 minutes for most replies.
    pub command: Duration,
    /// The reply after the end of the message, when the server checks it (at least 10 minutes
    /// per RFC 5321 section 4.5.3.2.6).
    pub data_end: Duration,
}

impl Default for Timeouts {
    /// Postfix's defaults, which follow RFC 5321: 30 s to connect, 5 min a reply, 10 min after
    /// the message.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(30),
            command: Duration::from_secs(300),
            data_end: Duration::from_secs(600),
        }
    }
}

/// Options of native delivery to the recipient domain's MX hosts.
#[derive(Debug, Clone)]
pub struct NativeOptions {
    /// The name given in EHLO.
    pub helo_name: HeloName,
    /// The SMTP port of every MX host: 25, except in tests.
    pub port: u16,
    /// Step timeouts.
    pub timeouts: Timeouts,
    /// The most addresses tried in one attempt, over all MX hosts, so that a domain with many
    /// unreachable hosts cannot hold a delivery for hours.
    pub max_addresses: usize,
}

impl NativeOptions {
    /// Port 25, default timeouts, at most 10 addresses.
    pub fn new(helo_name: HeloName) -> Self {
        Self {
            helo_name,
            port: 25,
            timeouts: Timeouts::default(),
            max_addresses: 10,
        }
    }
}

/// Options of delivery through a tenant's relay.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// The name given in EHLO.
    pub helo_name: HeloName,
    /// Step timeouts.
    pub timeouts: Timeouts,
    /// The roots the relay's certificate must chain to.
    pub trusted_roots: TrustedRoots,
}

impl RelayOptions {
    /// Default timeouts, Mozilla's roots.
    pub fn new(helo_name: HeloName) -> Self {
        Self {
            helo_name,
            timeouts: Timeouts::default(),
            trusted_roots: TrustedRoots::webpki(),
        }
    }
}

/// A tenant's own mail server (SPEC S1.2).
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Host name or IP address.
    pub host: String,
    /// Port, typically 587 (STARTTLS) or 465 (implicit TLS).
    pub port: u16,
    /// The AUTH user name.
    pub username: String,
    /// The AUTH password.
    pub password: Password,
    /// TLS from the first byte ("use SSL"). The certificate is then always validated and
    /// `tls_mode` does not apply.
    pub implicit_tls: bool,
    /// STARTTLS policy when `implicit_tls` is off.
    pub tls_mode: TlsMode,
}

/// A relay password. Its `Debug` shows `***`, it has no `Display`, and its memory is wiped when
/// dropped.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps `password`.
    pub fn new(password: impl Into<String>) -> Self {
        Self(Zeroizing::new(password.into()))
    }

    /// The password, for the AUTH exchange only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_do_not_show() {
        let config = RelayConfig {
            host: "relay.test".into(),
            port: 587,
            username: "tenant".into(),
            password: Password::new("hunter2"),
            implicit_tls: false,
            tls_mode: TlsMode::default(),
        };
        let shown = format!("{config:?}");
        assert!(shown.contains("Password(***)"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
