//! RCPT TO: adds a recipient to the transaction, up to the limit; on an inbound listener only
//! once the backend has said the mailbox exists here.

use std::borrow::Cow;

use smtp_proto::RcptTo;

use crate::address::parse_mailbox;
use crate::backend::BackendError;
use crate::config::Mode;
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
        match check_recipient(transaction, to, max_recipients) {
            Ok(address) if self.config.mode == Mode::Inbound => Step::CheckRecipient(address),
            Ok(address) => {
                transaction.rcpt_to.push(address);
                Step::Reply(accepted())
            }
            Err(Refused::Limit(reply)) => Step::Reply(reply),
            Err(Refused::Protocol(reply)) => self.error(reply),
        }
    }

    /// The backend's answer on an inbound listener's recipient. A refusal is not counted as a
    /// protocol error: the client did nothing wrong by asking.
    pub(crate) fn recipient_checked(
        &mut self,
        address: String,
        answer: Result<bool, BackendError>,
    ) -> Step {
        match (answer, self.transaction.as_mut()) {
            (Ok(true), Some(transaction)) => {
                transaction.rcpt_to.push(address);
                Step::Reply(accepted())
            }
            (Ok(true), None) => self.error(Reply::new(503, [5, 5, 1], "Need MAIL before RCPT")),
            (Ok(false), _) => {
                tracing::info!(recipient = %address, "recipient refused: no such mailbox here");
                Step::Reply(Reply::new(
                    550,
                    [5, 1, 1],
                    format!("<{address}>: no such mailbox here, and this host relays nothing"),
                ))
            }
            (Err(error), _) => {
                tracing::error!(%error, "recipient could not be checked");
                Step::Reply(Reply::new(
                    451,
                    [4, 3, 0],
                    "Recipient cannot be checked now, try again later",
                ))
            }
        }
    }
}

fn accepted() -> Reply {
    Reply::new(250, [2, 1, 5], "Recipient ok")
}

/// The recipient's address when the command is well formed and within the limit.
fn check_recipient(
    transaction: &Transaction,
    to: RcptTo<Cow<'_, str>>,
    max_recipients: usize,
) -> Result<String, Refused> {
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
    let parsed = match to.address.is_empty() {
        true => Err("a domain is required".to_owned()),
        false => parse_mailbox(&to.address).map_err(|problem| problem.to_string()),
    };
    let address = match parsed {
        Ok(address) => address,
        Err(problem) => {
            return Err(Refused::Protocol(Reply::new(
                501,
                [5, 1, 3],
                format!("Bad recipient address syntax: {problem}"),
            )));
        }
    };
    // RFC 5321 4.5.3.1.10: 452 for too many recipients, so the client sends the rest in
    // another transaction.
    if transaction.rcpt_to.len() >= max_recipients {
        return Err(Refused::Limit(Reply::new(
            452,
            [4, 5, 3],
            "Too many recipients",
        )));
    }
    Ok(address.to_string())
}
