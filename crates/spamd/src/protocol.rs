//! The SPAMC/1.5 `REPORT` exchange without I/O: the request as bytes and the answer read from
//! bytes, so that every shape of answer spamd (or something pretending to be spamd) can give is
//! tested without a socket.
//!
//! `REPORT` is the one command that returns both the verdict (the `Spam` header: verdict, score
//! and threshold) and, in its body, the table of rules hit with their scores and descriptions.
//! `SYMBOLS` names the rules but gives neither their scores nor their descriptions, and `CHECK`
//! gives only the verdict, so either would need a second round trip and a second scan.

use thiserror::Error;

/// How spamd judged a message: the verdict and score from the `Spam` header and the rules from
/// the report table.
#[derive(Debug, Clone, PartialEq)]
pub struct SpamReport {
    /// The total score; SpamAssassin adds the scores of all rules hit.
    pub score: f32,
    /// The score from which spamd calls a message spam (`required_score`, 5.0 by default).
    pub threshold: f32,
    /// spamd's own verdict, taken as given rather than recomputed from score and threshold, so
    /// that it always matches what a filter using the same spamd would decide.
    pub is_spam: bool,
    /// Every rule hit, in the order of spamd's report.
    pub rules: Vec<SpamRule>,
}

/// One SpamAssassin rule that a message hit.
#[derive(Debug, Clone, PartialEq)]
pub struct SpamRule {
    /// The rule's name, e.g. `MISSING_DATE`, which is what SpamAssassin's documentation and
    /// forums are searched by.
    pub name: String,
    /// The rule's score as printed in the report: one decimal, or none at all for scores of 10
    /// and more (spamd prints `1000` for GTUBE), so the rule scores need not add up exactly to
    /// the total.
    pub score: f32,
    /// The rule's description in one line; spamd's wrapped continuation lines and the bracketed
    /// details some rules log (such as `[URIs: example.com]`) are joined with single spaces.
    pub description: String,
}

