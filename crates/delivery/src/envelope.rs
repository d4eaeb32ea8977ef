//! The validated inputs that end up inside SMTP commands: the envelope (RFC 5321 section 2.3.1)
//! and the name the client gives in EHLO. Validation here is what keeps a CR or LF in an address
//! from injecting commands.

/// Why an envelope or a HELO name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The address holds a character that cannot appear in an SMTP path.
    #[error(
        "{0:?} cannot be used in an SMTP command: control characters, spaces, '<' and '>' are not allowed"
    )]
    InvalidAddress(String),
    /// A recipient lacks the `@domain` part.
    #[error("{0:?} is not a mailbox: the domain part is missing")]
    NotAMailbox(String),
    /// The envelope has no recipient.
    #[error("the envelope has no recipient")]
    NoRecipients,
    /// The HELO name is empty or holds a character that cannot appear in EHLO.
    #[error("{0:?} cannot be given in EHLO: give a fully qualified domain name")]
    InvalidHeloName(String),
}

/// The SMTP envelope of one message: the reverse path (MAIL FROM) and the forward paths (RCPT TO).
///
/// The fields are private so that an envelope exists only once its addresses are known to be
/// safe to put into commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    mail_from: String,
    recipients: Vec<String>,
}

impl Envelope {
    /// An envelope from `mail_from` (empty for the null reverse path `<>` of bounces) to
    /// `recipients`, in the order outcomes are reported.
    ///
    /// # Errors
    /// [`EnvelopeError`] when an address cannot go into an SMTP command, a recipient has no
    /// domain, or there is no recipient.
    pub fn new(
        mail_from: impl Into<String>,
        recipients: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<Self, EnvelopeError> {
        let mail_from = mail_from.into();
        if !mail_from.is_empty() {
            check_path(&mail_from)?;
        }
        let recipients: Vec<String> = recipients.into_iter().map(Into::into).collect();
        if recipients.is_empty() {
            return Err(EnvelopeError::NoRecipients);
        }
        for recipient in &recipients {
            check_path(recipient)?;
            if !recipient.contains('@') {
                return Err(EnvelopeError::NotAMailbox(recipient.clone()));
            }
        }
        Ok(Self {
            mail_from,
            recipients,
        })
    }

    /// The reverse path, empty for `<>`.
    pub fn mail_from(&self) -> &str {
        &self.mail_from
    }

    /// The recipients, in the order given.
    pub fn recipients(&self) -> &[String] {
        &self.recipients
    }
}

/// The name Sealpost gives in EHLO/HELO: the fully qualified name of the sending host, which
/// receivers compare with the reverse DNS of the connecting address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeloName(String);

impl HeloName {
    /// Checks that `name` can be sent in EHLO: a domain name or an address literal, without
    /// spaces or control characters.
    ///
    /// # Errors
    /// [`EnvelopeError::InvalidHeloName`].
    pub fn new(name: impl Into<String>) -> Result<Self, EnvelopeError> {
        let name = name.into();
        let acceptable = !name.is_empty()
            && name.len() <= 255
            && name.bytes().all(|byte| byte.is_ascii_graphic());
        match acceptable {
            true => Ok(Self(name)),
            false => Err(EnvelopeError::InvalidHeloName(name)),
        }
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// RFC 5321 section 4.5.3.1.3 limits a path to 256 octets; anything longer is refused by servers
/// anyway. UTF-8 is let through for SMTPUTF8 addresses; the server decides whether it takes them.
fn check_path(address: &str) -> Result<(), EnvelopeError> {
    let acceptable = address.len() <= 256
        && !address
            .chars()
            .any(|character| character.is_control() || matches!(character, ' ' | '<' | '>'));
    match acceptable {
        true => Ok(()),
        false => Err(EnvelopeError::InvalidAddress(address.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(mail_from: &str, recipients: &[&str], expect: Result<(), EnvelopeError>) {
        let envelope = Envelope::new(mail_from, recipients.iter().copied());
        assert_eq!(envelope.map(|_| ()), expect);
    }

    #[test]
    fn envelopes() {
        check("a@b.test", &["c@d.test", "e@f.test"], Ok(()));
        check("", &["postmaster@d.test"], Ok(()));
        check("a@b.test", &["j\u{f6}rg@d.test"], Ok(()));
        check("a@b.test", &[], Err(EnvelopeError::NoRecipients));
        check(
            "a@b.test",
            &["c@d.test>\r\nRCPT TO:<x@y.test"],
            Err(EnvelopeError::InvalidAddress(
                "c@d.test>\r\nRCPT TO:<x@y.test".into(),
            )),
        );
        check(
            "a@b.test\n",
            &["c@d.test"],
            Err(EnvelopeError::InvalidAddress("a@b.test\n".into())),
        );
        check(
            "a@b.test",
            &["postmaster"],
            Err(EnvelopeError::NotAMailbox("postmaster".into())),
        );
        check(
            "a@b.test",
            &[""],
            Err(EnvelopeError::NotAMailbox(String::new())),
        );
    }

    #[test]
    fn helo_names() {
        assert!(HeloName::new("mail.platform.test").is_ok());
        assert!(HeloName::new("[192.0.2.1]").is_ok());
        for bad in ["", "two words", "host\r\nQUIT", "h\u{f6}st"] {
            assert_eq!(
                HeloName::new(bad),
                Err(EnvelopeError::InvalidHeloName(bad.into()))
            );
        }
    }
}
