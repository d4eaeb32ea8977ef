//! Building an RFC 5322 message from the fields an application sends as JSON (SPEC S8.1): the
//! headers with non-ASCII text encoded (RFC 2047), text and HTML as alternatives, attachments as
//! base64 parts. Header injection is impossible by construction: every value that goes into a
//! header is refused if it contains a line break.

use base64::Engine as _;

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("{0} contains a line break, which would let it add headers")]
    LineBreak(&'static str),
    #[error("the message needs a text or an HTML body")]
    NoBody,
    #[error("the header name {0:?} may not be set: use X- headers or List-Unsubscribe")]
    ForbiddenHeader(String),
    #[error("the header name {0:?} is not a valid header name")]
    InvalidHeaderName(String),
    #[error("the attachment {0:?} has an invalid content type")]
    InvalidContentType(String),
}

fn no_line_break(field: &'static str, value: &str) -> Result<(), ComposeError> {
    match value.contains(['\r', '\n']) {
        true => Err(ComposeError::LineBreak(field)),
        false => Ok(()),
    }
}

/// Encodes header text as an RFC 2047 encoded word when it is not plain ASCII.
fn encode_text(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("=?UTF-8?B?{encoded}?=")
}

/// An address with an optional display name (`Name <a@b>`); the name is encoded when needed.
fn encode_mailbox(mailbox: &str) -> String {
    match mailbox.rsplit_once('<') {
        Some((name, address)) if !name.trim().is_empty() => {
            let name = name.trim().trim_matches('"');
            let name = match name.is_ascii() {
                true => format!("\"{}\"", name.replace(['"', '\\'], "")),
                false => encode_text(name),
            };
            format!("{name} <{}", address.trim())
        }
        _ => mailbox.trim().to_owned(),
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

/// A text part in quoted-printable-free form: base64 keeps every line short and every byte
/// intact, whatever the application sent.
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
    no_line_break("from", &message.from)?;
    no_line_break("subject", &message.subject)?;
    for address in message
        .to
        .iter()
        .chain(&message.cc)
        .chain(&message.reply_to)
    {
        no_line_break("an address", address)?;
    }
    for (name, value) in &message.headers {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
        if !valid {
            return Err(ComposeError::InvalidHeaderName(name.clone()));
        }
        let lower = name.to_ascii_lowercase();
        if !(lower.starts_with("x-") || lower.starts_with("list-unsubscribe")) {
            return Err(ComposeError::ForbiddenHeader(name.clone()));
        }
        no_line_break("a header value", value)?;
    }
    for attachment in &message.attachments {
        no_line_break("an attachment name", &attachment.filename)?;
        let valid = attachment
            .content_type
            .split_once('/')
            .is_some_and(|(kind, sub)| {
                !kind.is_empty()
                    && !sub.is_empty()
                    && attachment
                        .content_type
                        .bytes()
                        .all(|byte| byte.is_ascii_alphanumeric() || b"/.+-".contains(&byte))
            });
        if !valid {
            return Err(ComposeError::InvalidContentType(
                attachment.content_type.clone(),
            ));
        }
    }

    let mut head = format!("From: {}\r\n", encode_mailbox(&message.from));
    let join = |addresses: &[String]| {
        addresses
            .iter()
            .map(|address| encode_mailbox(address))
            .collect::<Vec<_>>()
            .join(",\r\n ")
    };
    if !message.to.is_empty() {
        head.push_str(&format!("To: {}\r\n", join(&message.to)));
    }
    if !message.cc.is_empty() {
        head.push_str(&format!("Cc: {}\r\n", join(&message.cc)));
    }
    if let Some(reply_to) = &message.reply_to {
        head.push_str(&format!("Reply-To: {}\r\n", encode_mailbox(reply_to)));
    }
    head.push_str(&format!("Subject: {}\r\n", encode_text(&message.subject)));
    for (name, value) in &message.headers {
        head.push_str(&format!("{name}: {}\r\n", encode_text(value)));
    }
    head.push_str("MIME-Version: 1.0\r\n");

    let body = match (&message.text, &message.html) {
        (None, None) => return Err(ComposeError::NoBody),
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
            let name = encode_text(&attachment.filename).replace('"', "");
            mixed.push_str(&format!(
                "--{boundary}\r\nContent-Type: {}; name=\"{name}\"\r\n\
                 Content-Disposition: attachment; filename=\"{name}\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{}",
                attachment.content_type,
                base64_lines(&attachment.content)
            ));
        }
        mixed.push_str(&format!("--{boundary}--\r\n"));
        mixed
    };
    head.push_str(&body);
    Ok(head.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic() -> Composition {
        Composition {
            from: "Facilities <facilities@client.test>".into(),
            to: vec!["someone@receiver.test".into()],
            subject: "Work order 4711".into(),
            text: Some("The boiler is fixed.".into()),
            ..Composition::default()
        }
    }

    #[test]
    fn plain_text_message() {
        let message = String::from_utf8(compose(&basic()).unwrap()).unwrap();
        assert!(
            message.starts_with(
                "From: \"Facilities\" <facilities@client.test>\r\nTo: someone@receiver.test\r\n\
             Subject: Work order 4711\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            ),
            "{message}"
        );
    }

    #[test]
    fn non_ascii_is_encoded_and_parts_are_built() {
        let mut composition = basic();
        composition.subject = "Prüfung ✓".into();
        composition.html = Some("<p>Fixed</p>".into());
        composition.attachments.push(Attachment {
            filename: "report.pdf".into(),
            content_type: "application/pdf".into(),
            content: vec![0, 1, 2, 255],
        });
        let message = String::from_utf8(compose(&composition).unwrap()).unwrap();
        assert!(
            message.contains("Subject: =?UTF-8?B?UHLDvGZ1bmcg4pyT?=\r\n"),
            "{message}"
        );
        assert!(message.contains("multipart/mixed"));
        assert!(message.contains("multipart/alternative"));
        assert!(message.contains("filename=\"report.pdf\""));
        assert!(message.contains("AAEC/w==\r\n"));
    }

    #[test]
    fn refusals() {
        let mut injected = basic();
        injected.subject = "Hello\r\nBcc: victim@example.test".into();
        assert_eq!(
            compose(&injected).unwrap_err(),
            ComposeError::LineBreak("subject")
        );
        let mut name = basic();
        name.from = "Evil\n <a@client.test>".into();
        assert_eq!(compose(&name).unwrap_err(), ComposeError::LineBreak("from"));
        let mut no_body = basic();
        no_body.text = None;
        assert_eq!(compose(&no_body).unwrap_err(), ComposeError::NoBody);
        let mut header = basic();
        header.headers.push(("DKIM-Signature".into(), "x".into()));
        assert_eq!(
            compose(&header).unwrap_err(),
            ComposeError::ForbiddenHeader("DKIM-Signature".into())
        );
        let mut header = basic();
        header.headers.push(("X-Bad Name".into(), "x".into()));
        assert!(matches!(
            compose(&header),
            Err(ComposeError::InvalidHeaderName(_))
        ));
        let mut header = basic();
        header
            .headers
            .push(("X-Order".into(), "1\r\nBcc: x@y.test".into()));
        assert_eq!(
            compose(&header).unwrap_err(),
            ComposeError::LineBreak("a header value")
        );
    }
}
