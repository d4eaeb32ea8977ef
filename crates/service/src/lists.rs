//! The one reading of a list's paging and filters as the API's query and the UI's filter form
//! give them (text), into the store's types: a page size within bounds, a cursor of the list's
//! kind, a recipient state or a mailing's progress. Whatever does not read is refused with the
//! field it came from, so the API answers 422 and the page shows the error.

use sealpost_domain::{MailingProgress, RecipientState};
pub use sealpost_store::{Cursor, MAX_PAGE, MailingFilter, MessageFilter, Page, PageRequest};

use crate::ServiceError;

/// How a list is ordered, and so which cursor it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    /// Newest first: messages, mailings, mail tester reports.
    Newest,
    /// By name: contacts.
    ByName,
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field,
        message: message.into(),
    }
}

/// Treats an empty form field like an absent one.
fn given(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|text| !text.is_empty())
}

/// The page a list request asks for: `limit` (1 to [`MAX_PAGE`], `default` when absent) and
/// the `cursor` of the page before, which must be one of this list's.
pub fn page_request(
    limit: Option<&str>,
    cursor: Option<&str>,
    default: u32,
    order: ListOrder,
) -> Result<PageRequest, ServiceError> {
    let limit = match given(limit) {
        None => default,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|limit| (1..=MAX_PAGE).contains(limit))
            .ok_or_else(|| invalid("limit", format!("give a number from 1 to {MAX_PAGE}")))?,
    };
    let after = match given(cursor) {
        None => None,
        Some(token) => {
            let cursor = Cursor::parse(token).filter(|cursor| match order {
                ListOrder::Newest => cursor.time_key().is_some(),
                ListOrder::ByName => cursor.name_key().is_some(),
            });
            Some(cursor.ok_or_else(|| {
                invalid(
                    "cursor",
                    "is not a cursor of this list; use the next cursor a page of it gave",
                )
            })?)
        }
    };
    Ok(PageRequest { limit, after })
}

/// A recipient state to filter by, or `None` for any.
pub fn recipient_state(text: Option<&str>) -> Result<Option<RecipientState>, ServiceError> {
    given(text)
        .map(|text| {
            RecipientState::parse(text).ok_or_else(|| {
                invalid(
                    "state",
                    format!("{text:?} is not a recipient state (queued, sending, deferred, sent, failed, expired, cancelled, suppressed, bounced or complained)"),
                )
            })
        })
        .transpose()
}

/// A mailing's progress to filter by, or `None` for any.
pub fn mailing_progress(text: Option<&str>) -> Result<Option<MailingProgress>, ServiceError> {
    given(text)
        .map(|text| {
            MailingProgress::parse(text).ok_or_else(|| {
                invalid(
                    "status",
                    format!("{text:?} is not a mailing status (draft, in_progress, delivered, partly_delivered or failed)"),
                )
            })
        })
        .transpose()
}

/// A search text, or `None` when blank; at most 200 characters.
pub fn search(text: Option<&str>) -> Result<Option<String>, ServiceError> {
    match given(text) {
        None => Ok(None),
        Some(text) if text.chars().count() > 200 => {
            Err(invalid("q", "search for at most 200 characters"))
        }
        Some(text) => Ok(Some(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_reads_bounds_and_cursor_kinds() {
        let newest = Cursor::Time {
            at: 5,
            id: "x".into(),
        }
        .encode();
        let by_name = Cursor::Name {
            name: "Ann".into(),
            email: "a@b.example".into(),
        }
        .encode();
        let page = page_request(Some("20"), Some(&newest), 50, ListOrder::Newest).unwrap();
        assert_eq!(page.limit, 20);
        assert!(page.after.is_some());
        assert_eq!(
            page_request(None, Some(""), 50, ListOrder::ByName).unwrap(),
            PageRequest::first(50)
        );
        for (limit, cursor, order) in [
            (Some("0"), None, ListOrder::Newest),
            (Some("201"), None, ListOrder::Newest),
            (Some("ten"), None, ListOrder::Newest),
            (None, Some(by_name.as_str()), ListOrder::Newest),
            (None, Some(newest.as_str()), ListOrder::ByName),
            (None, Some("garbage"), ListOrder::Newest),
        ] {
            let error = page_request(limit, cursor, 50, order).unwrap_err();
            assert!(matches!(error, ServiceError::Invalid { .. }), "{error:?}");
        }
    }

    #[test]
    fn filters_read_their_words() {
        assert_eq!(
            recipient_state(Some("sent")).unwrap(),
            Some(RecipientState::Sent)
        );
        assert_eq!(recipient_state(Some(" ")).unwrap(), None);
        assert!(recipient_state(Some("lost")).is_err());
        assert_eq!(
            mailing_progress(Some("partly_delivered")).unwrap(),
            Some(MailingProgress::PartlyDelivered)
        );
        assert!(mailing_progress(Some("sent")).is_err());
        assert_eq!(search(Some("  work ")).unwrap().as_deref(), Some("work"));
        assert!(search(Some(&"x".repeat(201))).is_err());
    }
}
