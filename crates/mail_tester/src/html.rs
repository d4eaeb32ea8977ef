//! A lenient scan of HTML tags, enough to find images and links with their attributes in the
//! HTML that mail programs write. It never fails: what it cannot read it skips, since the
//! checker reports on mail rather than validating HTML.

/// One start or end tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tag {
    /// Lowercase.
    pub name: String,
    pub closing: bool,
    /// Names lowercase, values with `&amp;` decoded.
    pub attributes: Vec<(String, String)>,
    /// Byte offsets of `<` and just after `>`.
    pub start: usize,
    pub end: usize,
}

impl Tag {
    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(attribute, _)| attribute == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The tags of `html` in order, comments skipped.
pub(crate) fn tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut tags = Vec::new();
    let mut at = 0;
    while let Some(offset) = html[at..].find('<') {
        let start = at + offset;
        if html[start..].starts_with("<!--") {
            at = html[start..]
                .find("-->")
                .map_or(html.len(), |end| start + end + 3);
            continue;
        }
        let closing = bytes.get(start + 1) == Some(&b'/');
        let name_start = start + 1 + usize::from(closing);
        let name_end = name_start
            + bytes[name_start..]
                .iter()
                .take_while(|byte| byte.is_ascii_alphanumeric())
                .count();
        // Tag names start with a letter (WHATWG HTML 13.2.5.6); anything else is a lone `<` in
        // text, a doctype or a processing instruction.
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            at = start + 1;
            continue;
        }
        let (attributes, end) = attributes(html, name_end);
        tags.push(Tag {
            name: html[name_start..name_end].to_ascii_lowercase(),
            closing,
            attributes,
            start,
            end,
        });
        at = end;
    }
    tags
}

/// Reads attributes from `position` to the end of the tag; returns them and the offset after
/// the `>` (or the end of the input).
fn attributes(html: &str, mut position: usize) -> (Vec<(String, String)>, usize) {
    let bytes = html.as_bytes();
    let skip = |position: &mut usize, what: &dyn Fn(u8) -> bool| {
        while bytes.get(*position).is_some_and(|&byte| what(byte)) {
            *position += 1;
        }
    };
    let mut attributes = Vec::new();
    loop {
        skip(&mut position, &|byte| {
            byte.is_ascii_whitespace() || byte == b'/'
        });
        match bytes.get(position) {
            None => return (attributes, html.len()),
            Some(b'>') => return (attributes, position + 1),
            Some(_) => {}
        }
        let name_start = position;
        skip(&mut position, &|byte| {
            !byte.is_ascii_whitespace() && !matches!(byte, b'=' | b'>' | b'/')
        });
        let name = html[name_start..position].to_ascii_lowercase();
        skip(&mut position, &|byte| byte.is_ascii_whitespace());
        let mut value = String::new();
        if bytes.get(position) == Some(&b'=') {
            position += 1;
            skip(&mut position, &|byte| byte.is_ascii_whitespace());
            let value_start;
            match bytes.get(position) {
                Some(&quote @ (b'"' | b'\'')) => {
                    value_start = position + 1;
                    position = html[value_start..]
                        .find(char::from(quote))
                        .map_or(html.len(), |end| value_start + end);
                    value = html[value_start..position].replace("&amp;", "&");
                    position = (position + 1).min(html.len());
                }
                _ => {
                    value_start = position;
                    skip(&mut position, &|byte| {
                        !byte.is_ascii_whitespace() && byte != b'>'
                    });
                    value = html[value_start..position].replace("&amp;", "&");
                }
            }
        }
        if !name.is_empty() {
            attributes.push((name, value));
        }
    }
}

/// The host of an `http`/`https` URL, lowercase, without user information or port.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = ["http://", "https://"].iter().find_map(|scheme| {
        url.get(..scheme.len())
            .filter(|prefix| prefix.eq_ignore_ascii_case(scheme))
            .map(|_| &url[scheme.len()..])
    })?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        // An IPv6 literal keeps its colons.
        Some(literal) => literal.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    (!host.is_empty()).then(|| host.trim_end_matches('.').to_ascii_lowercase())
}

/// The host that a link's visible text shows, when the text is a URL or a bare host name such as
/// `www.example.com` or `example.com/offer`; `None` for ordinary words.
pub(crate) fn shown_host(text: &str) -> Option<String> {
    let text = text.trim();
    if let Some(host) = url_host(text) {
        return Some(host);
    }
    if text.contains(char::is_whitespace) || text.contains('@') {
        return None;
    }
    let host = text.split(['/', '?', '#']).next().unwrap_or_default();
    let labels: Vec<&str> = host.split('.').collect();
    let looks_like_host = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
        && labels.last().is_some_and(|tld| {
            tld.len() >= 2 && tld.bytes().all(|byte| byte.is_ascii_alphabetic())
        });
    looks_like_host.then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_tags_and_attributes() {
        let html = "<!-- <img> --><p>Hi</p><IMG SRC=\"a.png\" alt=''><a href=https://x.test/?a=1&amp;b=2>go</a><br/>";
        let scanned = tags(html);
        let names: Vec<(&str, bool)> = scanned
            .iter()
            .map(|tag| (tag.name.as_str(), tag.closing))
            .collect();
        assert_eq!(
            names,
            [
                ("p", false),
                ("p", true),
                ("img", false),
                ("a", false),
                ("a", true),
                ("br", false)
            ]
        );
        assert_eq!(scanned[2].attribute("src"), Some("a.png"));
        assert_eq!(scanned[2].attribute("alt"), Some(""));
        assert_eq!(
            scanned[3].attribute("href"),
            Some("https://x.test/?a=1&b=2")
        );
        assert_eq!(tags("<a href=\"unterminated").len(), 1);
        assert!(tags("a < b and <3").is_empty());
    }

    #[test]
    fn hosts() {
        assert_eq!(
            url_host("HTTPS://user@Shop.Example:8443/x").as_deref(),
            Some("shop.example")
        );
        assert_eq!(
            url_host("https://[2001:db8::1]/").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(url_host("mailto:a@b.example"), None);
        assert_eq!(
            shown_host("www.bank.example/login").as_deref(),
            Some("www.bank.example")
        );
        assert_eq!(
            shown_host(" https://bank.example ").as_deref(),
            Some("bank.example")
        );
        assert_eq!(shown_host("Click here."), None);
        assert_eq!(shown_host("v1.2"), None);
        assert_eq!(shown_host("a@b.example"), None);
    }
}
