//! DNS names as a tenant types them: domains (internationalised names become punycode) and DKIM
//! selectors, validated before anything is stored.

use std::fmt;

/// Why a name was refused. Each message names the rule that was broken, because it is shown to
/// the person who typed the name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the domain is empty")]
    EmptyDomain,
    #[error("\"{0}\" is not a valid domain name: {1}")]
    Domain(String, &'static str),
    #[error("\"{0}\" is not a valid DKIM selector: {1}")]
    Selector(String, &'static str),
    #[error(
        "\"{0}\" is not a valid tenant name: use 1 to 63 lowercase letters, digits and hyphens, not starting with a hyphen"
    )]
    TenantName(String),
    #[error("\"{0}\" is not an e-mail address such as ann@client.example")]
    Email(String),
}

/// A fully qualified domain name in ASCII (punycode for internationalised names), lowercase,
/// without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainName(String);

impl DomainName {
    /// Accepts what a person types: surrounding spaces, a trailing dot, upper case and Unicode
    /// labels are normalised; anything else that is not a host name is refused.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let trimmed = input.trim();
        let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
        if trimmed.is_empty() {
            return Err(NameError::EmptyDomain);
        }
        let refuse = |why| NameError::Domain(input.trim().to_owned(), why);
        if trimmed.contains(|c: char| c.is_whitespace()) {
            return Err(refuse("it contains white space"));
        }
        if trimmed.contains('@') {
            return Err(refuse(
                "enter the domain only, e.g. client.example, not an e-mail address",
            ));
        }
        if trimmed.contains("://") || trimmed.contains('/') {
            return Err(refuse(
                "enter the domain only, e.g. client.example, not a URL",
            ));
        }
        // ASCII names are checked label by label, so the message names the precise rule; only
        // internationalised names go through IDNA.
        let ascii = if trimmed.is_ascii() {
            trimmed.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii_strict(trimmed)
                .map_err(|_| refuse("it is not a valid internationalised domain name"))?
        };
        if ascii.len() > 253 {
            return Err(refuse("it is longer than 253 characters"));
        }
        let labels: Vec<&str> = ascii.split('.').collect();
        if labels.len() < 2 {
            return Err(refuse("it needs at least two labels, such as example.com"));
        }
        for label in &labels {
            check_host_label(label).map_err(refuse)?;
        }
        // An A-label must decode to the Unicode label it stands for; `xn--zz` decodes to
        // nothing and would be shown as a replacement character.
        if labels.iter().any(|label| label.starts_with("xn--"))
            && idna::domain_to_unicode(&ascii).1.is_err()
        {
            return Err(refuse("a label starting with xn-- is not valid punycode"));
        }
        let top_level = labels[labels.len() - 1];
        if top_level.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(refuse("an IP address is not a domain"));
        }
        Ok(Self(ascii))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as a person reads it (Unicode for punycode labels).
    pub fn to_unicode(&self) -> String {
        let (unicode, _) = idna::domain_to_unicode(&self.0);
        unicode
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// A DKIM selector (RFC 6376 section 3.1): one or more DNS labels, lowercase. Underscores are
/// allowed because some providers use them and DNS carries them fine in TXT owner names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Selector(String);

impl Selector {
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let selector = input.trim().to_ascii_lowercase();
        let refuse = |why| NameError::Selector(input.trim().to_owned(), why);
        if selector.is_empty() {
            return Err(refuse("it is empty"));
        }
        if selector.len() > 63 {
            return Err(refuse("it is longer than 63 characters"));
        }
        if selector.contains("._domainkey") || selector == "_domainkey" {
            return Err(refuse("enter the selector alone, without \"._domainkey\""));
        }
        for label in selector.split('.') {
            check_selector_label(label).map_err(refuse)?;
        }
        Ok(Self(selector))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The owner name of a DKIM key record, `<selector>._domainkey.<domain>`, which DNS limits to
/// 253 characters like any name; a longer pair could be keyed but never published.
pub fn dkim_record_name(selector: &Selector, domain: &DomainName) -> Result<String, NameError> {
    let name = format!("{selector}._domainkey.{domain}");
    if name.len() > crate::limits::address::MAX_DOMAIN {
        return Err(NameError::Selector(
            selector.as_str().to_owned(),
            "with the domain, the DKIM record name <selector>._domainkey.<domain> would be \
             longer than 253 characters; choose a shorter selector",
        ));
    }
    Ok(name)
}

impl fmt::Display for Selector {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

fn check_host_label(label: &str) -> Result<(), &'static str> {
    if label.is_empty() {
        return Err("it has an empty label (two dots in a row, or a leading dot)");
    }
    if label.len() > 63 {
        return Err("a label is longer than 63 characters");
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err("a label starts or ends with a hyphen");
    }
    if !label
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    {
        return Err("it may contain only letters, digits, hyphens and dots");
    }
    Ok(())
}

fn check_selector_label(label: &str) -> Result<(), &'static str> {
    if label.is_empty() {
        return Err("it has an empty label (two dots in a row, or a leading or trailing dot)");
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err("a label starts or ends with a hyphen");
    }
    let allowed = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_';
    if !label.bytes().all(allowed) {
        return Err("it may contain only letters, digits, hyphens, underscores and dots");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_domain(input: &str, expect: Result<&str, &str>) {
        let actual = DomainName::parse(input)
            .map(|name| name.as_str().to_owned())
            .map_err(|error| error.to_string());
        match (actual, expect) {
            (Ok(name), Ok(expected)) => assert_eq!(name, expected),
            (Err(message), Err(fragment)) => {
                assert!(message.contains(fragment), "{message:?} lacks {fragment:?}")
            }
            (actual, expect) => panic!("{input:?}: got {actual:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn domains() {
        check_domain("client.example", Ok("client.example"));
        check_domain("  Mail.Client.Example. ", Ok("mail.client.example"));
        check_domain("bücher.example", Ok("xn--bcher-kva.example"));
        check_domain("xn--bcher-kva.example", Ok("xn--bcher-kva.example"));
        check_domain("xn--zz.example", Err("not valid punycode"));
        check_domain("mail.xn--ab-.example", Err("hyphen"));
        check_domain("xn--a.example", Err("not valid punycode"));
        check_domain("a-b.example", Ok("a-b.example"));
        check_domain("", Err("empty"));
        check_domain("localhost", Err("at least two labels"));
        check_domain("client..example", Err("empty label"));
        check_domain("-client.example", Err("hyphen"));
        check_domain("client_x.example", Err("only letters"));
        check_domain("user@client.example", Err("not an e-mail address"));
        check_domain("https://client.example", Err("not a URL"));
        check_domain("client example", Err("white space"));
        check_domain("192.0.2.1", Err("IP address"));
        check_domain(
            &format!("{}.example", "a".repeat(64)),
            Err("longer than 63"),
        );
        check_domain(&format!("{}example", "abcdefghi.".repeat(25)), Err("253"));
    }

    #[track_caller]
    fn check_selector(input: &str, expect: Result<&str, &str>) {
        let actual = Selector::parse(input)
            .map(|selector| selector.as_str().to_owned())
            .map_err(|error| error.to_string());
        match (actual, expect) {
            (Ok(selector), Ok(expected)) => assert_eq!(selector, expected),
            (Err(message), Err(fragment)) => {
                assert!(message.contains(fragment), "{message:?} lacks {fragment:?}")
            }
            (actual, expect) => panic!("{input:?}: got {actual:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn dkim_record_names_fit_in_dns() {
        let domain = DomainName::parse(&format!("{}.example", "d".repeat(60))).unwrap();
        let short = Selector::parse("workplace").unwrap();
        assert_eq!(
            dkim_record_name(&short, &domain).unwrap(),
            format!("workplace._domainkey.{domain}")
        );
        let long_domain = DomainName::parse(&format!(
            "{}.{}.{}.example",
            "a".repeat(60),
            "b".repeat(60),
            "c".repeat(60)
        ))
        .unwrap();
        let long = Selector::parse(&"s".repeat(60)).unwrap();
        let error = dkim_record_name(&long, &long_domain).unwrap_err();
        assert!(error.to_string().contains("longer than 253"), "{error}");
    }

    #[test]
    fn selectors() {
        check_selector("workplace", Ok("workplace"));
        check_selector(" Workplace ", Ok("workplace"));
        check_selector("s2026.q1", Ok("s2026.q1"));
        check_selector("sel_1", Ok("sel_1"));
        check_selector("", Err("empty"));
        check_selector("workplace._domainkey", Err("without \"._domainkey\""));
        check_selector("work place", Err("only letters"));
        check_selector("sel.", Err("empty label"));
        check_selector("-sel", Err("hyphen"));
        check_selector(&"s".repeat(64), Err("longer than 63"));
    }
}
