//! The author address of a message (its one `From:` mailbox) and envelope addresses, reduced to
//! what signing and alignment need: the domain. Display names, comments, quoting and groups are
//! read by mail-parser; this module decides what counts as one usable address.

use sealpost_domain::{DomainName, EmailAddress};

use crate::message::ParsedMessage;

/// An address whose domain has been validated as a DNS name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub local_part: String,
    pub domain: DomainName,
}

impl Mailbox {
    /// Reads a bare address such as an envelope MAIL FROM (`user@example.com`, angle brackets
    /// allowed) by the one rule every edge uses ([`EmailAddress`]).
    pub fn parse(address: &str) -> Result<Self, AddressError> {
        let address = EmailAddress::parse(address)?;
        Ok(Self {
            local_part: address.local_part().to_owned(),
            domain: address.domain().clone(),
        })
    }
}

impl std::fmt::Display for Mailbox {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}@{}", self.local_part, self.domain.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("the message has no From header")]
    NoFrom,
    #[error("the message has {0} From headers; it must have exactly one")]
    SeveralFromHeaders(usize),
    #[error("the From header lists {0} addresses; Sealpost sends with exactly one author")]
    SeveralFromAddresses(usize),
    #[error(
        "the From header \"{0}\" is a group; it must be the one mailbox of the author, such as \
         Facilities <facilities@client.example>"
    )]
    FromGroup(String),
    #[error("the From header \"{0}\" holds no address that can be read")]
    FromUnreadable(String),
    #[error(transparent)]
    Address(#[from] sealpost_domain::AddressError),
}

/// The one author mailbox of a message (RFC 5322 allows several, DMARC and Sealpost do not).
pub fn from_mailbox(message: &ParsedMessage<'_>) -> Result<Mailbox, AddressError> {
    let fields: Vec<_> = message.fields("From").collect();
    let field = match fields.as_slice() {
        [] => return Err(AddressError::NoFrom),
        [field] => field,
        several => return Err(AddressError::SeveralFromHeaders(several.len())),
    };
    let value = field.unfolded_value();
    if let Some(address) = plain_address(&value) {
        return Mailbox::parse(address).map_err(|_| AddressError::FromUnreadable(value.clone()));
    }
    parsed_mailbox(value)
}

/// The domain of the one From address, as written, when the field is one line in one of the
/// plain forms of [`plain_address`]: read without a copy, for a quick look before
/// [`from_mailbox`] is needed. It is the domain `from_mailbox` gives, but for case and a
/// trailing dot, or `from_mailbox` refuses the address.
pub(crate) fn plain_from_domain<'a>(message: &ParsedMessage<'a>) -> Option<&'a str> {
    let mut fields = message.fields("From");
    let field = fields.next()?;
    if fields.next().is_some() {
        return None;
    }
    let value = std::str::from_utf8(field.value).ok()?;
    let value = value.strip_suffix("\r\n").unwrap_or(value);
    if value.contains('\r') {
        return None;
    }
    let (_, domain) = plain_address(value.trim())?.split_once('@')?;
    Some(domain)
}

/// The address of a From value in one of the two plainest forms, `local@domain` or
/// `Words <local@domain>`, built of atoms only: no quotes, comments, groups or lists. Such a
/// value reads the same with or without a parser, and nearly all mail has one, so verification
/// (which reads From for every message) skips mail-parser's setup for it.
fn plain_address(value: &str) -> Option<&str> {
    let (phrase, address) = match value.strip_suffix('>') {
        Some(front) => front.split_once('<')?,
        None => ("", value),
    };
    let is_atext =
        |byte: u8| byte.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&byte);
    let (local, domain) = address.split_once('@')?;
    let plain = phrase
        .bytes()
        .all(|byte| is_atext(byte) || byte == b' ' || byte == b'\t')
        && !local.is_empty()
        && local.bytes().all(|byte| is_atext(byte) || byte == b'.')
        && !domain.is_empty()
        && domain
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.');
    plain.then_some(address)
}

