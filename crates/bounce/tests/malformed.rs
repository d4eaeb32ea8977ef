//! Hostile and broken input: every case ends in an error or a bounded report, never a panic.

use sealpost_bounce::limits::{MAX_INPUT_BYTES, MAX_MESSAGES, MAX_RECIPIENTS};
use sealpost_bounce::{ParseError, Report, parse, parse_mailbox};

const TRUNCATED_REPORT: &str = "From: MAILER-DAEMON@mx.example\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain\r\n\
\r\n\
<a@b.example>: host mx.b.example said: 550 5.1.1 no such user\r\n\
--b1\r\n\
Content-Type: message/delivery-status\r\n\
\r\n\
Reporting-MTA: dns; mx.example\r\n\
\r\n\
Final-Recipient: rfc822; a@b.example\r\n\
Action: failed\r\n\
Status: 5.1";

#[test]
fn empty_input_is_an_error() {
    assert_eq!(parse(b""), Err(ParseError::Empty));
    assert_eq!(parse(b"\r\n \n\t"), Err(ParseError::Empty));
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let huge = vec![b'a'; MAX_INPUT_BYTES + 1];
    assert_eq!(
        parse(&huge),
        Err(ParseError::TooLarge {
            size: MAX_INPUT_BYTES + 1,
            limit: MAX_INPUT_BYTES
        })
    );
}

#[test]
fn a_truncated_multipart_report_still_reads_what_is_there() {
    let Ok(Report::Delivery(report)) = parse(TRUNCATED_REPORT.as_bytes()) else {
        panic!("a truncated report is still a delivery report");
    };
    assert_eq!(report.recipients.len(), 1);
    assert_eq!(report.recipients[0].address.as_deref(), Some("a@b.example"));
    for cut in 0..TRUNCATED_REPORT.len() {
        let _ = parse(&TRUNCATED_REPORT.as_bytes()[..cut]);
    }
}

#[test]
fn garbage_is_not_a_bounce() {
    let mut state: u32 = 0x1234_5678;
    let garbage: Vec<u8> = (0..20_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    let report = parse(&garbage);
    assert!(
        matches!(report, Ok(Report::NotABounce) | Err(_)),
        "{report:?}"
    );
    assert_eq!(parse(b"\x00\xff\xfe"), Ok(Report::NotABounce));
    assert_eq!(
        parse(b"Subject: hello\n\nJust a letter.\n"),
        Ok(Report::NotABounce)
    );
}

#[test]
fn recipients_and_messages_are_bounded() {
    let mut report = String::from(
        "From: MAILER-DAEMON@mx.example\nContent-Type: multipart/report; \
         report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\n\
         Reporting-MTA: dns; mx.example\n",
    );
    for index in 0..2_000 {
        report.push_str(&format!(
            "\nFinal-Recipient: rfc822; user{index}@b.example\nAction: failed\nStatus: 5.1.1\n"
        ));
    }
    report.push_str("--b--\n");
    let Ok(Report::Delivery(delivery)) = parse(report.as_bytes()) else {
        panic!("a report with many recipients is still a report");
    };
    assert_eq!(delivery.recipients.len(), MAX_RECIPIENTS);
    let mbox = "From someone Mon Jan  1 00:00:00 2024\nSubject: x\n\nbody\n\n".repeat(500);
    let reports = parse_mailbox(mbox.as_bytes()).unwrap();
    assert_eq!(reports.len(), MAX_MESSAGES);
}
