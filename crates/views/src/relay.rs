//! The tenant's delivery mode and own mail server (SPEC S1.2, S1.3), and the transcript of a
//! connection test. The password is write-only: a view says whether one is set, never what
//! it is.

use sealpost_delivery::{ConnectionTest, Party, RelayWarning};
use sealpost_domain::{DeliveryMode, RelaySettings};
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConnectionTestView {
    pub success: bool,
    /// The failure, in words, when it did not work.
    pub error: Option<String>,
    /// TLS version and cipher when the connection was encrypted.
    pub tls: Option<String>,
    /// What client and server said, secrets replaced by ***.
    pub transcript: Vec<TranscriptLineView>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TranscriptLineView {
    /// client, server or note.
    pub party: &'static str,
    pub text: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeliveryView {
    /// native (the platform's MTA, retried for 24 hours) or relay (the tenant's own mail server;
    /// failed sends are not retried).
    pub mode: &'static str,
    pub relay: Option<RelayView>,
    /// The own mail server's settings kept while mode is native: not used, and not erased, so
    /// that switching back does not lose them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_relay: Option<RelayView>,
    /// Settings that are accepted but probably not meant, each with its risk.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<WarningView>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WarningView {
    /// ssl_with_starttls or password_without_tls.
    pub code: &'static str,
    pub message: &'static str,
}

impl From<RelayWarning> for WarningView {
    fn from(warning: RelayWarning) -> Self {
        Self {
            code: warning.code(),
            message: warning.sentence(),
        }
    }
}

impl WarningView {
    /// The warnings of saved settings.
    pub fn of_relay(relay: &RelaySettings) -> Vec<Self> {
        RelayWarning::of(relay.implicit_tls, relay.tls_mode, relay.password_set)
            .into_iter()
            .map(Self::from)
            .collect()
    }
}

impl From<RelaySettings> for RelayView {
    fn from(relay: RelaySettings) -> Self {
        Self {
            host: relay.host,
            port: relay.port,
            username: relay.username,
            use_ssl: relay.implicit_tls,
            tls_mode: relay.tls_mode.as_str(),
            password_set: relay.password_set,
        }
    }
}

impl DeliveryView {
    /// The mode with the relay settings kept while it is native.
    pub fn with_kept(mode: DeliveryMode, kept: Option<RelaySettings>) -> Self {
        let mut view = Self::from(mode);
        if view.relay.is_none() {
            view.kept_relay = kept.map(RelayView::from);
        }
        view
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RelayView {
    pub host: String,
    pub port: u16,
    pub username: String,
    /// "Use SSL": TLS from the first byte (port 465).
    pub use_ssl: bool,
    /// default (STARTTLS when offered), required or none.
    pub tls_mode: &'static str,
    pub password_set: bool,
}

impl From<DeliveryMode> for DeliveryView {
    fn from(mode: DeliveryMode) -> Self {
        match mode {
            DeliveryMode::Native => Self {
                mode: "native",
                relay: None,
                kept_relay: None,
                warnings: Vec::new(),
            },
            DeliveryMode::Relay(relay) => Self {
                mode: "relay",
                warnings: WarningView::of_relay(&relay),
                relay: Some(RelayView::from(relay)),
                kept_relay: None,
            },
        }
    }
}

impl From<&ConnectionTest> for ConnectionTestView {
    fn from(test: &ConnectionTest) -> Self {
        Self {
            success: test.success(),
            error: test.failure.as_ref().map(ToString::to_string),
            tls: test
                .tls
                .as_ref()
                .map(|tls| format!("{} {}", tls.version, tls.cipher)),
            transcript: test
                .transcript
                .iter()
                .map(|line| TranscriptLineView {
                    party: match line.party {
                        Party::Client => "client",
                        Party::Server => "server",
                        Party::Note => "note",
                    },
                    text: line.text.clone(),
                })
                .collect(),
        }
    }
}
