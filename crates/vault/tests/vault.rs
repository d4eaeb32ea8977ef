//! The vault against keys made by the real `openssl` command: every accepted form imports to the
//! right key (proved by a signature that `openssl dgst` verifies with openssl's own public key),
//! every refused form gets its precise error, and sealed keys are standard documents that
//! `openssl pkcs8` opens with the unsealed password.

use std::path::{Path, PathBuf};
use std::process::Command;

use sealpost_domain::{KeyId, TenantId};
use sealpost_vault::{ImportError, MasterKey, PrivateKey, UnsealError, Vault};

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
    std::fs::write(
        &signature,
        key.sign_rsa_sha256(b"DKIM-Signature: v=1; signed data"),
    )
    .unwrap();
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
    let key = vault()
        .import(&fixture(name), password)
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    assert_eq!(key.bits(), 2048, "{name}");
    assert_eq!(key.public_key_der(), openssl_public_der(), "{name}");
    assert_openssl_verifies(&key);
}

#[test]
fn every_accepted_form_imports_the_same_key() {
    check_accepted("rsa2048-pkcs8.pem", None);
    check_accepted("rsa2048-pkcs8.pem", Some(""));
    check_accepted("rsa2048-pkcs8-pbkdf2-aes256.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs8-pbkdf2-aes128.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs8-pbkdf2-des3.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs8-scrypt-aes256.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs1.pem", None);
    check_accepted("rsa2048-pkcs1-aes128.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs1-aes192.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs1-aes256.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs1-des3.pem", Some(PASSWORD));
}

#[test]
fn keys_pasted_with_noise_around_them_import() {
    let pasted = format!(
        "  \r\n{}\r\n",
        fixture("rsa2048-pkcs1.pem").replace('\n', "\r\n")
    );
    assert_eq!(
        vault().import(&pasted, None).unwrap().public_key_der(),
        openssl_public_der()
    );
    let bundle = format!(
        "{}{}",
        fixture("certificate.pem"),
        fixture("rsa2048-pkcs8.pem")
    );
    assert_eq!(
        vault().import(&bundle, None).unwrap().public_key_der(),
        openssl_public_der()
    );
}

#[track_caller]
fn check_refused(text: &str, password: Option<&str>, expected: ImportError, message: &str) {
    let error = vault().import(text, password).unwrap_err();
    assert_eq!(error, expected);
    let shown = error.to_string();
    assert!(shown.contains(message), "{shown:?} lacks {message:?}");
}

#[test]
fn refused_keys_get_precise_errors() {
    let rsa_only = "DKIM signing keys must be RSA";
    let size = "only 2048-bit keys are accepted";
    check_refused(
        &fixture("ec-pkcs8.pem"),
        None,
        ImportError::NotRsa("an EC key"),
        rsa_only,
    );
    check_refused(
        &fixture("ec-sec1.pem"),
        None,
        ImportError::NotRsa("an EC key"),
        rsa_only,
    );
    check_refused(
        &fixture("ed25519.pem"),
        None,
        ImportError::NotRsa("an Ed25519 key"),
        rsa_only,
    );
    check_refused(
        &fixture("dsa.pem"),
        None,
        ImportError::NotRsa("a DSA key"),
        rsa_only,
    );
    check_refused(
        &fixture("rsa-pss.pem"),
        None,
        ImportError::NotRsa(
            "an RSA-PSS key, which cannot make rsa-sha256 (PKCS#1 v1.5) signatures",
        ),
        rsa_only,
    );
    check_refused(
        &fixture("rsa1024-pkcs8.pem"),
        None,
        ImportError::WrongSize(1024),
        size,
    );
    check_refused(
        &fixture("rsa1024-pkcs1.pem"),
        None,
        ImportError::WrongSize(1024),
        size,
    );
    check_refused(
        &fixture("rsa3072-pkcs8.pem"),
        None,
        ImportError::WrongSize(3072),
        size,
    );
    check_refused(
        &fixture("rsa4096-pkcs8.pem"),
        None,
        ImportError::WrongSize(4096),
        size,
    );
}

#[test]
fn things_that_are_not_private_keys_are_named() {
    let certificate = fixture("certificate.pem");
    check_refused(
        &certificate,
        None,
        ImportError::Certificate,
        "certificate, not a private key",
    );
    let csr = fixture("csr.pem");
    check_refused(
        &csr,
        None,
        ImportError::CertificateRequest,
        "signing request",
    );
    let public = fixture("rsa2048-public.pem");
    check_refused(
        &public,
        None,
        ImportError::PublicKey,
        "this is a public key",
    );
    let rsa_public = fixture("rsa2048-rsa-public.pem");
    check_refused(
        &rsa_public,
        None,
        ImportError::PublicKey,
        "this is a public key",
    );
    check_refused("", None, ImportError::NotPem, "paste the whole key");
    check_refused("hello", None, ImportError::NotPem, "paste the whole key");
}

#[test]
fn broken_pem_is_refused() {
    let whole = fixture("rsa2048-pkcs8.pem");
    let cut: String = whole
        .lines()
        .take(10)
        .map(|line| format!("{line}\n"))
        .collect();
    check_refused(
        &cut,
        None,
        ImportError::Truncated("PRIVATE KEY".into()),
        "cut off",
    );

    let mut lines: Vec<&str> = whole.lines().collect();
    lines[3] = "this line is not base64!";
    let corrupted = lines.join("\n");
    let error = vault().import(&corrupted, None).unwrap_err();
    assert!(matches!(error, ImportError::Corrupted(_)), "{error:?}");

    // Valid base64 that is not a key: a line of the body removed.
    let mut lines: Vec<&str> = whole.lines().collect();
    lines.remove(5);
    let shortened = lines.join("\n");
    let error = vault().import(&shortened, None).unwrap_err();
    assert!(
        matches!(error, ImportError::Malformed(_) | ImportError::Corrupted(_)),
        "{error:?}"
    );
}

