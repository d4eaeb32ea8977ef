//! Bounces written for people: the home-grown formats of qmail, Exim, Sendmail, Gmail, Yahoo
//! and many others. None of them is parsed by name; the reader looks for the shapes they share:
//! a recipient address on a line of its own or opening a line (`<a@b>:`, `a@b...`), followed by
//! the remote server's answer, all before the quoted original message.

use crate::finding::Finding;
use crate::limits;
use crate::mime::Sections;
use crate::reason::Reason;
use crate::status::{EnhancedStatus, ReplyCode};

/// Lines that start the quoted original message; everything after them is the sender's own
/// text and must not be read as the report.
const ORIGINAL_MARKERS: &[&str] = &[
    "below this line is a copy of the message",
    "this is a copy of the message",
    "original message follows",
    "original message ---",
    "original message -----",
    "message headers follow",
    "headers of the original message",
    "unsent message below",
    // Postfix's "delete your own text from the attached returned message" is no marker.
    "- returned message",
    "content-type: message/rfc822",
    "------ this is a copy",
    "original message headers",
    "included is a copy",
    "copy of your message",
];

/// The human-readable text of a report, up to the quoted original.
pub fn report_text(sections: &Sections) -> String {
    let mut text = String::new();
    for part in &sections.texts {
        if text.len() >= limits::MAX_TEXT_BYTES {
            break;
        }
        text.push_str(part);
        text.push('\n');
    }
    let mut end = text.len().min(limits::MAX_TEXT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    let mut kept = String::with_capacity(text.len());
    for line in text.lines() {
        let lower = line.to_ascii_lowercase();
        if ORIGINAL_MARKERS.iter().any(|marker| lower.contains(marker)) {
            break;
        }
        kept.push_str(line.trim_end());
        kept.push('\n');
    }
    kept
}

/// One finding per recipient the text names; one without an address when it names none.
pub fn findings(sections: &Sections, text: &str) -> Vec<Finding> {
    let lines: Vec<&str> = text.lines().collect();
    let mut anchors: Vec<(usize, String, String)> = lines
        .iter()
        .enumerate()
        .filter_map(|(index, line)| anchor(line).map(|(address, rest)| (index, address, rest)))
        .collect();
    // The returned message's sender is named in some reports ("A message sent by <a@b>"), and
    // some reports repeat the recipients in a second language: each recipient counts once.
    let senders: Vec<String> = ["to", "x-original-to"]
        .iter()
        .filter_map(|name| sections.header(name))
        .map(|value| crate::fields::bare_address(value).to_ascii_lowercase())
        .chain(
            sections
                .original
                .iter()
                .filter_map(|original| original.from.clone()),
        )
        .map(|address| address.to_ascii_lowercase())
        .collect();
    let mut seen: Vec<String> = Vec::new();
    anchors.retain(|(_, address, _)| {
        let address = address.to_ascii_lowercase();
        let keep = !senders.contains(&address) && !seen.contains(&address);
        seen.push(address);
        keep
    });
    if anchors.is_empty() {
        return vec![without_anchor(sections, text)];
    }
    anchors.truncate(limits::MAX_RECIPIENTS);
    let mut findings = Vec::with_capacity(anchors.len());
    let last_segment = segment(&lines, anchors[anchors.len() - 1].0 + 1, lines.len());
    for (position, (index, address, rest)) in anchors.iter().enumerate() {
        let end = anchors.get(position + 1).map_or(lines.len(), |next| next.0);
        let mut diagnostic = format!("{rest} {}", segment(&lines, index + 1, end));
        if diagnostic.trim().is_empty() {
            diagnostic = last_segment.clone();
        }
        if diagnostic.trim().is_empty() {
            let start = match position {
                0 => 0,
                _ => anchors[position - 1].0 + 1,
            };
            diagnostic = segment(&lines, start, *index);
        }
        findings.push(finding(Some(address.clone()), diagnostic.trim()));
    }
    findings
}

/// A report that names no recipient in a shape we know: the failed recipients header, or a
/// sentence such as "delivering your mail to <a@b>", or no address at all.
fn without_anchor(sections: &Sections, text: &str) -> Finding {
    let address = sections
        .header("x-failed-recipients")
        .map(|value| {
            value
                .split(',')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .or_else(|| address_after_to(text));
    finding(address, text.trim())
}

fn finding(address: Option<String>, diagnostic: &str) -> Finding {
    let diagnostic = collapse(diagnostic);
    // A Google Groups address that bounces means the group refused the poster, in whatever
    // language the notice is written.
    let group = address
        .as_deref()
        .is_some_and(|address| address.to_ascii_lowercase().ends_with("@googlegroups.com"));
    Finding {
        reason: group.then_some(Reason::Rejected),
        address,
        status: EnhancedStatus::find(&diagnostic),
        reply_code: ReplyCode::find(&diagnostic),
        diagnostic,
        ..Finding::default()
    }
}

fn segment(lines: &[&str], start: usize, end: usize) -> String {
    lines
        .get(start..end.min(lines.len()))
        .unwrap_or_default()
        .join("\n")
}

/// Whitespace runs become one space and the text is cut to the diagnostic limit.
fn collapse(text: &str) -> String {
    let mut collapsed = String::with_capacity(text.len().min(limits::MAX_DIAGNOSTIC_CHARS));
    for word in text.split_whitespace() {
        if collapsed.chars().count() >= limits::MAX_DIAGNOSTIC_CHARS {
            break;
        }
        if !collapsed.is_empty() {
            collapsed.push(' ');
        }
        collapsed.push_str(word);
    }
    collapsed
}

/// A line that names a recipient: the address alone (`  a@b`, `<a@b>:`), or opening the line
/// before the answer (`<a@b>: 550 ...`, `a@b... User unknown`), or after a label such as
/// `Recipient:`. Returns the address and the rest of the line.
fn anchor(line: &str) -> Option<(String, String)> {
    let trimmed = line
        .trim()
        .trim_start_matches(['>', '*', '-', '•'])
        .trim_start();
    let lower = trimmed.to_ascii_lowercase();
    for label in [
        "failed recipient:",
        "recipient:",
        "recipient address:",
        "address:",
        "rcpt to:",
    ] {
        if let Some(rest) = lower.strip_prefix(label) {
            let (address, after) = leading_address(trimmed[trimmed.len() - rest.len()..].trim())?;
            return Some((address, after.to_owned()));
        }
    }
    let (address, rest) = leading_address(trimmed)?;
    let rest = rest.trim_start();
    let rest = match rest.strip_prefix("...").or_else(|| rest.strip_prefix(':')) {
        Some(after) => after,
        None if rest.is_empty() || rest == "," || rest.starts_with('(') => rest,
        // Exchange writes "a@b on <date>" and the answer on the next lines.
        None if rest.starts_with("on ") => "",
        None if trimmed.starts_with('<') => rest,
        None => return None,
    };
    Some((address, rest.trim().to_owned()))
}

/// An address at the start of a text, bare or in angle brackets, and the rest.
fn leading_address(text: &str) -> Option<(String, &str)> {
    let (candidate, rest) = match text.strip_prefix('<') {
        Some(inner) => {
            let close = inner.find('>')?;
            (&inner[..close], &inner[close + 1..])
        }
        None => {
            let end = text
                .find(|character: char| character.is_whitespace() || character == '<')
                .unwrap_or(text.len());
            let word = &text[..end];
            let word_end = word.find("...").unwrap_or(word.len());
            let word = &word[..word_end];
            let word = word.trim_end_matches([':', ',', ';', '.']);
            (word, &text[word.len()..])
        }
    };
    is_address(candidate).then(|| (candidate.to_owned(), rest))
}

fn is_address(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.chars().all(|character| {
            character.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.\"".contains(character)
        });
    let domain_ok = domain.contains('.')
        && domain.len() <= 255
        && domain
            .chars()
            .all(|character| character.is_alphanumeric() || character == '-' || character == '.');
    local_ok && domain_ok
}

/// The address in "... to <a@b>" or "... to a@b" in a sentence.
fn address_after_to(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(" to ") {
        let start = from + found + 4;
        let candidate = text[start..].trim_start_matches(['<', ' ']);
        let end = candidate
            .find(|character: char| character.is_whitespace() || ">,;:()".contains(character))
            .unwrap_or(candidate.len());
        let word = candidate[..end].trim_end_matches('.');
        if is_address(word) {
            return Some(word.to_owned());
        }
        from = start;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(line: &str, expect: Option<(&str, &str)>) {
        let found = anchor(line);
        let found = found
            .as_ref()
            .map(|(address, rest)| (address.as_str(), rest.as_str()));
        assert_eq!(found, expect, "{line:?}");
    }

    #[test]
    fn recipient_lines() {
        check(
            "<kijitora@example.ne.jp>:",
            Some(("kijitora@example.ne.jp", "")),
        );
        check(
            "  kijitora@example.ed.jp",
            Some(("kijitora@example.ed.jp", "")),
        );
        check(
            "kijitora@example.jp... User unknown",
            Some(("kijitora@example.jp", "User unknown")),
        );
        check("<a@b.example>: 550 no", Some(("a@b.example", "550 no")));
        check("From: shironeko@example.jp", None);
        check("shironeko@example.jp wrote a letter", None);
        check("not an address at all", None);
        check("", None);
    }

    #[test]
    fn address_in_a_sentence() {
        let text = "There was an error delivering your mail to <a@b.example>.";
        assert_eq!(address_after_to(text).as_deref(), Some("a@b.example"));
    }
}
