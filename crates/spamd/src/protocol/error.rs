//! Why an answer from spamd could not be used, with the sysexits(3) names spamd's failure codes
//! are looked up by.

use thiserror::Error;

/// Why an answer from spamd could not be used. Each variant names what was wrong, and the
/// messages are phrased to follow "spamd at <address>: ".
#[derive(Debug, Error, PartialEq)]
pub enum ProtocolError {
    /// The connection closed before a single byte arrived, which is what spamd does when it
    /// rejects a client by `--allowed-ips` or dies while checking.
    #[error("it closed the connection without answering")]
    EmptyResponse,
    /// The first line is not `SPAMD/<version> <code> <text>`: whatever answered is not spamd.
    #[error("its first line {line:?} is not a spamd status line (SPAMD/1.x <code> <text>)")]
    StatusLine {
        /// The first line as received, lossily decoded.
        line: String,
    },
    /// spamd answered with a sysexits code other than 0 (EX_OK); the text is spamd's own
    /// explanation, such as "Bad header line".
    #[error("it answered with status {code} ({name}): {text}", name = exit_code_name(*code))]
    Failed {
        /// The sysexits(3) code.
        code: u16,
        /// spamd's text after the code.
        text: String,
    },
    /// A header line has no colon.
    #[error("its header line {line:?} is not `Name: value`")]
    HeaderLine {
        /// The header line as received, lossily decoded.
        line: String,
    },
    /// The answer ended inside the headers, before the empty line that ends them.
    #[error("its answer ended before the end of the headers")]
    UnterminatedHeaders,
    /// A successful answer without `Content-length`, so a truncated body could not be told
    /// from a complete one.
    #[error("its answer has no Content-length header")]
    MissingContentLength,
    /// A successful answer without the `Spam` header, which carries the verdict and score.
    #[error("its answer has no Spam header, which carries the verdict and the score")]
    MissingSpamHeader,
    /// The `Spam` header is not `True|False ; <score> / <threshold>`.
    #[error("its Spam header {value:?} is not `True|False ; <score> / <threshold>`")]
    SpamHeader {
        /// The header's value.
        value: String,
    },
    /// A number (a score, the threshold or the content length) does not parse.
    #[error("its {field} {text:?} is not a number")]
    Number {
        /// Which number it was.
        field: &'static str,
        /// The text that should have been the number.
        text: String,
    },
    /// Fewer body bytes arrived than `Content-length` announced.
    #[error("its answer was cut short: {received} of {declared} body bytes arrived")]
    TruncatedBody {
        /// The `Content-length`.
        declared: usize,
        /// The bytes received after the headers.
        received: usize,
    },
    /// More body bytes arrived than `Content-length` announced, so the two disagree about
    /// where the report ends.
    #[error("its answer has {received} body bytes where Content-length announced {declared}")]
    ExtraBody {
        /// The `Content-length`.
        declared: usize,
        /// The bytes received after the headers.
        received: usize,
    },
    /// The report has no table of rules (a line of dashes at the start of a line); this happens
    /// when the site's `report` template was replaced by one without `_SUMMARY_`.
    #[error("its report has no table of rules; does the site's report template omit _SUMMARY_?")]
    MissingRuleTable,
    /// A line of the rule table is neither `<score> <name> <description>` nor an indented
    /// continuation of the rule above it.
    #[error("its report table line {line:?} is not `<score> <rule name> <description>`")]
    RuleLine {
        /// The line as received.
        line: String,
    },
    /// The answer grew past the limit a report can reasonably have, so reading stopped.
    #[error("its answer is larger than {limit} bytes, far more than any report")]
    ResponseTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// The sysexits(3) name of a code, so that an operator can look it up; spamd uses them for
/// every failure.
fn exit_code_name(code: u16) -> &'static str {
    match code {
        64 => "EX_USAGE",
        65 => "EX_DATAERR",
        66 => "EX_NOINPUT",
        67 => "EX_NOUSER",
        68 => "EX_NOHOST",
        69 => "EX_UNAVAILABLE",
        70 => "EX_SOFTWARE",
        71 => "EX_OSERR",
        72 => "EX_OSFILE",
        73 => "EX_CANTCREAT",
        74 => "EX_IOERR",
        75 => "EX_TEMPFAIL",
        76 => "EX_PROTOCOL",
        77 => "EX_NOPERM",
        78 => "EX_CONFIG",
        _ => "unknown code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_names() {
        assert_eq!(exit_code_name(64), "EX_USAGE");
        assert_eq!(exit_code_name(78), "EX_CONFIG");
        assert_eq!(exit_code_name(1), "unknown code");
    }
}
