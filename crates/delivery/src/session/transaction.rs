//! One mail transaction on a session (RFC 5321 section 3.3). When the server offers PIPELINING
//! (RFC 2920), the RSET that a reused session starts with, MAIL FROM, every RCPT TO and DATA go
//! out in one write, and the message follows DATA's 354: a transaction costs the receiver two
//! round trips, where it cost three on a new connection and four on a reused one. Every reply
//! is still read and judged in order, so a refused recipient fails alone, and the message itself
//! is only ever sent after a 250 to RSET and a 354 to DATA. Without PIPELINING each command
//! waits for its reply.

use crate::capabilities::Capabilities;
use crate::command::Command;
use crate::data;
use crate::envelope::Envelope;
use crate::outcome::{Cause, Failure, RecipientOutcome, Stage, conclude, failed};
use crate::reply::Reply;

use super::{Session, expect};

/// What a transaction concluded: an outcome for every recipient, or a failure of the
/// transaction as a whole before any recipient got an answer of its own.
type Sent = Result<Vec<RecipientOutcome>, Failure>;

impl Session<'_> {
    /// One mail transaction on a session that carried none before.
    pub(crate) async fn send_mail(
        &mut self,
        capabilities: &Capabilities,
        envelope: &Envelope,
        message: &[u8],
    ) -> Sent {
        self.transaction(capabilities, envelope, message, false)
            .await
            .and_then(|sent| sent)
    }

    /// RSET (RFC 5321 section 4.1.1.5), then one mail transaction, on a session taken from the
    /// pool. `Err` is RSET's failure or refusal: the message was not sent, the session is not
    /// spoken to again, and the caller carries the transaction on a new connection instead.
    pub(crate) async fn reset_and_send_mail(
        &mut self,
        capabilities: &Capabilities,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<Sent, Failure> {
        self.transaction(capabilities, envelope, message, true)
            .await
    }

    /// The transaction, after RSET when `reset`; the outer `Err` only ever comes from RSET. A
    /// message larger than the server's SIZE fails before anything is sent, on a pooled session
    /// as on a new one.
    async fn transaction(
        &mut self,
        capabilities: &Capabilities,
        envelope: &Envelope,
        message: &[u8],
        reset: bool,
    ) -> Result<Sent, Failure> {
        if let Some(limit) = capabilities.size_limit
            && u64::try_from(message.len()).unwrap_or(u64::MAX) > limit
        {
            let cause = Cause::MessageTooLarge {
                size: message.len(),
                limit,
            };
            return Ok(Err(self.record(Failure::new(Stage::MailFrom, cause))));
        }
        let mail = Command::MailFrom {
            reverse_path: envelope.mail_from(),
            size: capabilities.size.then_some(message.len()),
            eight_bit: capabilities.eight_bit_mime && data::is_eight_bit(message),
        };
        if !capabilities.pipelining {
            if reset {
                let reply = self.command(Command::Rset, Stage::MailFrom).await?;
                expect(reply, Stage::MailFrom, |code| code == 250)?;
            }
            return Ok(self.in_lockstep(mail, envelope, message).await);
        }
        let recipients = envelope.recipients();
        let mut batch = Vec::with_capacity(recipients.len() + 3);
        if reset {
            batch.push(Command::Rset);
        }
        batch.push(mail);
        batch.extend(
            recipients
                .iter()
                .map(|recipient| Command::RcptTo(recipient)),
        );
        batch.push(Command::Data);
        let written = self.send(&batch, Stage::MailFrom).await;
        if reset {
            let reset_reply = match written {
                Ok(()) => {
                    self.read_reply(Stage::MailFrom, self.timeouts.command)
                        .await
                }
                Err(failure) => Err(failure),
            };
            if let Err(failure) =
                reset_reply.and_then(|reply| expect(reply, Stage::MailFrom, |code| code == 250))
            {
                // The commands behind RSET may have opened a transaction that only the end of
                // the connection ends cleanly: the session is not spoken to again.
                self.broken = true;
                return Err(failure);
            }
        } else if let Err(failure) = written {
            return Ok(Err(failure));
        }
        Ok(self.pipelined_replies(envelope, message).await)
    }

    /// The replies to MAIL FROM, each RCPT TO and DATA, sent in one write, then the message when
    /// at least one recipient was accepted and DATA was answered 354.
    async fn pipelined_replies(&mut self, envelope: &Envelope, message: &[u8]) -> Sent {
        let recipients = envelope.recipients();
        let limit = self.timeouts.command;
        let mail_reply = self.read_reply(Stage::MailFrom, limit).await?;
        if let Err(failure) = expect(mail_reply, Stage::MailFrom, |code| code == 250) {
            self.skip_replies(recipients.len()).await;
            return Err(failure);
        }
        let mut refusals: Vec<Option<Failure>> = Vec::with_capacity(recipients.len());
        for _ in recipients {
            match self.read_reply(Stage::RcptTo, limit).await {
                Ok(reply) => refusals.push(refusal(reply)),
                Err(failure) => {
                    refusals.resize(recipients.len(), Some(failure.clone()));
                    return Ok(conclude(recipients, &refusals, &Err(failure)));
                }
            }
        }
        let data_reply = self.read_reply(Stage::Data, limit).await;
        if refusals.iter().all(Option::is_some) {
            // RFC 2920 section 3.1: a server may accept DATA even with no recipient; a lone dot
            // then ends the empty message, which has no one to go to.
            if matches!(&data_reply, Ok(reply) if reply.code == 354) {
                self.end_empty_data().await;
            }
            self.note("every recipient was refused, so no message");
            return Ok(refused(recipients, refusals));
        }
        let verdict =
            match data_reply.and_then(|reply| expect(reply, Stage::Data, |code| code == 354)) {
                Ok(_) => self.message(message).await,
                Err(failure) => Err(failure),
            };
        Ok(conclude(recipients, &refusals, &verdict))
    }

    /// The transaction one command at a time, for a server without PIPELINING.
    async fn in_lockstep(
        &mut self,
        mail: Command<'_>,
        envelope: &Envelope,
        message: &[u8],
    ) -> Sent {
        let recipients = envelope.recipients();
        let mail_reply = self.command(mail, Stage::MailFrom).await?;
        expect(mail_reply, Stage::MailFrom, |code| code == 250)?;
        let mut refusals: Vec<Option<Failure>> = Vec::with_capacity(recipients.len());
        for recipient in recipients {
            match self
                .command(Command::RcptTo(recipient), Stage::RcptTo)
                .await
            {
                Ok(reply) => refusals.push(refusal(reply)),
                Err(failure) => {
                    refusals.resize(recipients.len(), Some(failure.clone()));
                    return Ok(conclude(recipients, &refusals, &Err(failure)));
                }
            }
        }
        if refusals.iter().all(Option::is_some) {
            self.note("every recipient was refused, so no message");
            return Ok(refused(recipients, refusals));
        }
        let verdict = match self.command(Command::Data, Stage::Data).await {
            Ok(reply) => match expect(reply, Stage::Data, |code| code == 354) {
                Ok(_) => self.message(message).await,
                Err(failure) => Err(failure),
            },
            Err(failure) => Err(failure),
        };
        Ok(conclude(recipients, &refusals, &verdict))
    }

    /// The dot-stuffed message after DATA's 354, and the reply to its end, which holds for every
    /// accepted recipient.
    async fn message(&mut self, message: &[u8]) -> Result<Reply, Failure> {
        let wire = data::dot_stuff(message);
        self.transcript
            .note(format!("message of {} bytes", message.len()));
        for chunk in wire.chunks(super::WRITE_CHUNK) {
            self.write(chunk, Stage::Data).await?;
        }
        self.transcript.client(".");
        self.unanswered += 1;
        let reply = self.read_reply(Stage::Data, self.timeouts.data_end).await?;
        expect(reply, Stage::Data, |code| code == 250)
    }

    /// Reads the replies to the recipients and DATA of a transaction whose MAIL FROM was
    /// refused, so that QUIT is not taken for the message by a server that accepted DATA
    /// regardless; such a DATA is ended with a lone dot.
    async fn skip_replies(&mut self, recipients: usize) {
        // A failure to read them belongs to the refused MAIL FROM, not to a later stage.
        let limit = self.timeouts.command;
        for _ in 0..recipients {
            if self.read_reply(Stage::MailFrom, limit).await.is_err() {
                return;
            }
        }
        if let Ok(reply) = self.read_reply(Stage::MailFrom, limit).await
            && reply.code == 354
        {
            self.end_empty_data().await;
        }
    }

    /// Ends the data of a transaction without recipients with its terminating dot alone. What
    /// the server answers changes nothing: no one was to receive it.
    async fn end_empty_data(&mut self) {
        self.transcript.client(".");
        if self.write(b".\r\n", Stage::Data).await.is_ok() {
            self.unanswered += 1;
            let _ = self.read_reply(Stage::Data, self.timeouts.command).await;
        }
    }
}

/// A recipient's refusal in the reply to its RCPT TO, or `None` when it was accepted: 250, or
/// 251 "user not local; will forward".
fn refusal(reply: Reply) -> Option<Failure> {
    (!reply.is_positive()).then(|| Failure::new(Stage::RcptTo, Cause::Reply(reply)))
}

/// The outcomes of a transaction in which every recipient was refused: each keeps its refusal.
fn refused(recipients: &[String], refusals: Vec<Option<Failure>>) -> Vec<RecipientOutcome> {
    // Every entry is a refusal, so flattening keeps one per recipient.
    recipients
        .iter()
        .zip(refusals.into_iter().flatten())
        .map(|(recipient, failure)| failed(recipient, failure))
        .collect()
}
