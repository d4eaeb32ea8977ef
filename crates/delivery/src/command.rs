//! The commands the client sends (RFC 5321 section 4.1, RFC 3207, RFC 4954, RFC 1870, RFC
//! 6152), each as it goes on the wire and as it is shown in a transcript, where secrets are
//! replaced by `***`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use crate::envelope::HeloName;

/// What replaces a secret in a transcript.
pub(crate) const REDACTED: &str = "***";

/// One client command. Arguments are borrowed: addresses come from a validated
/// [`Envelope`](crate::Envelope), so none holds a line break.
#[derive(Clone, Copy)]
pub(crate) enum Command<'a> {
    Ehlo(&'a HeloName),
    Helo(&'a HeloName),
    StartTls,
    /// AUTH PLAIN with its initial response, the base64 of the credentials.
    AuthPlain(&'a str),
    AuthLogin,
    /// The base64 answer to a challenge of AUTH LOGIN: the user name or the password.
    AuthLoginAnswer(&'a str),
    MailFrom {
        reverse_path: &'a str,
        /// The SIZE parameter, when the server announced SIZE.
        size: Option<usize>,
        /// Whether to declare BODY=8BITMIME.
        eight_bit: bool,
    },
    RcptTo(&'a str),
    Data,
    /// Ends the transaction so far, so that the connection can carry the next one.
    Rset,
    Quit,
}

impl Command<'_> {
    /// The command line with its CRLF. It may hold credentials, so it is wiped when dropped.
    pub(crate) fn wire(&self) -> Zeroizing<String> {
        let mut line = Zeroizing::new(self.line(false));
        line.push_str("\r\n");
        line
    }

    /// The command as a transcript shows it: the line without CRLF, with secrets redacted.
    pub(crate) fn transcript(&self) -> String {
        self.line(true)
    }

    fn line(&self, redact: bool) -> String {
        let secret = |text: &str| match redact {
            true => REDACTED.to_owned(),
            false => text.to_owned(),
        };
        match self {
            Self::Ehlo(name) => format!("EHLO {}", name.as_str()),
            Self::Helo(name) => format!("HELO {}", name.as_str()),
            Self::StartTls => "STARTTLS".to_owned(),
            Self::AuthPlain(response) => format!("AUTH PLAIN {}", secret(response)),
            Self::AuthLogin => "AUTH LOGIN".to_owned(),
            Self::AuthLoginAnswer(answer) => secret(answer),
            Self::MailFrom {
                reverse_path,
                size,
                eight_bit,
            } => {
                let mut line = format!("MAIL FROM:<{reverse_path}>");
                if let Some(size) = size {
                    line.push_str(&format!(" SIZE={size}"));
                }
                if *eight_bit {
                    line.push_str(" BODY=8BITMIME");
                }
                line
            }
            Self::RcptTo(forward_path) => format!("RCPT TO:<{forward_path}>"),
            Self::Data => "DATA".to_owned(),
            Self::Rset => "RSET".to_owned(),
            Self::Quit => "QUIT".to_owned(),
        }
    }
}

/// Shows the transcript form, so that credentials cannot leak through debug output either.
impl fmt::Debug for Command<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Command({:?})", self.transcript())
    }
}

/// The initial response of AUTH PLAIN (RFC 4616): no authorisation identity, then the user name
/// and the password, NUL-separated, in base64.
pub(crate) fn plain_response(username: &str, password: &str) -> Zeroizing<String> {
    let mut message = Zeroizing::new(Vec::with_capacity(username.len() + password.len() + 2));
    message.push(0);
    message.extend_from_slice(username.as_bytes());
    message.push(0);
    message.extend_from_slice(password.as_bytes());
    Zeroizing::new(BASE64.encode(message.as_slice()))
}

/// One answer of AUTH LOGIN: the text in base64.
pub(crate) fn login_answer(text: &str) -> Zeroizing<String> {
    Zeroizing::new(BASE64.encode(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(command: Command<'_>, wire: &str, transcript: &str) {
        assert_eq!(command.wire().as_str(), wire);
        assert_eq!(command.transcript(), transcript);
    }

    #[test]
    fn commands() {
        let name = HeloName::new("out.platform.test").unwrap();
        check(
            Command::Ehlo(&name),
            "EHLO out.platform.test\r\n",
            "EHLO out.platform.test",
        );
        check(
            Command::Helo(&name),
            "HELO out.platform.test\r\n",
            "HELO out.platform.test",
        );
        check(
            Command::MailFrom {
                reverse_path: "a@b.test",
                size: Some(1234),
                eight_bit: true,
            },
            "MAIL FROM:<a@b.test> SIZE=1234 BODY=8BITMIME\r\n",
            "MAIL FROM:<a@b.test> SIZE=1234 BODY=8BITMIME",
        );
        check(
            Command::MailFrom {
                reverse_path: "",
                size: None,
                eight_bit: false,
            },
            "MAIL FROM:<>\r\n",
            "MAIL FROM:<>",
        );
        check(
            Command::RcptTo("c@d.test"),
            "RCPT TO:<c@d.test>\r\n",
            "RCPT TO:<c@d.test>",
        );
        check(Command::Data, "DATA\r\n", "DATA");
        check(Command::Quit, "QUIT\r\n", "QUIT");
        check(Command::StartTls, "STARTTLS\r\n", "STARTTLS");
    }

    #[test]
    fn secrets_are_redacted_in_transcripts() {
        let plain = plain_response("user", "pass");
        assert_eq!(plain.as_str(), "AHVzZXIAcGFzcw==");
        check(
            Command::AuthPlain(&plain),
            "AUTH PLAIN AHVzZXIAcGFzcw==\r\n",
            "AUTH PLAIN ***",
        );
        let answer = login_answer("pass");
        check(Command::AuthLoginAnswer(&answer), "cGFzcw==\r\n", "***");
        check(Command::AuthLogin, "AUTH LOGIN\r\n", "AUTH LOGIN");
        assert_eq!(
            format!("{:?}", Command::AuthPlain(&plain)),
            "Command(\"AUTH PLAIN ***\")"
        );
    }
}
