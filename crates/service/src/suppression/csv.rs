//! The suppression list as CSV (RFC 4180, one entry per line), pure: the import is read whole
//! and every bad line is named before anything is stored; the export writes what the import
//! reads back.
//!
//! Columns: `address` (required), `reason` (`hard_bounce`, `complaint`, `unsubscribe` or
//! `manual`; `manual` when empty or absent), `detail`, and, in exports, `created_at` (UTC, RFC
//! 3339) and `message_id`, which an import ignores: an imported entry is dated by its import. A
//! first line naming the columns is optional; without it the columns are address, reason,
//! detail.

use sealpost_domain::limits::suppression_import::{
    MAX_BYTES, MAX_DETAIL_CHARS, MAX_LINES, MAX_REPORTED_ERRORS,
};
use sealpost_domain::{SuppressedAddress, Suppression, SuppressionReason};

/// One entry as an import line gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImportedEntry {
    pub(crate) address: SuppressedAddress,
    pub(crate) reason: SuppressionReason,
    pub(crate) detail: String,
}

/// Why an import was refused: every bad line (up to a bound) with its number and cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImportErrors {
    pub(crate) lines: Vec<(usize, String)>,
    /// Bad lines beyond those listed.
    pub(crate) more: usize,
}

impl std::fmt::Display for ImportErrors {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let listed: Vec<String> = self
            .lines
            .iter()
            .map(|(number, cause)| match number {
                0 => cause.clone(),
                number => format!("line {number}: {cause}"),
            })
            .collect();
        write!(formatter, "nothing was imported; {}", listed.join("; "))?;
        if self.more > 0 {
            write!(formatter, "; and {} more bad lines", self.more)?;
        }
        Ok(())
    }
}

/// Where each column is, from the header line or the default order.
struct Columns {
    address: usize,
    reason: Option<usize>,
    detail: Option<usize>,
}

const HEADER: &str = "address,reason,detail,created_at,message_id";

/// Reads a whole import. Either every line is a valid entry, or the answer names the bad ones.
pub(crate) fn parse(text: &str) -> Result<Vec<ImportedEntry>, ImportErrors> {
    let refuse = |cause: String| ImportErrors {
        lines: vec![(0, cause)],
        more: 0,
    };
    if text.len() > MAX_BYTES {
        return Err(refuse(format!("the CSV is larger than {MAX_BYTES} bytes")));
    }
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line))
        .filter(|(_, line)| !line.trim().is_empty())
        .peekable();
    let mut columns = Columns {
        address: 0,
        reason: Some(1),
        detail: Some(2),
    };
    if let Some((number, first)) = lines.peek().copied()
        && let Ok(fields) = fields(first)
        && fields.iter().any(|field| field.trim() == "address")
    {
        lines.next();
        columns = header_columns(&fields).map_err(|cause| ImportErrors {
            lines: vec![(number, cause)],
            more: 0,
        })?;
    }
    let mut entries = Vec::new();
    let mut errors = ImportErrors {
        lines: Vec::new(),
        more: 0,
    };
    for (count, (number, line)) in lines.enumerate() {
        if count == MAX_LINES {
            return Err(refuse(format!("the CSV has more than {MAX_LINES} entries")));
        }
        match entry(line, &columns) {
            Ok(entry) => entries.push(entry),
            Err(_) if errors.lines.len() == MAX_REPORTED_ERRORS => errors.more += 1,
            Err(cause) => errors.lines.push((number, cause)),
        }
    }
    if !errors.lines.is_empty() {
        return Err(errors);
    }
    if entries.is_empty() {
        return Err(refuse("the CSV has no entries".to_owned()));
    }
    Ok(entries)
}

fn header_columns(fields: &[String]) -> Result<Columns, String> {
    let find = |name: &str| fields.iter().position(|field| field.trim() == name);
    for field in fields {
        if !HEADER.split(',').any(|known| known == field.trim()) {
            return Err(format!(
                "unknown column {:?} (the columns are {HEADER})",
                field.trim()
            ));
        }
    }
    Ok(Columns {
        address: find("address").ok_or("the header has no address column")?,
        reason: find("reason"),
        detail: find("detail"),
    })
}

fn entry(line: &str, columns: &Columns) -> Result<ImportedEntry, String> {
    let fields = fields(line)?;
    let field = |index: Option<usize>| {
        index
            .and_then(|index| fields.get(index))
            .map(|field| field.trim())
            .unwrap_or_default()
    };
    let address = SuppressedAddress::parse(field(Some(columns.address)))
        .map_err(|error| error.to_string())?;
    let reason = match field(columns.reason) {
        "" => SuppressionReason::Manual,
        text => SuppressionReason::parse(text).ok_or_else(|| {
            format!("unknown reason {text:?} (use hard_bounce, complaint, unsubscribe or manual)")
        })?,
    };
    let detail = field(columns.detail);
    if detail.chars().count() > MAX_DETAIL_CHARS {
        return Err(format!(
            "the detail is longer than {MAX_DETAIL_CHARS} characters"
        ));
    }
    if detail.chars().any(char::is_control) {
        return Err("the detail has a control character".to_owned());
    }
    Ok(ImportedEntry {
        address,
        reason,
        detail: detail.to_owned(),
    })
}

