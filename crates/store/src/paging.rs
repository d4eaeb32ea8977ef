//! Pages of a tenant's lists, read with a keyset cursor: a page starts after the sort key of
//! the last row of the page before, so it costs the same at the first page as at the
//! thousandth, and rows committed meanwhile neither repeat nor vanish between pages. Each page
//! carries the number of rows its filters match in all, counted by the database.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The largest page any list reads.
pub const MAX_PAGE: u32 = 200;

/// Where a page starts: just after the row with this sort key. Lists ordered by time (newest
/// first) use [`Cursor::Time`]; lists ordered by name use [`Cursor::Name`]. On the wire it is
/// an opaque URL-safe token (its parts are joined by NUL, which no name or address holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    Time { at: i64, id: String },
    Name { name: String, email: String },
}

impl Cursor {
    pub fn encode(&self) -> String {
        let text = match self {
            Self::Time { at, id } => format!("t\0{at}\0{id}"),
            Self::Name { name, email } => format!("n\0{name}\0{email}"),
        };
        URL_SAFE_NO_PAD.encode(text)
    }

    /// Reads a token made by [`Cursor::encode`]; `None` for anything else.
    pub fn parse(token: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(3, '\0');
        let (kind, first, second) = (parts.next()?, parts.next()?, parts.next()?);
        match kind {
            "t" => Some(Self::Time {
                at: first.parse().ok()?,
                id: second.to_owned(),
            }),
            "n" => Some(Self::Name {
                name: first.to_owned(),
                email: second.to_owned(),
            }),
            _ => None,
        }
    }

    /// The time and id of a time-ordered list's cursor, `None` for a name cursor.
    pub fn time_key(&self) -> Option<(i64, &str)> {
        match self {
            Self::Time { at, id } => Some((*at, id)),
            Self::Name { .. } => None,
        }
    }

    /// The name and address of a name-ordered list's cursor, `None` for a time cursor.
    pub fn name_key(&self) -> Option<(&str, &str)> {
        match self {
            Self::Name { name, email } => Some((name, email)),
            Self::Time { .. } => None,
        }
    }
}

/// Which page of a list to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// At most [`MAX_PAGE`]; the store caps it.
    pub limit: u32,
    pub after: Option<Cursor>,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        Self { limit, after: None }
    }

    /// The limit as the store reads it: one row more than the page, to learn whether
    /// another page follows without counting.
    pub(crate) fn fetch(&self) -> i64 {
        i64::from(self.limit.clamp(1, MAX_PAGE)) + 1
    }

    /// The page's time key, if the request has one; a name cursor on a time list reads from
    /// the start rather than failing, since the service checks the cursor's kind first.
    pub(crate) fn time_key(&self) -> (Option<i64>, Option<&str>) {
        match self.after.as_ref().and_then(Cursor::time_key) {
            Some((at, id)) => (Some(at), Some(id)),
            None => (None, None),
        }
    }
}

/// One page of a list, with the number of rows all pages hold and where the next page
/// starts (`None` on the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// No rows: the list a refused filter shows.
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            total: 0,
            next: None,
        }
    }

    /// Cuts the extra row read by [`PageRequest::fetch`] and makes the cursor from the last
    /// row kept.
    pub(crate) fn cut(
        mut items: Vec<T>,
        request: &PageRequest,
        total: i64,
        key: impl Fn(&T) -> Cursor,
    ) -> Self {
        let limit = usize::try_from(request.limit.clamp(1, MAX_PAGE)).unwrap_or(usize::MAX);
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(key)
        } else {
            None
        };
        Self {
            items,
            total: u64::try_from(total).unwrap_or_default(),
            next,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            next: self.next,
        }
    }
}

/// Whether `$column` contains the search pattern `$pattern` (a bound [`like_pattern`]), on
/// `sqlite` or `postgres`. The pattern is lowercased, and so is the column on PostgreSQL,
/// whose `LIKE` heeds case; SQLite's `LIKE` already ignores ASCII case, which is all its
/// `lower` folds, so there the column is compared as it is: lowering every row's text first
/// took more than half of a search's time.
macro_rules! searched {
    (sqlite, $column:literal, $pattern:literal) => {
        concat!($column, " LIKE ", $pattern, " ESCAPE '\\'")
    };
    (postgres, $column:literal, $pattern:literal) => {
        concat!("lower(", $column, ") LIKE ", $pattern, " ESCAPE '\\'")
    };
}
pub(crate) use searched;

