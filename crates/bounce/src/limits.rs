//! The bounds on the work one received message may cost the parser. They belong with the other
//! resource limits in `domain::limits` and should move there; they live here until that file is
//! free to edit.

/// The largest input accepted, in bytes. A bounce quotes at most the returned message, which
/// Sealpost itself capped at its own message size limit (25 MB) when sending it, plus a few
/// kilobytes of report; anything larger is not a report of ours.
pub const MAX_INPUT_BYTES: usize = 32 * 1024 * 1024;

/// The most messages read from one mbox file. Real mailboxes of bounces hold a handful; a file
/// of "From " lines must not turn into thousands of MIME parses.
pub const MAX_MESSAGES: usize = 64;

/// The most MIME parts looked at in one message. A delivery report has three parts (text,
/// delivery status, original); nested forwards add a few. Parts past this are ignored.
pub const MAX_PARTS: usize = 64;

/// The most recipients reported for one message. RFC 5321 lets a server accept 100 recipients
/// per transaction, so one report never names more than that with margin; the rest is ignored.
pub const MAX_RECIPIENTS: usize = 256;

/// The most bytes of human-readable text scanned for recipients and diagnostics. The part that
/// explains a failure is at the top of a report; the rest is the quoted original.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;

/// The longest diagnostic kept per recipient, in characters. Remote servers' answers are a few
/// lines; a longer text is a quoted body that leaked into the diagnostic.
pub const MAX_DIAGNOSTIC_CHARS: usize = 2_000;

/// The most header fields kept from an attached original message (for matching a complaint).
pub const MAX_ORIGINAL_HEADERS: usize = 200;
