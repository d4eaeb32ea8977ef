//! SMTP replies: a code, an optional enhanced status code (RFC 3463) and one or more lines.

use std::borrow::Cow;

/// One reply, possibly multi-line; written as `250-first`, ..., `250 last`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    code: u16,
    enhanced: Option<[u8; 3]>,
    lines: Vec<Cow<'static, str>>,
}

impl Reply {
    /// A one-line reply with an enhanced status code, the form of every reply after EHLO.
    pub(crate) fn new(code: u16, enhanced: [u8; 3], text: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            enhanced: Some(enhanced),
            lines: vec![text.into()],
        }
    }

    /// A reply without an enhanced status code: the greeting, the EHLO/HELO reply and AUTH
    /// challenges, where RFC 2034 and RFC 4954 put none.
    pub(crate) fn plain(code: u16, lines: Vec<Cow<'static, str>>) -> Self {
        Self {
            code,
            enhanced: None,
            lines,
        }
    }

    pub(crate) fn code(&self) -> u16 {
        self.code
    }

    /// Appends the reply in wire form. Control characters in the text become spaces, because
    /// some texts echo client input (an unknown parameter name) and must not end a line early.
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        let last = self.lines.len().saturating_sub(1);
        for (index, line) in self.lines.iter().enumerate() {
            let separator = if index == last { ' ' } else { '-' };
            let mut text = String::with_capacity(line.len() + 16);
            text.push_str(&self.code.to_string());
            text.push(separator);
            if let Some([class, subject, detail]) = self.enhanced {
                text.push_str(&format!("{class}.{subject}.{detail} "));
            }
            text.extend(line.chars().map(|c| if c.is_control() { ' ' } else { c }));
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Reply;

    #[track_caller]
    fn check(reply: Reply, expect: &str) {
        assert_eq!(String::from_utf8(reply.to_bytes()).unwrap(), expect);
    }

    #[test]
    fn wire_form() {
        check(Reply::new(250, [2, 0, 0], "Ok"), "250 2.0.0 Ok\r\n");
        check(
            Reply::plain(250, vec!["host".into(), "PIPELINING".into()]),
            "250-host\r\n250 PIPELINING\r\n",
        );
        // RFC 4954 continue-req is "334" SP [base64], so an empty challenge keeps its space.
        check(Reply::plain(334, vec!["".into()]), "334 \r\n");
        check(
            Reply::new(555, [5, 5, 4], "Unsupported X\r\nY"),
            "555 5.5.4 Unsupported X  Y\r\n",
        );
    }
}
