//! Macro strings (RFC 7208 section 7): parsing with the letters each context allows, and
//! expansion with transformers, delimiters and URL escaping.

use std::fmt;
use std::net::IpAddr;

/// Where a macro string appears, which decides the letters and characters it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// The target of a mechanism or of `redirect=`/`exp=`: `c`, `r` and `t` are refused
    /// (section 7.3), and so are spaces.
    DomainSpec,
    /// The explanation text fetched for `exp=` (section 6.2): every letter, and spaces.
    Explanation,
    /// The value of an unknown modifier: any letter of the grammar, no spaces.
    Modifier,
}

/// A parsed macro string; it shows as the text it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MacroString {
    text: String,
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    /// `%%`, `%_` or `%-`, already replaced by what they stand for.
    Escape(&'static str),
    Macro(Macro),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Macro {
    letter: Letter,
    /// An uppercase letter asks for the value URL-escaped (section 7.3).
    url_escape: bool,
    /// How many right-hand parts to keep.
    keep: Option<usize>,
    reverse: bool,
    /// The characters that split the value into parts; `.` when none are given.
    delimiters: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Letter {
    Sender,
    LocalPart,
    SenderDomain,
    Domain,
    Ip,
    ValidatedName,
    IpVersion,
    Helo,
    ClientIp,
    Receiver,
    Time,
}

impl Letter {
    fn from_char(letter: char, context: Context) -> Option<Self> {
        let letter = match letter.to_ascii_lowercase() {
            's' => Self::Sender,
            'l' => Self::LocalPart,
            'o' => Self::SenderDomain,
            'd' => Self::Domain,
            'i' => Self::Ip,
            'p' => Self::ValidatedName,
            'v' => Self::IpVersion,
            'h' => Self::Helo,
            'c' => Self::ClientIp,
            'r' => Self::Receiver,
            't' => Self::Time,
            _ => return None,
        };
        let explanation_only = matches!(letter, Self::ClientIp | Self::Receiver | Self::Time);
        match (explanation_only, context) {
            (true, Context::DomainSpec) => None,
            _ => Some(letter),
        }
    }
}

/// The values the letters stand for in one evaluation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Values<'a> {
    pub(crate) sender: &'a str,
    pub(crate) local_part: &'a str,
    pub(crate) sender_domain: &'a str,
    pub(crate) domain: &'a str,
    pub(crate) ip: IpAddr,
    /// The validated domain name of the address (`%{p}`), when the string uses it.
    pub(crate) validated_name: Option<&'a str>,
    pub(crate) helo: &'a str,
    pub(crate) receiver: &'a str,
    pub(crate) now: i64,
}

/// The characters `%{...}` may end with to split a value (section 7.1).
const DELIMITERS: &str = ".-+,/_=";

/// The longest domain name in text form; longer expansions lose labels on the left (section 7.3).
const MAX_DOMAIN_LENGTH: usize = 253;

impl MacroString {
    /// Parses `text` as a macro string of `context`. The error says what is wrong, in words.
    pub(crate) fn parse(text: &str, context: Context) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(character) = rest.chars().next() {
            if character != '%' {
                let allowed = matches!(character, '!'..='~')
                    || (character == ' ' && context == Context::Explanation);
                if !allowed {
                    return Err(format!("the character {character:?} is not allowed"));
                }
                literal.push(character);
                rest = &rest[character.len_utf8()..];
                continue;
            }
            if !literal.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
            }
            let (piece, after) = parse_percent(rest, context)?;
            pieces.push(piece);
            rest = after;
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Self {
            text: text.to_owned(),
            pieces,
        })
    }

    /// Whether the string ends as a domain-spec must (section 7.1: `domain-end`): with a macro, or
    /// with a dot and a top label that is not all digits, optionally followed by a dot.
    pub(crate) fn ends_as_domain(&self) -> bool {
        match self.pieces.last() {
            None => false,
            Some(Piece::Macro(_) | Piece::Escape(_)) => true,
            Some(Piece::Literal(text)) => {
                let text = text.strip_suffix('.').unwrap_or(text);
                match text.rsplit_once('.') {
                    Some((_, top_label)) => is_top_label(top_label),
                    None => false,
                }
            }
        }
    }

    /// Whether expanding the string needs the validated domain name, which costs DNS lookups.
    pub(crate) fn uses_validated_name(&self) -> bool {
        self.pieces.iter().any(|piece| {
            matches!(piece, Piece::Macro(Macro { letter, .. }) if *letter == Letter::ValidatedName)
        })
    }

    /// The expansion, as explanation text uses it.
    pub(crate) fn expand(&self, values: &Values<'_>) -> String {
        let mut expanded = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => expanded.push_str(text),
                Piece::Escape(text) => expanded.push_str(text),
                Piece::Macro(item) => expanded.push_str(&item.expand(values)),
            }
        }
        expanded
    }

    /// The expansion as a name to query: without a final dot, and with labels dropped on the
    /// left until it fits in 253 characters.
    pub(crate) fn expand_domain(&self, values: &Values<'_>) -> String {
        let expanded = self.expand(values);
        let mut name = expanded.strip_suffix('.').unwrap_or(&expanded);
        while name.len() > MAX_DOMAIN_LENGTH {
            match name.split_once('.') {
                Some((_, shorter)) => name = shorter,
                None => break,
            }
        }
        name.to_owned()
    }
}

