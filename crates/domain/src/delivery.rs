//! A tenant's delivery settings (SPEC S1, the E-mail tab): the platform's own MTA, or the
//! tenant's own mail server. The relay password is never part of these values: it is sealed
//! apart and only the fact that one is set is shown.

/// How STARTTLS is used with the tenant's server (SPEC S1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// STARTTLS when the server offers it ("Default").
    Opportunistic,
    /// STARTTLS or nothing: no mail and no password over an unencrypted connection.
    Required,
    /// No STARTTLS.
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
