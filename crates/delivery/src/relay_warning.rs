//! Own-mail-server settings that Sealpost accepts but that are probably not what the tenant
//! meant, each with the risk it carries: shown beside the E-mail tab form and in the API.

use sealpost_domain::TlsMode;

/// A combination of own-mail-server settings that Sealpost accepts but that is probably not
/// what the tenant meant, with the risk it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayWarning {
    /// "Use SSL" (TLS from the first byte) with "STARTTLS required" (TLS after a plain start):
    /// only "use SSL" takes effect, and a server that expects STARTTLS cannot be reached.
    SslWithStartTls,
    /// TLS mode none with a password: the password crosses the network unencrypted.
    PasswordWithoutTls,
}

impl RelayWarning {
    /// The warnings for these settings; `password` says whether one is given or stored.
    pub fn of(implicit_tls: bool, tls_mode: TlsMode, password: bool) -> Vec<Self> {
        let mut warnings = Vec::new();
        if implicit_tls && tls_mode == TlsMode::Required {
            warnings.push(Self::SslWithStartTls);
        }
        if !implicit_tls && tls_mode == TlsMode::None && password {
            warnings.push(Self::PasswordWithoutTls);
        }
        warnings
    }

    /// A stable code for programs.
    pub fn code(self) -> &'static str {
        match self {
            Self::SslWithStartTls => "ssl_with_starttls",
            Self::PasswordWithoutTls => "password_without_tls",
        }
    }

    /// The risk, in a sentence for the person who chose the settings.
    pub fn sentence(self) -> &'static str {
        match self {
            Self::SslWithStartTls => {
                "\"Use SSL\" and \"STARTTLS required\" contradict each other: SSL encrypts from \
                 the first byte (usually port 465), STARTTLS starts plain and then encrypts \
                 (usually port 587). Only SSL is used, so a server that expects STARTTLS cannot be \
                 reached. Choose the one your mail server's documentation names."
            }
            Self::PasswordWithoutTls => {
                "TLS mode \"None\" sends the password unencrypted: anyone on the network path \
                 can read it and send mail as you. Choose \"Default\" or \"STARTTLS required\" \
                 unless the server is on a network you trust."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(implicit_tls: bool, tls_mode: TlsMode, password: bool, expect: &[RelayWarning]) {
        assert_eq!(RelayWarning::of(implicit_tls, tls_mode, password), expect);
    }

    #[test]
    fn contradictory_settings_are_named() {
        use RelayWarning::{PasswordWithoutTls, SslWithStartTls};
        check(true, TlsMode::Required, true, &[SslWithStartTls]);
        check(true, TlsMode::Opportunistic, true, &[]);
        check(false, TlsMode::Required, true, &[]);
        check(false, TlsMode::None, true, &[PasswordWithoutTls]);
        check(false, TlsMode::None, false, &[]);
        check(false, TlsMode::Opportunistic, true, &[]);
    }
}
