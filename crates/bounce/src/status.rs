//! Status codes: the enhanced status code of RFC 3463 (`5.1.1`) and the SMTP reply code of
//! RFC 5321 (`550`), typed, and found in free text.

use std::fmt;

/// The first digit of a status: whether the outcome is a success, or a failure that may or may
/// not go away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// 2: delivered.
    Success,
    /// 4: a temporary failure; trying again may succeed.
    Transient,
    /// 5: a permanent failure.
    Permanent,
}

impl Class {
    pub fn from_digit(digit: u8) -> Option<Self> {
        match digit {
            b'2' => Some(Self::Success),
            b'4' => Some(Self::Transient),
            b'5' => Some(Self::Permanent),
            _ => None,
        }
    }

    pub fn digit(self) -> char {
        match self {
            Self::Success => '2',
            Self::Transient => '4',
            Self::Permanent => '5',
        }
    }
}

/// An enhanced mail system status code, `class.subject.detail` (RFC 3463 section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedStatus {
    pub class: Class,
    pub subject: u16,
    pub detail: u16,
}

impl EnhancedStatus {
    /// Reads `5.1.1` exactly (RFC 3463: subject up to 3 digits, detail up to 3 digits).
    pub fn parse(text: &str) -> Option<Self> {
        let mut fields = text.trim().splitn(3, '.');
        let class = fields.next()?;
        let subject = fields.next()?;
        let detail = fields.next()?;
        let number = |field: &str| match field.len() {
            1..=3 if field.bytes().all(|byte| byte.is_ascii_digit()) => field.parse().ok(),
            _ => None,
        };
        match class.as_bytes() {
            [digit] => Some(Self {
                class: Class::from_digit(*digit)?,
                subject: number(subject)?,
                detail: number(detail)?,
            }),
            _ => None,
        }
    }

    /// A status that only repeats the class (`5.0.0`) says nothing beyond the reply code.
    pub fn is_generic(self) -> bool {
        self.subject == 0 && self.detail == 0
    }

    /// The first enhanced status code in a text that no letter, digit or dot touches
    /// (`(#5.1.1)`, `550-5.7.26`, `#4.4.3)I'm` all count; `1.2.3.4` does not).
    pub fn find(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let touches = |byte: u8| byte.is_ascii_digit() || byte == b'.';
        bytes.iter().enumerate().find_map(|(start, byte)| {
            let opens = matches!(byte, b'2' | b'4' | b'5')
                && (start == 0
                    || !(touches(bytes[start - 1]) || bytes[start - 1].is_ascii_alphabetic()));
            if !opens {
                return None;
            }
            let length = bytes[start..]
                .iter()
                .take_while(|byte| touches(**byte))
                .count();
            let candidate = text[start..start + length].trim_end_matches('.');
            Self::parse(candidate)
        })
    }
}

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = self.class.digit();
        write!(formatter, "{class}.{}.{}", self.subject, self.detail)
    }
}

/// An SMTP reply code (RFC 5321 section 4.2), such as 550.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplyCode(u16);

impl ReplyCode {
    /// Three digits, the first 2 to 5, the second 0 to 5 (RFC 5321 section 4.2.1).
    pub fn parse(text: &str) -> Option<Self> {
        match text.as_bytes() {
            [
                first @ b'2'..=b'5',
                second @ b'0'..=b'5',
                third @ b'0'..=b'9',
            ] => {
                let digit = |byte: &u8| u16::from(byte - b'0');
                Some(Self(digit(first) * 100 + digit(second) * 10 + digit(third)))
            }
            _ => None,
        }
    }

    /// The first reply code of a failure or success (2xx, 4xx, 5xx; not 3xx) that opens a line
    /// or follows a colon, as servers' answers are quoted (`said: 550 ...`, `550-5.7.1 ...`).
    pub fn find(text: &str) -> Option<Self> {
        text.lines().find_map(|line| {
            let mut previous_ends_clause = true;
            for word in line.split_whitespace() {
                let digits = word.split(['-', ' ']).next().unwrap_or_default();
                let digits = digits.trim_start_matches(['(', '<', '[']);
                let digits = digits.trim_end_matches([',', ')', ']', ':', '>']);
                if previous_ends_clause
                    && let Some(code) = Self::parse(digits)
                    && code.class().is_some()
                {
                    return Some(code);
                }
                previous_ends_clause =
                    word.ends_with(':') || word.ends_with(';') || word.eq_ignore_ascii_case("said");
            }
            None
        })
    }

    pub fn value(self) -> u16 {
        self.0
    }

    pub fn class(self) -> Option<Class> {
        Class::from_digit(b'0' + (self.0 / 100) as u8)
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn status(text: &str, expect: Option<&str>) {
        let found = EnhancedStatus::find(text).map(|status| status.to_string());
        assert_eq!(found.as_deref(), expect, "{text:?}");
    }

    #[track_caller]
    fn reply(text: &str, expect: Option<u16>) {
        assert_eq!(
            ReplyCode::find(text).map(ReplyCode::value),
            expect,
            "{text:?}"
        );
    }

    #[test]
    fn statuses_in_text() {
        status("550 5.1.1 <a@b.example>... User Unknown", Some("5.1.1"));
        status("550-5.7.26 Unauthenticated email", Some("5.7.26"));
        status("(#5.5.0)", Some("5.5.0"));
        status("version 1.2.3 of the server", None);
        status("Status: 4.4.7", Some("4.4.7"));
        status("5.1.1234 too long", None);
        status(
            "Unable to contact LDAP server. (#4.4.3)I'm not",
            Some("4.4.3"),
        );
        status("host 192.0.2.1 said", None);
        status("", None);
    }

    #[test]
    fn reply_codes_in_text() {
        reply("550 5.1.1 <a@b.example>... User Unknown", Some(550));
        reply("remote host 192.0.2.32 said: 550 Unknown user", Some(550));
        reply(
            "host mx.example.jp [192.0.2.20]: 552 mailbox full",
            Some(552),
        );
        reply("421-4.7.0 try again", Some(421));
        reply("354 Enter mail", None);
        reply("the year 2014 and 500 cats", None);
        reply("", None);
    }
}
