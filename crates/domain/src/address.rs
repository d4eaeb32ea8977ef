//! The one rule for an e-mail address that Sealpost sends from or to (RFC 5321 4.1.2 Mailbox),
//! applied at every edge (HTTP, SMTP, the CLI, the UI) so that an address accepted anywhere is
//! one that delivery can send: a dot-atom or quoted-string local part of at most 64 octets in
//! ASCII, at a fully qualified domain name (internationalised domains become A-labels), 254
//! octets in all.
//!
//! Non-ASCII local parts would need SMTPUTF8 (RFC 6531) end to end; Sealpost does not offer it,
//! so it refuses them everywhere with the same sentence rather than accepting mail it would fail
//! later.

use std::fmt;

use crate::DomainName;
use crate::limits::address::{MAX_LOCAL_PART, MAX_MAILBOX};

/// A mailbox `local-part@domain`, with the local part as it travels in SMTP (quoted when it is
/// not a dot-atom) and the domain in A-label form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress {
    local_part: String,
    domain: DomainName,
}

/// Why an address is refused; each sentence names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("the address is empty")]
    Empty,
    #[error("\"{0}\" is not a valid e-mail address: it has no @ and domain")]
    NoDomain(String),
    #[error(
        "\"{0}\" has a non-ASCII local part, which needs SMTPUTF8; Sealpost does not send such \
         addresses"
    )]
    NonAsciiLocalPart(String),
    #[error("\"{0}\" has a control character (such as NUL, CR or LF)")]
    ControlCharacter(String),
    #[error("\"{0}\" has an invalid local part (the part before the @): {1}")]
    LocalPart(String, &'static str),
    #[error("\"{0}\" has a local part longer than {MAX_LOCAL_PART} characters")]
    LocalPartTooLong(String),
    #[error("\"{0}\" is longer than {MAX_MAILBOX} characters")]
    TooLong(String),
    #[error(
        "the domain of \"{0}\" is not valid: it needs at least two labels, such as example.com"
    )]
    NotQualified(String),
    #[error("the domain of \"{0}\" is not valid: {1}")]
    Domain(String, String),
}

impl EmailAddress {
    /// Reads a bare address (`user@example.com`, angle brackets allowed, surrounding spaces
    /// ignored); display names are not read here.
    pub fn parse(text: &str) -> Result<Self, AddressError> {
        let trimmed = text.trim();
        let trimmed = trimmed
            .strip_prefix('<')
            .and_then(|inner| inner.strip_suffix('>'))
            .unwrap_or(trimmed);
        let shown = || trimmed.to_owned();
        if trimmed.is_empty() {
            return Err(AddressError::Empty);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(AddressError::ControlCharacter(
                trimmed.escape_debug().to_string(),
            ));
        }
        let Some((local_part, domain)) = trimmed.rsplit_once('@') else {
            return Err(AddressError::NoDomain(shown()));
        };
        if !local_part.is_ascii() {
            return Err(AddressError::NonAsciiLocalPart(shown()));
        }
        check_local_part(local_part).map_err(|why| AddressError::LocalPart(shown(), why))?;
        if local_part.len() > MAX_LOCAL_PART {
            return Err(AddressError::LocalPartTooLong(shown()));
        }
        // A single label (`user@localhost`) is named apart, since SMTP replies say it in words
        // of their own.
        let single_label = !domain.is_empty()
            && domain
                .trim_end_matches('.')
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
        let domain = DomainName::parse(domain).map_err(|error| match single_label {
            true => AddressError::NotQualified(shown()),
            false => AddressError::Domain(shown(), error.to_string()),
        })?;
        if local_part.len() + 1 + domain.as_str().len() > MAX_MAILBOX {
            return Err(AddressError::TooLong(shown()));
        }
        Ok(Self {
            local_part: local_part.to_owned(),
            domain,
        })
    }

    /// Reads the address of a mailbox as an application writes it in a header field:
    /// `Name <address>`, `"Name, Quoted" <address>` or a bare address. The display name is not
    /// read here; [`split_name_addr`] gives it to those who write it back.
    pub fn parse_name_addr(text: &str) -> Result<Self, AddressError> {
        match split_name_addr(text) {
            Some((_, address)) => Self::parse(address),
            None => Self::parse(text),
        }
    }

    /// The local part as it travels in SMTP (with its quotes when it is quoted).
    pub fn local_part(&self) -> &str {
        &self.local_part
    }

    pub fn domain(&self) -> &DomainName {
        &self.domain
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}@{}", self.local_part, self.domain)
    }
}

/// `Name <address>` split into the display name (trimmed, possibly empty) and the address
/// between the last `<` and the final `>`; `None` when the text does not end in `>`.
pub fn split_name_addr(text: &str) -> Option<(&str, &str)> {
    let (name, address) = text.trim().strip_suffix('>')?.rsplit_once('<')?;
    Some((name.trim(), address))
}

