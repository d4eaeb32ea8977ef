//! Building an RFC 5322 message from the fields an application sends as JSON (SPEC S8.1): the
//! headers folded and with non-ASCII text encoded (RFC 2047, `header`), mailboxes checked
//! (`mailbox`), text and HTML as base64 alternatives, attachments as base64 parts. Header
//! injection is impossible by construction: every value that goes into a header is refused if
//! it contains a line break or another control character, and every error names the request
//! field at fault. No line of the result is longer than 998 octets.

mod content_type;
mod header;
mod mailbox;

use base64::Engine as _;
use sealpost_domain::limits::message::MAX_LINE_OCTETS;
use sealpost_domain::limits::text::MAX_LABEL_CHARS;

use self::content_type::ContentType;
use self::header::Field;
use self::mailbox::NameAddr;

/// A message as an application describes it.
#[derive(Debug, Clone, Default)]
pub struct Composition {
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    /// Extra headers, such as `X-Work-Order: 4711`; names must be `X-` headers or
    /// `List-Unsubscribe` headers, so that nothing Sealpost sets can be overridden.
    pub headers: Vec<(String, String)>,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Why a composition was refused, with the request field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}")]
pub struct ComposeError {
    field: ComposeField,
    problem: Problem,
}

impl ComposeError {
    /// The request field at fault, named as the client sent it (`from`, `reply_to`, ...).
    pub fn field(&self) -> &'static str {
        self.field.as_str()
    }
}

/// The fields of a composition, as the API names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ComposeField {
    From,
    To,
    Cc,
    ReplyTo,
    Subject,
    Text,
    Html,
    Headers,
    Attachments,
}

impl ComposeField {
    fn as_str(self) -> &'static str {
        match self {
            Self::From => "from",
            Self::To => "to",
            Self::Cc => "cc",
            Self::ReplyTo => "reply_to",
            Self::Subject => "subject",
            Self::Text => "text",
            Self::Html => "html",
            Self::Headers => "headers",
            Self::Attachments => "attachments",
        }
    }

    fn refuse(self, problem: Problem) -> ComposeError {
        ComposeError {
            field: self,
            problem,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Problem {
    #[error("contains a line break, which would let it add headers")]
    LineBreak,
    #[error("contains the control character U+{0:04X}; only TAB is allowed")]
    ControlCharacter(u32),
    #[error("{0}")]
    Address(String),
    #[error("\"{0}\" is not a mailbox: write address@domain or Name <address@domain>")]
    NotAMailbox(String),
    #[error("the display name is longer than {max} characters", max = MAX_LABEL_CHARS)]
    DisplayNameTooLong,
    #[error(
        "the display name holds \"{0}\", which is not an RFC 2047 encoded word \
         (=?charset?B?text?= or =?charset?Q?text?=, at most 75 characters): send the name \
         as plain text and Sealpost encodes it"
    )]
    EncodedWord(String),
    #[error("the message needs a text or an HTML body")]
    NoBody,
    #[error("the header name {0:?} may not be set: use X- headers or List-Unsubscribe")]
    ForbiddenHeader(String),
    #[error("the header name {0:?} is not a valid header name (letters, digits and hyphens)")]
    InvalidHeaderName(String),
    #[error("the header name {0:?} is longer than {max} characters", max = MAX_HEADER_NAME)]
    HeaderNameTooLong(String),
    #[error("the {0} header must be ASCII: percent-encode its URLs (RFC 3986)")]
    NotAscii(String),
    #[error(
        "the attachment {0:?} has an invalid content type: write type/subtype, optionally \
         with parameters such as text/plain; charset=\"utf-8\" (RFC 2045)"
    )]
    InvalidContentType(String),
    #[error("{0} does not fit in a line of {max} characters, even folded", max = MAX_LINE_OCTETS)]
    LineTooLong(String),
}

/// The longest extra header name: with its colon and a space it fits a 78-character line
/// (RFC 5322 2.1.1), and no real header name comes near it.
const MAX_HEADER_NAME: usize = 76;