/// The one mailbox of any From value, as mail-parser reads its syntax.
fn parsed_mailbox(value: String) -> Result<Mailbox, AddressError> {
    let mut header = Vec::with_capacity(value.len() + 10);
    header.extend_from_slice(b"From: ");
    header.extend_from_slice(value.as_bytes());
    header.extend_from_slice(b"\r\n\r\n");
    let parsed = mail_parser::MessageParser::new().parse_headers(&header);
    // A group (`Team: a@x.example;`) is not a mailbox: DMARC needs exactly one author domain and
    // receivers treat a group in From as having none.
    if let Some(mail_parser::Address::Group(_)) = parsed.as_ref().and_then(|message| message.from())
    {
        return Err(AddressError::FromGroup(value));
    }
    let addresses: Vec<String> = parsed
        .as_ref()
        .and_then(|message| message.from())
        .map(|address| {
            address
                .iter()
                .filter_map(|addr| addr.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    match addresses.as_slice() {
        [] => Err(AddressError::FromUnreadable(value)),
        [address] => Mailbox::parse(address).map_err(|_| AddressError::FromUnreadable(value)),
        several => Err(AddressError::SeveralFromAddresses(several.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(message: &str, expected: Result<&str, AddressError>) {
        let message = message.replace('\n', "\r\n");
        let parsed = ParsedMessage::parse(message.as_bytes()).unwrap();
        let result = from_mailbox(&parsed).map(|mailbox| mailbox.to_string());
        assert_eq!(result, expected.map(str::to_owned));
    }

    #[test]
    fn author_addresses() {
        check("From: a@client.example\n\n", Ok("a@client.example"));
        check(
            "From: \"Facilities, Main\" <Desk@Client.Example>\n\n",
            Ok("Desk@client.example"),
        );
        check(
            "From: Desk (the desk) <desk@xn--bcher-kva.example>\n\n",
            Ok("desk@xn--bcher-kva.example"),
        );
        check("Subject: x\n\n", Err(AddressError::NoFrom));
        check(
            "From: Team: a@client.example;\n\n",
            Err(AddressError::FromGroup("Team: a@client.example;".into())),
        );
        check(
            "From: a@client.example\nFrom: b@client.example\n\n",
            Err(AddressError::SeveralFromHeaders(2)),
        );
        check(
            "From: a@client.example, b@client.example\n\n",
            Err(AddressError::SeveralFromAddresses(2)),
        );
        check(
            "From: not an address\n\n",
            Err(AddressError::FromUnreadable("not an address".into())),
        );
        check(
            "From: a@-bad-.example\n\n",
            Err(AddressError::FromUnreadable("a@-bad-.example".into())),
        );
    }

    /// Every value the shortcut reads must give what mail-parser gives, and the shortcut must
    /// leave anything with quotes, comments, groups or lists to mail-parser.
    #[test]
    fn plain_addresses_read_as_mail_parser_reads_them() {
        let plain = [
            "a@client.example",
            "Facilities <facilities@client.example>",
            "<Desk@Client.Example>",
            "Work Orders\t<work.orders+b=4@client.example>",
            "=?utf-8?q?B=C3=BCro?= <buero@client.example>",
            "a@-bad-.example",
        ];
        for value in plain {
            let shortcut = plain_address(value).map(|address| Mailbox::parse(address).ok());
            assert_eq!(
                shortcut,
                Some(parsed_mailbox(value.to_owned()).ok()),
                "{value}"
            );
        }
        let not_plain = [
            "\"Facilities, Main\" <desk@client.example>",
            "Desk (the desk) <desk@client.example>",
            "Team: a@client.example;",
            "a@client.example, b@client.example",
            "not an address",
            "a@b@client.example",
            "<>",
            "Jöhn <john@client.example>",
        ];
        for value in not_plain {
            assert_eq!(plain_address(value), None, "{value}");
        }
    }

    #[test]
    fn envelope_addresses() {
        assert_eq!(
            Mailbox::parse("<bounce@client.example>")
                .unwrap()
                .to_string(),
            "bounce@client.example"
        );
        assert!(matches!(
            Mailbox::parse("nobody"),
            Err(AddressError::Address(
                sealpost_domain::AddressError::NoDomain(_)
            ))
        ));
        assert!(matches!(
            Mailbox::parse("a@-bad.example"),
            Err(AddressError::Address(
                sealpost_domain::AddressError::Domain(..)
            ))
        ));
        assert!(matches!(
            Mailbox::parse("jöhn@example.net"),
            Err(AddressError::Address(
                sealpost_domain::AddressError::NonAsciiLocalPart(_)
            ))
        ));
    }
}
