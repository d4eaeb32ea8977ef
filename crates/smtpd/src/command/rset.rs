//! RSET: abandon the mail transaction, keep the greeting and the authentication.

use crate::reply::Reply;
use crate::session::{Session, Step};

impl Session {
    pub(crate) fn rset(&mut self) -> Step {
        self.transaction = None;
        Step::Reply(Reply::new(250, [2, 0, 0], "Ok"))
    }
}
