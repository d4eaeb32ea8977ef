//! The service extensions a server announces in its EHLO reply (RFC 5321 section 4.1.1.1), as far
//! as the client uses them.

use crate::reply::Reply;

/// The SASL mechanisms Sealpost can use, in order of preference: PLAIN needs one round trip
/// (with the initial response of RFC 4954), LOGIN three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mechanism {
    Plain,
    Login,
}

/// What the server offers. A server greeted with HELO offers nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Capabilities {
    /// STARTTLS (RFC 3207).
    pub(crate) starttls: bool,
    /// PIPELINING (RFC 2920).
    pub(crate) pipelining: bool,
    /// SIZE (RFC 1870) was announced, so MAIL FROM may carry the message size.
    pub(crate) size: bool,
    /// The size limit SIZE announced; `None` when it gave none or 0 (no fixed limit).
    pub(crate) size_limit: Option<u64>,
    /// 8BITMIME (RFC 6152).
    pub(crate) eight_bit_mime: bool,
    /// The SASL mechanisms of AUTH (RFC 4954), upper-cased.
    pub(crate) auth: Vec<String>,
}

impl Capabilities {
    /// Reads the extensions from the lines of a positive EHLO reply. The first line is the
    /// server's greeting name, the others one keyword each with optional parameters; keywords are
    /// case-insensitive. `AUTH=` is the form some old servers use beside `AUTH`.
    pub(crate) fn from_ehlo(reply: &Reply) -> Self {
        let mut capabilities = Self::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            let keyword = keyword.to_ascii_uppercase();
            let (keyword, first_parameter) = match keyword.split_once('=') {
                Some(("AUTH", mechanism)) => ("AUTH".to_owned(), Some(mechanism.to_owned())),
                _ => (keyword, None),
            };
            match keyword.as_str() {
                "STARTTLS" => capabilities.starttls = true,
                "PIPELINING" => capabilities.pipelining = true,
                "8BITMIME" => capabilities.eight_bit_mime = true,
                "SIZE" => {
                    capabilities.size = true;
                    capabilities.size_limit = words
                        .next()
                        .and_then(|limit| limit.parse::<u64>().ok())
                        .filter(|&limit| limit > 0);
                }
                "AUTH" => {
                    let mechanisms = first_parameter
                        .into_iter()
                        .chain(words.map(str::to_owned))
                        .map(|mechanism| mechanism.to_ascii_uppercase())
                        .filter(|mechanism| !mechanism.is_empty());
                    for mechanism in mechanisms {
                        if !capabilities.auth.contains(&mechanism) {
                            capabilities.auth.push(mechanism);
                        }
                    }
                }
                _ => {}
            }
        }
        capabilities
    }

    /// The mechanism to authenticate with: PLAIN when offered, else LOGIN, else none.
    pub(crate) fn auth_mechanism(&self) -> Option<Mechanism> {
        let offers = |name: &str| self.auth.iter().any(|offered| offered == name);
        match (offers("PLAIN"), offers("LOGIN")) {
            (true, _) => Some(Mechanism::Plain),
            (false, true) => Some(Mechanism::Login),
            (false, false) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::parse_reply;

    fn parse(lines: &[&str]) -> Capabilities {
        let mut wire = String::new();
        for (index, line) in lines.iter().enumerate() {
            let separator = if index + 1 == lines.len() { ' ' } else { '-' };
            wire.push_str(&format!("250{separator}{line}\r\n"));
        }
        let (reply, _) = parse_reply(wire.as_bytes()).unwrap().unwrap();
        Capabilities::from_ehlo(&reply)
    }

    #[test]
    fn extensions_are_read() {
        let capabilities = parse(&[
            "mx.test greets you",
            "pipelining",
            "SIZE 35882577",
            "8BITMIME",
            "STARTTLS",
            "AUTH LOGIN PLAIN XOAUTH2",
            "AUTH=LOGIN",
            "ENHANCEDSTATUSCODES",
        ]);
        assert_eq!(
            capabilities,
            Capabilities {
                starttls: true,
                pipelining: true,
                size: true,
                size_limit: Some(35_882_577),
                eight_bit_mime: true,
                auth: vec!["LOGIN".into(), "PLAIN".into(), "XOAUTH2".into()],
            }
        );
        assert_eq!(capabilities.auth_mechanism(), Some(Mechanism::Plain));
    }

    #[test]
    fn size_without_limit_and_login_only() {
        let capabilities = parse(&["mx.test", "SIZE", "AUTH=LOGIN"]);
        assert!(capabilities.size);
        assert_eq!(capabilities.size_limit, None);
        assert_eq!(capabilities.auth_mechanism(), Some(Mechanism::Login));
        assert_eq!(parse(&["mx.test", "SIZE 0"]).size_limit, None);
    }

    #[test]
    fn the_greeting_line_is_not_an_extension() {
        assert_eq!(parse(&["STARTTLS"]), Capabilities::default());
        assert_eq!(parse(&["mx.test", "AUTH CRAM-MD5"]).auth_mechanism(), None);
    }
}
