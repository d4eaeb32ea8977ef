//! MAIL FROM: starts a transaction, on a submission listener for an authenticated client with
//! a real sender whose credentials the backend still grants, on an inbound listener for anyone.

use std::borrow::Cow;

use smtp_proto::{
    MAIL_BODY_BINARYMIME, MAIL_BY_NOTIFY, MAIL_BY_RETURN, MAIL_BY_TRACE, MAIL_CONPERM,
    MAIL_REQUIRETLS, MAIL_RET_FULL, MAIL_RET_HDRS, MAIL_SMTPUTF8, MailFrom,
};

use crate::address::parse_mailbox;
use crate::backend::{BackendError, Identity};
use crate::config::Mode;
use crate::reply::Reply;
use crate::session::{Session, Step, Transaction};

impl Session {
    pub(crate) fn mail(&mut self, from: MailFrom<Cow<'_, str>>) -> Step {
        let Some(helo) = self.greeted.as_ref().map(|greeted| greeted.name.clone()) else {
            return self.error(Reply::new(503, [5, 5, 1], "Send EHLO or HELO first"));
        };
        // Never an open relay (SPEC S8.2): a submission listener accepts nothing from a client
        // that has not proved which tenant it sends for. An inbound listener takes mail from
        // anyone, and RCPT keeps it to this host's own mailboxes.
        let identity = self.login.as_ref().map(|login| login.identity.clone());
        if identity.is_none() && self.config.mode == Mode::Submission {
            return self.error(Reply::new(530, [5, 7, 0], "Authentication required"));
        }
        if self.transaction.is_some() {
            return self.error(Reply::new(503, [5, 5, 1], "Nested MAIL command"));
        }
        if let Some(parameter) = unsupported_parameter(&from) {
            return self.error(Reply::new(
                555,
                [5, 5, 4],
                format!("Unsupported parameter {parameter}"),
            ));
        }
        if from.size > self.config.limits.max_message_size {
            return Step::Reply(Reply::new(
                552,
                [5, 3, 4],
                "Message size exceeds fixed maximum message size",
            ));
        }
        // The null sender is for bounces (RFC 5321 4.5.5). An application submitting mail for
        // a tenant always has a sender, and a message without one could not bounce back to it;
        // an inbound listener must accept it like any receiving MTA.
        if from.address.is_empty() && self.config.mode == Mode::Inbound {
            self.transaction = Some(Transaction {
                identity,
                helo,
                mail_from: String::new(),
                rcpt_to: Vec::new(),
            });
            return Step::Reply(sender_ok());
        }
        if from.address.is_empty() {
            return Step::Reply(Reply::new(
                550,
                [5, 7, 1],
                "Null sender not allowed for submission, give the sender address",
            ));
        }
        let mail_from = match parse_mailbox(&from.address) {
            Ok(address) => address,
            Err(problem) => {
                return self.error(Reply::new(
                    501,
                    [5, 1, 7],
                    format!("Bad sender address syntax: {problem}"),
                ));
            }
        };
        let transaction = Transaction {
            identity,
            helo,
            mail_from: mail_from.to_string(),
            rcpt_to: Vec::new(),
        };
        // Credentials can be revoked while a session is open; each transaction asks the backend
        // again (which may answer from memory and confirm them with the message instead), so a
        // revoked API key sends nothing more.
        match &self.login {
            Some(login) => Step::RecheckLogin {
                transaction,
                credentials: login.credentials.clone(),
            },
            None => {
                self.transaction = Some(transaction);
                Step::Reply(sender_ok())
            }
        }
    }

    /// The backend's second look at the login's credentials before `transaction` begins. A
    /// refusal ends the login, and the client must authenticate again.
    pub(crate) fn login_rechecked(
        &mut self,
        transaction: Transaction,
        checked: Result<Option<Identity>, BackendError>,
    ) -> Step {
        let current = self.login.as_ref().map(|login| &login.identity);
        match checked {
            Ok(Some(identity)) if Some(&identity) == current => {
                self.transaction = Some(transaction);
                Step::Reply(sender_ok())
            }
            Ok(_) => Step::Reply(self.end_revoked_login()),
            Err(error) => {
                tracing::error!(%error, "credentials could not be checked again");
                Step::Reply(Reply::new(
                    454,
                    [4, 7, 0],
                    "Temporary authentication failure, try again later",
                ))
            }
        }
    }
}

fn sender_ok() -> Reply {
    Reply::new(250, [2, 1, 0], "Sender ok")
}

/// The first MAIL parameter of an extension that is not advertised (RFC 5321 4.1.1.11: 555).
/// SIZE and BODY=7BIT/8BITMIME are offered; AUTH= (RFC 4954 5) is accepted and ignored, as
/// the identity comes from this session's own AUTH.
fn unsupported_parameter(from: &MailFrom<Cow<'_, str>>) -> Option<&'static str> {
    let flags = [
        (MAIL_BODY_BINARYMIME, "BODY=BINARYMIME"),
        (MAIL_SMTPUTF8, "SMTPUTF8"),
        (MAIL_RET_FULL | MAIL_RET_HDRS, "RET"),
        (MAIL_REQUIRETLS, "REQUIRETLS"),
        (MAIL_CONPERM, "CONPERM"),
        (MAIL_BY_NOTIFY | MAIL_BY_RETURN | MAIL_BY_TRACE, "BY"),
    ];
    if let Some((_, name)) = flags.iter().find(|(flag, _)| from.flags & flag != 0) {
        return Some(name);
    }
    let others = [
        (from.env_id.is_some(), "ENVID"),
        (from.trans_id.is_some(), "TRANSID"),
        (from.solicit.is_some(), "SOLICIT"),
        (from.mtrk.is_some(), "MTRK"),
        (from.hold_for != 0, "HOLDFOR"),
        (from.hold_until != 0, "HOLDUNTIL"),
        (from.mt_priority != 0, "MT-PRIORITY"),
    ];
    others
        .iter()
        .find(|(present, _)| *present)
        .map(|(_, name)| *name)
}
