//! `sealpost bounce parse`: a real bounce from the shared corpus classified in text and JSON,
//! an ordinary message reported as not a bounce, both with exit status 0.

use std::path::Path;

use crate::support::*;

fn corpus(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/bounces")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn a_bounce_is_classified_in_text_and_json() {
    let directory = tempfile::tempdir().unwrap();
    let file = corpus("lhost-postfix-63.eml");
    let json = ok_json(run(
        directory.path(),
        &[],
        &["bounce", "parse", &file, "--json"],
    ));
    let recipient = &json["reports"][0]["recipients"][0];
    assert_eq!(json["reports"][0]["kind"], "delivery");
    assert_eq!(recipient["status"], "5.2.2");
    assert_eq!(recipient["reply_code"], 552);
    assert_eq!(recipient["class"], "permanent");
    assert_eq!(recipient["reason"], "mailboxfull");
    assert_eq!(recipient["hard"], false);
    let unknown = corpus("lhost-sendmail-01.eml");
    let json = ok_json(run(
        directory.path(),
        &[],
        &["bounce", "parse", &unknown, "--json"],
    ));
    assert_eq!(json["reports"][0]["recipients"][0]["reason"], "userunknown");
    assert_eq!(json["reports"][0]["recipients"][0]["hard"], true);
    let text = run(directory.path(), &[], &["bounce", "parse", &unknown]);
    assert!(text.status.success());
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("reason: userunknown (hard)"), "{stdout}");
    assert!(stdout.contains("reply code: 550"), "{stdout}");
}

#[test]
fn an_ordinary_message_is_not_a_bounce() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("hello.eml");
    std::fs::write(
        &file,
        "From: a@example.com\r\nSubject: hello\r\n\r\nHi.\r\n",
    )
    .unwrap();
    let output = run(
        directory.path(),
        &[],
        &["bounce", "parse", file.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "not a bounce"
    );
    let json = ok_json(run(
        directory.path(),
        &[],
        &["bounce", "parse", file.to_str().unwrap(), "--json"],
    ));
    assert_eq!(json["reports"][0]["kind"], "not_a_bounce");
}