impl fmt::Display for MacroString {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

/// Reads the construct that starts with the `%` at the start of `text` and returns it with the
/// text after it.
fn parse_percent(text: &str, context: Context) -> Result<(Piece, &str), String> {
    let after = &text[1..];
    match after.chars().next() {
        Some('%') => Ok((Piece::Escape("%"), &after[1..])),
        Some('_') => Ok((Piece::Escape(" "), &after[1..])),
        Some('-') => Ok((Piece::Escape("%20"), &after[1..])),
        Some('{') => {
            let Some(close) = after.find('}') else {
                return Err("a macro opened with \"%{\" is not closed with \"}\"".to_owned());
            };
            let item = parse_macro(&after[1..close], context)?;
            Ok((Piece::Macro(item), &after[close + 1..]))
        }
        _ => Err(
            "a '%' must be followed by '{', '%', '_' or '-' (write %% for a percent sign)"
                .to_owned(),
        ),
    }
}

/// Reads the inside of `%{...}`: a letter, transformers (digits, `r`) and delimiters.
fn parse_macro(inside: &str, context: Context) -> Result<Macro, String> {
    let mut characters = inside.chars().peekable();
    let Some(first) = characters.next() else {
        return Err("\"%{}\" has no macro letter".to_owned());
    };
    let Some(letter) = Letter::from_char(first, context) else {
        return Err(match context {
            Context::DomainSpec if "crtCRT".contains(first) => {
                format!("the macro letter {first:?} is allowed only in explanation text")
            }
            _ => format!("{first:?} is not a macro letter"),
        });
    };
    let mut keep: Option<usize> = None;
    while let Some(digit) = characters.peek().and_then(|next| next.to_digit(10)) {
        characters.next();
        // A count beyond the number of parts keeps them all, so saturating is exact.
        let digit = digit as usize;
        keep = Some(keep.unwrap_or(0).saturating_mul(10).saturating_add(digit));
    }
    if keep == Some(0) {
        return Err("the number of parts to keep must not be zero".to_owned());
    }
    let reverse = characters
        .next_if(|next| next.eq_ignore_ascii_case(&'r'))
        .is_some();
    let delimiters: String = characters.collect();
    if let Some(bad) = delimiters.chars().find(|c| !DELIMITERS.contains(*c)) {
        return Err(format!(
            "{bad:?} is not a macro delimiter (one of {DELIMITERS})"
        ));
    }
    Ok(Macro {
        letter,
        url_escape: first.is_ascii_uppercase(),
        keep,
        reverse,
        delimiters,
    })
}

impl Macro {
    fn expand(&self, values: &Values<'_>) -> String {
        let value = match self.letter {
            Letter::Sender => values.sender.to_owned(),
            Letter::LocalPart => values.local_part.to_owned(),
            Letter::SenderDomain => values.sender_domain.to_owned(),
            Letter::Domain => values.domain.to_owned(),
            Letter::Ip => dotted_ip(values.ip),
            Letter::ValidatedName => values.validated_name.unwrap_or("unknown").to_owned(),
            Letter::IpVersion => match values.ip {
                IpAddr::V4(_) => "in-addr".to_owned(),
                IpAddr::V6(_) => "ip6".to_owned(),
            },
            Letter::Helo => values.helo.to_owned(),
            Letter::ClientIp => values.ip.to_string(),
            Letter::Receiver => values.receiver.to_owned(),
            Letter::Time => values.now.to_string(),
        };
        let transformed = self.transform(&value);
        match self.url_escape {
            true => url_escape(&transformed),
            false => transformed,
        }
    }

