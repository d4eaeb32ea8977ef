//! The readable record of a conversation with a server: what the client sent, what the server
//! answered and what happened around it (DNS, connections, TLS), for support staff and the
//! "Test connection" button. Secrets never reach it: commands enter it already redacted.

use std::fmt;

use crate::reply::Reply;

/// Who a transcript line is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// A command Sealpost sent (secrets redacted).
    Client,
    /// A reply line from the server.
    Server,
    /// An event: a lookup, a connection, a TLS handshake, a decision.
    Note,
}

/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    /// Who the line is from.
    pub party: Party,
    /// The text, without line end.
    pub text: String,
}

impl fmt::Display for TranscriptLine {
    /// `C: ` for the client, `S: ` for the server, `* ` for events, as mail tools print sessions.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.party {
            Party::Client => "C:",
            Party::Server => "S:",
            Party::Note => "*",
        };
        write!(formatter, "{prefix} {}", self.text)
    }
}

/// A transcript being written.
#[derive(Debug, Default)]
pub(crate) struct Transcript {
    lines: Vec<TranscriptLine>,
}

impl Transcript {
    /// Records a command line as the client sent it; the caller passes the redacted form.
    pub(crate) fn client(&mut self, text: impl Into<String>) {
        self.push(Party::Client, text.into());
    }

    /// Records each line of a reply.
    pub(crate) fn server(&mut self, reply: &Reply) {
        for line in reply.wire_lines() {
            self.push(Party::Server, line);
        }
    }

    /// Records an event.
    pub(crate) fn note(&mut self, text: impl Into<String>) {
        self.push(Party::Note, text.into());
    }

    pub(crate) fn into_lines(self) -> Vec<TranscriptLine> {
        self.lines
    }

    fn push(&mut self, party: Party, text: String) {
        self.lines.push(TranscriptLine { party, text });
    }
}
