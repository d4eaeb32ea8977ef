//! RCPT TO: adds a recipient to the transaction, up to the limit.

use std::borrow::Cow;

use smtp_proto::RcptTo;

use crate::address::check_mailbox;
use crate::reply::Reply;
use crate::session::{Session, Step, Transaction};

/// Why a recipient was not added.
enum Refused {
    /// A protocol error, counted towards the error limit.
    Protocol(Reply),
    /// A limit reached; the client did nothing wrong.
    Limit(Reply),
}

impl Session {
    pub(crate) fn rcpt(&mut self, to: RcptTo<Cow<'_, str>>) -> Step {
        let max_recipients = self.config.limits.max_recipients;
        let Some(transaction) = self.transaction.as_mut() else {
            return self.error(Reply::new(503, [5, 5, 1], "Need MAIL before RCPT"));
        };
        match add_recipient(transaction, to, max_recipients) {
            Ok(reply) | Err(Refused::Limit(reply)) => Step::Reply(reply),
            Err(Refused::Protocol(reply)) => self.error(reply),
        }
    }
}

fn add_recipient(
    transaction: &mut Transaction,
    to: RcptTo<Cow<'_, str>>,
    max_recipients: usize,
) -> Result<Reply, Refused> {
    // DSN (NOTIFY, ORCPT), RRVS and CONNEG are not advertised (RFC 5321 4.1.1.11: 555).
    if to.flags != 0 || to.orcpt.is_some() || to.rrvs != 0 {
        return Err(Refused::Protocol(Reply::new(
            555,
            [5, 5, 4],
            "Unsupported RCPT parameter",
        )));
    }
    // smtp-proto turns `<postmaster>` into an empty address; without a domain it names no
    // mailbox Sealpost could deliver to.
    let problem = match to.address.is_empty() {
        true => Some("a domain is required".to_owned()),
        false => check_mailbox(&to.address)
            .err()
            .map(|problem| problem.to_string()),
    };
    if let Some(problem) = problem {
        return Err(Refused::Protocol(Reply::new(
            501,
            [5, 1, 3],
            format!("Bad recipient address syntax: {problem}"),
        )));
    }
    // RFC 5321 4.5.3.1.10: 452 for too many recipients, so the client sends the rest in
    // another transaction.
    if transaction.rcpt_to.len() >= max_recipients {
        return Err(Refused::Limit(Reply::new(
            452,
            [4, 5, 3],
            "Too many recipients",
        )));
    }
    transaction.rcpt_to.push(to.address.into_owned());
    Ok(Reply::new(250, [2, 1, 5], "Recipient ok"))
}
