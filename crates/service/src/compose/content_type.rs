//! An attachment's media type as the application gives it (RFC 2045 5.1): `type/subtype`
//! followed by parameters whose values are tokens or quoted strings, such as
//! `text/plain; charset="utf-8"`; written back in a canonical form.

/// A checked media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ContentType {
    /// `type/subtype`, lowercase (RFC 2045: matching is case-insensitive).
    media_type: String,
    /// Attributes lowercase, values as given (with quoting removed).
    parameters: Vec<(String, String)>,
}

/// RFC 2045 5.1 `token`: printable ASCII except space and the tspecials.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&byte)
}

fn token(text: &str) -> Option<(&str, &str)> {
    let end = text
        .bytes()
        .position(|byte| !is_token_byte(byte))
        .unwrap_or(text.len());
    (end > 0).then(|| text.split_at(end))
}

/// A quoted string after its opening quote: its content and the text after the closing quote.
fn quoted_string(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut characters = text.char_indices();
    while let Some((index, character)) = characters.next() {
        match character {
            '"' => return Some((value, &text[index + 1..])),
            '\\' => value.push(characters.next()?.1),
            // Printable ASCII and TAB only: non-ASCII values need RFC 2231, line breaks never.
            ' '..='~' | '\t' => value.push(character),
            _ => return None,
        }
    }
    None
}

impl ContentType {
    /// Reads `type/subtype *(";" attribute "=" value)`, allowing spaces around the separators;
    /// `None` when it is not of that form.
    pub(super) fn parse(text: &str) -> Option<Self> {
        let (kind, rest) = token(text.trim())?;
        let (subtype, mut rest) = token(rest.strip_prefix('/')?)?;
        let mut parameters = Vec::new();
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            rest = rest.strip_prefix(';')?.trim_start();
            // A trailing semicolon is common and harmless.
            if rest.is_empty() {
                break;
            }
            let (attribute, after) = token(rest)?;
            let after = after.trim_start().strip_prefix('=')?.trim_start();
            let (value, after) = match after.strip_prefix('"') {
                Some(quoted) => quoted_string(quoted)?,
                None => token(after).map(|(value, after)| (value.to_owned(), after))?,
            };
            parameters.push((attribute.to_ascii_lowercase(), value));
            rest = after;
        }
        Some(Self {
            media_type: format!("{kind}/{subtype}").to_ascii_lowercase(),
            parameters,
        })
    }

    /// Whether the application set this parameter (lowercase name).
    pub(super) fn has(&self, attribute: &str) -> bool {
        self.parameters.iter().any(|(name, _)| name == attribute)
    }

    /// The media type and then each `attribute=value` (a value that is not a token quoted),
    /// for the caller to join with semicolons and fold between.
    pub(super) fn parts(&self) -> Vec<String> {
        let parameters = self
            .parameters
            .iter()
            .map(|(attribute, value)| format!("{attribute}={}", parameter_value(value)));
        std::iter::once(self.media_type.clone())
            .chain(parameters)
            .collect()
    }
}

/// A parameter value as a token, or as a quoted string when it is not one.
fn parameter_value(value: &str) -> String {
    match !value.is_empty() && value.bytes().all(is_token_byte) {
        true => value.to_owned(),
        false => quoted(value),
    }
}

/// A value as a quoted string, with quotes and backslashes as quoted pairs.
pub(super) fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}
