//! The foot of every paged list: how many rows match the filters on all pages, and links to
//! the first and the next page that keep the filters. The rows, the count and the filters are
//! the database's, so a filter or a search looks at every row, not only the newest.

use sealpost_service::lists::Page;

use crate::format::{count, grouped};

pub struct Pager {
    /// "Showing 50 of 1,000 messages".
    pub summary: String,
    pub first_href: Option<String>,
    pub next_href: Option<String>,
}

impl Pager {
    /// `path` is the list's address and `filters` its query as given (empty values are left
    /// out of the links); `nouns` the singular and plural of what it lists.
    pub fn new<T>(
        page: &Page<T>,
        path: &str,
        filters: &[(&str, &str)],
        paged: bool,
        nouns: (&str, &str),
    ) -> Self {
        let kept: Vec<(&str, &str)> = filters
            .iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .copied()
            .collect();
        let href = |cursor: Option<&str>| {
            let mut query = kept.clone();
            if let Some(cursor) = cursor {
                query.push(("cursor", cursor));
            }
            match serde_urlencoded::to_string(&query) {
                Ok(text) if !text.is_empty() => format!("{path}?{text}"),
                _ => path.to_owned(),
            }
        };
        let summary = if page.total == page.items.len() as u64 && !paged {
            count(page.total, nouns)
        } else {
            format!(
                "Showing {} of {}",
                grouped(page.items.len() as u64),
                count(page.total, nouns)
            )
        };
        Self {
            summary,
            first_href: paged.then(|| href(None)),
            next_href: page
                .next
                .as_ref()
                .map(|next| href(Some(next.encode().as_str()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_service::lists::Cursor;

    #[test]
    fn the_pager_counts_and_keeps_the_filters() {
        let page = Page {
            items: vec![1, 2],
            total: 1234,
            next: Some(Cursor::Time {
                at: 7,
                id: "a".into(),
            }),
        };
        let pager = Pager::new(
            &page,
            "/t/acme/messages",
            &[("state", "sent"), ("q", "")],
            false,
            ("message", "messages"),
        );
        assert_eq!(pager.summary, "Showing 2 of 1,234 messages");
        assert_eq!(pager.first_href, None);
        let next = pager.next_href.unwrap();
        assert!(
            next.starts_with("/t/acme/messages?state=sent&cursor="),
            "{next}"
        );
        let last = Page {
            items: vec![1],
            total: 1,
            next: None,
        };
        let pager = Pager::new(&last, "/l", &[], false, ("report", "reports"));
        assert_eq!(pager.summary, "1 report");
        assert_eq!(pager.next_href, None);
    }
}
