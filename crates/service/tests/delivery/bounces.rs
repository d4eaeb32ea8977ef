//! A bounce from a real MTA closes the loop (SPEC S10.2): Postfix on loopback accepts mail for
//! gone@receiver.test with 250 and then fails its delivery, as a mailbox removed after the
//! receiver accepted does; Postfix's own DSN goes to the VERP return address over SMTP, to an
//! inbound listener that reads it with the service; the recipient, `sent` before, ends
//! `bounced`, its address is suppressed with the DSN's status, and the next message to it ends
//! `suppressed` without an attempt. The other recipient of the same message stays `sent`.
//! Then a feedback-loop complaint (ARF) about the mail that arrived, quoting the message as it
//! lies in Postfix's mailbox, is matched through the Return-Path there: `complained`, suppressed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sealpost_dnsauth::report::PlatformSpf;
use sealpost_domain::{DomainName, EmailAddress, Feedback, RecipientState, SuppressionReason};
use sealpost_service::{Intake, Service};
use sealpost_smtpd::{
    BackendError, Identity, Mode, ReceivedEnvelope, SmtpdConfig, SubmissionBackend, SubmitError,
};
use sealpost_store::{Store, testing};
use tokio_util::sync::CancellationToken;

use crate::postfix::Postfix;
use crate::{return_path, support};

/// The inbound listener's part for reports, as the binary wires it: return addresses only.
struct Reports {
    service: Service,
    received: tokio::sync::mpsc::UnboundedSender<Intake>,
}

impl SubmissionBackend for Reports {
    async fn authenticate(&self, _: &str, _: &str) -> Result<Option<Identity>, BackendError> {
        Ok(None)
    }

