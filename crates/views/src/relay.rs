//! The tenant's delivery mode and own mail server (SPEC S1.2, S1.3), and the transcript of a
//! connection test. The password is write-only: a view says whether one is set, never what
//! it is.

use sealpost_delivery::{ConnectionTest, Party};
use sealpost_domain::DeliveryMode;
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
            },
            DeliveryMode::Relay(relay) => Self {
                mode: "relay",
                relay: Some(RelayView {
                    host: relay.host,
                    port: relay.port,
                    username: relay.username,
                    use_ssl: relay.implicit_tls,
                    tls_mode: relay.tls_mode.as_str(),
                    password_set: relay.password_set,
                }),
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
