//! The tags of a signature as a report shows them: as the signer wrote them, unfolded, all but
//! `b=` and `bh=`. Held in one string with the place of each name and value, so that a report
//! owns a signature's dozen tags with two allocations rather than two per tag (every
//! verification builds a report, and the success path is the common one).

use std::ops::Range;

use crate::scan;

/// Tag names and values in the order written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureTags {
    text: String,
    /// Where each tag's name ends and its value starts in `text`, and the tag's whole range.
    spans: Vec<(usize, Range<usize>)>,
}

impl SignatureTags {
    /// Room for `count` tags of `length` bytes in all.
    pub(crate) fn with_capacity(count: usize, length: usize) -> Self {
        Self {
            text: String::with_capacity(length),
            spans: Vec::with_capacity(count),
        }
    }

    /// Adds a tag, its value unfolded (every CRLF removed).
    pub(crate) fn push(&mut self, name: &str, value: &str) {
        let start = self.text.len();
        self.text.push_str(name);
        let name_end = self.text.len();
        let mut rest = value;
        // CRLF is ASCII, so the byte search finds character boundaries.
        while let Some(at) = scan::crlf(rest.as_bytes()) {
            self.text.push_str(&rest[..at]);
            rest = &rest[at + 2..];
        }
        self.text.push_str(rest);
        self.spans.push((name_end, start..self.text.len()));
    }

    /// The tags as (name, value) pairs, in the order written.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans.iter().map(|(name_end, range)| {
            (
                &self.text[range.start..*name_end],
                &self.text[*name_end..range.end],
            )
        })
    }

    /// The value of the tag `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(tag, _)| *tag == name)
            .map(|(_, value)| value)
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_tags_in_order_and_unfolds_values() {
        let mut tags = SignatureTags::with_capacity(3, 40);
        tags.push("v", "1");
        tags.push("h", "From:To:\r\n\tSubject");
        tags.push("z", "");
        let pairs: Vec<(&str, &str)> = tags.iter().collect();
        assert_eq!(pairs, [("v", "1"), ("h", "From:To:\tSubject"), ("z", "")]);
        assert_eq!(tags.get("h"), Some("From:To:\tSubject"));
        assert_eq!(tags.get("b"), None);
        assert_eq!(tags.len(), 3);
        assert!(!tags.is_empty());
        assert!(SignatureTags::default().is_empty());
    }
}
