//! `sealpost bounce parse FILE`: what a returned message is, offline, so a support person can
//! ask "what is this bounce?": each recipient with its status, reply code, reason and whether
//! the address is dead (hard) or may work again (soft); or a complaint, an automatic reply, or
//! not a bounce at all.

use std::path::PathBuf;

use sealpost_bounce::{Complaint, DeliveryReport, Recipient, Report};
use serde_json::{Value, json};

use crate::output::Output;

#[derive(Debug, clap::Subcommand)]
pub enum BounceCommand {
    /// Classify one received message (or an mbox file of several): recipients, status, reply
    /// code, reason, hard or soft; or "not a bounce".
    Parse {
        /// The message file, or - for standard input.
        file: PathBuf,
    },
}

pub fn bounce(command: BounceCommand, output: Output) -> anyhow::Result<()> {
    match command {
        BounceCommand::Parse { file } => {
            let input = super::read_input(&file)?;
            let reports = sealpost_bounce::parse_mailbox(&input)
                .map_err(|error| crate::InputError(format!("{}: {error}", file.display())))?;
            let views: Vec<Value> = reports.iter().map(report_json).collect();
            output.print(&json!({ "reports": views }), || {
                reports
                    .iter()
                    .map(report_text)
                    .collect::<Vec<_>>()
                    .join("\n\n")
            });
            Ok(())
        }
    }
}

fn report_json(report: &Report) -> Value {
    match report {
        Report::NotABounce => json!({ "kind": "not_a_bounce" }),
        Report::Delivery(delivery) => json!({
            "kind": "delivery",
            "recipients": delivery.recipients.iter().map(recipient_json).collect::<Vec<_>>(),
            "original_message_id": delivery.original.message_id,
        }),
        Report::Complaint(complaint) => json!({
            "kind": "complaint",
            "feedback_type": complaint.feedback_type.name(),
            "recipients": complaint.original_rcpt_to,
            "original_mail_from": complaint.original_mail_from,
            "original_message_id": complaint.original.message_id,
            "user_agent": complaint.user_agent,
            "source_ip": complaint.source_ip,
        }),
        Report::AutoReply(reply) => json!({
            "kind": "auto_reply",
            "from": reply.from,
            "subject": reply.subject,
        }),
    }
}

fn recipient_json(recipient: &Recipient) -> Value {
    json!({
        "address": recipient.address,
        "status": recipient.status.map(|status| status.to_string()),
        "reply_code": recipient.reply_code.map(|code| code.value()),
        "class": class_name(recipient),
        "reason": recipient.reason.name(),
        "hard": recipient.is_hard(),
        "action": recipient.action.map(|action| action.name()),
        "diagnostic": recipient.diagnostic,
        "reporting_mta": recipient.reporting_mta,
        "remote_mta": recipient.remote_mta,
    })
}

fn class_name(recipient: &Recipient) -> &'static str {
    match recipient.class {
        sealpost_bounce::Class::Success => "success",
        sealpost_bounce::Class::Transient => "temporary",
        sealpost_bounce::Class::Permanent => "permanent",
    }
}

fn report_text(report: &Report) -> String {
    match report {
        Report::NotABounce => "not a bounce".to_owned(),
        Report::Delivery(delivery) => delivery_text(delivery),
        Report::Complaint(complaint) => complaint_text(complaint),
        Report::AutoReply(reply) => format!(
            "automatic reply from {} (not a failure)",
            reply.from.as_deref().unwrap_or("an unnamed sender")
        ),
    }
}

fn delivery_text(delivery: &DeliveryReport) -> String {
    let count = delivery.recipients.len();
    let mut text = format!(
        "delivery report, {count} recipient{}:",
        if count == 1 { "" } else { "s" }
    );
    for recipient in &delivery.recipients {
        let status = recipient.status.map(|status| status.to_string());
        let reply = recipient.reply_code.map(|code| code.to_string());
        let verdict = match (recipient.reason, recipient.is_hard()) {
            (sealpost_bounce::Reason::Delivered, _) => "delivered",
            (_, true) => "hard",
            (_, false) => "soft",
        };
        text.push_str(&format!(
            "\n  {}\n    status: {} ({})\n    reply code: {}\n    reason: {} ({verdict})",
            recipient
                .address
                .as_deref()
                .unwrap_or("(address not given)"),
            status.as_deref().unwrap_or("none"),
            class_name(recipient),
            reply.as_deref().unwrap_or("none"),
            recipient.reason,
        ));
        if !recipient.diagnostic.is_empty() {
            text.push_str(&format!("\n    diagnostic: {}", recipient.diagnostic));
        }
    }
    text
}

fn complaint_text(complaint: &Complaint) -> String {
    let recipients = match complaint.original_rcpt_to.is_empty() {
        true => "(recipient not given)".to_owned(),
        false => complaint.original_rcpt_to.join(", "),
    };
    let mut text = format!(
        "complaint ({}) from {recipients}",
        complaint.feedback_type.name()
    );
    if let Some(id) = &complaint.original.message_id {
        text.push_str(&format!("\n  original Message-ID: {id}"));
    }
    text
}
