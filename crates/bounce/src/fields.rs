//! Header-style fields (`Name: value`, continuation lines folded in) as delivery-status and
//! feedback-report parts and quoted headers write them.

/// One field: the name in lower case, the value unfolded and trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// The fields of a block of header lines, in order; lines that are not fields are skipped.
pub fn parse(text: &str) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                let more = line.trim();
                if !more.is_empty() {
                    last.value.push(' ');
                    last.value.push_str(more);
                }
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let is_name = !name.is_empty()
            && name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if is_name {
            fields.push(Field {
                name: name.to_ascii_lowercase(),
                value: value.trim().to_owned(),
            });
        }
    }
    fields
}

/// Groups separated by blank lines, as RFC 3464 separates the per-message fields from each
/// recipient's fields.
pub fn groups(text: &str) -> Vec<Vec<Field>> {
    let mut groups = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                groups.push(parse(&current));
                current.clear();
            }
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    if !current.is_empty() {
        groups.push(parse(&current));
    }
    groups.retain(|group| !group.is_empty());
    groups
}

/// The first value of a field by its lower-case name.
pub fn value<'a>(fields: &'a [Field], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|field| field.name == name)
        .map(|field| field.value.as_str())
        .filter(|value| !value.is_empty())
}

/// The value after a `type;` prefix (`rfc822; a@b.example`, `dns; mx.example`), or the value
/// itself when there is no prefix.
pub fn typed_value(value: &str) -> &str {
    match value.split_once(';') {
        Some((_, rest)) => rest.trim(),
        None => value.trim(),
    }
}

/// An address with its angle brackets and a mailto: prefix removed.
pub fn bare_address(text: &str) -> String {
    let text = text.trim().trim_start_matches("mailto:");
    let inner = match (text.find('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => &text[open + 1..close],
        _ => text,
    };
    inner.trim().trim_matches(['"', '\'']).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_fields_and_groups() {
        let text = "Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; a@b.example\n\
                    Diagnostic-Code: smtp; 550 5.1.1\n  user unknown\nStatus: 5.1.1\n";
        let groups = groups(text);
        assert_eq!(groups.len(), 2);
        assert_eq!(value(&groups[0], "reporting-mta"), Some("dns; mx.example"));
        assert_eq!(
            value(&groups[1], "diagnostic-code"),
            Some("smtp; 550 5.1.1 user unknown")
        );
        assert_eq!(typed_value("rfc822; a@b.example"), "a@b.example");
        assert_eq!(bare_address("<a@b.example>"), "a@b.example");
    }
}