    /// Splits the value at the delimiters, reverses the parts and keeps the right-hand ones as
    /// asked, and joins them with dots (section 7.3). Without transformers or delimiters the value
    /// stays as it is.
    fn transform(&self, value: &str) -> String {
        if self.keep.is_none() && !self.reverse && self.delimiters.is_empty() {
            return value.to_owned();
        }
        let delimiters = match self.delimiters.is_empty() {
            true => ".",
            false => self.delimiters.as_str(),
        };
        let mut parts: Vec<&str> = value.split(|c| delimiters.contains(c)).collect();
        if self.reverse {
            parts.reverse();
        }
        let keep = self.keep.unwrap_or(parts.len()).min(parts.len());
        parts[parts.len() - keep..].join(".")
    }
}

/// `%{i}`: an IPv4 address in dotted-quad form, an IPv6 address as its 32 nibbles separated by
/// dots, in the uppercase hexadecimal of RFC 7208's examples (section 7.4).
fn dotted_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            let nibbles: Vec<String> = ip
                .octets()
                .iter()
                .flat_map(|byte| [byte >> 4, byte & 0x0f])
                .map(|nibble| char::from(HEX[usize::from(nibble)]).to_string())
                .collect();
            nibbles.join(".")
        }
    }
}

/// Escapes every byte outside the URI unreserved set (RFC 3986) as `%XX`.
fn url_escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                escaped.push(char::from(byte));
            }
            _ => escaped.push_str(&format!("%{byte:02X}")),
        }
    }
    escaped
}