/// Refuses line breaks (header injection) and every other control character but TAB (NUL and
/// friends are stored and sent otherwise, and receivers treat them differently).
fn plain_text(field: ComposeField, value: &str) -> Result<(), ComposeError> {
    if value.contains(['\r', '\n']) {
        return Err(field.refuse(Problem::LineBreak));
    }
    match value.chars().find(|&c| c.is_control() && c != '\t') {
        Some(control) => Err(field.refuse(Problem::ControlCharacter(control.into()))),
        None => Ok(()),
    }
}

fn mailboxes(field: ComposeField, texts: &[String]) -> Result<Vec<NameAddr>, ComposeError> {
    texts
        .iter()
        .map(|text| {
            plain_text(field, text)?;
            mailbox::parse(text).map_err(|problem| field.refuse(problem))
        })
        .collect()
}

/// Finishes a header field, refusing it when a line stays over the limit after folding.
fn finish(
    field: Field,
    at_fault: ComposeField,
    what: impl FnOnce() -> String,
) -> Result<String, ComposeError> {
    match field.longest_line() > MAX_LINE_OCTETS {
        true => Err(at_fault.refuse(Problem::LineTooLong(what()))),
        false => Ok(field.finish()),
    }
}

fn base64_lines(content: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(content);
    let mut lines = String::with_capacity(encoded.len() + encoded.len() / 38);
    for chunk in encoded.as_bytes().chunks(76) {
        lines.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        lines.push_str("\r\n");
    }
    lines
}

/// A text part in base64, which keeps every line short (however long the application's lines
/// are) and every byte intact.
fn text_part(content_type: &str, body: &str) -> String {
    format!(
        "Content-Type: {content_type}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
        base64_lines(body.as_bytes())
    )
}

fn boundary() -> String {
    let mut bytes = [0u8; 12];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator works");
    format!("sealpost-{}", hex::encode(bytes))
}

/// The message as CRLF bytes, without Date and Message-ID (signing adds them when missing).
pub fn compose(message: &Composition) -> Result<Vec<u8>, ComposeError> {
    let mut head = address_fields(message)?;
    plain_text(ComposeField::Subject, &message.subject)?;
    let mut subject = Field::new("Subject");
    header::unstructured(&mut subject, &message.subject);
    head.push_str(&finish(subject, ComposeField::Subject, || {
        "the subject".to_owned()
    })?);
    for (name, value) in &message.headers {
        head.push_str(&extra_field(name, value)?);
    }
    head.push_str("MIME-Version: 1.0\r\n");

    for (field, body) in [
        (ComposeField::Text, &message.text),
        (ComposeField::Html, &message.html),
    ] {
        // NUL is never text (RFC 2045 2.7); it survives base64 but not what reads it after.
        if body.as_deref().is_some_and(|body| body.contains('\0')) {
            return Err(field.refuse(Problem::ControlCharacter(0)));
        }
    }
    let body = match (&message.text, &message.html) {
        (None, None) => return Err(ComposeField::Text.refuse(Problem::NoBody)),
        (Some(text), None) => text_part("text/plain", text),
        (None, Some(html)) => text_part("text/html", html),
        (Some(text), Some(html)) => {
            let boundary = boundary();
            format!(
                "Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n\
                 --{boundary}\r\n{}--{boundary}\r\n{}--{boundary}--\r\n",
                text_part("text/plain", text),
                text_part("text/html", html),
            )
        }
    };
    let body = if message.attachments.is_empty() {
        body
    } else {
        let boundary = boundary();
        let mut mixed = format!(
            "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n{body}"
        );
        for attachment in &message.attachments {
            mixed.push_str(&format!(
                "--{boundary}\r\n{}Content-Transfer-Encoding: base64\r\n\r\n{}",
                attachment_fields(attachment)?,
                base64_lines(&attachment.content)
            ));
        }
        mixed.push_str(&format!("--{boundary}--\r\n"));
        mixed
    };
    head.push_str(&body);
    Ok(head.into_bytes())
}

