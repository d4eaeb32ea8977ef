//! Composition: the message written, what it refuses (with the field at fault), and line lengths
//! checked on every line of the result, with mail-parser reading the fields back.

use mail_parser::MimeHeaders as _;

use super::*;

fn basic() -> Composition {
    Composition {
        from: "Facilities <facilities@client.test>".into(),
        to: vec!["someone@receiver.test".into()],
        subject: "Work order 4711".into(),
        text: Some("The boiler is fixed.".into()),
        ..Composition::default()
    }
}

fn composed(composition: &Composition) -> String {
    String::from_utf8(compose(composition).unwrap()).unwrap()
}

fn parsed(message: &str) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(message.as_bytes())
        .unwrap()
}

/// Every line within 998 octets; header lines within 78 unless a single word cannot be folded;
/// every encoded word within 75 characters.
#[track_caller]
fn check_lines(message: &str, header_limit: usize) {
    let (head, _) = message.split_once("\r\n\r\n").unwrap();
    for line in message.split("\r\n") {
        assert!(line.len() <= MAX_LINE_OCTETS, "{} octets", line.len());
        assert!(!line.contains(['\r', '\n']), "a bare line break");
    }
    for line in head.split("\r\n") {
        assert!(
            line.len() <= header_limit,
            "{line:?} is {} long",
            line.len()
        );
        assert!(!line.trim().is_empty(), "a line of only whitespace");
        for word in line.split(' ').filter(|word| word.starts_with("=?")) {
            assert!(word.len() <= 75, "{word} is {} long", word.len());
        }
    }
}

#[test]
fn plain_text_message() {
    let message = composed(&basic());
    assert!(
        message.starts_with(
            "From: \"Facilities\" <facilities@client.test>\r\nTo: someone@receiver.test\r\n\
             Subject: Work order 4711\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ),
        "{message}"
    );
}

#[test]
fn non_ascii_is_encoded_and_parts_are_built() {
    let mut composition = basic();
    composition.subject = "Prüfung ✓".into();
    composition.html = Some("<p>Fixed</p>".into());
    composition.attachments.push(Attachment {
        filename: "report.pdf".into(),
        content_type: "application/pdf".into(),
        content: vec![0, 1, 2, 255],
    });
    let message = composed(&composition);
    assert!(
        message.contains("Subject: =?UTF-8?B?UHLDvGZ1bmcg4pyT?=\r\n"),
        "{message}"
    );
    assert!(message.contains("multipart/mixed"));
    assert!(message.contains("multipart/alternative"));
    assert!(message.contains("filename=\"report.pdf\""));
    assert!(message.contains("AAEC/w==\r\n"));
}

#[test]
fn long_subjects_are_folded_and_encoded_words_split() {
    let ascii_words = ["Work order 4711 is done"; 50].join(" ");
    let unicode = ["Prüfung der Heizungsanlage ✓ — 😀"; 40].join(" ");
    let one_long_word = "x".repeat(1200);
    for subject in [ascii_words.as_str(), unicode.as_str()] {
        let mut composition = basic();
        composition.subject = subject.to_owned();
        let message = composed(&composition);
        check_lines(&message, 78);
        assert_eq!(parsed(&message).subject(), Some(subject));
    }
    // A word no line can hold is encoded, so that it can be split.
    let mut composition = basic();
    composition.subject = one_long_word.clone();
    let message = composed(&composition);
    check_lines(&message, 78);
    assert_eq!(parsed(&message).subject(), Some(one_long_word.as_str()));
    // A word longer than 78 but within 998 stays readable on its own line.
    let url = format!("see https://client.test/{}", "a".repeat(200));
    composition.subject = url.clone();
    let message = composed(&composition);
    check_lines(&message, 998);
    assert!(
        message.contains(&format!("\r\n {}", &url[4..])),
        "{message}"
    );
    assert_eq!(parsed(&message).subject(), Some(url.as_str()));
}

#[test]
fn long_addresses_headers_and_bodies_stay_within_the_line_limit() {
    let mut composition = basic();
    let long_name = ["Facilities Desk"; 12].join(" ");
    composition.from = format!("\"{long_name}\" <facilities@client.test>");
    composition.to = (0..60)
        .map(|n| format!("Prüfer Nummer {n} ✓ <pruefer{n}@receiver.test>"))
        .collect();
    composition.reply_to = Some(format!("{} <desk@client.test>", "Ä".repeat(200)));
    composition
        .headers
        .push(("X-Note".into(), "lang ".repeat(300)));
    composition.headers.push((
        "List-Unsubscribe".into(),
        "<mailto:u@client.test>, <https://client.test/unsubscribe?id=4711>".repeat(20),
    ));
    composition.text = Some("long line ".repeat(1000));
    composition.html = Some(format!("<p>{}</p>", "ü".repeat(5000)));
    composition.attachments.push(Attachment {
        filename: format!("{}.pdf", "Bericht über die Prüfung ".repeat(10)),
        content_type: "application/pdf".into(),
        content: vec![1; 5000],
    });
    let message = composed(&composition);
    check_lines(&message, 78);
    let parsed = parsed(&message);
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some(long_name.as_str()));
    let to: Vec<_> = parsed.to().unwrap().iter().collect();
    assert_eq!(to.len(), 60);
    assert_eq!(to[59].name(), Some("Prüfer Nummer 59 ✓"));
    assert_eq!(to[59].address(), Some("pruefer59@receiver.test"));
    let reply_to = parsed.reply_to().unwrap().first().unwrap();
    assert_eq!(reply_to.name(), Some("Ä".repeat(200).as_str()));
    assert_eq!(
        parsed.attachment(0).unwrap().attachment_name(),
        Some(format!("{}.pdf", "Bericht über die Prüfung ".repeat(10)).as_str())
    );
    assert_eq!(
        parsed.body_text(0).unwrap().trim_end(),
        "long line ".repeat(1000).trim_end()
    );
}