#[test]
fn passwords_are_checked() {
    for name in [
        "rsa2048-pkcs8-pbkdf2-aes256.pem",
        "rsa2048-pkcs8-scrypt-aes256.pem",
        "rsa2048-pkcs1-aes128.pem",
        "rsa2048-pkcs1-des3.pem",
    ] {
        let text = fixture(name);
        let wrong = vault().import(&text, Some("not-the-password")).unwrap_err();
        assert_eq!(wrong, ImportError::WrongPassword, "{name}");
        assert_eq!(
            wrong.to_string(),
            "the password is wrong: the key could not be decrypted with it"
        );
        let missing = vault().import(&text, None).unwrap_err();
        assert_eq!(missing, ImportError::PasswordRequired, "{name}");
        let empty = vault().import(&text, Some("")).unwrap_err();
        assert_eq!(empty, ImportError::PasswordRequired, "{name}");
    }
    for name in ["rsa2048-pkcs8.pem", "rsa2048-pkcs1.pem"] {
        let error = vault().import(&fixture(name), Some(PASSWORD)).unwrap_err();
        assert_eq!(error, ImportError::PasswordNotNeeded, "{name}");
    }
}

#[test]
fn generated_keys_are_rsa_2048_and_verify_with_openssl() {
    let key = vault().generate().unwrap();
    assert_eq!(key.bits(), 2048);
    let directory = tempfile::tempdir().unwrap();
    let public = directory.path().join("public.der");
    std::fs::write(&public, key.public_key_der()).unwrap();
    let text = openssl(&[
        "pkey",
        "-pubin",
        "-inform",
        "DER",
        "-in",
        public.to_str().unwrap(),
        "-text_pub",
        "-noout",
    ]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("Public-Key: (2048 bit)"));
}

#[test]
fn sealed_keys_are_opened_only_by_their_tenant_key_id_and_master_key() {
    let master_text = MasterKey::generate().to_text();
    let vault = Vault::new(MasterKey::from_text(&master_text).unwrap());
    let key = vault.import(&fixture("rsa2048-pkcs8.pem"), None).unwrap();
    let (tenant, key_id) = (TenantId::new(), KeyId::new());
    let sealed = vault.seal(tenant, key_id, &key);

    let reopened = Vault::new(MasterKey::from_text(&master_text).unwrap())
        .open(tenant, key_id, &sealed)
        .unwrap();
    assert_eq!(reopened.public_key_der(), openssl_public_der());

    assert_eq!(
        vault.open(TenantId::new(), key_id, &sealed).unwrap_err(),
        UnsealError::Password
    );
    assert_eq!(
        vault.open(tenant, KeyId::new(), &sealed).unwrap_err(),
        UnsealError::Password
    );
    let other_master = Vault::new(MasterKey::generate());
    assert_eq!(
        other_master.open(tenant, key_id, &sealed).unwrap_err(),
        UnsealError::Password
    );

    let mut tampered = sealed.clone();
    let middle = tampered.encrypted_pkcs8_pem.len() / 2;
    let replacement = if &tampered.encrypted_pkcs8_pem[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    tampered
        .encrypted_pkcs8_pem
        .replace_range(middle..=middle, replacement);
    assert_eq!(
        vault.open(tenant, key_id, &tampered).unwrap_err(),
        UnsealError::Document
    );
}

#[test]
fn the_sealed_document_is_standard_encrypted_pkcs8() {
    let vault = vault();
    let key = vault.import(&fixture("rsa2048-pkcs1.pem"), None).unwrap();
    let (tenant, key_id) = (TenantId::new(), KeyId::new());
    let sealed = vault.seal(tenant, key_id, &key);
    assert!(
        sealed
            .encrypted_pkcs8_pem
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    );
    assert!(!format!("{sealed:?}").contains("ENCRYPTED"));

    let password = vault.reveal_password(tenant, key_id, &sealed).unwrap();
    assert_eq!(password.len(), 64, "256 random bits, hex-encoded");
    let directory = tempfile::tempdir().unwrap();
    let document = directory.path().join("sealed.pem");
    std::fs::write(&document, &sealed.encrypted_pkcs8_pem).unwrap();
    let parameters = openssl(&["asn1parse", "-in", document.to_str().unwrap()]);
    let parameters = String::from_utf8_lossy(&parameters.stdout);
    assert!(
        parameters.contains("PBES2") && parameters.contains("aes-256-cbc"),
        "{parameters}"
    );
    let public = openssl(&[
        "pkey",
        "-in",
        document.to_str().unwrap(),
        "-passin",
        &format!("pass:{}", password.as_str()),
        "-pubout",
        "-outform",
        "DER",
    ]);
    assert_eq!(public.stdout, openssl_public_der());
}

#[test]
fn debug_output_shows_no_key_material() {
    let key = vault().import(&fixture("rsa2048-pkcs8.pem"), None).unwrap();
    assert_eq!(
        format!("{key:?}"),
        "PrivateKey { bits: 2048, material: \"redacted\" }"
    );
    let master = MasterKey::generate();
    assert!(!format!("{master:?}").contains(master.to_text().as_str()));
}
