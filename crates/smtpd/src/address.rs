//! Reads the mailboxes of MAIL FROM and RCPT TO by the one address rule
//! ([`EmailAddress`]), so that a recipient accepted here with 250 is one delivery can send.
//!
//! smtp-proto accepts anything with one `@` and a non-empty local part, strips quotes and
//! allows bytes above 0x7F. Without SMTPUTF8, which is not offered, a path is ASCII (RFC 6531
//! 3.2); the rest is the one rule's. The reply names the problem in a few words, since the
//! client already has the address it sent.

use std::fmt;

use sealpost_domain::limits::address::MAX_MAILBOX;
use sealpost_domain::{AddressError, EmailAddress};

/// Why a mailbox is not accepted; the text goes into the 501 reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddressProblem {
    NotAscii,
    TooLong,
    LocalPart,
    Domain,
    NotQualified,
}

impl fmt::Display for AddressProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            AddressProblem::NotAscii => "non-ASCII addresses need SMTPUTF8, which is not offered",
            AddressProblem::TooLong => "address too long",
            AddressProblem::LocalPart => "invalid local part",
            AddressProblem::Domain => "invalid domain",
            AddressProblem::NotQualified => "domain is not fully qualified",
        })
    }
}

impl From<AddressError> for AddressProblem {
    fn from(error: AddressError) -> Self {
        match error {
            AddressError::NonAsciiLocalPart(_) => AddressProblem::NotAscii,
            AddressError::TooLong(_) => AddressProblem::TooLong,
            AddressError::Empty
            | AddressError::ControlCharacter(_)
            | AddressError::LocalPart(..)
            | AddressError::LocalPartTooLong(_) => AddressProblem::LocalPart,
            AddressError::NoDomain(_) | AddressError::Domain(..) => AddressProblem::Domain,
            AddressError::NotQualified(_) => AddressProblem::NotQualified,
        }
    }
}

/// Reads one mailbox as returned by smtp-proto (without angle brackets).
pub(crate) fn parse_mailbox(mailbox: &str) -> Result<EmailAddress, AddressProblem> {
    if !mailbox.is_ascii() {
        return Err(AddressProblem::NotAscii);
    }
    // The length first, so that an overlong path is called that whichever part is too long.
    if mailbox.len() > MAX_MAILBOX {
        return Err(AddressProblem::TooLong);
    }
    Ok(EmailAddress::parse(mailbox)?)
}

#[cfg(test)]
mod tests {
    use super::{AddressProblem, parse_mailbox};

    #[track_caller]
    fn check(mailbox: &str, expect: Result<&str, AddressProblem>) {
        let parsed = parse_mailbox(mailbox).map(|address| address.to_string());
        assert_eq!(parsed, expect.map(str::to_owned), "{mailbox}");
    }

    #[test]
    fn mailboxes() {
        check("facilities@client.example", Ok("facilities@client.example"));
        check(
            "first.last+tag@sub.client-1.example",
            Ok("first.last+tag@sub.client-1.example"),
        );
        check("o'brien@client.example", Ok("o'brien@client.example"));
        check("Desk@Client.Example", Ok("Desk@client.example"));
        check("user@localhost", Err(AddressProblem::NotQualified));
        check("user@", Err(AddressProblem::Domain));
        check("user", Err(AddressProblem::Domain));
        check("user@-bad.example", Err(AddressProblem::Domain));
        check("user@bad..example", Err(AddressProblem::Domain));
        check("user@[192.0.2.1]", Err(AddressProblem::Domain));
        check("user@client.example.", Ok("user@client.example"));
        check(".user@client.example", Err(AddressProblem::LocalPart));
        check("us..er@client.example", Err(AddressProblem::LocalPart));
        check("john doe@client.example", Err(AddressProblem::LocalPart));
        check("a\tb@client.example", Err(AddressProblem::LocalPart));
        check("jörg@client.example", Err(AddressProblem::NotAscii));
        check("jorg@bücher.example", Err(AddressProblem::NotAscii));
        check(
            &format!("{}@client.example", "a".repeat(65)),
            Err(AddressProblem::LocalPart),
        );
        check(
            &format!("user@{}.example", "a".repeat(250)),
            Err(AddressProblem::TooLong),
        );
        check(
            &format!(
                "{}@{}.example",
                "a".repeat(64),
                "b".repeat(63) + "." + &"c".repeat(63) + "." + &"d".repeat(54)
            ),
            Err(AddressProblem::TooLong),
        );
    }
}
