//! The vault against keys made by the real `openssl` command: every accepted form imports to the
//! right key (proved by a signature that `openssl dgst` verifies with openssl's own public key),
//! every refused form gets its precise error and quotes no key material, hostile KDF parameters
//! are refused before any work, and sealed keys are standard documents that `openssl pkcs8`
//! opens with the unsealed password.

mod accepted;
mod ed25519;
mod kdf_budget;
mod refused;
mod sealing;

use std::path::{Path, PathBuf};
use std::process::Command;

use sealpost_vault::{ImportError, MasterKey, PrivateKey, Vault};

const PASSWORD: &str = "fixture-pass";

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("resources/keys")
        .join(name)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap()
}

fn vault() -> Vault {
    Vault::new(MasterKey::generate())
}

fn openssl(arguments: &[&str]) -> std::process::Output {
    let output = Command::new("openssl")
        .args(arguments)
        .output()
        .expect("the openssl command is installed");
    assert!(
        output.status.success(),
        "openssl {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The DER of openssl's own public key for the fixture key pair.
fn openssl_public_der() -> Vec<u8> {
    let public = fixture_path("rsa2048-public.pem");
    openssl(&[
        "pkey",
        "-pubin",
        "-in",
        public.to_str().unwrap(),
        "-outform",
        "DER",
    ])
    .stdout
}

/// Signs with our key and lets openssl verify against its own public key of the fixture.
fn assert_openssl_verifies(key: &PrivateKey) {
    let directory = tempfile::tempdir().unwrap();
    let message = directory.path().join("message");
    let signature = directory.path().join("signature");
    std::fs::write(&message, b"DKIM-Signature: v=1; signed data").unwrap();
    std::fs::write(&signature, key.sign(b"DKIM-Signature: v=1; signed data")).unwrap();
    let public = fixture_path("rsa2048-public.pem");
    let output = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        public.to_str().unwrap(),
        "-signature",
        signature.to_str().unwrap(),
        message.to_str().unwrap(),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "Verified OK"
    );
}

#[track_caller]
fn check_accepted(name: &str, password: Option<&str>) {
    check_accepted_text(&fixture(name), password, name);
}

/// `text` imports to the fixture key pair; `context` names the case in a failure.
#[track_caller]
fn check_accepted_text(text: &str, password: Option<&str>, context: &str) {
    let key = vault()
        .import(text, password)
        .unwrap_or_else(|error| panic!("{context}: {error}"));
    assert_eq!(key.bits(), 2048, "{context}");
    assert_eq!(key.public_key_der(), openssl_public_der(), "{context}");
    assert_openssl_verifies(&key);
}

/// Imports `text`, which must be refused, and proves that the refusal quotes no key material:
/// no run of 16 or more base64 characters of the error's text occurs in the pasted text. Every
/// refusal in this suite goes through here.
#[track_caller]
fn refuse(text: &str, password: Option<&str>) -> ImportError {
    let error = vault().import(text, password).unwrap_err();
    assert_quotes_nothing_of(&error.to_string(), text);
    error
}

const QUOTED_RUN: usize = 16;

#[track_caller]
fn assert_quotes_nothing_of(shown: &str, pasted: &str) {
    let characters: Vec<char> = shown.chars().collect();
    for run in characters.chunk_by(|a, b| is_base64(*a) == is_base64(*b)) {
        if !is_base64(run[0]) || run.len() < QUOTED_RUN {
            continue;
        }
        for window in run.windows(QUOTED_RUN) {
            let window: String = window.iter().collect();
            assert!(
                !pasted.contains(&window),
                "the refusal {shown:?} quotes {window:?} of the pasted text"
            );
        }
    }
}

fn is_base64(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '+' | '/' | '=')
}

#[track_caller]
fn check_refused(text: &str, password: Option<&str>, expected: ImportError, message: &str) {
    let error = refuse(text, password);
    assert_eq!(error, expected);
    let shown = error.to_string();
    assert!(shown.contains(message), "{shown:?} lacks {message:?}");
}

/// A PEM document as RFC 7468 lays it out, for keys built in the tests.
fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).unwrap());
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
}
