//! The message's content as a filter sees it: size, the MIME structure (a text/plain
//! alternative to HTML), how much text the HTML carries, images without alt text, where links
//! lead and whether their text shows another host, and the unsubscribe headers bulk mail needs.

use std::collections::BTreeSet;

use mail_parser::decoders::html::html_to_text;
use mail_parser::{Message, MessageParser, PartType};

use crate::html::{Tag, shown_host, tags, url_host};
use crate::rules::{
    HTML_LITTLE_TEXT, HTML_ONLY, IMAGE_WITHOUT_ALT, LINK_TEXT_MISMATCH, LIST_UNSUBSCRIBE_MISSING,
    LIST_UNSUBSCRIBE_ONE_CLICK_MISSING, MESSAGE_TOO_LARGE,
};
use crate::{Findings, Status};

/// Above this, providers start to refuse or clip mail (Gmail's limit is 25 MB after encoding).
const MAX_SIZE: usize = 10 * 1024 * 1024;

/// HTML with images and less visible text than this hides its words in pictures.
const MIN_TEXT_WITH_IMAGES: usize = 200;

/// HTML this large must carry at least [`MIN_TEXT_PERCENT`] visible text; smaller HTML is
/// judged by [`MIN_TEXT_WITH_IMAGES`] alone, since markup dominates short messages.
const RATIO_FROM_SIZE: usize = 4096;
const MIN_TEXT_PERCENT: usize = 3;

pub(crate) fn check(raw: &[u8], findings: &mut Findings) {
    let size = raw.len();
    if size > MAX_SIZE {
        findings.problem(
            MESSAGE_TOO_LARGE,
            format!("The message is {:.1} MB.", megabytes(size)),
            "Keep messages under 10 MB: link to large files instead of attaching them, and \
             scale images down.",
        );
        findings.check("size", Status::Warning, format!("{size} bytes"));
    } else {
        findings.check("size", Status::Pass, format!("{size} bytes"));
    }
    // The header check already reports a message that cannot be read at all.
    let Some(message) = MessageParser::new().parse(raw) else {
        return;
    };
    let html = html_bodies(&message);
    check_structure(&message, !html.is_empty(), findings);
    if !html.is_empty() {
        let html = html.join("\n");
        let tags = tags(&html);
        check_balance(&html, &tags, findings);
        check_images(&tags, findings);
        check_links(&html, &tags, findings);
    }
    check_unsubscribe(&message, findings);
}

/// `1 image`, `2 images`: the finding is read by people.
fn count(number: usize, one: &str, many: &str) -> String {
    format!("{number} {}", if number == 1 { one } else { many })
}

#[expect(
    clippy::cast_precision_loss,
    reason = "a size shown with one decimal needs no precision beyond 2^52 bytes"
)]
fn megabytes(size: usize) -> f64 {
    size as f64 / (1024.0 * 1024.0)
}

/// The text/html bodies (not attachments) of the message.
fn html_bodies<'m>(message: &'m Message<'_>) -> Vec<&'m str> {
    message
        .html_body
        .iter()
        .filter_map(|&id| message.parts.get(id as usize))
        .filter_map(|part| match &part.body {
            PartType::Html(html) => Some(html.as_ref()),
            _ => None,
        })
        .collect()
}

fn check_structure(message: &Message<'_>, has_html: bool, findings: &mut Findings) {
    // mail-parser lists the HTML part among the text bodies when there is no text
    // alternative, so the part's own type decides.
    let has_text = message
        .text_body
        .iter()
        .filter_map(|&id| message.parts.get(id as usize))
        .any(|part| matches!(part.body, PartType::Text(_)));
    let found = match (has_text, has_html) {
        (true, true) => "text/plain and text/html",
        (true, false) => "text/plain only",
        (false, true) => "text/html only",
        (false, false) => "no text body",
    };
    if has_html && !has_text {
        findings.problem(
            HTML_ONLY,
            "The message has an HTML body but no text/plain alternative.",
            "Send multipart/alternative with a text/plain part next to the HTML; give \
             Sealpost both the text and the html field when submitting.",
        );
        findings.check("mime", Status::Warning, found);
    } else {
        findings.check("mime", Status::Pass, found);
    }
}

