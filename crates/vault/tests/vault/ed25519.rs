//! Ed25519 keys (RFC 8463), the second key a domain may sign with: openssl's PKCS#8 forms import
//! to the fixture key pair (proved by a signature `openssl pkeyutl` verifies with its own public
//! key), generated keys are sealed and opened like RSA keys, and each algorithm refuses the
//! other's keys by name.

use sealpost_domain::{KeyAlgorithm, KeyId, SystemClock, TenantId};
use sealpost_vault::{ImportError, PrivateKey};

use crate::{PASSWORD, assert_quotes_nothing_of, fixture, fixture_path, openssl, vault};

fn openssl_ed25519_public_der() -> Vec<u8> {
    let public = fixture_path("ed25519-public.pem");
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

/// Signs with our key and lets openssl verify the Ed25519 signature with the public key `public`
/// (a PEM file).
fn assert_openssl_verifies_ed25519(key: &PrivateKey, public: &std::path::Path) {
    let directory = tempfile::tempdir().unwrap();
    let message = directory.path().join("message");
    let signature = directory.path().join("signature");
    std::fs::write(&message, b"a SHA-256 digest stands here").unwrap();
    std::fs::write(&signature, key.sign(b"a SHA-256 digest stands here")).unwrap();
    let output = openssl(&[
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        public.to_str().unwrap(),
        "-rawin",
        "-in",
        message.to_str().unwrap(),
        "-sigfile",
        signature.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("Signature Verified Successfully"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

fn import(name: &str, password: Option<&str>) -> Result<PrivateKey, ImportError> {
    vault().import_key(KeyAlgorithm::Ed25519, &fixture(name), password)
}

#[test]
fn openssl_ed25519_keys_import_plain_and_encrypted() {
    for (name, password) in [
        ("ed25519.pem", None),
        ("ed25519-pkcs8-pbkdf2-aes256.pem", Some(PASSWORD)),
        ("ed25519-pkcs8-scrypt-aes256.pem", Some(PASSWORD)),
    ] {
        let key = import(name, password).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(key.algorithm(), KeyAlgorithm::Ed25519, "{name}");
        assert_eq!(key.bits(), 256, "{name}");
        assert_eq!(key.public_key_der(), openssl_ed25519_public_der(), "{name}");
        assert_openssl_verifies_ed25519(&key, &fixture_path("ed25519-public.pem"));
        assert!(!format!("{key:?}").contains(&fixture(name)[40..60]));
    }
}

#[test]
fn ed25519_imports_refuse_wrong_passwords_and_other_algorithms_by_name() {
    let refused = [
        (
            "ed25519-pkcs8-pbkdf2-aes256.pem",
            Some("not-the-password"),
            ImportError::WrongPassword,
        ),
        (
            "ed25519-pkcs8-scrypt-aes256.pem",
            None,
            ImportError::PasswordRequired,
        ),
        (
            "ed25519.pem",
            Some(PASSWORD),
            ImportError::PasswordNotNeeded,
        ),
        (
            "rsa2048-pkcs8.pem",
            None,
            ImportError::NotEd25519("an RSA key"),
        ),
        (
            "rsa2048-pkcs1.pem",
            None,
            ImportError::NotEd25519("an RSA key"),
        ),
        (
            "rsa2048-pkcs8-pbkdf2-aes256.pem",
            Some(PASSWORD),
            ImportError::NotEd25519("an RSA key"),
        ),
        ("ec-pkcs8.pem", None, ImportError::NotEd25519("an EC key")),
        ("ec-sec1.pem", None, ImportError::NotEd25519("an EC key")),
        ("certificate.pem", None, ImportError::Certificate),
        ("ed25519-public.pem", None, ImportError::PublicKey),
    ];
    for (name, password, expected) in refused {
        let error = import(name, password).unwrap_err();
        assert_eq!(error, expected, "{name}");
        assert_quotes_nothing_of(&error.to_string(), &fixture(name));
    }
    let shown = ImportError::NotEd25519("an RSA key").to_string();
    assert!(shown.contains("paste an Ed25519 key"), "{shown}");
}

#[test]
fn an_ed25519_key_given_as_the_rsa_key_is_refused_with_the_way_to_add_it() {
    for (name, password) in [
        ("ed25519.pem", None),
        ("ed25519-pkcs8-pbkdf2-aes256.pem", Some(PASSWORD)),
    ] {
        let error = vault().import(&fixture(name), password).unwrap_err();
        assert_eq!(error, ImportError::Ed25519AsRsa, "{name}");
        assert!(error.to_string().contains("algorithm ed25519"));
    }
}

#[test]
fn generated_ed25519_keys_are_sealed_as_standard_pkcs8_and_reopened() {
    let vault = vault();
    let key = vault.generate_key(KeyAlgorithm::Ed25519).unwrap();
    assert_eq!(key.algorithm(), KeyAlgorithm::Ed25519);
    assert_eq!(key.public_key_der().len(), 44);
    let (tenant, key_id) = (TenantId::new(&SystemClock), KeyId::new(&SystemClock));
    let sealed = vault.seal(tenant, key_id, &key);
    assert!(
        sealed
            .encrypted_pkcs8_pem
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    );
    let reopened = vault.open(tenant, key_id, &sealed).unwrap();
    assert_eq!(reopened.algorithm(), KeyAlgorithm::Ed25519);
    assert_eq!(reopened.public_key_der(), key.public_key_der());

    // openssl opens the sealed document with the unsealed password and finds the same key.
    let directory = tempfile::tempdir().unwrap();
    let document = directory.path().join("sealed.pem");
    std::fs::write(&document, &sealed.encrypted_pkcs8_pem).unwrap();
    let password = vault.reveal_password(tenant, key_id, &sealed).unwrap();
    let output = openssl(&[
        "pkey",
        "-in",
        document.to_str().unwrap(),
        "-passin",
        &format!("pass:{}", password.as_str()),
        "-pubout",
        "-outform",
        "DER",
    ]);
    assert_eq!(output.stdout, key.public_key_der());
    let public = directory.path().join("public.pem");
    std::fs::write(
        &public,
        sealpost_domain::public_key_pem(&key.public_key_der()),
    )
    .unwrap();
    assert_openssl_verifies_ed25519(&reopened, &public);
}
