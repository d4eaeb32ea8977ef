//! The validated inputs that end up inside SMTP commands: the envelope (RFC 5321 section 2.3.1)
//! and the name the client gives in EHLO. The envelope is made of [`EmailAddress`] values, which
//! hold no control character and no space outside quotes, so no address can inject a command.

use sealpost_domain::EmailAddress;

/// Why an envelope or a HELO name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The envelope has no recipient.
    #[error("the envelope has no recipient")]
    NoRecipients,
    /// The HELO name is empty or holds a character that cannot appear in EHLO.
    #[error("{0:?} cannot be given in EHLO: give a fully qualified domain name")]
    InvalidHeloName(String),
}

/// The SMTP envelope of one message: the reverse path (MAIL FROM) and the forward paths (RCPT TO).
///
/// The addresses are kept in the text form they take in the commands, written once from
/// [`EmailAddress`] values; the fields are private so that no other text gets in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    mail_from: String,
    recipients: Vec<String>,
}

impl Envelope {
    /// An envelope from `mail_from` (`None` for the null reverse path `<>` of bounces) to
    /// `recipients`, in the order outcomes are reported.
    ///
    /// # Errors
    /// [`EnvelopeError::NoRecipients`] when there is no recipient; every address is already one
    /// that can be sent.
    pub fn new(
        mail_from: Option<&EmailAddress>,
        recipients: impl IntoIterator<Item = EmailAddress>,
    ) -> Result<Self, EnvelopeError> {
        let recipients: Vec<String> = recipients
            .into_iter()
            .map(|recipient| recipient.to_string())
            .collect();
        if recipients.is_empty() {
            return Err(EnvelopeError::NoRecipients);
        }
        Ok(Self {
            mail_from: mail_from.map(ToString::to_string).unwrap_or_default(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> EmailAddress {
        EmailAddress::parse(text).unwrap()
    }

    #[track_caller]
    fn check(mail_from: &str, recipients: &[&str], expect: Result<(), EnvelopeError>) {
        let mail_from = (!mail_from.is_empty()).then(|| address(mail_from));
        let recipients = recipients.iter().map(|text| address(text));
        let envelope = Envelope::new(mail_from.as_ref(), recipients);
        assert_eq!(envelope.map(|_| ()), expect);
    }

    #[test]
    fn envelopes() {
        check("a@b.test", &["c@d.test", "e@f.test"], Ok(()));
        check("", &["postmaster@d.test"], Ok(()));
        check("a@b.test", &[], Err(EnvelopeError::NoRecipients));
        let envelope = Envelope::new(None, [address("<C@D.Test>")]).unwrap();
        assert_eq!(envelope.mail_from(), "");
        assert_eq!(envelope.recipients(), ["C@d.test"]);
    }

    /// What the envelope used to refuse itself is now refused before an address exists: a line
    /// break that would inject a command, a recipient without a domain, a non-ASCII local part
    /// (no SMTPUTF8) and a path longer than RFC 5321 allows.
    #[test]
    fn addresses_that_cannot_be_sent_do_not_exist() {
        for text in [
            "c@d.test>\r\nRCPT TO:<x@y.test",
            "a@b.test\r\nQUIT",
            "postmaster",
            "",
            "j\u{f6}rg@d.test",
            "two words@d.test",
        ] {
            assert!(EmailAddress::parse(text).is_err(), "{text:?}");
        }
        let long = format!(
            "{}@{}.test",
            "a".repeat(64),
            "b".repeat(63) + "." + &"c".repeat(63) + "." + &"d".repeat(57)
        );
        assert_eq!(long.len(), 255);
        assert!(EmailAddress::parse(&long).is_err());
        // Surrounding white space is not part of the address, so it never reaches a command.
        assert_eq!(address("a@b.test\r\n").to_string(), "a@b.test");
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
