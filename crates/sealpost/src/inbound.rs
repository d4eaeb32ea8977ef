//! The platform's inbound SMTP listener wired to the service: anyone may connect, and only two
//! kinds of recipient are accepted. A live mail-tester address (SPEC S7.1): the message is
//! analysed and its report stored before the 250. A return address of a tenant's return-path
//! domain, or the complaints address (SPEC S10.2, S10.3): the bounce or complaint is read and
//! recorded before the 250. Either way an acknowledged message always has its outcome.

use std::sync::Arc;

use sealpost_mail_tester::Received;
use sealpost_service::{Arrival, Intake, Service, ServiceError};
use sealpost_smtpd::{
    BackendError, Identity, Mode, ReceivedEnvelope, Rejection, SmtpdConfig, SubmissionBackend,
    SubmitError,
};

use crate::config::Config;

/// Test messages larger than this are refused: a test needs a representative message, not a
/// large one, and the limit bounds what strangers can make the tester store.
const MAX_TEST_MESSAGE_SIZE: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct CheckerBackend {
    pub service: Service,
}

impl SubmissionBackend for CheckerBackend {
    /// An inbound listener never offers AUTH, so this is never asked; no credentials are valid.
    async fn authenticate(&self, _: &str, _: &str) -> Result<Option<Identity>, BackendError> {
        Ok(None)
    }

    async fn accept_recipient(&self, address: &str) -> Result<bool, BackendError> {
        let tester = self.service.mail_tester();
        if tester
            .accepts_test_recipient(address)
            .await
            .map_err(BackendError::new)?
        {
            return Ok(true);
        }
        self.service
            .feedback()
            .accepts_report_recipient(address)
            .await
            .map_err(BackendError::new)
    }

    async fn submit(
        &self,
        _: Option<&Identity>,
        envelope: ReceivedEnvelope,
        message: Vec<u8>,
    ) -> Result<String, SubmitError> {
        let mut tests = Vec::new();
        let mut reports = Vec::new();
        for recipient in &envelope.rcpt_to {
            match self
                .service
                .mail_tester()
                .accepts_test_recipient(recipient)
                .await
            {
                Ok(true) => tests.push(recipient.clone()),
                Ok(false) => reports.push(recipient.clone()),
                Err(error) => return Err(SubmitError::Temporary(BackendError::new(error))),
            }
        }
        let mut answer = None;
        if !reports.is_empty() {
            let intake = self
                .service
                .feedback()
                .receive_report(&reports, &message)
                .await
                .map_err(|error| SubmitError::Temporary(BackendError::new(error)))?;
            answer = Some(match intake {
                Intake::Recorded { feedback, .. } => format!("{} recorded", feedback.name()),
                Intake::Unsubscribed => "unsubscribe recorded".to_owned(),
                Intake::Ignored(why) => format!("nothing recorded: {why}"),
            });
        }
        if tests.is_empty() {
            return Ok(answer.unwrap_or_default());
        }
        let arrival = Arrival {
            recipients: &tests,
            received: Received {
                message: &message,
                client_ip: envelope.peer.ip(),
                helo: &envelope.helo,
                mail_from: &envelope.mail_from,
            },
        };
        match self
            .service
            .mail_tester()
            .receive_test_message(arrival)
            .await
        {
            Ok(ids) => Ok(ids
                .first()
                .map_or_else(|| "not kept".to_owned(), ToString::to_string)),
            // The address expired between RCPT and the end of DATA.
            Err(ServiceError::NotFound(_)) => Err(SubmitError::Permanent(Rejection::new(
                550,
                [5, 1, 1],
                "No such test address here",
            ))),
            Err(error) => Err(SubmitError::Temporary(BackendError::new(error))),
        }
    }
}

/// The inbound listener's settings: the node's name, STARTTLS with the submission listener's
/// certificate (or a self-signed one in demo mode), and no AUTH.
pub fn smtpd_config(config: &Config, base: &SmtpdConfig) -> Arc<SmtpdConfig> {
    let mut smtpd = SmtpdConfig::new(config.helo_name());
    smtpd.tls = base.tls.clone();
    smtpd.mode = Mode::Inbound;
    smtpd.limits.max_message_size = MAX_TEST_MESSAGE_SIZE;
    smtpd.limits.max_recipients = 10;
    Arc::new(smtpd)
}