/// Why an answer from spamd could not be used. Each variant names what was wrong, and the
/// messages are phrased to follow "spamd at <address>: ".
#[derive(Debug, Error, PartialEq)]
pub enum ProtocolError {
    /// The connection closed before a single byte arrived, which is what spamd does when it
    /// rejects a client by `--allowed-ips` or dies while checking.
    #[error("it closed the connection without answering")]
    EmptyResponse,
    /// The first line is not `SPAMD/<version> <code> <text>`: whatever answered is not spamd.
    #[error("its first line {line:?} is not a spamd status line (SPAMD/1.x <code> <text>)")]
    StatusLine {
        /// The first line as received, lossily decoded.
        line: String,
    },
    /// spamd answered with a sysexits code other than 0 (EX_OK); the text is spamd's own
    /// explanation, such as "Bad header line".
    #[error("it answered with status {code} ({name}): {text}", name = exit_code_name(*code))]
    Failed {
        /// The sysexits(3) code.
        code: u16,
        /// spamd's text after the code.
        text: String,
    },
    /// A header line has no colon.
    #[error("its header line {line:?} is not `Name: value`")]
    HeaderLine {
        /// The header line as received, lossily decoded.
        line: String,
    },
    /// The answer ended inside the headers, before the empty line that ends them.
    #[error("its answer ended before the end of the headers")]
    UnterminatedHeaders,
    /// A successful answer without `Content-length`, so a truncated body could not be told
    /// from a complete one.
    #[error("its answer has no Content-length header")]
    MissingContentLength,
    /// A successful answer without the `Spam` header, which carries the verdict and score.
    #[error("its answer has no Spam header, which carries the verdict and the score")]
    MissingSpamHeader,
    /// The `Spam` header is not `True|False ; <score> / <threshold>`.
    #[error("its Spam header {value:?} is not `True|False ; <score> / <threshold>`")]
    SpamHeader {
        /// The header's value.
        value: String,
    },
    /// A number (a score, the threshold or the content length) does not parse.
    #[error("its {field} {text:?} is not a number")]
    Number {
        /// Which number it was.
        field: &'static str,
        /// The text that should have been the number.
        text: String,
    },
    /// Fewer body bytes arrived than `Content-length` announced.
    #[error("its answer was cut short: {received} of {declared} body bytes arrived")]
    TruncatedBody {
        /// The `Content-length`.
        declared: usize,
        /// The bytes received after the headers.
        received: usize,
    },
    /// More body bytes arrived than `Content-length` announced, so the two disagree about
    /// where the report ends.
    #[error("its answer has {received} body bytes where Content-length announced {declared}")]
    ExtraBody {
        /// The `Content-length`.
        declared: usize,
        /// The bytes received after the headers.
        received: usize,
    },
    /// The report has no table of rules (a line of dashes at the start of a line); this happens
    /// when the site's `report` template was replaced by one without `_SUMMARY_`.
    #[error("its report has no table of rules; does the site's report template omit _SUMMARY_?")]
    MissingRuleTable,
    /// A line of the rule table is neither `<score> <name> <description>` nor an indented
    /// continuation of the rule above it.
    #[error("its report table line {line:?} is not `<score> <rule name> <description>`")]
    RuleLine {
        /// The line as received.
        line: String,
    },
    /// The answer grew past the limit a report can reasonably have, so reading stopped.
    #[error("its answer is larger than {limit} bytes, far more than any report")]
    ResponseTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// The request asking spamd to check `message` and answer with its report.
///
/// `Content-length` is always sent: spamd then reads exactly that many bytes instead of waiting
/// for the end of the stream, and answers a mismatch with a clear EX_PROTOCOL status.
pub(crate) fn encode_report_request(message: &[u8]) -> Vec<u8> {
    let head = format!(
        "REPORT SPAMC/1.5\r\nContent-length: {}\r\n\r\n",
        message.len()
    );
    let mut request = Vec::with_capacity(head.len() + message.len());
    request.extend_from_slice(head.as_bytes());
    request.extend_from_slice(message);
    request
}

/// Reads spamd's complete answer to a `REPORT` request (everything up to the end of the
/// stream) into a report, or names the first thing wrong with it.
pub fn parse_report_response(response: &[u8]) -> Result<SpamReport, ProtocolError> {
    if response.is_empty() {
        return Err(ProtocolError::EmptyResponse);
    }
    let (status_line, mut rest) = split_line(response).unwrap_or((response, &[]));
    parse_status_line(status_line)?;

    let mut content_length = None;
    let mut spam_header = None;
    loop {
        let Some((line, after)) = split_line(rest) else {
            return Err(ProtocolError::UnterminatedHeaders);
        };
        rest = after;
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(line);
        let Some((name, value)) = text.split_once(':') else {
            return Err(ProtocolError::HeaderLine {
                line: text.into_owned(),
            });
        };
        let value = value.trim();
        if name.trim().eq_ignore_ascii_case("Content-length") {
            content_length = Some(parse_length(value)?);
        } else if name.trim().eq_ignore_ascii_case("Spam") {
            spam_header = Some(parse_spam_header(value)?);
        }
    }

    let declared = content_length.ok_or(ProtocolError::MissingContentLength)?;
    let (is_spam, score, threshold) = spam_header.ok_or(ProtocolError::MissingSpamHeader)?;
    let received = rest.len();
    if received < declared {
        return Err(ProtocolError::TruncatedBody { declared, received });
    }
    if received > declared {
        return Err(ProtocolError::ExtraBody { declared, received });
    }
    let rules = parse_rule_table(&String::from_utf8_lossy(rest))?;
    Ok(SpamReport {
        score,
        threshold,
        is_spam,
        rules,
    })
}

/// Splits off the first line, without its `\n` or `\r\n`; `None` if there is no line end.
fn split_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = bytes.iter().position(|&byte| byte == b'\n')?;
    let line = &bytes[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, &bytes[end + 1..]))
}

/// Checks `SPAMD/1.<minor> <code> <text>` and turns a non-zero code into its error; the text
/// of a successful answer (`EX_OK`) carries nothing, so only success is returned.
fn parse_status_line(line: &[u8]) -> Result<(), ProtocolError> {
    let text = String::from_utf8_lossy(line);
    let malformed = || ProtocolError::StatusLine {
        line: text.clone().into_owned(),
    };
    let (protocol, after_protocol) = text.split_once(' ').ok_or_else(malformed)?;
    let minor = protocol.strip_prefix("SPAMD/1.").ok_or_else(malformed)?;
    if minor.is_empty() || !minor.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(malformed());
    }
    let (code, message) = after_protocol
        .split_once(' ')
        .unwrap_or((after_protocol, ""));
    let code: u16 = code.parse().map_err(|_| malformed())?;
    match code {
        0 => Ok(()),
        _ => Err(ProtocolError::Failed {
            code,
            text: message.to_owned(),
        }),
    }
}