fn check_balance(html: &str, tags: &[Tag], findings: &mut Findings) {
    let text: usize = html_to_text(html)
        .split_whitespace()
        .map(|word| word.chars().count() + 1)
        .sum();
    let images = tags
        .iter()
        .filter(|tag| tag.name == "img" && !tag.closing)
        .count();
    let little_with_images = images > 0 && text < MIN_TEXT_WITH_IMAGES;
    let little_for_size =
        html.len() >= RATIO_FROM_SIZE && text * 100 < html.len() * MIN_TEXT_PERCENT;
    let found = format!(
        "{text} characters of visible text in {} bytes of HTML with {}",
        html.len(),
        count(images, "image", "images")
    );
    if little_with_images || little_for_size {
        findings.problem(
            HTML_LITTLE_TEXT,
            found.clone(),
            "Write the message's content as text in the HTML rather than in images, and trim \
             markup that shows nothing; aim for at least a few sentences of real text.",
        );
        findings.check("text_balance", Status::Warning, found);
    } else {
        findings.check("text_balance", Status::Pass, found);
    }
}

fn check_images(tags: &[Tag], findings: &mut Findings) {
    let images: Vec<&Tag> = tags
        .iter()
        .filter(|tag| tag.name == "img" && !tag.closing)
        .collect();
    // An empty alt is right for decorative images; only a missing one is a fault.
    let without_alt: Vec<&str> = images
        .iter()
        .filter(|image| image.attribute("alt").is_none())
        .map(|image| image.attribute("src").unwrap_or("(no src)"))
        .collect();
    let found = format!(
        "{}, {} without alt text",
        count(images.len(), "image", "images"),
        without_alt.len()
    );
    if without_alt.is_empty() {
        findings.check("images", Status::Pass, found);
        return;
    }
    findings.problem(
        IMAGE_WITHOUT_ALT,
        format!("{found}: {}", without_alt.join(", ")),
        "Give every <img> an alt attribute describing it (alt=\"\" for purely decorative \
         images), so the message still reads when images are blocked.",
    );
    findings.check("images", Status::Warning, found);
}

fn check_links(html: &str, tags: &[Tag], findings: &mut Findings) {
    let mut hosts = BTreeSet::new();
    let mut mismatches = Vec::new();
    for (index, tag) in tags.iter().enumerate() {
        if tag.name != "a" || tag.closing {
            continue;
        }
        let Some(host) = tag.attribute("href").and_then(url_host) else {
            continue;
        };
        // The visible text runs to the next </a> (or the end when it is missing).
        let text_end = tags[index + 1..]
            .iter()
            .find(|next| next.name == "a")
            .map_or(html.len(), |next| next.start);
        let text = html_to_text(html.get(tag.end..text_end).unwrap_or_default());
        if let Some(shown) = shown_host(&text)
            && bare(&shown) != bare(&host)
        {
            mismatches.push(format!("\"{}\" links to {host}", text.trim()));
        }
        hosts.insert(host);
    }
    let listed = match hosts.is_empty() {
        true => "no web links".to_owned(),
        false => format!(
            "links to {}",
            hosts.into_iter().collect::<Vec<_>>().join(", ")
        ),
    };
    if mismatches.is_empty() {
        findings.check("links", Status::Info, listed);
        return;
    }
    findings.problem(
        LINK_TEXT_MISMATCH,
        format!(
            "Link text shows another host than the link: {}.",
            mismatches.join("; ")
        ),
        "Let link text that shows an address show the address the link really opens, or use \
         words (\"View your invoice\") instead of an address; turn off click tracking that \
         rewrites such links.",
    );
    findings.check("links", Status::Warning, listed);
}

/// A host without a leading `www.`, which is the same site to a reader.
fn bare(host: &str) -> &str {
    host.strip_prefix("www.").unwrap_or(host)
}

fn check_unsubscribe(message: &Message<'_>, findings: &mut Findings) {
    let Some(unsubscribe) = message.header_raw("List-Unsubscribe") else {
        findings.problem(
            LIST_UNSUBSCRIBE_MISSING,
            "The message has no List-Unsubscribe header.",
            "For newsletters, add List-Unsubscribe: <https://...>, <mailto:...> with a link \
             that unsubscribes the recipient; application mail does not need it.",
        );
        findings.check("list_unsubscribe", Status::Info, "missing");
        return;
    };
    let one_click = message
        .header_raw("List-Unsubscribe-Post")
        .is_some_and(|post| {
            post.trim()
                .eq_ignore_ascii_case("List-Unsubscribe=One-Click")
        })
        && unsubscribe.to_ascii_lowercase().contains("<https://");
    if one_click {
        findings.check("list_unsubscribe", Status::Pass, unsubscribe.trim());
        return;
    }
    findings.problem(
        LIST_UNSUBSCRIBE_ONE_CLICK_MISSING,
        format!(
            "List-Unsubscribe is \"{}\" without one-click unsubscription (RFC 8058).",
            unsubscribe.trim()
        ),
        "For newsletters, put an https:// URL in List-Unsubscribe that unsubscribes on POST, \
         and add List-Unsubscribe-Post: List-Unsubscribe=One-Click.",
    );
    findings.check("list_unsubscribe", Status::Info, unsubscribe.trim());
}