/// The fields of one line: comma-separated, a field in double quotes may hold commas and
/// doubled quotes. A quoted field must end on its line.
fn fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut characters = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(character) = characters.next() {
        match (quoted, character) {
            (false, '"') if at_start => quoted = true,
            (true, '"') if characters.peek() == Some(&'"') => {
                characters.next();
                current.push('"');
            }
            (true, '"') => {
                quoted = false;
                if !matches!(characters.peek(), None | Some(',')) {
                    return Err("text after a closing quote".to_owned());
                }
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut current));
                at_start = true;
                continue;
            }
            (_, other) => current.push(other),
        }
        at_start = false;
    }
    if quoted {
        return Err("a quoted field is not closed on its line".to_owned());
    }
    fields.push(current);
    Ok(fields)
}

/// The list as CSV, with its header line; what [`parse`] reads back.
pub(crate) fn render(entries: &[Suppression]) -> String {
    let mut text = String::from(HEADER);
    text.push_str("\r\n");
    for entry in entries {
        let created = entry.created_at.rfc3339();
        let message = entry
            .message_id
            .map(|id| id.to_string())
            .unwrap_or_default();
        let row = [
            entry.address.as_str(),
            entry.reason.as_str(),
            &entry.detail,
            &created,
            &message,
        ];
        let quoted: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(index, field)| quote(field, index == 2))
            .collect();
        text.push_str(&quoted.join(","));
        text.push_str("\r\n");
    }
    text
}

/// A field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break. Free
/// text (`free`: the detail, which came from a remote server or a person) that starts with a
/// character a spreadsheet would run as a formula is made text with a leading apostrophe.
fn quote(field: &str, free: bool) -> String {
    let risky = free && field.starts_with(['=', '+', '-', '@']);
    if risky || field.contains([',', '"', '\r', '\n']) {
        let prefix = if risky { "'" } else { "" };
        format!("\"{prefix}{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_domain::{MessageId, TenantId, Timestamp, Uuid};

    #[track_caller]
    fn check_error(text: &str, expect: &str) {
        let error = parse(text).unwrap_err();
        assert_eq!(error.to_string(), expect);
    }

    #[test]
    fn lines_with_and_without_a_header() {
        let entries = parse("a@client.test\nB@Client.test,complaint\n\n").unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].reason, SuppressionReason::Manual);
        assert_eq!(entries[1].address.as_str(), "b@client.test");
        assert_eq!(entries[1].reason, SuppressionReason::Complaint);

        let entries =
            parse("reason,address\r\nunsubscribe,c@client.test\r\n,d@client.test\r\n").unwrap();
        assert_eq!(entries[0].reason, SuppressionReason::Unsubscribe);
        assert_eq!(entries[1].reason, SuppressionReason::Manual);
        assert_eq!(entries[1].address.as_str(), "d@client.test");
    }

    #[test]
    fn every_bad_line_is_named() {
        check_error(
            "ok@client.test\nnot-an-address\nok2@client.test,spam\n\"open@client.test\n",
            "nothing was imported; line 2: \"not-an-address\" is not a valid e-mail address: it \
             has no @ and domain; line 3: unknown reason \"spam\" (use hard_bounce, complaint, \
             unsubscribe or manual); line 4: a quoted field is not closed on its line",
        );
        check_error(
            "address,colour\nx@client.test,red\n",
            "nothing was imported; line 1: unknown column \"colour\" (the columns are \
             address,reason,detail,created_at,message_id)",
        );
        check_error("\n\n", "nothing was imported; the CSV has no entries");
        check_error(
            "x@client.test,manual,\"a\"b\n",
            "nothing was imported; line 1: text after a closing quote",
        );
        let many: String = (0..30).map(|n| format!("bad{n}\n")).collect();
        let error = parse(&many).unwrap_err();
        assert_eq!(error.lines.len(), MAX_REPORTED_ERRORS);
        assert_eq!(error.more, 10);
    }

    #[test]
    fn an_export_reads_back_as_the_same_entries() {
        let entry = Suppression {
            tenant_id: TenantId::from(Uuid::nil()),
            address: SuppressedAddress::parse("gone@client.test").unwrap(),
            reason: SuppressionReason::HardBounce,
            message_id: Some(MessageId::from(Uuid::nil())),
            detail: "550 5.1.1 \"gone\", user unknown".to_owned(),
            created_at: Timestamp(1_800_000_000),
        };
        let text = render(std::slice::from_ref(&entry));
        assert_eq!(
            text,
            "address,reason,detail,created_at,message_id\r\ngone@client.test,hard_bounce,\
             \"550 5.1.1 \"\"gone\"\", user unknown\",2027-01-15T08:00:00Z,\
             00000000-0000-0000-0000-000000000000\r\n"
        );
        let back = parse(&text).unwrap();
        assert_eq!(
            back,
            vec![ImportedEntry {
                address: entry.address,
                reason: entry.reason,
                detail: entry.detail,
            }]
        );
    }

    #[test]
    fn a_field_a_spreadsheet_would_run_is_quoted_as_text() {
        assert_eq!(quote("=HYPERLINK(1)", true), "\"'=HYPERLINK(1)\"");
        assert_eq!(quote("-dash@client.test", false), "-dash@client.test");
        assert_eq!(quote("plain", true), "plain");
    }
}
