//! Changes to SPF records as people publish them: the minimal edit that adds or repairs the
//! platform's include, a new record, the platform's own record, and the split into
//! character-strings. Edits work on the text, so every byte they do not touch stays as it was.

use crate::spf::Network;

/// The longest character-string of a TXT record (RFC 1035 section 3.3).
const MAX_STRING: usize = 255;

/// An edited record and the edit in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    pub(crate) record: String,
    pub(crate) description: String,
}

/// The record for a domain that has none. `~all` rather than `-all`: the domain may already send
/// from systems nobody has listed yet, and a new record must not make their mail fail outright;
/// under DMARC a softfail counts as much as a fail, so little protection is lost. The owner can
/// tighten it to `-all` once every sender is listed.
pub(crate) fn new_record(include_host: &str) -> String {
    format!("v=spf1 include:{include_host} ~all")
}

/// The platform's include record: its networks, then `-all`, since the platform knows every
/// address it sends from and an include only matches on `pass`.
pub fn platform_record(networks: &[Network]) -> String {
    let mut record = String::from("v=spf1");
    for network in networks {
        record.push(' ');
        record.push_str(&network.spf_term());
    }
    record.push_str(" -all");
    record
}

/// Splits a TXT value into character-strings of at most 255 bytes, cutting after a space where
/// one is near so that a person reading the strings sees whole terms. Receivers join the strings
/// without adding anything (RFC 7208 section 3.3), so the joined strings are exactly `value`.
pub fn split_strings(value: &str) -> Vec<String> {
    let mut strings = Vec::new();
    let mut rest = value;
    while rest.len() > MAX_STRING {
        let mut cut = MAX_STRING;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let cut = match rest[..cut].rfind(' ') {
            Some(space) if space > 0 => space + 1,
            _ => cut,
        };
        strings.push(rest[..cut].to_owned());
        rest = &rest[cut..];
    }
    if !rest.is_empty() || strings.is_empty() {
        strings.push(rest.to_owned());
    }
    strings
}

/// The record with `include:<host>` inserted just before the first `all` (terms after it are
/// never evaluated), else before `redirect=` (which applies only when no mechanism matches), else
/// at the end.
pub(crate) fn add_include(record: &str, include_host: &str) -> Edit {
    let include = format!("include:{include_host}");
    let terms = terms(record);
    let before = terms
        .iter()
        .skip(1)
        .find(|(_, term)| is_all(term))
        .or_else(|| terms.iter().skip(1).find(|(_, term)| is_redirect(term)));
    if let Some((start, term)) = before {
        return Edit {
            record: format!("{}{include} {}", &record[..*start], &record[*start..]),
            description: format!("insert \"{include} \" before \"{term}\""),
        };
    }
    let end = terms
        .last()
        .map_or(record.len(), |(start, term)| start + term.len());
    Edit {
        record: format!("{} {include}{}", &record[..end], &record[end..]),
        description: format!("append \" {include}\" at the end"),
    }
}

/// The edit that makes an include of `include_host` that is already in the record take effect:
/// a qualifier other than `+` becomes none, and an include after `all` moves before it. `None`
/// when the include is absent or already right.
pub(crate) fn repair_include(record: &str, include_host: &str) -> Option<Edit> {
    let terms = terms(record);
    let position = terms.iter().position(|(_, term)| {
        include_target(term).is_some_and(|host| same_host(host, include_host))
    })?;
    let (start, term) = terms[position];
    let after_all = terms[..position]
        .iter()
        .skip(1)
        .any(|(_, term)| is_all(term));
    let qualified = term.starts_with(['-', '~', '?']);
    let include = format!("include:{include_host}");
    match (after_all, qualified) {
        (false, false) => None,
        (false, true) => Some(Edit {
            record: format!(
                "{}{include}{}",
                &record[..start],
                &record[start + term.len()..]
            ),
            description: format!("replace \"{term}\" by \"{include}\""),
        }),
        (true, _) => {
            // The term never starts the record, so a space precedes it and goes with it.
            let without = format!("{}{}", &record[..start - 1], &record[start + term.len()..]);
            let inserted = add_include(&without, include_host);
            Some(Edit {
                record: inserted.record,
                description: format!(
                    "remove \"{term}\", which comes after \"all\" and is never evaluated, and {}",
                    inserted.description
                ),
            })
        }
    }
}

/// Whether the record has an include of `include_host`, with any qualifier.
pub(crate) fn has_include(record: &str, include_host: &str) -> bool {
    terms(record)
        .iter()
        .any(|(_, term)| include_target(term).is_some_and(|host| same_host(host, include_host)))
}

/// The terms of a record with their byte offsets (the version section is the first term).
fn terms(record: &str) -> Vec<(usize, &str)> {
    let mut terms = Vec::new();
    let mut offset = 0;
    for term in record.split(' ') {
        if !term.is_empty() {
            terms.push((offset, term));
        }
        offset += term.len() + 1;
    }
    terms
}

fn without_qualifier(term: &str) -> &str {
    term.strip_prefix(['+', '-', '~', '?']).unwrap_or(term)
}

fn is_all(term: &str) -> bool {
    without_qualifier(term).eq_ignore_ascii_case("all")
}

