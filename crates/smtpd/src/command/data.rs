//! DATA: receive the content, hand it to the backend, and only then say 250 (SPEC S9.3).

use crate::backend::{ReceivedEnvelope, SubmitError};
use crate::message::Received;
use crate::reply::Reply;
use crate::session::{PendingMessage, Session, Step, Submission};

impl Session {
    pub(crate) fn data(&mut self) -> Step {
        let Some(transaction) = self.transaction.take() else {
            return self.error(Reply::new(503, [5, 5, 1], "Need MAIL command"));
        };
        if transaction.rcpt_to.is_empty() {
            self.transaction = Some(transaction);
            return self.error(Reply::new(503, [5, 5, 1], "Need RCPT command"));
        }
        let envelope = ReceivedEnvelope {
            mail_from: transaction.mail_from,
            rcpt_to: transaction.rcpt_to,
            peer: self.peer,
            helo: transaction.helo,
            tls: self.tls_active,
        };
        Step::ReceiveMessage {
            reply: Reply::plain(354, vec!["End data with <CR><LF>.<CR><LF>".into()]),
            pending: PendingMessage {
                identity: transaction.identity,
                envelope,
            },
        }
    }

    /// The content was read up to its final `.` line.
    pub(crate) fn message_received(&mut self, pending: PendingMessage, received: Received) -> Step {
        match received {
            Received::Message(message) => match nul_line(&message) {
                // RFC 5322 2.3 and RFC 5321 4.1.1.4 leave NUL out of mail: receivers drop
                // it, cut the message at it or refuse the message, so it is refused here.
                Some(line) => {
                    tracing::info!(line, "message with a NUL byte refused");
                    Step::Reply(Reply::new(
                        550,
                        [5, 6, 0],
                        format!(
                            "The message contains a NUL byte (line {line}), which mail cannot \
                             carry; remove it"
                        ),
                    ))
                }
                None => Step::Submit(Submission {
                    identity: pending.identity,
                    envelope: pending.envelope,
                    message,
                }),
            },
            Received::TooLarge => {
                tracing::info!("message over the size limit discarded");
                Step::Reply(Reply::new(
                    552,
                    [5, 3, 4],
                    "Message size exceeds fixed maximum message size",
                ))
            }
        }
    }

    /// The backend's answer to the submission, which becomes the answer to DATA.
    pub(crate) fn submit_finished(&mut self, result: Result<String, SubmitError>) -> Reply {
        match result {
            Ok(message_id) => {
                tracing::info!(%message_id, "message queued");
                Reply::new(250, [2, 0, 0], format!("Ok: queued as {message_id}"))
            }
            Err(SubmitError::Temporary(error)) => {
                tracing::error!(%error, "message could not be stored");
                Reply::new(451, [4, 3, 0], "Temporary failure, try again later")
            }
            Err(SubmitError::LoginRevoked) => self.end_revoked_login(),
            Err(SubmitError::Permanent(rejection)) => {
                tracing::info!(%rejection, "message rejected by the backend");
                Reply::new(
                    rejection.code(),
                    rejection.enhanced(),
                    rejection.text().to_owned(),
                )
            }
        }
    }
}

/// The line number (from 1) of the first NUL byte in `message`, if it has one.
fn nul_line(message: &[u8]) -> Option<usize> {
    let position = message.iter().position(|&byte| byte == 0)?;
    let line_breaks = message[..position]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count();
    Some(line_breaks + 1)
}
