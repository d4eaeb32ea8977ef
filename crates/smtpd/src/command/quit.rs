//! QUIT: say goodbye and close.

use crate::reply::Reply;
use crate::session::{Session, Step};

impl Session {
    pub(crate) fn quit(&mut self) -> Step {
        Step::Close(Reply::new(
            221,
            [2, 0, 0],
            format!("{} Bye", self.config.hostname),
        ))
    }
}