/// `toplabel` of section 7.1: letters and digits, not all digits, with inner hyphens allowed.
fn is_top_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    let alphanumeric_or_hyphen = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-');
    let has_letter = bytes.iter().any(u8::is_ascii_alphabetic);
    let has_hyphen = bytes.contains(&b'-');
    alphanumeric_or_hyphen
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && (has_letter || has_hyphen)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7208 section 7.4: sender strong-bad@email.example.com from 192.0.2.3.
    fn values(ip: &str) -> Values<'static> {
        Values {
            sender: "strong-bad@email.example.com",
            local_part: "strong-bad",
            sender_domain: "email.example.com",
            domain: "email.example.com",
            ip: ip.parse().unwrap(),
            validated_name: Some("mx.example.org"),
            helo: "mx.example.org",
            receiver: "receiver.example.net",
            now: 1_700_000_000,
        }
    }

    #[track_caller]
    fn check(text: &str, expect: &str) {
        check_ip(text, "192.0.2.3", expect);
    }

    #[track_caller]
    fn check_ip(text: &str, ip: &str, expect: &str) {
        let parsed = MacroString::parse(text, Context::Explanation).unwrap();
        assert_eq!(parsed.expand(&values(ip)), expect, "{text}");
        assert_eq!(parsed.to_string(), text);
    }

    #[track_caller]
    fn check_error(text: &str, context: Context, expect: &str) {
        let error = MacroString::parse(text, context).unwrap_err();
        assert!(error.contains(expect), "{text}: {error:?} lacks {expect:?}");
    }

    #[test]
    fn rfc_7208_examples() {
        check("%{s}", "strong-bad@email.example.com");
        check("%{o}", "email.example.com");
        check("%{d}", "email.example.com");
        check("%{d4}", "email.example.com");
        check("%{d3}", "email.example.com");
        check("%{d2}", "example.com");
        check("%{d1}", "com");
        check("%{dr}", "com.example.email");
        check("%{d2r}", "example.email");
        check("%{l}", "strong-bad");
        check("%{l-}", "strong.bad");
        check("%{lr}", "strong-bad");
        check("%{lr-}", "bad.strong");
        check("%{l1r-}", "strong");
        check(
            "%{ir}.%{v}._spf.%{d2}",
            "3.2.0.192.in-addr._spf.example.com",
        );
        check("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com");
        check(
            "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
            "bad.strong.lp.3.2.0.192.in-addr._spf.example.com",
        );
        check(
            "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
            "3.2.0.192.in-addr.strong.lp._spf.example.com",
        );
        check(
            "%{d2}.trusted-domains.example.net",
            "example.com.trusted-domains.example.net",
        );
        check_ip(
            "%{ir}.%{v}._spf.%{d2}",
            "2001:db8::cb01",
            "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com",
        );
    }

    #[test]
    fn other_letters_escapes_and_transformers() {
        check("%{p}", "mx.example.org");
        check("%{p2}", "example.org");
        check("%{h}", "mx.example.org");
        check("%{c}", "192.0.2.3");
        check_ip("%{c}", "2001:db8::cb01", "2001:db8::cb01");
        check("%{r} at %{t}", "receiver.example.net at 1700000000");
        check("%{v}", "in-addr");
        check_ip("%{v}", "2001:db8::1", "ip6");
        check("100%% %_%-", "100%  %20");
        check("%{d99999999999999999999999}", "email.example.com");
        check("%{L}", "strong-bad");
        check("%{S}", "strong-bad%40email.example.com");
        check("%{l+-}", "strong.bad");
        check("%{dR}", "com.example.email");
        check("", "");
    }

    #[test]
    fn syntax_errors_are_named() {
        check_error("%(ir)", Context::DomainSpec, "must be followed by");
        check_error("foo%", Context::DomainSpec, "must be followed by");
        check_error("%{ir", Context::DomainSpec, "not closed");
        check_error("%{}", Context::DomainSpec, "no macro letter");
        check_error("%{a}", Context::DomainSpec, "'a' is not a macro letter");
        check_error("%{x}", Context::Explanation, "'x' is not a macro letter");
        check_error("%{c}", Context::DomainSpec, "only in explanation text");
        check_error("%{R}", Context::DomainSpec, "only in explanation text");
        check_error("%{d0}", Context::DomainSpec, "must not be zero");
        check_error(
            "%{d2x}",
            Context::DomainSpec,
            "'x' is not a macro delimiter",
        );
        check_error("a b", Context::DomainSpec, "' ' is not allowed");
        check_error("a\u{7f}", Context::Modifier, "not allowed");
        check_error("caf\u{e9}", Context::Explanation, "not allowed");
        assert!(MacroString::parse("%{c} %{r} %{t}", Context::Modifier).is_err());
        assert!(MacroString::parse("%{c}%{r}%{t}", Context::Modifier).is_ok());
    }

    #[track_caller]
    fn check_end(text: &str, expect: bool) {
        let parsed = MacroString::parse(text, Context::DomainSpec).unwrap();
        assert_eq!(parsed.ends_as_domain(), expect, "{text}");
    }

    #[test]
    fn domain_end() {
        check_end("example.com", true);
        check_end("example.com.", true);
        check_end("foo.example.xn--zckzah", true);
        check_end("%{d}", true);
        check_end("foo.%{d2}", true);
        check_end("%{d}.com", true);
        check_end("foo:bar/baz.example.com", true);
        check_end("macro%%", true);
        check_end("museum", false);
        check_end("museum.", false);
        check_end("foo-bar", false);
        check_end("111.222.33.44", false);
        check_end("abc.123", false);
        check_end("example.-com", false);
        check_end("example.com-", false);
        check_end("example.com:8080", false);
        check_end("%{d}.", false);
        check_end("a.b..", false);
        check_end("", false);
    }

    #[test]
    fn long_names_lose_labels_on_the_left() {
        // "xyz." and four labels of 59 and "example.com" make 255 characters.
        let label = "l".repeat(59);
        let text = format!("xyz.{label}.{label}.{label}.{label}.example.com.");
        let parsed = MacroString::parse(&text, Context::DomainSpec).unwrap();
        let expanded = parsed.expand_domain(&values("192.0.2.3"));
        assert_eq!(
            expanded,
            format!("{label}.{label}.{label}.{label}.example.com")
        );
        assert!(expanded.len() <= 253);
    }
}
