//! The MIME structure of a received message reduced to what a report is made of: the top
//! header fields, the human-readable texts, the machine-readable report parts and the quoted
//! original message.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use crate::fields::{self, Field};
use crate::limits;
use crate::report::OriginalMessage;

/// The pieces of one message.
#[derive(Debug, Default)]
pub struct Sections {
    /// The top-level header fields, names in lower case, values raw but unfolded.
    pub headers: Vec<Field>,
    /// The decoded Subject.
    pub subject: String,
    /// The report-type parameter of a multipart/report Content-Type, lower case.
    pub report_type: Option<String>,
    /// Human-readable parts in order (HTML reduced to its text).
    pub texts: Vec<String>,
    /// The bodies of message/delivery-status parts.
    pub delivery_status: Vec<String>,
    /// The body of a message/feedback-report part.
    pub feedback_report: Option<String>,
    /// The attached original message or its headers, when there is one.
    pub original: Option<OriginalMessage>,
}

impl Sections {
    pub fn header(&self, name: &str) -> Option<&str> {
        fields::value(&self.headers, name)
    }
}

/// Parses the message; `None` when mail-parser finds no message at all.
pub fn sections(raw: &[u8]) -> Option<Sections> {
    let message = MessageParser::default().parse(raw)?;
    let header_end = (message.root_part().offset_body as usize).min(raw.len());
    let mut sections = Sections {
        headers: fields::parse(&String::from_utf8_lossy(&raw[..header_end])),
        subject: message.subject().unwrap_or_default().to_owned(),
        ..Sections::default()
    };
    sections.report_type = message
        .content_type()
        .filter(|content_type| content_type.subtype() == Some("report"))
        .and_then(|content_type| content_type.attribute("report-type"))
        .map(str::to_ascii_lowercase);
    for part in message.parts.iter().take(limits::MAX_PARTS) {
        let (kind, subtype) = match part.content_type() {
            Some(content_type) => (
                content_type.ctype().to_ascii_lowercase(),
                content_type
                    .subtype()
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
            ),
            None => ("text".to_owned(), "plain".to_owned()),
        };
        match (&part.body, kind.as_str(), subtype.as_str()) {
            (PartType::Multipart(_), _, _) => {}
            (PartType::Message(original), _, _) => {
                sections
                    .original
                    .get_or_insert_with(|| original_of(original));
            }
            (_, "message" | "text", "delivery-status" | "global-delivery-status") => {
                sections.delivery_status.push(body_text(&part.body));
            }
            (_, "message", "feedback-report") => {
                sections
                    .feedback_report
                    .get_or_insert_with(|| body_text(&part.body));
            }
            (_, "text" | "message", "rfc822-headers" | "rfc822" | "global-headers") => {
                let text = body_text(&part.body);
                sections
                    .original
                    .get_or_insert_with(|| original_from_headers(&text));
            }
            (PartType::Html(html), _, _) => sections.texts.push(strip_html(html)),
            (PartType::Text(text), _, _) => sections.texts.push(text.to_string()),
            _ => {}
        }
    }
    Some(sections)
}

fn body_text(body: &PartType<'_>) -> String {
    match body {
        PartType::Text(text) | PartType::Html(text) => text.to_string(),
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
            String::from_utf8_lossy(bytes).into_owned()
        }
        PartType::Message(message) => String::from_utf8_lossy(&message.raw_message).into_owned(),
        PartType::Multipart(_) => String::new(),
    }
}

/// The identifiers and header fields of an attached message.
fn original_of(message: &Message<'_>) -> OriginalMessage {
    // A nested message's raw bytes may be those of the whole report, with the offsets of its
    // root part counted from there: its header runs from its own offset, not from byte 0.
    let raw = &message.raw_message;
    let root = message.root_part();
    let header_end = (root.offset_body as usize).min(raw.len());
    let header_start = (root.offset_header as usize).min(header_end);
    let mut original =
        original_from_headers(&String::from_utf8_lossy(&raw[header_start..header_end]));
    if let Some(subject) = message.subject() {
        original.subject = Some(subject.to_owned());
    }
    original
}

/// The original message as far as a block of its header fields tells.
pub fn original_from_headers(text: &str) -> OriginalMessage {
    let head = match text.find("\n\n") {
        Some(end) => &text[..end],
        None => text,
    };
    let mut parsed = fields::parse(head);
    parsed.truncate(limits::MAX_ORIGINAL_HEADERS);
    let addresses = |value: &str| -> Vec<String> {
        value
            .split(',')
            .map(fields::bare_address)
            .filter(|address| address.contains('@'))
            .collect()
    };
    OriginalMessage {
        message_id: fields::value(&parsed, "message-id").map(|id| {
            let id = fields::bare_address(id);
            id.trim().to_owned()
        }),
        from: fields::value(&parsed, "from").map(fields::bare_address),
        to: fields::value(&parsed, "to")
            .map(addresses)
            .unwrap_or_default(),
        subject: fields::value(&parsed, "subject").map(str::to_owned),
        headers: parsed
            .into_iter()
            .map(|field| (field.name, field.value))
            .collect(),
    }
}

/// The text of an HTML part: tags dropped, block ends turned into line breaks, the common
/// entities decoded. Enough for reading a diagnostic, not a renderer.
fn strip_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].to_ascii_lowercase();
        let name = tag.trim_start_matches('/');
        if ["br", "p", "div", "tr", "li", "h1", "h2", "h3", "table"]
            .iter()
            .any(|block| name.starts_with(block))
        {
            text.push('\n');
        }
        rest = &rest[open + close + 1..];
    }
    text.push_str(rest);
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
