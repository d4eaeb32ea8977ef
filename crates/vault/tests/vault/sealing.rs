//! Generated keys, and keys at rest: sealed documents open only with their tenant, key id and
//! master key, and are standard encrypted PKCS#8 that `openssl` reads.

use sealpost_domain::{KeyId, SystemClock, TenantId};
use sealpost_vault::{MasterKey, UnsealError, Vault};

use crate::{fixture, openssl, openssl_public_der, vault};

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
    let (tenant, key_id) = (TenantId::new(&SystemClock), KeyId::new(&SystemClock));
    let sealed = vault.seal(tenant, key_id, &key);

    let reopened = Vault::new(MasterKey::from_text(&master_text).unwrap())
        .open(tenant, key_id, &sealed)
        .unwrap();
    assert_eq!(reopened.public_key_der(), openssl_public_der());

    assert_eq!(
        vault
            .open(TenantId::new(&SystemClock), key_id, &sealed)
            .unwrap_err(),
        UnsealError::Password
    );
    assert_eq!(
        vault
            .open(tenant, KeyId::new(&SystemClock), &sealed)
            .unwrap_err(),
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
    let (tenant, key_id) = (TenantId::new(&SystemClock), KeyId::new(&SystemClock));
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
        "PrivateKey { algorithm: Rsa, bits: 2048, material: \"redacted\" }"
    );
    let master = MasterKey::generate();
    assert!(!format!("{master:?}").contains(master.to_text().as_str()));
}
