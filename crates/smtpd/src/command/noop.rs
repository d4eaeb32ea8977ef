//! NOOP: does nothing; clients use it to keep the connection alive.

use crate::reply::Reply;
use crate::session::{Session, Step};

impl Session {
    pub(crate) fn noop(&mut self) -> Step {
        Step::Reply(Reply::new(250, [2, 0, 0], "Ok"))
    }
}
