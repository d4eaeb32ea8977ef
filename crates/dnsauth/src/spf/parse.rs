//! Reading SPF records (RFC 7208 sections 4.5, 4.6, 5, 6 and 12): which TXT records are SPF
//! records, and the terms of one, with every syntax error found before evaluation starts, as
//! section 4.6 asks ("syntax errors anywhere in the record").

use std::net::IpAddr;

use crate::spf::SpfResult;
use crate::spf::macros::{Context, MacroString};
use crate::spf::network::Network;

/// The version section that starts every SPF record.
const VERSION: &[u8] = b"v=spf1";

/// Whether a TXT record (its strings joined) is an SPF record: it starts with `v=spf1`, in any
/// case, followed by a space or nothing (section 4.5), so `v=spf10` is not one.
pub(crate) fn is_spf_record(text: &[u8]) -> bool {
    text.len() >= VERSION.len()
        && text[..VERSION.len()].eq_ignore_ascii_case(VERSION)
        && text.get(VERSION.len()).is_none_or(|next| *next == b' ')
}

/// One SPF record: its directives in order and its two known modifiers; unknown modifiers are
/// checked for syntax and then forgotten (section 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) directives: Vec<Directive>,
    pub(crate) redirect: Option<Modifier>,
    pub(crate) explanation: Option<Modifier>,
}

/// A mechanism with its qualifier, and the term as written for the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Directive {
    pub(crate) qualifier: Qualifier,
    pub(crate) mechanism: Mechanism,
    pub(crate) text: String,
}

/// `redirect=` or `exp=` with its target, and the term as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Modifier {
    pub(crate) target: MacroString,
    pub(crate) text: String,
}

/// The result a matching directive gives (section 4.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Qualifier {
    Pass,
    Fail,
    SoftFail,
    Neutral,
}

impl Qualifier {
    pub(crate) fn result(self) -> SpfResult {
        match self {
            Self::Pass => SpfResult::Pass,
            Self::Fail => SpfResult::Fail,
            Self::SoftFail => SpfResult::SoftFail,
            Self::Neutral => SpfResult::Neutral,
        }
    }
}

/// The mechanisms of section 5; `a`, `mx` and `ptr` without a domain use the current domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mechanism {
    All,
    Include(MacroString),
    A {
        domain: Option<MacroString>,
        cidr: DualCidr,
    },
    Mx {
        domain: Option<MacroString>,
        cidr: DualCidr,
    },
    Ptr(Option<MacroString>),
    Ip(Network),
    Exists(MacroString),
}

impl Mechanism {
    /// Whether evaluating the mechanism queries DNS and so counts against the limit of 10
    /// (section 4.6.4).
    pub(crate) fn queries_dns(&self) -> bool {
        !matches!(self, Self::All | Self::Ip(_))
    }
}

/// The prefix lengths of `a` and `mx` for IPv4 and IPv6 addresses (section 5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DualCidr {
    pub(crate) v4: u8,
    pub(crate) v6: u8,
}

impl DualCidr {
    const FULL: Self = Self { v4: 32, v6: 128 };

    /// The network of `address` that the mechanism authorises.
    pub(crate) fn network(self, address: IpAddr) -> Network {
        let prefix = match address {
            IpAddr::V4(_) => self.v4,
            IpAddr::V6(_) => self.v6,
        };
        // The lengths were checked against the family maxima when the record was parsed.
        Network::new(address, prefix).unwrap_or_else(|_| Network::host(address))
    }
}

/// A syntax error: the term and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{term:?}: {reason}")]
pub(crate) struct SyntaxError {
    pub(crate) term: String,
    pub(crate) reason: String,
}

/// Parses an SPF record, the TXT strings already joined.
pub(crate) fn parse(text: &[u8]) -> Result<Record, SyntaxError> {
    if !is_spf_record(text) {
        return Err(SyntaxError {
            term: String::from_utf8_lossy(text).into_owned(),
            reason: "an SPF record starts with \"v=spf1\" and a space".to_owned(),
        });
    }
    let mut record = Record {
        directives: Vec::new(),
        redirect: None,
        explanation: None,
    };
    // Terms are separated by one or more spaces, and only spaces (section 4.6.1).
    for bytes in text[VERSION.len()..].split(|byte| *byte == b' ') {
        if bytes.is_empty() {
            continue;
        }
        let term = visible_ascii(bytes)?;
        let error = |reason: String| SyntaxError {
            term: term.to_owned(),
            reason,
        };
        match modifier_parts(term) {
            Some((name, value)) => add_modifier(&mut record, term, name, value).map_err(error)?,
            None => {
                let directive = parse_directive(term).map_err(error)?;
                record.directives.push(directive);
            }
        }
    }
    Ok(record)
}