    async fn accept_recipient(&self, address: &str) -> Result<bool, BackendError> {
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
        let intake = self
            .service
            .feedback()
            .receive_report(&envelope.rcpt_to, &message)
            .await
            .map_err(|error| SubmitError::Temporary(BackendError::new(error)))?;
        let _ = self.received.send(intake);
        Ok("recorded".to_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postfix_dsn_after_250_bounces_and_suppresses_the_recipient() {
    let dns = return_path::dns(true).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let inbound_port = listener.local_addr().unwrap().port();
    let postfix = Postfix::start_with_bounces(Some(inbound_port));

    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let (service, delivery, tenant) = support::signing_service(store, &dns, postfix.port).await;
    let service = service
        .with_platform(Some(PlatformSpf {
            include_host: "_spf.platform.test".to_owned(),
            networks: vec!["127.0.0.1".parse().unwrap()],
        }))
        .with_inbound_host(Some(DomainName::parse("inbound.platform.test").unwrap()))
        .with_complaints_address(Some(
            EmailAddress::parse("fbl@inbound.platform.test").unwrap(),
        ));
    let feedback = service.feedback();
    feedback
        .set_return_path(tenant, "client.test", "bounces.client.test")
        .await
        .unwrap();
    let check = feedback
        .check_return_path(tenant, "client.test")
        .await
        .unwrap();
    assert!(check.return_path.verified_at.is_some(), "{check:?}");

    let (received, mut intakes) = tokio::sync::mpsc::unbounded_channel();
    let mut smtpd = SmtpdConfig::new("inbound.platform.test");
    smtpd.mode = Mode::Inbound;
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(sealpost_smtpd::serve(
        listener,
        Arc::new(smtpd),
        Arc::new(Reports {
            service: service.clone(),
            received,
        }),
        shutdown.clone(),
    ));

    let accepted = service
        .submissions()
        .submit(
            tenant,
            support::work_order(&["ok@receiver.test", "gone@receiver.test"]),
        )
        .await
        .unwrap();
    assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 2);
    let state_of = |message: &sealpost_domain::QueuedMessage, address: &str| {
        let recipient = message
            .recipients
            .iter()
            .find(|recipient| recipient.address == address)
            .unwrap();
        (
            recipient.state,
            recipient.last_reply.clone().unwrap_or_default(),
        )
    };
    let message = service
        .messages()
        .message(tenant, accepted.id)
        .await
        .unwrap();
    assert_eq!(
        state_of(&message, "gone@receiver.test").0,
        RecipientState::Sent,
        "Postfix accepts the mailbox at RCPT\n{}",
        postfix.log()
    );

    // Postfix bounces asynchronously; its DSN reaches the listener within seconds.
    let intake = tokio::time::timeout(Duration::from_secs(30), intakes.recv())
        .await
        .unwrap_or_else(|_| panic!("no DSN arrived within 30 s\n{}", postfix.log()))
        .unwrap();
    assert!(
        matches!(
            intake,
            Intake::Recorded {
                state: RecipientState::Bounced,
                ..
            }
        ),
        "{intake:?}"
    );
    let message = service
        .messages()
        .message(tenant, accepted.id)
        .await
        .unwrap();
    let (state, reply) = state_of(&message, "gone@receiver.test");
    assert_eq!(state, RecipientState::Bounced);
    assert!(
        reply.contains("5.1.1") && reply.contains("mx.receiver.test"),
        "{reply}"
    );
    assert_eq!(
        state_of(&message, "ok@receiver.test").0,
        RecipientState::Sent
    );
    let entry = feedback
        .find_suppression(tenant, "gone@receiver.test")
        .await
        .unwrap();
    assert_eq!(entry.reason, SuppressionReason::HardBounce);
    assert_eq!(entry.message_id, Some(accepted.id));
    assert!(entry.detail.contains("5.1.1"), "{entry:?}");

    // The next message to the dead address is not attempted.
    let next = service
        .submissions()
        .submit(tenant, support::work_order(&["gone@receiver.test"]))
        .await
        .unwrap();
    let next = service.messages().message(tenant, next.id).await.unwrap();
    assert_eq!(
        state_of(&next, "gone@receiver.test").0,
        RecipientState::Suppressed
    );
    let started = Instant::now();
    assert_eq!(delivery.deliver_due("node-test").await.unwrap(), 0);
    assert!(started.elapsed() < Duration::from_secs(5));

    // A complaint about the message that arrived, sent by a feedback loop to the complaints
    // address, quoting it with the Return-Path the receiver wrote.
    assert!(
        feedback
            .accepts_report_recipient("FBL@inbound.platform.test")
            .await
            .unwrap()
    );
    assert!(
        !feedback
            .accepts_report_recipient("postmaster@inbound.platform.test")
            .await
            .unwrap()
    );
    let arrived = String::from_utf8(postfix.wait_for_message("ok").await).unwrap();
    assert!(arrived.starts_with("Return-Path: <b-"), "{arrived}");
    let complaint = arf(&arrived);
    let intake = feedback
        .receive_report(
            &["fbl@inbound.platform.test".to_owned()],
            complaint.as_bytes(),
        )
        .await
        .unwrap();
    assert!(
        matches!(
            intake,
            Intake::Recorded {
                feedback: Feedback::Complaint,
                state: RecipientState::Complained,
                ..
            }
        ),
        "{intake:?}"
    );
    let entry = feedback
        .find_suppression(tenant, "ok@receiver.test")
        .await
        .unwrap();
    assert_eq!(entry.reason, SuppressionReason::Complaint);
    // A report that names no message of ours changes nothing.
    let stranger = arf(&arrived.replace("Return-Path: <b-", "Return-Path: <x-"));
    let intake = feedback
        .receive_report(
            &["fbl@inbound.platform.test".to_owned()],
            stranger.as_bytes(),
        )
        .await
        .unwrap();
    assert!(matches!(intake, Intake::Ignored(_)), "{intake:?}");

    shutdown.cancel();
    server.await.unwrap();
    drop(postfix);
}

/// An abuse report in the format of RFC 5965 (its section B.1 example), quoting `original`.
fn arf(original: &str) -> String {
    format!(
        "From: <abusedesk@receiver.test>\r\n\
         To: <fbl@inbound.platform.test>\r\n\
         Subject: FW: Work order 4711\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=feedback-report;\r\n\
         \tboundary=\"part1_13d.2e68ed54_boundary\"\r\n\
         \r\n\
         --part1_13d.2e68ed54_boundary\r\n\
         Content-Type: text/plain; charset=\"US-ASCII\"\r\n\
         \r\n\
         This is an email abuse report for an email message received from IP 127.0.0.1.\r\n\
         \r\n\
         --part1_13d.2e68ed54_boundary\r\n\
         Content-Type: message/feedback-report\r\n\
         \r\n\
         Feedback-Type: abuse\r\n\
         User-Agent: SomeGenerator/1.0\r\n\
         Version: 1\r\n\
         \r\n\
         --part1_13d.2e68ed54_boundary\r\n\
         Content-Type: message/rfc822\r\n\
         Content-Disposition: inline\r\n\
         \r\n\
         {}\r\n\
         --part1_13d.2e68ed54_boundary--\r\n",
        original.replace('\n', "\r\n")
    )
}
