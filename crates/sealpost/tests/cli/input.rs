//! Bad input on every command: exit status 2 (1 stays "the check found a problem"), each error
//! said once, a DER key named as such, and input files bounded by the message size limit.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

#[track_caller]
fn exits_with(output: Output, code: i32, message: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains(message), "{stderr:?} lacks {message:?}");
}

fn database(directory: &Path) -> [(&'static str, String); 2] {
    [
        ("SEALPOST_MASTER_KEY_FILE", "master.key".to_owned()),
        (
            "SEALPOST_DATABASE_URL",
            format!("sqlite://{}/sealpost.db", directory.display()),
        ),
    ]
}

#[test]
fn bad_input_exits_2_in_every_command() {
    let directory = tempfile::tempdir().unwrap();
    let here = directory.path();
    let owned = database(here);
    let environment: Vec<(&str, &str)> = owned
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let sealpost = |arguments: &[&str]| run(here, &environment, arguments);
    ok_json(sealpost(&[
        "master-key",
        "generate",
        "--out",
        "master.key",
        "--json",
    ]));
    ok_json(sealpost(&["tenant", "create", "acme", "--json"]));
    ok_json(sealpost(&[
        "domain",
        "add",
        "--tenant",
        "acme",
        "client.example",
        "--selector",
        "s1",
        "--json",
    ]));
    let key = fixture("rsa2048-pkcs8.pem");
    for (arguments, message) in [
        (
            vec!["tenant", "create", "Bad Name"],
            "not a valid tenant name",
        ),
        (vec!["tenant", "create", "acme"], "already exists"),
        (vec!["tenant", "api-key", "nobody"], "tenant not found"),
        (
            vec![
                "domain",
                "add",
                "--tenant",
                "acme",
                "a@b.example",
                "--selector",
                "s",
            ],
            "not an e-mail address",
        ),
        (
            vec!["domain", "activate", "--tenant", "acme", "client.example"],
            "no key yet",
        ),
        (
            vec!["domain", "show", "--tenant", "acme", "other.example"],
            "signing domain not found",
        ),
        (
            vec![
                "domain",
                "import-key",
                "--tenant",
                "acme",
                "client.example",
                "--file",
                &key,
                "--password-env",
                "SEALPOST_TEST_UNSET",
            ],
            "SEALPOST_TEST_UNSET is not set",
        ),
        (
            vec!["queue", "show", "--tenant", "acme", "not-an-id"],
            "is not a message id",
        ),
        (
            vec!["queue", "list", "--tenant", "nobody"],
            "tenant not found",
        ),
        (
            vec![
                "user",
                "add",
                "--email",
                "a@acme.example",
                "--operator",
                "--password-env",
                "SEALPOST_TEST_UNSET",
            ],
            "SEALPOST_TEST_UNSET is not set",
        ),
        (
            vec![
                "dkim",
                "keygen",
                "--out",
                "k.pem",
                "--domain",
                "bad domain",
                "--selector",
                "s",
            ],
            "--domain",
        ),
        (
            vec!["dkim", "keygen", "--out", "master.key"],
            "must not exist",
        ),
    ] {
        exits_with(sealpost(&arguments), 2, message);
    }
    assert!(!here.join("k.pem").exists());
    // A configuration file that cannot be read is input too.
    std::fs::write(here.join("broken.toml"), "[platform\n").unwrap();
    exits_with(
        sealpost(&["--config", "broken.toml", "tenant", "list"]),
        2,
        "broken.toml",
    );

    // A check that finds a problem still exits 1: a message without a signature.
    std::fs::write(here.join("unsigned.eml"), "From: a@client.example\n\nhi\n").unwrap();
    let unsigned = sealpost(&[
        "dkim",
        "verify",
        "--nameserver",
        "127.0.0.1:9",
        "unsigned.eml",
    ]);
    assert_eq!(unsigned.status.code(), Some(1));
}

#[test]
fn import_key_names_a_der_file_and_says_each_error_once() {
    let directory = tempfile::tempdir().unwrap();
    let here = directory.path();
    let owned = database(here);
    let environment: Vec<(&str, &str)> = owned
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let sealpost = |arguments: &[&str]| run(here, &environment, arguments);
    ok_json(sealpost(&[
        "master-key",
        "generate",
        "--out",
        "master.key",
        "--json",
    ]));
    ok_json(sealpost(&["tenant", "create", "acme", "--json"]));
    ok_json(sealpost(&[
        "domain",
        "add",
        "--tenant",
        "acme",
        "client.example",
        "--selector",
        "s1",
        "--json",
    ]));
    let der = Command::new("openssl")
        .args(["pkey", "-outform", "DER", "-in"])
        .arg(fixture("rsa2048-pkcs8.pem"))
        .output()
        .unwrap();
    assert!(der.status.success());
    std::fs::write(here.join("key.der"), &der.stdout).unwrap();
    let import = |file: &str| {
        sealpost(&[
            "domain",
            "import-key",
            "--tenant",
            "acme",
            "client.example",
            "--file",
            file,
        ])
    };
    let refused = import("key.der");
    exits_with(
        refused.clone(),
        2,
        "key.der is not text: this looks like a DER key, and a PEM key is needed; convert it \
         with `openssl pkey -inform DER -in key.der -out key.pem`",
    );
    assert!(!String::from_utf8_lossy(&refused.stderr).contains("UTF-8"));

    let too_large = import(&fixture("rsa4096-pkcs8.pem"));
    let stderr = String::from_utf8_lossy(&too_large.stderr).into_owned();
    assert_eq!(too_large.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.matches("only 2048-bit keys are accepted").count(),
        1,
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// Runs the binary with `/dev/zero` as its input and gives it 60 seconds; before the bound,
/// it read until memory ran out.
fn with_endless_input(arguments: &[&str]) -> Output {
    let directory = tempfile::tempdir().unwrap();
    let mut child = command(directory.path(), &[])
        .args(arguments)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("{arguments:?} was still reading after a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn message_files_are_read_up_to_the_message_size_limit() {
    let key = fixture("rsa2048-pkcs8.pem");
    let limit = sealpost_domain::limits::message::MAX_BYTES;
    let message = format!("/dev/zero is larger than {limit} bytes (25 MB)");
    for arguments in [
        vec!["dkim", "verify", "--nameserver", "127.0.0.1:9", "/dev/zero"],
        vec![
            "dkim",
            "sign",
            "--key",
            &key,
            "--domain",
            "client.example",
            "--selector",
            "s1",
            "/dev/zero",
        ],
        vec![
            "check-message",
            "--ip",
            "192.0.2.1",
            "--helo",
            "mx.client.example",
            "--mail-from",
            "a@client.example",
            "--nameserver",
            "127.0.0.1:9",
            "/dev/zero",
        ],
        vec![
            "dkim",
            "sign",
            "--key",
            "/dev/zero",
            "--domain",
            "client.example",
            "--selector",
            "s1",
        ],
    ] {
        exits_with(with_endless_input(&arguments), 2, &message);
    }
}
