//! VRFY: never confirms whether a mailbox exists.

use crate::reply::Reply;
use crate::session::{Session, Step};

impl Session {
    /// RFC 5321 3.5.3 and 7.3: 252 says "cannot verify, will try to deliver", which tells an
    /// address harvester nothing. Sealpost delivers elsewhere anyway, so it could not know.
    pub(crate) fn vrfy(&mut self) -> Step {
        Step::Reply(Reply::new(
            252,
            [2, 5, 0],
            "Cannot VRFY user, but will accept message and attempt delivery",
        ))
    }
}