/// RFC 5321 4.1.2: `Local-part = Dot-string / Quoted-string`.
fn check_local_part(local_part: &str) -> Result<(), &'static str> {
    if local_part.is_empty() {
        return Err("it is empty");
    }
    match local_part.strip_prefix('"') {
        Some(quoted) => check_quoted(quoted),
        None => check_dot_string(local_part),
    }
}

fn check_dot_string(local_part: &str) -> Result<(), &'static str> {
    if local_part.starts_with('.') || local_part.ends_with('.') || local_part.contains("..") {
        return Err("a dot may not start or end it or follow another dot");
    }
    if !local_part
        .bytes()
        .all(|byte| byte == b'.' || is_atext(byte))
    {
        return Err("it may hold only letters, digits and !#$%&'*+-/=?^_`{|}~ unless quoted");
    }
    Ok(())
}

/// The rest of a quoted string after its opening quote: printable ASCII and spaces, with `"`
/// and `\` escaped by a backslash, and the closing quote last.
fn check_quoted(rest: &str) -> Result<(), &'static str> {
    let mut bytes = rest.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'\\' => match bytes.next() {
                Some(b' '..=b'~') => {}
                _ => return Err("a backslash in quotes must escape a printable character"),
            },
            b'"' => {
                return match bytes.next() {
                    None => Ok(()),
                    Some(_) => Err("nothing may follow the closing quote before the @"),
                };
            }
            b' '..=b'~' => {}
            _ => return Err("it may hold only printable ASCII characters"),
        }
    }
    Err("the opening quote is not closed")
}

/// RFC 5322 3.2.3 atext.
fn is_atext(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expect: Result<&str, &str>) {
        let outcome = EmailAddress::parse(text)
            .map(|address| address.to_string())
            .map_err(|error| error.to_string());
        match (&outcome, expect) {
            (Ok(address), Ok(wanted)) => assert_eq!(address, wanted),
            (Err(error), Err(part)) => assert!(error.contains(part), "{error:?} lacks {part:?}"),
            _ => panic!("{text:?}: got {outcome:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn addresses() {
        check("facilities@client.example", Ok("facilities@client.example"));
        check(" <A.B+tag@Client.Example> ", Ok("A.B+tag@client.example"));
        check("o'brien@client.example", Ok("o'brien@client.example"));
        check(
            "\"john doe\"@client.example",
            Ok("\"john doe\"@client.example"),
        );
        check("\"a\\\"b\"@client.example", Ok("\"a\\\"b\"@client.example"));
        check("jon@bücher.example", Ok("jon@xn--bcher-kva.example"));
        check("jöhn@example.net", Err("needs SMTPUTF8"));
        check("", Err("empty"));
        check("not-an-address", Err("has no @"));
        check("@client.example", Err("it is empty"));
        check(".a@client.example", Err("a dot may not"));
        check("a..b@client.example", Err("a dot may not"));
        check("john doe@client.example", Err("unless quoted"));
        check("\"open@client.example", Err("not closed"));
        check("\"a\"b@client.example", Err("nothing may follow"));
        check("a\0b@client.example", Err("control character"));
        check(
            "a@client.example\r\nBcc: x@y.example",
            Err("control character"),
        );
        check("user@localhost", Err("at least two labels"));
        check("user@localhost.", Err("at least two labels"));
        check("user@", Err("the domain is empty"));
        check(
            "john doe@client.example",
            Err("\"john doe@client.example\""),
        );
        check("user@[192.0.2.1]", Err("domain of"));
        check(
            &format!("{}@client.example", "a".repeat(65)),
            Err("longer than 64"),
        );
        check(
            &format!(
                "{}@{}.example",
                "a".repeat(64),
                "b".repeat(60) + "." + &"c".repeat(60) + "." + &"d".repeat(60)
            ),
            Err("longer than 254"),
        );
    }

    #[test]
    fn name_addr() {
        let parse = |text| EmailAddress::parse_name_addr(text).map(|address| address.to_string());
        assert_eq!(
            parse("\"Desk, Main\" <Desk@Client.Example>"),
            Ok("Desk@client.example".to_owned())
        );
        assert_eq!(
            parse(" a@client.example "),
            Ok("a@client.example".to_owned())
        );
        assert_eq!(
            parse("<a@client.example>"),
            Ok("a@client.example".to_owned())
        );
        assert!(matches!(
            parse("Ann <ann>"),
            Err(AddressError::NoDomain(text)) if text == "ann"
        ));
        assert_eq!(
            split_name_addr("Ann <a@b.example>"),
            Some(("Ann", "a@b.example"))
        );
        assert_eq!(split_name_addr("a@b.example"), None);
    }
}
