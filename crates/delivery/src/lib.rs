//! Outbound SMTP, the only code in Sealpost that opens connections to other mail servers: native
//! delivery to the recipient domain's MX hosts (SPEC S1.1), delivery through a tenant's relay
//! (S1.2) and the relay's "Test connection" (S1.3).
//!
//! One client session ([`session`](crate::session), the only I/O) serves both routes, so a
//! server's answer means the same on either, and one `match` ([`Cause::kind`]) decides whether a
//! failure is temporary or permanent. Protocol logic without I/O lives in its own modules: replies,
//! commands, EHLO extensions, dot-stuffing, MX ordering and outcomes.

mod capabilities;
mod command;
mod connect_error;
mod data;
mod envelope;
mod mx;
mod native;
mod options;
mod outcome;
mod pool;
mod probe;
mod relay;
mod relay_warning;
mod reply;
mod session;
pub mod shaping;
mod tls;
mod traffic;
mod transcript;

pub use connect_error::ConnectProblem;
pub use data::MessageError;
pub use envelope::{Envelope, EnvelopeError, HeloName};
pub use native::{deliver_native, deliver_native_shaped};
pub use options::{NativeOptions, Password, RelayConfig, RelayOptions, Timeouts};
pub use outcome::{
    Cause, DeliveryReport, Failure, FailureKind, RecipientOutcome, RecipientResult, Stage,
};
pub use pool::PoolLimits;
pub use probe::{ProbeFailure, probe_smtp};
pub use relay::{ConnectionTest, deliver_relay, deliver_relay_reusing, test_relay_connection};
pub use relay_warning::RelayWarning;
pub use reply::{EnhancedStatus, Reply};
/// The tenant's STARTTLS policy, as the settings store it.
pub use sealpost_domain::TlsMode;
pub use tls::{RootsError, TlsInfo, TrustedRoots};
pub use traffic::{Admission, Deferral, DestinationView, PeerPause, Peers, Traffic};
pub use transcript::{Party, TranscriptLine};
