//! Keys, messages and key records shared by the DKIM tests.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use sealpost_dkim::{KeyAnswer, Report, Signer, Verifier};
use sealpost_domain::{DomainName, Selector, Timestamp};
use sealpost_vault::{MasterKey, PrivateKey, Vault};

/// The time the tests sign at; verification runs a minute later.
pub const SIGNED_AT: i64 = 1_795_840_000;
pub const NOW: Timestamp = Timestamp(SIGNED_AT + 60);

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The openssl-made RSA-2048 key the vault's fixtures hold, as a signing handle.
pub fn fixture_key() -> Arc<PrivateKey> {
    let pem = std::fs::read_to_string(
        workspace_root().join("crates/vault/resources/keys/rsa2048-pkcs8.pem"),
    )
    .expect("read the key fixture");
    let vault = Vault::new(MasterKey::generate());
    Arc::new(vault.import(&pem, None).expect("import the key fixture"))
}

pub fn signer(domain: &str, selector: &str) -> Signer {
    Signer::new(
        DomainName::parse(domain).unwrap(),
        Selector::parse(selector).unwrap(),
        fixture_key(),
    )
}

/// The DKIM TXT record value for a key.
pub fn record_for(key: &PrivateKey) -> String {
    sealpost_domain::dkim_txt_value(&key.public_key_der())
}

pub fn crlf(text: &str) -> Vec<u8> {
    sealpost_dkim::normalize_line_endings(text.as_bytes()).into_owned()
}

pub const MESSAGE: &str = "From: Facilities <facilities@client.example>\n\
To: someone@receiver.example\n\
Subject: Work order 4711\n\
Date: Sat, 28 Nov 2026 04:35:53 +0000\n\
Message-ID: <wo-4711@client.example>\n\
MIME-Version: 1.0\n\
Content-Type: text/plain; charset=utf-8\n\
\n\
The boiler in building B is fixed.\n";

/// Verifies with the answers given by name.
pub fn verify_with(message: &[u8], answers: &[(&str, KeyAnswer)]) -> Report {
    let verifier = Verifier::new(message).expect("message parses");
    let answers: HashMap<String, KeyAnswer> = answers
        .iter()
        .map(|(name, answer)| ((*name).to_owned(), answer.clone()))
        .collect();
    verifier.finish(&answers, NOW)
}

/// The openssl-made Ed25519 key the vault's fixtures hold, as a signing handle.
pub fn fixture_ed25519_key() -> Arc<PrivateKey> {
    let pem =
        std::fs::read_to_string(workspace_root().join("crates/vault/resources/keys/ed25519.pem"))
            .expect("read the key fixture");
    let vault = Vault::new(MasterKey::generate());
    Arc::new(
        vault
            .import_key(sealpost_domain::KeyAlgorithm::Ed25519, &pem, None)
            .expect("import the Ed25519 key fixture"),
    )
}

/// The DKIM TXT record value for a key of either algorithm.
pub fn record_of(key: &PrivateKey) -> String {
    sealpost_domain::dkim_txt_value_for(key.algorithm(), &key.public_key_der())
}
