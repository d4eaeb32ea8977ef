//! Header fields as they go on the wire: folded at whitespace (RFC 5322 2.2.3) so that lines
//! stay within 78 characters wherever the text allows, with non-ASCII text (and ASCII words too
//! long for any line) written as RFC 2047 encoded words of at most 75 characters each, split
//! only between whole characters.

use base64::Engine as _;

/// RFC 5322 2.1.1: a line SHOULD be at most 78 characters long, without its CRLF.
const PREFERRED_LINE: usize = 78;
/// RFC 2047 2: an encoded word is at most 75 characters long.
pub(super) const MAX_ENCODED_WORD: usize = 75;
const WORD_PREFIX: &str = "=?UTF-8?B?";
const WORD_SUFFIX: &str = "?=";

/// One header field being written. Text is added a word at a time; a word that would take its
/// line past 78 characters starts a new (folded) line, unless it is the line's first word.
pub(super) struct Field {
    text: String,
    line_start: usize,
    words_on_line: usize,
}

impl Field {
    pub(super) fn new(name: &str) -> Self {
        Self {
            text: format!("{name}:"),
            line_start: 0,
            words_on_line: 0,
        }
    }

    fn line_len(&self) -> usize {
        self.text.len() - self.line_start
    }

    /// Writes `space` (at least one space or TAB) and then `word`, folding before them when the
    /// line would grow past the preferred width. Folding keeps `space` at the start of the new
    /// line, so unfolding (removing the CRLF) gives back exactly the text written.
    pub(super) fn word(&mut self, space: &str, word: &str) {
        debug_assert!(
            !space.is_empty(),
            "a fold needs whitespace to continue the line"
        );
        let too_long = self.line_len() + space.len() + word.len() > PREFERRED_LINE;
        if too_long && self.words_on_line > 0 {
            self.text.push_str("\r\n");
            self.line_start = self.text.len();
            self.words_on_line = 0;
        }
        self.text.push_str(space);
        self.text.push_str(word);
        self.words_on_line += 1;
    }

    /// Appends text that may not be separated from what precedes it (such as a comma).
    pub(super) fn append(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// The longest line of the field, in octets, without its CRLF.
    pub(super) fn longest_line(&self) -> usize {
        self.text.split("\r\n").map(str::len).max().unwrap_or(0)
    }

    /// The field with its final CRLF.
    pub(super) fn finish(mut self) -> String {
        self.text.push_str("\r\n");
        self.text
    }

    /// How many bytes of text the next encoded word may carry: as many as fit on the current
    /// line (within the preferred width and RFC 2047's 75 characters), or on a fresh line.
    fn encoded_word_payload(&self, next_char_len: usize) -> usize {
        let payload_for = |room: usize| {
            let room = room.min(MAX_ENCODED_WORD);
            room.saturating_sub(WORD_PREFIX.len() + WORD_SUFFIX.len()) / 4 * 3
        };
        let here = payload_for(PREFERRED_LINE.saturating_sub(self.line_len() + 1));
        // A fresh continuation line starts with one space.
        let fresh = payload_for(PREFERRED_LINE - 1);
        match here >= next_char_len {
            true => here,
            false => fresh,
        }
    }
}

/// Writes unstructured text (RFC 5322 3.2.5: Subject, X- headers): printable ASCII as it is,
/// folded at its own whitespace; anything else as encoded words.
pub(super) fn unstructured(field: &mut Field, text: &str) {
    if fits_as_ascii(field, text) {
        words(field, text);
    } else {
        encoded_words(field, text);
    }
}

/// Whether `text` can be written as it is: ASCII, and no word so long that its line would pass
/// the 998-octet limit.
fn fits_as_ascii(field: &Field, text: &str) -> bool {
    let room = sealpost_domain::limits::message::MAX_LINE_OCTETS - field.line_len() - 1;
    text.is_ascii()
        && segments(text)
            .iter()
            .all(|(space, word)| space.len() + word.len() <= room)
}

/// Writes ASCII text word by word, folding at its whitespace; the first word follows a space.
pub(super) fn words(field: &mut Field, text: &str) {
    let mut segments = segments(text).into_iter();
    match segments.next() {
        None => field.append(" "),
        Some((space, word)) => field.word(&format!(" {space}"), word),
    }
    for (space, word) in segments {
        match word.is_empty() {
            // Trailing whitespace: a fold here would leave a line of only whitespace.
            true => field.append(space),
            false => field.word(space, word),
        }
    }
}

/// Splits text into (whitespace, word) pairs; only the first whitespace may be empty, and only
/// the last word.
fn segments(text: &str) -> Vec<(&str, &str)> {
    let is_space = |c: char| c == ' ' || c == '\t';
    let mut segments = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let word_start = rest.find(|c| !is_space(c)).unwrap_or(rest.len());
        let word_end = rest[word_start..]
            .find(is_space)
            .map_or(rest.len(), |end| word_start + end);
        segments.push((&rest[..word_start], &rest[word_start..word_end]));
        rest = &rest[word_end..];
    }
    segments
}

/// Writes `text` as UTF-8 base64 encoded words separated by spaces, which decoders drop
/// between adjacent encoded words (RFC 2047 6.2), so the text comes back exactly.
pub(super) fn encoded_words(field: &mut Field, text: &str) {
    let mut rest = text;
    if rest.is_empty() {
        field.append(" ");
    }
    while let Some(first) = rest.chars().next() {
        let payload = field.encoded_word_payload(first.len_utf8());
        let mut end = 0;
        for (index, character) in rest.char_indices() {
            if index + character.len_utf8() > payload {
                break;
            }
            end = index + character.len_utf8();
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(&rest.as_bytes()[..end]);
        field.word(" ", &format!("{WORD_PREFIX}{encoded}{WORD_SUFFIX}"));
        rest = &rest[end..];
    }
}

/// Whether `word` is an RFC 2047 encoded word: `=?charset?B?text?=` or `=?charset?Q?text?=`,
/// at most 75 characters, with a token for the charset and no space or `?` in the text.
pub(super) fn is_encoded_word(word: &str) -> bool {
    let Some(inner) = word
        .strip_prefix("=?")
        .and_then(|rest| rest.strip_suffix("?="))
    else {
        return false;
    };
    let mut parts = inner.splitn(3, '?');
    let (Some(charset), Some(encoding), Some(text)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let token = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|byte| byte.is_ascii_graphic() && !b"()<>@,;:\"/[]?.=".contains(&byte))
    };
    word.len() <= MAX_ENCODED_WORD
        && token(charset)
        && matches!(encoding, "B" | "b" | "Q" | "q")
        && !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && byte != b'?')
}