/// The term as text when every byte is a visible ASCII character, which the grammar requires of
/// every term; control characters and 8-bit bytes are named in the error.
fn visible_ascii(bytes: &[u8]) -> Result<&str, SyntaxError> {
    let term = || String::from_utf8_lossy(bytes).into_owned();
    if let Some(bad) = bytes.iter().find(|byte| !(0x21..=0x7e).contains(*byte)) {
        let reason = match bad.is_ascii() {
            true => format!("the control character 0x{bad:02x} is not allowed"),
            false => "SPF records must be ASCII; this term has other characters".to_owned(),
        };
        return Err(SyntaxError {
            term: term(),
            reason,
        });
    }
    std::str::from_utf8(bytes).map_err(|_| SyntaxError {
        term: term(),
        reason: "SPF records must be ASCII".to_owned(),
    })
}

/// Splits `name=value` when the term is a modifier: a name of a letter followed by letters,
/// digits, `-`, `_` and `.`, then `=` (section 4.6.1). Anything else is a directive.
fn modifier_parts(term: &str) -> Option<(&str, &str)> {
    let name_end = term.find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))?;
    let name = &term[..name_end];
    let starts_with_letter = name.starts_with(|c: char| c.is_ascii_alphabetic());
    match (starts_with_letter, term[name_end..].strip_prefix('=')) {
        (true, Some(value)) => Some((name, value)),
        _ => None,
    }
}

fn add_modifier(record: &mut Record, term: &str, name: &str, value: &str) -> Result<(), String> {
    let slot = match name.to_ascii_lowercase().as_str() {
        "redirect" => &mut record.redirect,
        "exp" => &mut record.explanation,
        _ => {
            // Unknown modifiers are ignored, but their value must still be a macro string.
            MacroString::parse(value, Context::Modifier)?;
            return Ok(());
        }
    };
    if slot.is_some() {
        return Err(format!("{name}= may appear only once in a record"));
    }
    *slot = Some(Modifier {
        target: domain_spec(value)?,
        text: term.to_owned(),
    });
    Ok(())
}

fn parse_directive(term: &str) -> Result<Directive, String> {
    let (qualifier, body) = match term.as_bytes().first() {
        Some(b'+') => (Qualifier::Pass, &term[1..]),
        Some(b'-') => (Qualifier::Fail, &term[1..]),
        Some(b'~') => (Qualifier::SoftFail, &term[1..]),
        Some(b'?') => (Qualifier::Neutral, &term[1..]),
        _ => (Qualifier::Pass, term),
    };
    let name_end = body.find([':', '/']).unwrap_or(body.len());
    let (name, argument) = body.split_at(name_end);
    let mechanism = match name.to_ascii_lowercase().as_str() {
        "all" => match argument.is_empty() {
            true => Mechanism::All,
            false => return Err("\"all\" takes no argument".to_owned()),
        },
        "include" => Mechanism::Include(required_domain("include", argument)?),
        "exists" => Mechanism::Exists(required_domain("exists", argument)?),
        "a" => {
            let (domain, cidr) = domain_and_cidr(argument)?;
            Mechanism::A { domain, cidr }
        }
        "mx" => {
            let (domain, cidr) = domain_and_cidr(argument)?;
            Mechanism::Mx { domain, cidr }
        }
        "ptr" => match argument.strip_prefix(':') {
            _ if argument.is_empty() => Mechanism::Ptr(None),
            Some(domain) => Mechanism::Ptr(Some(domain_spec(domain)?)),
            None => return Err("\"ptr\" takes no CIDR length".to_owned()),
        },
        "ip4" => Mechanism::Ip(ip_network(argument, 32)?),
        "ip6" => Mechanism::Ip(ip_network(argument, 128)?),
        "" => return Err("a qualifier must be followed by a mechanism".to_owned()),
        other => return Err(format!("{other:?} is not a mechanism")),
    };
    Ok(Directive {
        qualifier,
        mechanism,
        text: term.to_owned(),
    })
}

