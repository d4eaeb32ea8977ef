//! What the CLI tests share: the real binary with a clean environment, and output checks.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

pub const BINARY: &str = env!("CARGO_BIN_EXE_sealpost");

pub fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vault/resources/keys")
        .join(name)
        .display()
        .to_string()
}

/// A command with no `SEALPOST_` settings inherited from the test's environment.
pub fn command(directory: &Path, environment: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BINARY);
    command.current_dir(directory);
    for (name, _) in std::env::vars() {
        if name.starts_with("SEALPOST_") {
            command.env_remove(name);
        }
    }
    command.env("SEALPOST_LOG", "warn");
    for (name, value) in environment {
        command.env(name, value);
    }
    command
}

pub fn run(directory: &Path, environment: &[(&str, &str)], arguments: &[&str]) -> Output {
    command(directory, environment)
        .args(arguments)
        .output()
        .unwrap()
}

#[track_caller]
pub fn ok_json(output: Output) -> Value {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[track_caller]
pub fn fails_with(output: Output, message: &str) {
    assert!(!output.status.success(), "unexpected success");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(message), "{stderr:?} lacks {message:?}");
}

/// The DKIM TXT value of the fixture key, from openssl's own public key output.
pub fn fixture_dkim_value() -> String {
    let public = Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(fixture("rsa2048-pkcs8.pem"))
        .output()
        .unwrap();
    assert!(public.status.success());
    sealpost_domain::dkim_txt_value(&public.stdout)
}
