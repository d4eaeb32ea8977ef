//! spamd's answer to `REPORT` read from bytes: the status line, the headers, and the rule table
//! in the report body.

use super::error::ProtocolError;
use super::report::{SpamReport, SpamRule};

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
}