fn is_redirect(term: &str) -> bool {
    term.get(..9)
        .is_some_and(|name| name.eq_ignore_ascii_case("redirect="))
}

fn include_target(term: &str) -> Option<&str> {
    let term = without_qualifier(term);
    let name = term.get(..8)?;
    match name.eq_ignore_ascii_case("include:") {
        true => Some(&term[8..]),
        false => None,
    }
}

fn same_host(written: &str, host: &str) -> bool {
    let written = written.strip_suffix('.').unwrap_or(written);
    let host = host.strip_suffix('.').unwrap_or(host);
    written.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "_spf.mail.platform.example";

    #[track_caller]
    fn check_add(record: &str, expect: &str) {
        assert_eq!(add_include(record, HOST).record, expect);
    }

    #[test]
    fn the_include_goes_before_all_or_redirect_or_at_the_end() {
        check_add(
            "v=spf1 mx -all",
            "v=spf1 mx include:_spf.mail.platform.example -all",
        );
        check_add(
            "v=spf1 a  ip4:192.0.2.1   ~all  ",
            "v=spf1 a  ip4:192.0.2.1   include:_spf.mail.platform.example ~all  ",
        );
        check_add(
            "V=SPF1 MX ?ALL",
            "V=SPF1 MX include:_spf.mail.platform.example ?ALL",
        );
        check_add(
            "v=spf1 all -all",
            "v=spf1 include:_spf.mail.platform.example all -all",
        );
        check_add(
            "v=spf1 mx redirect=_spf.example.com",
            "v=spf1 mx include:_spf.mail.platform.example redirect=_spf.example.com",
        );
        check_add(
            "v=spf1 exp=why.example.com mx -all",
            "v=spf1 exp=why.example.com mx include:_spf.mail.platform.example -all",
        );
        check_add("v=spf1 mx", "v=spf1 mx include:_spf.mail.platform.example");
        check_add(
            "v=spf1 mx  ",
            "v=spf1 mx include:_spf.mail.platform.example  ",
        );
        check_add("v=spf1", "v=spf1 include:_spf.mail.platform.example");
        check_add(
            "v=spf1 include:allowed.example -all",
            "v=spf1 include:allowed.example include:_spf.mail.platform.example -all",
        );
        assert_eq!(
            add_include("v=spf1 mx -all", HOST).description,
            "insert \"include:_spf.mail.platform.example \" before \"-all\""
        );
    }

    #[track_caller]
    fn check_repair(record: &str, expect: Option<&str>) {
        let repaired = repair_include(record, HOST).map(|edit| edit.record);
        assert_eq!(repaired.as_deref(), expect, "{record}");
    }

    #[test]
    fn a_misplaced_or_qualified_include_is_repaired() {
        check_repair("v=spf1 include:_spf.mail.platform.example -all", None);
        check_repair("v=spf1 INCLUDE:_SPF.mail.platform.example. -all", None);
        check_repair("v=spf1 mx -all", None);
        check_repair(
            "v=spf1 ~include:_spf.mail.platform.example -all",
            Some("v=spf1 include:_spf.mail.platform.example -all"),
        );
        check_repair(
            "v=spf1 mx -all include:_spf.mail.platform.example",
            Some("v=spf1 mx include:_spf.mail.platform.example -all"),
        );
        check_repair(
            "v=spf1 -all -include:_spf.mail.platform.example a",
            Some("v=spf1 include:_spf.mail.platform.example -all a"),
        );
        assert!(has_include(
            "v=spf1 +include:_spf.mail.platform.example",
            HOST
        ));
        assert!(!has_include(
            "v=spf1 include:_spf.mail.platform.example.org",
            HOST
        ));
    }

    #[test]
    fn records_for_the_platform_and_new_domains() {
        let networks: Vec<Network> = ["192.0.2.0/24", "198.51.100.7", "2001:db8::/32"]
            .iter()
            .map(|text| text.parse().unwrap())
            .collect();
        assert_eq!(
            platform_record(&networks),
            "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 ip6:2001:db8::/32 -all"
        );
        assert_eq!(platform_record(&[]), "v=spf1 -all");
        assert_eq!(
            new_record(HOST),
            "v=spf1 include:_spf.mail.platform.example ~all"
        );
    }

    #[test]
    fn long_values_are_split_after_spaces_into_strings_of_255() {
        assert_eq!(split_strings("v=spf1 -all"), ["v=spf1 -all"]);
        assert_eq!(split_strings(""), [""]);
        let terms: Vec<String> = (0..30).map(|n| format!("ip4:192.0.2.{n}")).collect();
        let value = format!("v=spf1 {} -all", terms.join(" "));
        let strings = split_strings(&value);
        assert_eq!(strings.concat(), value);
        assert!(strings.len() > 1);
        for string in &strings[..strings.len() - 1] {
            assert!(string.len() <= 255 && string.ends_with(' '), "{string:?}");
        }
        let unbroken = "x".repeat(600);
        let strings = split_strings(&unbroken);
        assert_eq!(
            strings.iter().map(String::len).collect::<Vec<_>>(),
            [255, 255, 90]
        );
    }
}
