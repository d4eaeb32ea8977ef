//! The mailboxes of From, To, Cc and Reply-To as an application writes them (`a@b.example`,
//! `<a@b.example>`, `Name <a@b.example>`, `"Name, Quoted" <a@b.example>`), checked and written
//! back as RFC 5322 name-addr: a plain name quoted, a Unicode name as encoded words, and a name
//! the application encoded itself left unquoted (RFC 2047 5: an encoded word never appears in a
//! quoted string).

use sealpost_dkim::Mailbox;
use sealpost_domain::limits::text::MAX_LABEL_CHARS;

use super::Problem;
use super::content_type::quoted;
use super::header::{self, Field};

/// A display name, in the form it will be written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DisplayName {
    /// ASCII text, written as a quoted string.
    Plain(String),
    /// Encoded words the application wrote, written as they are.
    Encoded(String),
    /// Text with non-ASCII characters, written as encoded words.
    Unicode(String),
}

/// A checked mailbox, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NameAddr {
    name: Option<DisplayName>,
    address: String,
}

/// Reads `Name <address>` or a bare address; the address is checked with the envelope's
/// mailbox rules, so what the header says is what the envelope can carry.
pub(super) fn parse(text: &str) -> Result<NameAddr, Problem> {
    let text = text.trim();
    let (name, address) = match text
        .strip_suffix('>')
        .and_then(|rest| rest.rsplit_once('<'))
    {
        Some((name, address)) => (name.trim(), address),
        None if text.contains(['<', '>']) => return Err(Problem::NotAMailbox(text.to_owned())),
        None => ("", text),
    };
    let mailbox = Mailbox::parse(address).map_err(|error| Problem::Address(error.to_string()))?;
    let name = match name.is_empty() {
        true => None,
        false => Some(display_name(name)?),
    };
    Ok(NameAddr {
        name,
        address: mailbox.to_string(),
    })
}

fn display_name(written: &str) -> Result<DisplayName, Problem> {
    let name = match written
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        Some(quoted) => unquote(quoted),
        None => written.to_owned(),
    };
    if name.chars().count() > MAX_LABEL_CHARS {
        return Err(Problem::DisplayNameTooLong);
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    let looks_encoded = words
        .iter()
        .any(|word| word.starts_with("=?") && word.ends_with("?="));
    if !looks_encoded {
        return Ok(match name.is_ascii() {
            true => DisplayName::Plain(name),
            false => DisplayName::Unicode(name),
        });
    }
    match words.iter().find(|word| !header::is_encoded_word(word)) {
        Some(word) => Err(Problem::EncodedWord(word.to_string())),
        None => Ok(DisplayName::Encoded(words.join(" "))),
    }
}

/// The content of a quoted string with its quoted pairs (`\"`, `\\`) resolved.
fn unquote(quoted: &str) -> String {
    let mut name = String::with_capacity(quoted.len());
    let mut characters = quoted.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' => name.extend(characters.next()),
            other => name.push(other),
        }
    }
    name
}

/// Writes the mailboxes separated by commas, folding between and inside them.
pub(super) fn write_list(field: &mut Field, mailboxes: &[NameAddr]) {
    for (index, mailbox) in mailboxes.iter().enumerate() {
        if index > 0 {
            field.append(",");
        }
        write(field, mailbox);
    }
}

fn write(field: &mut Field, mailbox: &NameAddr) {
    match &mailbox.name {
        None => field.word(" ", &mailbox.address),
        Some(name) => {
            match name {
                DisplayName::Plain(name) => {
                    header::words(field, &quoted(name));
                }
                DisplayName::Encoded(words) => {
                    for word in words.split(' ') {
                        field.word(" ", word);
                    }
                }
                DisplayName::Unicode(name) => header::encoded_words(field, name),
            }
            field.word(" ", &format!("<{}>", mailbox.address));
        }
    }
}
