//! Whether a signature's `d=` is aligned with the From domain, for the warning that a signature
//! does not count for DMARC. The From field is read in full only when a quick look at it does
//! not already show alignment, which for mail signed by its author's domain it does.

use crate::address::{from_mailbox, plain_from_domain};
use crate::message::ParsedMessage;

/// The From domain of one message, looked at as little as each question needs.
pub(super) struct FromDomain<'m, 'a> {
    message: &'m ParsedMessage<'a>,
    /// The domain of a plain one-line From address, as written.
    plain: Option<&'a str>,
    /// The domain [`from_mailbox`] gives, once it was needed: `None` inside when it refuses.
    full: Option<Option<String>>,
}

impl<'m, 'a> FromDomain<'m, 'a> {
    pub(super) fn new(message: &'m ParsedMessage<'a>) -> Self {
        Self {
            message,
            plain: plain_from_domain(message),
            full: None,
        }
    }

    /// The From domain when it is not aligned with `signing_domain`; `None` when it is, or when
    /// the message has no one readable From address. A plain address aligned as written is
    /// aligned in the form `from_mailbox` gives too (that only lowercases it and drops a final
    /// dot), and if `from_mailbox` refuses it there is no domain to warn about: either way
    /// there is no warning, and the full reading is skipped.
    pub(super) fn misaligned(&mut self, signing_domain: &str) -> Option<&str> {
        if self
            .plain
            .is_some_and(|plain| aligned(plain, signing_domain))
        {
            return None;
        }
        let message = self.message;
        let full = self.full.get_or_insert_with(|| {
            from_mailbox(message)
                .ok()
                .map(|mailbox| mailbox.domain.as_str().to_owned())
        });
        full.as_deref()
            .filter(|from_domain| !aligned(from_domain, signing_domain))
    }
}

/// Relaxed alignment approximated without the public suffix list: equal domains, or one a
/// subdomain of the other.
fn aligned(from_domain: &str, signing_domain: &str) -> bool {
    from_domain.eq_ignore_ascii_case(signing_domain)
        || is_subdomain(from_domain, signing_domain)
        || is_subdomain(signing_domain, from_domain)
}

/// Whether `name` ends in `.parent`, compared without regard to ASCII case.
fn is_subdomain(name: &str, parent: &str) -> bool {
    let (name, parent) = (name.as_bytes(), parent.as_bytes());
    name.len() > parent.len()
        && name[name.len() - parent.len() - 1] == b'.'
        && name[name.len() - parent.len()..].eq_ignore_ascii_case(parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The From domain `misaligned` reports for a message with these header lines, against
    /// `client.example`.
    fn misaligned(header: &str) -> Option<String> {
        let message = format!("{header}Subject: x\r\n\r\nbody\r\n");
        let parsed = ParsedMessage::parse(message.as_bytes()).unwrap();
        FromDomain::new(&parsed)
            .misaligned("client.example")
            .map(str::to_owned)
    }

    #[test]
    fn plain_addresses_aligned_as_written() {
        assert_eq!(misaligned("From: a@client.example\r\n"), None);
        assert_eq!(misaligned("From: Facilities <a@Client.Example>\r\n"), None);
        assert_eq!(misaligned("From: a@mail.client.example\r\n"), None);
    }

    /// A domain that is not aligned is reported as `from_mailbox` reads it, not as written.
    #[test]
    fn misaligned_domains_in_their_normal_form() {
        assert_eq!(
            misaligned("From: Other <a@Other.Example.>\r\n").as_deref(),
            Some("other.example")
        );
        assert_eq!(
            misaligned("From: \"Doe, Jane\" <jane@other.example>\r\n").as_deref(),
            Some("other.example")
        );
        assert_eq!(
            misaligned("From: Jane\r\n <jane@other.example>\r\n").as_deref(),
            Some("other.example")
        );
    }

    /// Forms the quick look leaves to `from_mailbox`, aligned all the same.
    #[test]
    fn other_forms_aligned_after_a_full_reading() {
        assert_eq!(
            misaligned("From: \"Doe, Jane\" <jane@client.example>\r\n"),
            None
        );
        assert_eq!(misaligned("From: Jane\r\n <jane@client.example>\r\n"), None);
        assert_eq!(misaligned("From: a@client.example.\r\n"), None);
    }

    /// Without exactly one readable From address there is nothing to warn about.
    #[test]
    fn no_warning_without_one_author() {
        assert_eq!(misaligned(""), None);
        assert_eq!(
            misaligned("From: a@other.example\r\nFrom: b@other.example\r\n"),
            None
        );
        assert_eq!(misaligned("From: not an address\r\n"), None);
    }
}
