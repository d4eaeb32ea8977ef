//! The bodies of Sealpost's fuzz targets, one public function per target, shared by the
//! libFuzzer harnesses in `fuzz/` (nightly, cargo-fuzz) and by this crate's replay test, which
//! runs every committed corpus input on the stable toolchain. Both run exactly this code, so an
//! input that once found a bug keeps guarding against it in CI.
//!
//! Each body takes arbitrary bytes, reaches the parser or state machine through its public API
//! (a `fuzzing` feature where the API is crate-private), and asserts the invariants that a
//! hostile input must not break: no panic, and what each function promises (a signature
//! Sealpost writes verifies, a submission listener never takes mail without AUTH, no error
//! quotes key material).

mod dkim;
mod dnsauth;
mod fixture;
mod vault;

pub use dkim::{dkim_record, dkim_signature, sign_verify};
pub use dnsauth::{dmarc, spf};
pub use vault::pem_import;

/// The SMTP server session of `sealpost-smtpd` (submission and inbound modes), driven without
/// I/O by the crate's own connection steps; see `sealpost_smtpd::fuzzing`.
pub fn smtp_session(data: &[u8]) {
    sealpost_smtpd::fuzzing::drive(data);
}

/// spamd's answer to `REPORT`: any bytes are read into a report or refused with a reason.
pub fn spamd_reply(data: &[u8]) {
    let _ = sealpost_spamd::parse_report_response(data);
}