fn parse_length(value: &str) -> Result<usize, ProtocolError> {
    value.parse().map_err(|_| ProtocolError::Number {
        field: "Content-length",
        text: value.to_owned(),
    })
}

/// Reads `True ; 1003.3 / 5.0` into (is spam, score, threshold).
fn parse_spam_header(value: &str) -> Result<(bool, f32, f32), ProtocolError> {
    let malformed = || ProtocolError::SpamHeader {
        value: value.to_owned(),
    };
    let (verdict, numbers) = value.split_once(';').ok_or_else(malformed)?;
    let is_spam = match verdict.trim() {
        "True" => true,
        "False" => false,
        _ => return Err(malformed()),
    };
    let (score, threshold) = numbers.split_once('/').ok_or_else(malformed)?;
    Ok((
        is_spam,
        parse_score("score", score.trim())?,
        parse_score("threshold", threshold.trim())?,
    ))
}

/// Parses a score; `inf` and `NaN`, which Rust's parser accepts, are refused because no
/// SpamAssassin score is either.
fn parse_score(field: &'static str, text: &str) -> Result<f32, ProtocolError> {
    match text.parse::<f32>() {
        Ok(number) if number.is_finite() => Ok(number),
        _ => Err(ProtocolError::Number {
            field,
            text: text.to_owned(),
        }),
    }
}

/// Finds the rule table in the report and reads its lines.
///
/// The table is found by its line of dashes rather than by its heading, because the heading and
/// the rest of the report are translated into the language spamd runs in. A table line is
/// `<score> <name> <description>` with the score right-aligned in four columns, so it starts
/// with at most three spaces; wrapped descriptions and logged details are indented further. An
/// empty line ends the table. The content preview above the table is indented, so a line of
/// dashes in the message itself is never mistaken for the table.
fn parse_rule_table(report: &str) -> Result<Vec<SpamRule>, ProtocolError> {
    let mut lines = report.lines();
    if !lines.by_ref().any(is_table_rule) {
        return Err(ProtocolError::MissingRuleTable);
    }
    let mut rules: Vec<SpamRule> = Vec::new();
    for line in lines.take_while(|line| !line.trim().is_empty()) {
        let indent = line.len() - line.trim_start().len();
        if indent >= 4 {
            let Some(rule) = rules.last_mut() else {
                return Err(ProtocolError::RuleLine {
                    line: line.to_owned(),
                });
            };
            rule.description.push(' ');
            rule.description.push_str(line.trim());
            continue;
        }
        rules.push(parse_rule_line(line)?);
    }
    Ok(rules)
}

/// The line under the table's heading: groups of dashes from the first column on.
fn is_table_rule(line: &str) -> bool {
    line.starts_with('-')
        && line.contains(' ')
        && line
            .trim_end()
            .bytes()
            .all(|byte| byte == b'-' || byte == b' ')
}

fn parse_rule_line(line: &str) -> Result<SpamRule, ProtocolError> {
    let malformed = || ProtocolError::RuleLine {
        line: line.to_owned(),
    };
    let (score, after_score) = line.trim_start().split_once(' ').ok_or_else(malformed)?;
    let score = parse_score("rule score", score).map_err(|_| malformed())?;
    let after_score = after_score.trim_start();
    let (name, description) = after_score.split_once(' ').unwrap_or((after_score, ""));
    if name.is_empty() {
        return Err(malformed());
    }
    Ok(SpamRule {
        name: name.to_owned(),
        score,
        description: description.trim().to_owned(),
    })
}