/// From, To, Cc and Reply-To, each mailbox checked.
fn address_fields(message: &Composition) -> Result<String, ComposeError> {
    let from = mailboxes(ComposeField::From, std::slice::from_ref(&message.from))?;
    let to = mailboxes(ComposeField::To, &message.to)?;
    let cc = mailboxes(ComposeField::Cc, &message.cc)?;
    let reply_to = mailboxes(ComposeField::ReplyTo, message.reply_to.as_slice())?;
    let mut head = String::new();
    for (name, list, at_fault) in [
        ("From", from, ComposeField::From),
        ("To", to, ComposeField::To),
        ("Cc", cc, ComposeField::Cc),
        ("Reply-To", reply_to, ComposeField::ReplyTo),
    ] {
        if list.is_empty() {
            continue;
        }
        let mut field = Field::new(name);
        mailbox::write_list(&mut field, &list);
        head.push_str(&finish(field, at_fault, || "an address".to_owned())?);
    }
    Ok(head)
}

/// An extra header: an `X-` header's value is unstructured text (encoded when it must be); a
/// List-Unsubscribe value is a list of URLs, which only fold at their whitespace.
fn extra_field(name: &str, value: &str) -> Result<String, ComposeError> {
    let at_fault = ComposeField::Headers;
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    if !valid {
        return Err(at_fault.refuse(Problem::InvalidHeaderName(name.to_owned())));
    }
    if name.len() > MAX_HEADER_NAME {
        return Err(at_fault.refuse(Problem::HeaderNameTooLong(name.to_owned())));
    }
    let lower = name.to_ascii_lowercase();
    let structured = lower.starts_with("list-unsubscribe");
    if !(lower.starts_with("x-") || structured) {
        return Err(at_fault.refuse(Problem::ForbiddenHeader(name.to_owned())));
    }
    plain_text(at_fault, value)?;
    let mut field = Field::new(name);
    match structured {
        true if !value.is_ascii() => {
            return Err(at_fault.refuse(Problem::NotAscii(name.to_owned())));
        }
        true => header::words(&mut field, value),
        false => header::unstructured(&mut field, value),
    }
    finish(field, at_fault, || format!("the {name} header"))
}

/// The Content-Type and Content-Disposition of an attachment. The file name goes in a quoted
/// string when it is ASCII and as an RFC 2231 extended value (`filename*=UTF-8''...`) when not,
/// which is the standard way and never needs an encoded word inside quotes.
fn attachment_fields(attachment: &Attachment) -> Result<String, ComposeError> {
    let at_fault = ComposeField::Attachments;
    plain_text(at_fault, &attachment.filename)?;
    let content_type = ContentType::parse(&attachment.content_type).ok_or_else(|| {
        at_fault.refuse(Problem::InvalidContentType(attachment.content_type.clone()))
    })?;
    let file_name = |attribute: &str| match attachment.filename.is_ascii() {
        // Quoted even when a token would do: some mail clients expect file names in quotes.
        true => format!("{attribute}={}", content_type::quoted(&attachment.filename)),
        false => format!(
            "{attribute}*=UTF-8''{}",
            rfc2231_encode(&attachment.filename)
        ),
    };
    let mut type_parts = content_type.parts();
    if !content_type.has("name") {
        type_parts.push(file_name("name"));
    }
    let too_long = || format!("the attachment name {:?}", attachment.filename);
    let mut fields = String::new();
    for (name, parts) in [
        ("Content-Type", type_parts),
        (
            "Content-Disposition",
            vec!["attachment".to_owned(), file_name("filename")],
        ),
    ] {
        let mut field = Field::new(name);
        let last = parts.len() - 1;
        for (index, part) in parts.iter().enumerate() {
            match index == last {
                true => field.word(" ", part),
                false => field.word(" ", &format!("{part};")),
            }
        }
        fields.push_str(&finish(field, at_fault, too_long)?);
    }
    Ok(fields)
}

/// Percent-encodes a value for an RFC 2231 extended parameter: every byte that is not an
/// attribute-char (a token character other than `*`, `'` and `%`).
fn rfc2231_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        let plain = byte.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=*'%".contains(&byte);
        match plain {
            true => encoded.push(char::from(byte)),
            false => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
mod tests;
