//! Checks the mailboxes of MAIL FROM and RCPT TO beyond what smtp-proto's parser checks.
//!
//! smtp-proto accepts anything with one `@` and a non-empty local part, strips quotes and
//! allows bytes above 0x7F. Mail submitted here goes on to the Internet, so a mailbox must be a
//! dot-atom local part at a fully qualified domain name, in ASCII because SMTPUTF8 is not
//! offered.

use std::fmt;

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

/// RFC 5321 4.5.3.1.1 and 4.5.3.1.3: 64 octets of local part, 256 of path including the
/// angle brackets.
const MAX_LOCAL_PART: usize = 64;
const MAX_MAILBOX: usize = 254;
const MAX_DOMAIN: usize = 253;
const MAX_LABEL: usize = 63;

/// Checks one mailbox as returned by smtp-proto (without angle brackets).
pub(crate) fn check_mailbox(mailbox: &str) -> Result<(), AddressProblem> {
    if !mailbox.is_ascii() {
        return Err(AddressProblem::NotAscii);
    }
    if mailbox.len() > MAX_MAILBOX {
        return Err(AddressProblem::TooLong);
    }
    let Some((local_part, domain)) = mailbox.rsplit_once('@') else {
        return Err(AddressProblem::Domain);
    };
    check_local_part(local_part)?;
    check_domain(domain)
}

fn check_local_part(local_part: &str) -> Result<(), AddressProblem> {
    if local_part.is_empty() || local_part.len() > MAX_LOCAL_PART {
        return Err(AddressProblem::LocalPart);
    }
    let atoms_ok = local_part
        .split('.')
        .all(|atom| !atom.is_empty() && atom.bytes().all(is_atext));
    match atoms_ok {
        true => Ok(()),
        false => Err(AddressProblem::LocalPart),
    }
}

fn check_domain(domain: &str) -> Result<(), AddressProblem> {
    if domain.is_empty() || domain.len() > MAX_DOMAIN {
        return Err(AddressProblem::Domain);
    }
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= MAX_LABEL
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    });
    if !labels_ok {
        return Err(AddressProblem::Domain);
    }
    match domain.contains('.') {
        true => Ok(()),
        false => Err(AddressProblem::NotQualified),
    }
}

/// RFC 5322 3.2.3 atext.
fn is_atext(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::{AddressProblem, check_mailbox};

    #[track_caller]
    fn check(mailbox: &str, expect: Result<(), AddressProblem>) {
        assert_eq!(check_mailbox(mailbox), expect, "{mailbox}");
    }

    #[test]
    fn mailboxes() {
        check("facilities@client.example", Ok(()));
        check("first.last+tag@sub.client-1.example", Ok(()));
        check("o'brien@client.example", Ok(()));
        check("user@localhost", Err(AddressProblem::NotQualified));
        check("user@", Err(AddressProblem::Domain));
        check("user@-bad.example", Err(AddressProblem::Domain));
        check("user@bad..example", Err(AddressProblem::Domain));
        check("user@[192.0.2.1]", Err(AddressProblem::Domain));
        check("user@client.example.", Err(AddressProblem::Domain));
        check(".user@client.example", Err(AddressProblem::LocalPart));
        check("us..er@client.example", Err(AddressProblem::LocalPart));
        check("john doe@client.example", Err(AddressProblem::LocalPart));
        check("jörg@client.example", Err(AddressProblem::NotAscii));
        check(
            &format!("{}@client.example", "a".repeat(65)),
            Err(AddressProblem::LocalPart),
        );
        check(
            &format!("user@{}.example", "a".repeat(250)),
            Err(AddressProblem::TooLong),
        );
    }
}