/// The sysexits(3) name of a code, so that an operator can look it up; spamd uses them for
/// every failure.
fn exit_code_name(code: u16) -> &'static str {
    match code {
        64 => "EX_USAGE",
        65 => "EX_DATAERR",
        66 => "EX_NOINPUT",
        67 => "EX_NOUSER",
        68 => "EX_NOHOST",
        69 => "EX_UNAVAILABLE",
        70 => "EX_SOFTWARE",
        71 => "EX_OSERR",
        72 => "EX_OSFILE",
        73 => "EX_CANTCREAT",
        74 => "EX_IOERR",
        75 => "EX_TEMPFAIL",
        76 => "EX_PROTOCOL",
        77 => "EX_NOPERM",
        78 => "EX_CONFIG",
        _ => "unknown code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body spamd 4.0.1 sent for the GTUBE message in this crate's integration test.
    const GTUBE_REPORT: &str = "Spam detection software, running on the system \"vm\",\n\
        has identified this incoming email as possible spam.\n\
        \n\
        Content preview:  XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n   \n\
        \n\
        Content analysis details:   (1003.3 points, 5.0 required)\n\
        \n \
        pts rule name              description\n\
        ---- ---------------------- --------------------------------------------------\n \
        0.6 MISSING_MID            Missing Message-Id: header\n\
        -0.0 NO_RECEIVED            Informational: message has no Received headers\n\
        1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email\n\n";

    /// A complete successful answer around `body` with a correct Content-length.
    fn answer(spam: &str, body: &str) -> Vec<u8> {
        format!(
            "SPAMD/1.1 0 EX_OK\r\nContent-length: {}\r\nSpam: {spam}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    fn rule(score: f32, name: &str, description: &str) -> SpamRule {
        SpamRule {
            name: name.to_owned(),
            score,
            description: description.to_owned(),
        }
    }

    #[track_caller]
    fn check_error(response: &[u8], expected: ProtocolError) {
        assert_eq!(parse_report_response(response), Err(expected));
    }

    #[test]
    fn request_carries_command_and_length() {
        assert_eq!(
            encode_report_request(b"Subject: x\r\n\r\nhi\r\n"),
            b"REPORT SPAMC/1.5\r\nContent-length: 18\r\n\r\nSubject: x\r\n\r\nhi\r\n"
        );
    }

    #[test]
    fn spam_answer_gives_verdict_score_and_rules() {
        let report = parse_report_response(&answer("True ; 1003.3 / 5.0", GTUBE_REPORT)).unwrap();
        assert_eq!(
            report,
            SpamReport {
                score: 1003.3,
                threshold: 5.0,
                is_spam: true,
                rules: vec![
                    rule(0.6, "MISSING_MID", "Missing Message-Id: header"),
                    rule(
                        -0.0,
                        "NO_RECEIVED",
                        "Informational: message has no Received headers"
                    ),
                    rule(
                        1000.0,
                        "GTUBE",
                        "BODY: Generic Test for Unsolicited Bulk Email"
                    ),
                ],
            }
        );
    }

    #[test]
    fn ham_answer_with_empty_table_has_no_rules() {
        let body = " pts rule name              description\n---- ---------- ----------\n\n";
        let report = parse_report_response(&answer("False ; -0.1 / 5.0", body)).unwrap();
        assert_eq!(
            report,
            SpamReport {
                score: -0.1,
                threshold: 5.0,
                is_spam: false,
                rules: vec![]
            }
        );
    }

    #[test]
    fn wrapped_descriptions_and_details_join_the_rule_above() {
        let body = "---- ---------------------- -----\n \
            2.5 URIBL_EXAMPLE          Contains an URL listed in the EXAMPLE\n                            \
            blocklist\n                            \
            [URIs: example.com]\n  \
            10 LONG_RULE_NAME_PAST_THE_COLUMN Past the name column\n\n\
            trailing text after the table is not read\n";
        let report = parse_report_response(&answer("True ; 12.5 / 5.0", body)).unwrap();
        assert_eq!(
            report.rules,
            vec![
                rule(
                    2.5,
                    "URIBL_EXAMPLE",
                    "Contains an URL listed in the EXAMPLE blocklist [URIs: example.com]"
                ),
                rule(
                    10.0,
                    "LONG_RULE_NAME_PAST_THE_COLUMN",
                    "Past the name column"
                ),
            ]
        );
    }

    #[test]
    fn dashes_in_the_indented_content_preview_are_not_the_table() {
        let body = "Content preview:  hello\n   ---- ----\n\n---- ----\n 0.1 A_RULE  A\n\n";
        let report = parse_report_response(&answer("False ; 0.1 / 5.0", body)).unwrap();
        assert_eq!(report.rules, vec![rule(0.1, "A_RULE", "A")]);
    }

    #[test]
    fn empty_answer() {
        check_error(b"", ProtocolError::EmptyResponse);
    }

    #[test]
    fn status_lines_that_are_not_spamd() {
        for line in [
            "HTTP/1.1 200 OK",
            "SPAMD/2.0 0 EX_OK",
            "SPAMD/1. 0 EX_OK",
            "SPAMD/1.1 zero EX_OK",
            "SPAMD/1.1",
            "garbage",
        ] {
            check_error(
                format!("{line}\r\n\r\n").as_bytes(),
                ProtocolError::StatusLine {
                    line: line.to_owned(),
                },
            );
        }
    }

    #[test]
    fn status_line_without_line_end_is_still_read() {
        check_error(
            b"nonsense",
            ProtocolError::StatusLine {
                line: "nonsense".to_owned(),
            },
        );
    }

    #[test]
    fn non_zero_status_is_spamds_failure_with_its_text() {
        let response = b"SPAMD/1.0 76 Bad header line: (Content-Length mismatch: Expected 100 bytes, got 3 bytes)\r\n";
        let error = parse_report_response(response).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it answered with status 76 (EX_PROTOCOL): Bad header line: \
             (Content-Length mismatch: Expected 100 bytes, got 3 bytes)"
        );
        check_error(
            b"SPAMD/1.5 74 EX_IOERR\r\n",
            ProtocolError::Failed {
                code: 74,
                text: "EX_IOERR".to_owned(),
            },
        );
    }

    #[test]
    fn header_without_colon() {
        check_error(
            b"SPAMD/1.1 0 EX_OK\r\nnot a header\r\n\r\n",
            ProtocolError::HeaderLine {
                line: "not a header".to_owned(),
            },
        );
    }

    #[test]
    fn answer_ending_inside_the_headers() {
        check_error(b"SPAMD/1.1 0 EX_OK\r\n", ProtocolError::UnterminatedHeaders);
        check_error(
            b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5\r\nContent-len",
            ProtocolError::UnterminatedHeaders,
        );
    }

    #[test]
    fn missing_headers() {
        check_error(
            b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5\r\n\r\n",
            ProtocolError::MissingContentLength,
        );
        check_error(
            b"SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n",
            ProtocolError::MissingSpamHeader,
        );
    }

    #[test]
    fn spam_headers_of_the_wrong_shape() {
        for value in [
            "True 1.0 / 5.0",
            "Maybe ; 1.0 / 5.0",
            "True ; 1.0",
            "yes ; 1 / 5",
        ] {
            check_error(
                &answer(value, GTUBE_REPORT),
                ProtocolError::SpamHeader {
                    value: value.to_owned(),
                },
            );
        }
    }

    #[test]
    fn unparsable_numbers() {
        check_error(
            &answer("True ; lots / 5.0", GTUBE_REPORT),
            ProtocolError::Number {
                field: "score",
                text: "lots".to_owned(),
            },
        );
        check_error(
            &answer("True ; 3.0 / inf", GTUBE_REPORT),
            ProtocolError::Number {
                field: "threshold",
                text: "inf".to_owned(),
            },
        );
        check_error(
            b"SPAMD/1.1 0 EX_OK\r\nContent-length: ten\r\n\r\n",
            ProtocolError::Number {
                field: "Content-length",
                text: "ten".to_owned(),
            },
        );
    }

    #[test]
    fn body_shorter_or_longer_than_announced() {
        let complete = answer("True ; 1003.3 / 5.0", GTUBE_REPORT);
        let declared = GTUBE_REPORT.len();
        check_error(
            &complete[..complete.len() - 10],
            ProtocolError::TruncatedBody {
                declared,
                received: declared - 10,
            },
        );
        let mut longer = complete.clone();
        longer.extend_from_slice(b"more");
        check_error(
            &longer,
            ProtocolError::ExtraBody {
                declared,
                received: declared + 4,
            },
        );
    }

    #[test]
    fn report_without_rule_table() {
        check_error(
            &answer("False ; 0.0 / 5.0", "A site template without a summary.\n"),
            ProtocolError::MissingRuleTable,
        );
    }

    #[test]
    fn malformed_table_lines() {
        for line in [
            " x.y SOME_RULE text",
            " 1.0",
            "    continuation before any rule",
        ] {
            let body = format!("---- ----\n{line}\n\n");
            check_error(
                &answer("False ; 0.0 / 5.0", &body),
                ProtocolError::RuleLine {
                    line: line.to_owned(),
                },
            );
        }
    }

    #[test]
    fn exit_code_names() {
        assert_eq!(exit_code_name(64), "EX_USAGE");
        assert_eq!(exit_code_name(78), "EX_CONFIG");
        assert_eq!(exit_code_name(1), "unknown code");
    }
}
