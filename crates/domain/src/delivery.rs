//! A tenant's delivery settings (SPEC S1, the E-mail tab): the platform's own MTA, or the
//! tenant's own mail server. The relay password is never part of these values: it is sealed
//! apart and only the fact that one is set is shown.

/// How the tenant's server, reached without implicit TLS, is secured with STARTTLS (SPEC S1.2).
/// The settings store it and delivery follows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TlsMode {
    /// STARTTLS when the server offers it ("Default"). Because the password never goes
    /// unencrypted in this mode, a server without STARTTLS fails at AUTH.
    #[default]
    Opportunistic,
    /// STARTTLS must be offered and succeed: no mail and no password over an unencrypted
    /// connection.
    Required,
    /// No TLS; the password goes unencrypted. Only for servers on a trusted network.
    None,
}

impl TlsMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Opportunistic => "default",
            Self::Required => "required",
            Self::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "default" => Some(Self::Opportunistic),
            "required" => Some(Self::Required),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// The tenant's own mail server, without its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelaySettings {
    pub host: String,
    pub port: u16,
    pub username: String,
    /// "Use SSL": TLS from the first byte, typically on port 465.
    pub implicit_tls: bool,
    pub tls_mode: TlsMode,
    pub password_set: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryMode {
    /// The platform's MTA, direct to MX, retried for 24 hours (the default).
    Native,
    /// The tenant's own mail server; failures are final.
    Relay(RelaySettings),
}
