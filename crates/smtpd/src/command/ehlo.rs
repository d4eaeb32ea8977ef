//! EHLO and HELO: the client names itself, the server lists what it offers.

use std::borrow::Cow;

use crate::reply::Reply;
use crate::session::{Greeted, Session, Step};

impl Session {
    /// RFC 5321 4.1.4: EHLO may come again at any time and then ends any mail transaction.
    /// Authentication stays, as RFC 4954 does not tie it to the greeting.
    pub(crate) fn ehlo(&mut self, host: &str) -> Step {
        self.greet(host, true);
        let mut lines: Vec<Cow<'static, str>> = vec![
            self.config.hostname.clone().into(),
            "PIPELINING".into(),
            format!("SIZE {}", self.config.limits.max_message_size).into(),
            "8BITMIME".into(),
            "ENHANCEDSTATUSCODES".into(),
        ];
        if self.starttls_permitted() {
            lines.push("STARTTLS".into());
        }
        if self.auth_permitted() {
            lines.push("AUTH PLAIN LOGIN".into());
        }
        Step::Reply(Reply::plain(250, lines))
    }

    pub(crate) fn helo(&mut self, host: &str) -> Step {
        self.greet(host, false);
        Step::Reply(Reply::plain(250, vec![self.config.hostname.clone().into()]))
    }

    fn greet(&mut self, host: &str, extended: bool) {
        self.transaction = None;
        self.greeted = Some(Greeted {
            name: host.to_owned(),
            extended,
        });
    }
}