/// The `:domain-spec` that `include` and `exists` require.
fn required_domain(name: &str, argument: &str) -> Result<MacroString, String> {
    match argument.strip_prefix(':') {
        Some(domain) => domain_spec(domain),
        None if argument.is_empty() => {
            Err(format!("\"{name}\" needs a domain ({name}:example.com)"))
        }
        None => Err(format!("\"{name}\" takes no CIDR length")),
    }
}

/// The optional `:domain-spec` and dual CIDR length of `a` and `mx`. The lengths are read from
/// the end, so a slash inside the domain (`a:foo:bar/baz.example.com`) stays part of it.
fn domain_and_cidr(argument: &str) -> Result<(Option<MacroString>, DualCidr), String> {
    let Some(domain) = argument.strip_prefix(':') else {
        return Ok((None, dual_cidr(argument)?));
    };
    let mut end = domain.len();
    if let Some(start) = trailing_length(&domain[..end], "//") {
        end = start;
    }
    if let Some(start) = trailing_length(&domain[..end], "/") {
        end = start;
    }
    Ok((
        Some(domain_spec(&domain[..end])?),
        dual_cidr(&domain[end..])?,
    ))
}

/// Where `slash` followed by digits begins at the end of `text`, if it ends so.
fn trailing_length(text: &str, slash: &str) -> Option<usize> {
    let digits_start = text.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let digits_found = digits_start < text.len();
    match digits_found && text[..digits_start].ends_with(slash) {
        true => Some(digits_start - slash.len()),
        false => None,
    }
}

/// `[ "/" ip4-cidr-length ] [ "//" ip6-cidr-length ]`, all of `text`.
fn dual_cidr(text: &str) -> Result<DualCidr, String> {
    let (v4, v6) = match text.find("//") {
        Some(position) => (&text[..position], Some(&text[position + 2..])),
        None => (text, None),
    };
    let v4 = match v4.strip_prefix('/') {
        Some(digits) => cidr_length(digits, 32)?,
        None if v4.is_empty() => DualCidr::FULL.v4,
        None => return Err(format!("{text:?} is not a CIDR length")),
    };
    let v6 = match v6 {
        Some(digits) => cidr_length(digits, 128)?,
        None => DualCidr::FULL.v6,
    };
    Ok(DualCidr { v4, v6 })
}

/// A prefix length: decimal digits without a leading zero, at most `max` (section 5.6).
fn cidr_length(digits: &str, max: u8) -> Result<u8, String> {
    let well_formed = !digits.is_empty()
        && digits.bytes().all(|byte| byte.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    match digits.parse::<u8>() {
        Ok(length) if well_formed && length <= max => Ok(length),
        _ => Err(format!("{digits:?} is not a prefix length from 0 to {max}")),
    }
}

/// `:address[/length]` of `ip4` (`max` 32) or `ip6` (`max` 128).
fn ip_network(argument: &str, max: u8) -> Result<Network, String> {
    let family = if max == 32 { "ip4" } else { "ip6" };
    let Some(text) = argument.strip_prefix(':') else {
        return Err(format!("\"{family}\" needs an address ({family}:address)"));
    };
    let (address, length) = match text.split_once('/') {
        Some((address, length)) => (address, Some(cidr_length(length, max)?)),
        None => (text, None),
    };
    let parsed: Option<IpAddr> = match max {
        32 => address.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4),
        _ => address.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6),
    };
    let Some(parsed) = parsed else {
        return Err(format!("{address:?} is not an {family} address"));
    };
    match length {
        Some(length) => Network::new(parsed, length).map_err(|error| error.to_string()),
        None => Ok(Network::host(parsed)),
    }
}

