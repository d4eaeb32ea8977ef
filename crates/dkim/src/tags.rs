//! The tag=value lists that DKIM signatures and key records are written in (RFC 6376 section
//! 3.2), read into name/value pairs in order, with duplicates and bad names refused.

use std::borrow::Cow;

use crate::scan;

/// Tags in the order they appear, values with surrounding white space removed (inner white
/// space is kept; the tags that ignore it strip it themselves). Names and values borrow the
/// text they were read from: a signature is read on every verification, and owning each of its
/// dozen tags twice over cost more than the checks that read them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagList<'a> {
    pub tags: Vec<(&'a str, &'a str)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("the tag \"{0}\" appears more than once")]
    Duplicate(String),
    #[error("\"{0}\" is not a valid tag (expected name=value)")]
    Malformed(String),
}

impl<'a> TagList<'a> {
    pub fn parse(text: &'a str) -> Result<Self, TagError> {
        let mut tags: Vec<(&'a str, &'a str)> = Vec::with_capacity(16);
        let mut rest = text;
        while !rest.is_empty() {
            // Split at ASCII bytes, so every slice boundary is a character boundary; searching
            // bytes spares the per-match work of a `char` pattern.
            let (spec, after) = match scan::byte(rest.as_bytes(), b';') {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, ""),
            };
            rest = after;
            let spec = trim_fws(spec);
            // A trailing semicolon leaves an empty last spec, which RFC 6376 allows.
            if spec.is_empty() {
                continue;
            }
            let equals = spec
                .bytes()
                .position(|byte| byte == b'=')
                .ok_or_else(|| TagError::Malformed(spec.to_owned()))?;
            let name = trim_fws(&spec[..equals]);
            let valid_name = name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
            if !valid_name {
                return Err(TagError::Malformed(spec.to_owned()));
            }
            if tags.iter().any(|(existing, _)| same_name(existing, name)) {
                return Err(TagError::Duplicate(name.to_owned()));
            }
            tags.push((name, trim_fws(&spec[equals + 1..])));
        }
        Ok(Self { tags })
    }

    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.tags
            .iter()
            .find(|(tag, _)| same_name(tag, name))
            .map(|(_, value)| *value)
    }
}

/// Whether two tag names are equal. Names are a byte or two long and a signature is searched
/// for a dozen of them, so the first byte and the length rule most names out before a full
/// comparison is made.
fn same_name(one: &str, other: &str) -> bool {
    one.len() == other.len() && one.as_bytes().first() == other.as_bytes().first() && one == other
}

fn is_fws(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

/// `text` without folding white space at either end.
fn trim_fws(text: &str) -> &str {
    let bytes = text.as_bytes();
    let Some(start) = bytes.iter().position(|&byte| !is_fws(byte)) else {
        return "";
    };
    let end = bytes
        .iter()
        .rposition(|&byte| !is_fws(byte))
        .map_or(0, |at| at + 1);
    &text[start..end]
}

/// A value with all folding white space removed, as `b=`, `bh=` and `p=` are read. A value
/// without any is borrowed as it stands: most header names in `h=` are.
pub fn without_whitespace(value: &str) -> Cow<'_, str> {
    let mut rest = value;
    if scan::folding_white_space(rest.as_bytes()).is_none() {
        return Cow::Borrowed(value);
    }
    // `b=` and `p=` are hundreds of bytes long and folded every 70 or so: the runs between the
    // folds are found block-wise and copied whole. White space is ASCII, so the runs are cut
    // at character boundaries and need no second UTF-8 check.
    let mut kept = String::with_capacity(value.len());
    while let Some(at) = scan::folding_white_space(rest.as_bytes()) {
        kept.push_str(&rest[..at]);
        // A fold is a run of several such bytes (CRLF and a tab or space): skipped at once.
        let run = rest.as_bytes()[at..]
            .iter()
            .take_while(|&&byte| is_fws(byte))
            .count();
        rest = &rest[at + run..];
    }
    kept.push_str(rest);
    Cow::Owned(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_in_order() {
        let list = TagList::parse(" v=1; a = rsa-sha256;\r\n\tb=ab\r\n cd ;").unwrap();
        assert_eq!(list.get("v"), Some("1"));
        assert_eq!(list.get("a"), Some("rsa-sha256"));
        assert_eq!(list.get("b"), Some("ab\r\n cd"));
        assert_eq!(without_whitespace(list.get("b").unwrap()), "abcd");
        assert_eq!(list.tags[0].0, "v");
    }

    #[test]
    fn refuses_bad_lists() {
        assert_eq!(
            TagList::parse("v=1; v=1").unwrap_err(),
            TagError::Duplicate("v".into())
        );
        assert_eq!(
            TagList::parse("v=1; nonsense").unwrap_err(),
            TagError::Malformed("nonsense".into())
        );
        assert_eq!(
            TagList::parse("1a=x").unwrap_err(),
            TagError::Malformed("1a=x".into())
        );
    }
}
