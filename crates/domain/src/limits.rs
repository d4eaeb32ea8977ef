//! Every resource limit Sealpost enforces at its edges, each with the reason for its value, so
//! that a bound is chosen once and every edge (HTTP, SMTP, CLI, UI, the vault) uses the same one.
//! A limit that is not here is a limit someone forgot to write down.

/// Messages.
pub mod message {
    /// The largest message accepted, counted on the message bytes themselves (not on their JSON
    /// or base64 transport form). 25 MB is what Gmail and Outlook accept.
    pub const MAX_BYTES: usize = 25 * 1024 * 1024;
    /// Recipients of one message; more is a mailing-list job, not a notification.
    pub const MAX_RECIPIENTS: usize = 1000;
    /// A line of a message, without its CRLF (RFC 5322 2.1.1); receivers wrap or refuse longer
    /// ones, which breaks the signature or bounces the mail.
    pub const MAX_LINE_OCTETS: usize = 998;
}

/// E-mail addresses (RFC 5321 4.5.3.1).
pub mod address {
    /// The local part of a mailbox.
    pub const MAX_LOCAL_PART: usize = 64;
    /// A whole mailbox as it travels in a path (RFC 5321 4.5.3.1.3 and its erratum 1690).
    pub const MAX_MAILBOX: usize = 254;
    /// A domain name in text form (RFC 1035 2.3.4, without the final dot).
    pub const MAX_DOMAIN: usize = 253;
    /// One label of a domain name.
    pub const MAX_LABEL: usize = 63;
}

/// Free text that tenants give names with and that is shown back in lists.
pub mod text {
    /// Labels and display names: one line, long enough for any real name.
    pub const MAX_LABEL_CHARS: usize = 200;
    /// An `Idempotency-Key` (visible ASCII only).
    pub const MAX_IDEMPOTENCY_KEY: usize = 200;
}

/// A suppression list imported as CSV: one request holds it whole, and it is checked whole
/// before anything is stored, so it is bounded like a message.
pub mod suppression_import {
    /// The CSV text: 5 MB holds about 100,000 lines of address and reason.
    pub const MAX_BYTES: usize = 5 * 1024 * 1024;
    /// Lines (entries) in one import.
    pub const MAX_LINES: usize = 100_000;
    /// Bad lines named in one refusal; more are counted, not listed.
    pub const MAX_REPORTED_ERRORS: usize = 20;
    /// The note of an entry, in characters.
    pub const MAX_DETAIL_CHARS: usize = 500;
}

/// The work a pasted key may ask for before it is decrypted. An encrypted key names its own key
/// derivation parameters, so a hostile one can ask for any amount of memory or time; the vault
/// checks them against these bounds before deriving anything. Measured on one core of the
/// 2-core reference machine (release build): PBKDF2 runs 1 million iterations in 0.16 s with
/// HMAC-SHA256, 0.25 s with HMAC-SHA1 (two blocks for an AES-256 key) and 0.72 s with
/// HMAC-SHA512; scrypt N=2^14, r=8, p=1 (OpenSSL's default) takes 0.05 s, N=2^18, r=8 1.4 s.
pub mod kdf {
    /// PBKDF2 iterations: above every current recommendation (OWASP 2023: 600,000 for
    /// HMAC-SHA256, 1,300,000 for HMAC-SHA1; OpenSSL writes 2,048), and at most 1.4 s of one
    /// core with the slowest PRF.
    pub const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;
    /// scrypt's memory, 128 * r * N bytes: N=2^18 with r=8, twice libsodium's interactive
    /// setting and 16 times OpenSSL's default.
    pub const MAX_SCRYPT_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
    /// scrypt's work, N * r * p (p runs the memory-hard mix p times over): the same 1.4 s as
    /// the memory bound allows with p=1.
    pub const MAX_SCRYPT_WORK: u64 = 1 << 21;

    /// How many key derivations and generations run at once: half the cores, at least one, so
    /// that a burst of imports leaves the other half for signing and serving.
    pub fn concurrent_key_work(cores: usize) -> usize {
        (cores / 2).max(1)
    }
}

/// Connections from one client and how long they may take. Every wait is a total deadline for
/// one phase (a command line, a message, a handshake, a request head or body), never a timeout
/// per read, so a client that trickles one byte at a time cannot hold a connection open longer
/// than an honest slow client would.
pub mod connection {
    use std::time::Duration;

    /// SMTP: one command line, from the moment the server waits for it to its CRLF, idle time
    /// included. RFC 5321 4.5.3.2.7 asks a server to wait at least five minutes for a command.
    pub const SMTP_COMMAND_LINE: Duration = Duration::from_secs(5 * 60);
    /// SMTP: the whole content of one message, from `354` to the final `.` line. Ten minutes
    /// is RFC 5321 4.5.3.2.6's wait for the final reply, and carries the largest message
    /// (25 MB) at 350 kbit/s.
    pub const SMTP_MESSAGE: Duration = Duration::from_secs(10 * 60);
    /// SMTP: the TLS handshake after `220` to STARTTLS; it is a few round trips, so a client
    /// that needs longer is not negotiating.
    pub const SMTP_TLS_HANDSHAKE: Duration = Duration::from_secs(30);
    /// SMTP: connections served at once by one listener; beyond it `421 4.7.0`.
    pub const SMTP_CONNECTIONS: usize = 256;
    /// SMTP: connections from one client address (IPv6: one /64) at once, so that one client
    /// cannot take all [`SMTP_CONNECTIONS`] and shut every other client out. Sixteen is more
    /// than an application's connection pool needs (the benchmark uses sixteen).
    pub const SMTP_CONNECTIONS_PER_CLIENT: usize = 16;
    /// SMTP: how long sessions receiving or submitting a message may finish after shutdown.
    pub const SMTP_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
    /// HTTP: the head of one request (request line and headers), counted from the moment the
    /// server waits for it, so it is also how long an idle keep-alive connection stays open.
    /// A real client sends its head at once.
    pub const HTTP_REQUEST_HEAD: Duration = Duration::from_secs(10);
    /// HTTP: the whole body of one request, from its head to its last byte. Two minutes
    /// carries the largest message (25 MB) at 1.7 Mbit/s.
    pub const HTTP_REQUEST_BODY: Duration = Duration::from_secs(2 * 60);
    /// HTTP: connections from one client address (IPv6: one /64) at once; more are closed at
    /// once. Browsers open six per host; 64 leaves room for an application's pool or a proxy.
    pub const HTTP_CONNECTIONS_PER_CLIENT: usize = 64;
    /// HTTP: how long requests in progress may finish after shutdown before they are cut off.
    pub const HTTP_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
}