/// A non-empty macro string that ends as a domain name must (section 7.1).
fn domain_spec(text: &str) -> Result<MacroString, String> {
    if text.is_empty() {
        return Err("the domain is empty".to_owned());
    }
    let spec = MacroString::parse(text, Context::DomainSpec)?;
    match spec.ends_as_domain() {
        true => Ok(spec),
        false => Err(format!(
            "{text:?} does not end with a top-level domain (such as .com) or a macro"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_selected(text: &str, expect: bool) {
        assert_eq!(is_spf_record(text.as_bytes()), expect, "{text:?}");
    }

    #[test]
    fn record_selection() {
        check_selected("v=spf1", true);
        check_selected("v=spf1 -all", true);
        check_selected("V=SpF1 -all", true);
        check_selected("v=spf10", false);
        check_selected("v=spf1mx", false);
        check_selected("v=spf2.0/pra -all", false);
        check_selected(" v=spf1 -all", false);
        check_selected("spf1", false);
        check_selected("", false);
    }

    /// The record's terms, each shown as a short description, or the error's reason.
    fn describe(text: &str) -> Result<Vec<String>, String> {
        let record = parse(text.as_bytes()).map_err(|error| error.reason)?;
        let shown = |domain: &Option<MacroString>| {
            domain.as_ref().map_or("-".to_owned(), ToString::to_string)
        };
        let mut terms: Vec<String> = record
            .directives
            .iter()
            .map(|directive| {
                let mechanism = match &directive.mechanism {
                    Mechanism::All => "all".to_owned(),
                    Mechanism::Include(domain) => format!("include {domain}"),
                    Mechanism::Exists(domain) => format!("exists {domain}"),
                    Mechanism::A { domain, cidr } => {
                        format!("a {} {}/{}", shown(domain), cidr.v4, cidr.v6)
                    }
                    Mechanism::Mx { domain, cidr } => {
                        format!("mx {} {}/{}", shown(domain), cidr.v4, cidr.v6)
                    }
                    Mechanism::Ptr(domain) => format!("ptr {}", shown(domain)),
                    Mechanism::Ip(network) => format!("ip {network}"),
                };
                format!("{:?} {mechanism}", directive.qualifier)
            })
            .collect();
        terms.extend(record.redirect.map(|m| format!("redirect {}", m.target)));
        terms.extend(record.explanation.map(|m| format!("exp {}", m.target)));
        Ok(terms)
    }

    #[track_caller]
    fn check(text: &str, expect: &[&str]) {
        let described = describe(text).unwrap_or_else(|error| panic!("{text:?}: {error}"));
        assert_eq!(described, expect, "{text:?}");
    }

    #[track_caller]
    fn check_error(text: &str, expect: &str) {
        match describe(text) {
            Ok(terms) => panic!("{text:?} parsed as {terms:?}"),
            Err(reason) => assert!(
                reason.contains(expect),
                "{text:?}: {reason:?} lacks {expect:?}"
            ),
        }
    }

    #[test]
    fn terms() {
        check("v=spf1", &[]);
        check("v=spf1  -all ", &["Fail all"]);
        check(
            "v=spf1 +all ?ALL ~all",
            &["Pass all", "Neutral all", "SoftFail all"],
        );
        check(
            "v=spf1 include:_spf.example.com",
            &["Pass include _spf.example.com"],
        );
        check(
            "v=spf1 exists:%{i}.bl.example.com",
            &["Pass exists %{i}.bl.example.com"],
        );
        check("v=spf1 a", &["Pass a - 32/128"]);
        check("v=spf1 a/24//64", &["Pass a - 24/64"]);
        check("v=spf1 a//0", &["Pass a - 32/0"]);
        check(
            "v=spf1 a:mail.example.com/24",
            &["Pass a mail.example.com 24/128"],
        );
        check(
            "v=spf1 a:foo:bar/baz.example.com",
            &["Pass a foo:bar/baz.example.com 32/128"],
        );
        check("v=spf1 mx:example.com//64", &["Pass mx example.com 32/64"]);
        check("v=spf1 mx/0", &["Pass mx - 0/128"]);
        check(
            "v=spf1 ptr ptr:example.com",
            &["Pass ptr -", "Pass ptr example.com"],
        );
        check("v=spf1 ip4:192.0.2.0/24", &["Pass ip 192.0.2.0/24"]);
        check("v=spf1 ip4:192.0.2.1/32", &["Pass ip 192.0.2.1"]);
        check("v=spf1 ip6:2001:db8::/32", &["Pass ip 2001:db8::/32"]);
        check("v=spf1 ip6:::1.1.1.1/0", &["Pass ip ::101:101/0"]);
        check(
            "v=spf1 IP4:192.0.2.1 INCLUDE:x.example",
            &["Pass ip 192.0.2.1", "Pass include x.example"],
        );
        check(
            "v=spf1 redirect=_spf.example.com",
            &["redirect _spf.example.com"],
        );
        check(
            "v=spf1 -all exp=explain.%{d}",
            &["Fail all", "exp explain.%{d}"],
        );
        check("v=spf1 moo.cow-far_out=man:dog/cat -all", &["Fail all"]);
        check("v=spf1 default=+ a=b -all", &["Fail all"]);
        check(
            "v=spf1 a:macro%%percent%_%_space%-url-space.example.com",
            &["Pass a macro%%percent%_%_space%-url-space.example.com 32/128"],
        );
    }

    #[test]
    fn syntax_errors() {
        check_error("v=spf1 ip4:1.2.3.4 -all moo", "\"moo\" is not a mechanism");
        check_error("v=spf1 moo.cow/far_out=man:dog/cat", "not a mechanism");
        check_error("v=spf1 moo.cow:far_out=man:dog/cat", "not a mechanism");
        check_error("v=spf1 =all", "not a mechanism");
        check_error("v=spf1 1up=foo", "not a mechanism");
        check_error("v=spf1 redirect:example.com", "not a mechanism");
        check_error(
            "v=spf1 - all",
            "a qualifier must be followed by a mechanism",
        );
        check_error("v=spf1 -all.", "not a mechanism");
        check_error("v=spf1 -all:foobar", "takes no argument");
        check_error("v=spf1 -all/8", "takes no argument");
        check_error("v=spf1 include", "needs a domain");
        check_error("v=spf1 include:", "the domain is empty");
        check_error(
            "v=spf1 include:ip5.example.com/24",
            "does not end with a top-level domain",
        );
        check_error("v=spf1 exists", "needs a domain");
        check_error(
            "v=spf1 exists:mail.example.com/24",
            "does not end with a top-level domain",
        );
        check_error("v=spf1 ptr/0", "takes no CIDR length");
        check_error("v=spf1 ptr:", "the domain is empty");
        check_error("v=spf1 a:", "the domain is empty");
        check_error("v=spf1 a/33", "from 0 to 32");
        check_error("v=spf1 a//129", "from 0 to 128");
        check_error("v=spf1 a/24/64", "not a prefix length");
        check_error("v=spf1 a:foo-bar", "does not end with a top-level domain");
        check_error("v=spf1 a:museum.", "does not end with a top-level domain");
        check_error(
            "v=spf1 a:111.222.33.44",
            "does not end with a top-level domain",
        );
        check_error(
            "v=spf1 a:example.com:8080",
            "does not end with a top-level domain",
        );
        check_error("v=spf1 a:%{a}.example.com", "'a' is not a macro letter");
        check_error("v=spf1 ip4", "needs an address");
        check_error("v=spf1 ip4:1.2.3", "is not an ip4 address");
        check_error("v=spf1 ip4:1.2.3.4:8080", "is not an ip4 address");
        check_error("v=spf1 ip4:1.2.03.4", "is not an ip4 address");
        check_error("v=spf1 ip4:1.2.3.4/33", "from 0 to 32");
        check_error("v=spf1 ip4:1.2.3.4/032", "from 0 to 32");
        check_error("v=spf1 ip4:1.2.3.4//32", "from 0 to 32");
        check_error("v=spf1 ip6::CAFE::BABE", "is not an ip6 address");
        check_error("v=spf1 ip6:::1.1.1.1//33", "from 0 to 128");
        check_error("v=spf1 ip6:::1.1.1.1/129", "from 0 to 128");
        check_error("v=spf1 ip6", "needs an address");
        check_error("v=spf1 exp= -all", "the domain is empty");
        check_error("v=spf1 exp=-all", "does not end with a top-level domain");
        check_error("v=spf1 redirect=", "the domain is empty");
        check_error(
            "v=spf1 exp=a.example exp=b.example",
            "exp= may appear only once",
        );
        check_error(
            "v=spf1 redirect=a.example REDIRECT=b.example",
            "may appear only once",
        );
        check_error("v=spf1 foo=%abc", "must be followed by");
        check_error("v=spf1 exp=%{r}.example.com", "only in explanation text");
        check_error(
            "v=spf1 a:ctrl.example.com\rptr -all",
            "control character 0x0d",
        );
        check_error(
            "v=spf1 ip4:192.0.2.5\n include:x.example",
            "control character 0x0a",
        );
        check_error("v=spf1 a:foo.example.com\0", "control character 0x00");
        check_error("v=spf1 \u{80}a:example.net", "must be ASCII");
        check_error("v=spf10", "starts with \"v=spf1\"");
    }
}
