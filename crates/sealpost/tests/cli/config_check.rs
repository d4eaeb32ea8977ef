//! `sealpost config --check FILE`: a file is validated without starting anything; unknown keys,
//! contradictions and unusable referenced files are refused by name with exit status 2.

use crate::support::run;

#[track_caller]
fn check(toml: &str, code: i32, words: &str) {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("candidate.toml");
    std::fs::write(
        &file,
        toml.replace("DIR", &directory.path().display().to_string()),
    )
    .unwrap();
    std::fs::write(directory.path().join("empty.pem"), "").unwrap();
    let output = run(
        directory.path(),
        &[],
        &["config", "--check", &file.display().to_string()],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(code), "{text}");
    assert!(text.contains(words), "{words:?} not in {text:?}");
    assert!(
        !directory.path().join("data").exists(),
        "checking started nothing"
    );
}

#[test]
fn a_file_is_checked_without_starting() {
    check(
        "[platform]\ndomain = \"mail.example.com\"\n",
        0,
        "candidate.toml: valid",
    );
    check(
        "[smtp]\nlisten_on = \"0.0.0.0:587\"\n",
        2,
        "for key \"smtp.listen_on\"",
    );
    check(
        "[smtp]\ntls_cert = \"DIR/c.pem\"\n",
        2,
        "smtp.tls_cert and smtp.tls_key must be set together",
    );
    check(
        "[smtp]\ntls_cert = \"DIR/missing.pem\"\ntls_key = \"DIR/missing.pem\"\n",
        2,
        "smtp.tls_cert, smtp.tls_key: cannot read",
    );
    check(
        "[smtp]\ntls_cert = \"DIR/empty.pem\"\ntls_key = \"DIR/empty.pem\"\n",
        2,
        "smtp.tls_cert, smtp.tls_key: the certificate PEM holds no CERTIFICATE block",
    );
    check("master_key_file = \"DIR/none.key\"\n", 2, "master_key_file");
    check(
        "[platform]\ndkim_tenant = \"ops\"\n",
        2,
        "platform.dkim_tenant needs platform.domain",
    );
}