#[test]
fn encoded_word_display_names_are_not_quoted() {
    let mut composition = basic();
    composition.from = "=?UTF-8?B?UHLDvGZ1bmc=?= <desk@client.test>".into();
    let message = composed(&composition);
    assert!(
        message.starts_with("From: =?UTF-8?B?UHLDvGZ1bmc=?= <desk@client.test>\r\n"),
        "{message}"
    );
    let parsed = parsed(&message);
    assert_eq!(
        parsed.from().unwrap().first().unwrap().name(),
        Some("Prüfung")
    );
    // Quotes and backslashes in a plain name are quoted pairs, not dropped.
    composition.from = r#""Desk \"Main\" \\ 2" <desk@client.test>"#.into();
    let message = composed(&composition);
    assert!(
        message.starts_with(r#"From: "Desk \"Main\" \\ 2" <desk@client.test>"#),
        "{message}"
    );
}

#[test]
fn quoted_content_type_parameters_are_accepted() {
    let mut composition = basic();
    for (given, written) in [
        (
            "text/plain; charset=\"utf-8\"",
            "Content-Type: text/plain; charset=utf-8; name=\"notes.txt\"\r\n",
        ),
        (
            "Text/CSV;charset=utf-8 ; header=present",
            "Content-Type: text/csv; charset=utf-8; header=present; name=\"notes.txt\"\r\n",
        ),
        (
            "application/x-thing; note=\"a \\\"b\\\" c\"",
            "Content-Type: application/x-thing; note=\"a \\\"b\\\" c\"; name=\"notes.txt\"\r\n",
        ),
    ] {
        composition.attachments = vec![Attachment {
            filename: "notes.txt".into(),
            content_type: given.into(),
            content: b"a,b".to_vec(),
        }];
        let message = composed(&composition);
        assert!(message.contains(written), "{given}: {message}");
    }
}

#[track_caller]
fn refused(change: impl FnOnce(&mut Composition), field: &str, words: &str) {
    let mut composition = basic();
    change(&mut composition);
    let error = compose(&composition).unwrap_err();
    assert_eq!(error.field(), field, "{error}");
    let message = error.to_string();
    assert!(message.contains(words), "{message:?} lacks {words:?}");
}

#[test]
fn refusals_name_the_field() {
    refused(
        |c| c.subject = "Hello\r\nBcc: victim@example.test".into(),
        "subject",
        "line break",
    );
    refused(
        |c| c.from = "Evil\n <a@client.test>".into(),
        "from",
        "line break",
    );
    refused(
        |c| c.from = "not an address".into(),
        "from",
        "is not a valid e-mail address",
    );
    refused(
        |c| c.from = "Name <a@client.test".into(),
        "from",
        "not a mailbox",
    );
    refused(|c| c.from = "a@-bad-.example".into(), "from", "domain");
    refused(
        |c| c.from = "=?UTF-8?X?abc?= <a@client.test>".into(),
        "from",
        "not an RFC 2047 encoded word",
    );
    refused(
        |c| c.from = format!("{} <a@client.test>", "n".repeat(201)),
        "from",
        "longer than 200",
    );
    refused(
        |c| c.reply_to = Some("nobody".into()),
        "reply_to",
        "is not a valid e-mail address",
    );
    refused(|c| c.to.push("x@y@".into()), "to", "");
    refused(
        |c| c.cc = vec!["cc".into()],
        "cc",
        "is not a valid e-mail address",
    );
    refused(|c| c.text = None, "text", "text or an HTML body");
    refused(
        |c| c.headers.push(("DKIM-Signature".into(), "x".into())),
        "headers",
        "may not be set",
    );
    refused(
        |c| c.headers.push(("X-Bad Name".into(), "x".into())),
        "headers",
        "not a valid header name",
    );
    refused(
        |c| {
            c.headers
                .push((format!("X-{}", "a".repeat(80)), "x".into()))
        },
        "headers",
        "longer than 76",
    );
    refused(
        |c| {
            c.headers
                .push(("X-Order".into(), "1\r\nBcc: x@y.test".into()))
        },
        "headers",
        "line break",
    );
    refused(
        |c| {
            c.headers
                .push(("List-Unsubscribe".into(), "<https://bücher.test/u>".into()))
        },
        "headers",
        "percent-encode",
    );
    refused(
        |c| {
            c.headers.push((
                "List-Unsubscribe".into(),
                format!("<https://client.test/{}>", "u".repeat(1000)),
            ))
        },
        "headers",
        "998",
    );
    refused(
        |c| {
            c.attachments.push(Attachment {
                filename: "a.txt".into(),
                content_type: "text/plain; charset=\"utf-8".into(),
                content: Vec::new(),
            })
        },
        "attachments",
        "invalid content type",
    );
}

#[test]
fn control_characters_are_refused_where_they_would_reach_a_header() {
    refused(|c| c.subject = "Hi\0there".into(), "subject", "U+0000");
    refused(
        |c| c.from = "Desk\u{1} <a@client.test>".into(),
        "from",
        "U+0001",
    );
    refused(
        |c| c.to = vec!["Some\u{7f}one <b@receiver.test>".into()],
        "to",
        "U+007F",
    );
    refused(
        |c| c.headers.push(("X-Order".into(), "47\u{0}11".into())),
        "headers",
        "U+0000",
    );
    refused(|c| c.html = Some("<p>\0</p>".into()), "html", "U+0000");
    refused(
        |c| {
            c.attachments.push(Attachment {
                filename: "a\u{1b}.txt".into(),
                content_type: "text/plain".into(),
                content: Vec::new(),
            })
        },
        "attachments",
        "U+001B",
    );
    // TAB is whitespace, not a control to refuse.
    let mut composition = basic();
    composition.subject = "Order\t4711".into();
    assert_eq!(
        parsed(&composed(&composition)).subject(),
        Some("Order\t4711")
    );
}