/// The text of the SQL macro `$sql` for the store's backend (see [`searched`]).
macro_rules! sql_for {
    ($store:expr, $sql:ident) => {
        match $store {
            $crate::Store::Sqlite(_) => $sql!(sqlite),
            $crate::Store::Postgres(_) => $sql!(postgres),
        }
    };
}
pub(crate) use sql_for;

/// A search text as a `LIKE` pattern that matches it anywhere, lowercased, with `%`, `_` and
/// the escape character itself escaped (`ESCAPE '\'`); `None` for a blank search.
pub(crate) fn like_pattern(search: Option<&str>) -> Option<String> {
    let search = search?.trim();
    if search.is_empty() {
        return None;
    }
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for character in search.to_lowercase().chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    Some(pattern)
}

/// `$first, $first+1, ...` for an `IN (...)` list of `count` values: the only SQL text built
/// at run time, and it holds placeholders alone.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|number| format!("${number}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The most values one padded `IN (...)` list holds: a longer list is read in chunks of this
/// many, each one statement, far below every backend's limit on bound values (SQLite's 32,766,
/// sqlx's 65,535 for PostgreSQL), and a power of two, so a full chunk needs no padding.
pub(crate) const LIST_CHUNK: usize = 512;

/// `values` for an `IN (...)` list of [`placeholders`] for `values.len().next_power_of_two()`:
/// the values, then the last repeated, which `IN` ignores. A statement read with lists of any
/// length then takes a handful of shapes in a connection's statement cache (1, 2, 4, ... values)
/// rather than one per length, which under varied load would push out the statements every
/// batch runs.
pub(crate) fn padded<T: Copy>(values: &[T]) -> impl Iterator<Item = T> + '_ {
    let extra = values.len().next_power_of_two() - values.len();
    let repeats = values.last().copied().into_iter().cycle().take(extra);
    values.iter().copied().chain(repeats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_and_refuse_anything_else() {
        for cursor in [
            Cursor::Time {
                at: 1_800_000_000,
                id: "01a21f00-0000-7000-8000-000000000000".into(),
            },
            Cursor::Name {
                name: "Ann Smith".into(),
                email: "ann@client.example".into(),
            },
        ] {
            assert_eq!(Cursor::parse(&cursor.encode()), Some(cursor));
        }
        for token in [
            "",
            "x",
            "dAo",
            "not base64!",
            &URL_SAFE_NO_PAD.encode("t\0soon\0id"),
        ] {
            assert_eq!(Cursor::parse(token), None, "{token}");
        }
    }

    #[test]
    fn searches_become_escaped_patterns() {
        assert_eq!(like_pattern(Some(" Work ")), Some("%work%".into()));
        assert_eq!(
            like_pattern(Some("100%_a\\b")),
            Some("%100\\%\\_a\\\\b%".into())
        );
        assert_eq!(like_pattern(Some("  ")), None);
        assert_eq!(like_pattern(None), None);
        assert_eq!(placeholders(3, 2), "$3, $4");
    }

    #[test]
    fn lists_are_padded_to_a_power_of_two_with_their_last_value() {
        let padded = |values: &[u8]| padded(values).collect::<Vec<_>>();
        assert_eq!(padded(&[]), Vec::<u8>::new());
        assert_eq!(padded(&[7]), [7]);
        assert_eq!(padded(&[1, 2, 3]), [1, 2, 3, 3]);
        assert_eq!(padded(&[1, 2, 3, 4]), [1, 2, 3, 4]);
        assert_eq!(padded(&[1, 2, 3, 4, 5]), [1, 2, 3, 4, 5, 5, 5, 5]);
        let lengths: std::collections::BTreeSet<usize> = (1..=500u16)
            .map(|count| padded(&vec![0; usize::from(count)]).len())
            .collect();
        assert_eq!(lengths.len(), 10, "{lengths:?}");
    }
}
