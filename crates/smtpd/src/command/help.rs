//! HELP: points at the standard rather than documenting the server.

use crate::reply::Reply;
use crate::session::{Session, Step};

impl Session {
    pub(crate) fn help(&mut self) -> Step {
        Step::Reply(Reply::new(
            214,
            [2, 0, 0],
            "Mail submission (RFC 6409): EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, RSET, NOOP, QUIT",
        ))
    }
}
