//! STARTTLS (RFC 3207): switch the connection to TLS, then start the session afresh.

use crate::reply::Reply;
use crate::session::{Session, Step};

impl Session {
    pub(crate) fn starttls(&mut self, line: &[u8]) -> Step {
        // RFC 3207 4: the command is the keyword alone.
        let parameters = line.get("STARTTLS".len()..).unwrap_or_default();
        if !parameters.trim_ascii().is_empty() {
            return self.error(Reply::new(
                501,
                [5, 5, 4],
                "Syntax error (no parameters allowed)",
            ));
        }
        if self.tls_active {
            return self.error(Reply::new(503, [5, 5, 1], "TLS already active"));
        }
        if !self.starttls_permitted() {
            return self.error(Reply::new(502, [5, 5, 1], "STARTTLS not available"));
        }
        Step::StartTls(Reply::new(220, [2, 0, 0], "Ready to start TLS"))
    }

    /// RFC 3207 4.2: after the handshake the server forgets everything the client said before
    /// it (greeting, authentication, transaction), since none of it was protected.
    pub(crate) fn tls_started(&mut self) {
        self.tls_active = true;
        self.greeted = None;
        self.login = None;
        self.transaction = None;
        self.auth_exchange = None;
    }
}
