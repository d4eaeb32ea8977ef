//! The fixed key, names and time the targets sign and verify with: the vault's RSA-2048 test
//! key, so that every run (and every replay) signs the same way.

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use sealpost_dkim::Signer;
use sealpost_domain::{DomainName, Selector, Timestamp};
use sealpost_vault::{MasterKey, PrivateKey, Vault};

const KEY_PEM: &str = include_str!("../../vault/resources/keys/rsa2048-pkcs8.pem");

/// The signing domain and selector; the key record lives at `SELECTOR._domainkey.DOMAIN`.
pub(crate) const DOMAIN: &str = "example.com";
pub(crate) const SELECTOR: &str = "fuzz";

/// The time the targets sign at and verify at (2026-01-01T00:00:00Z).
pub(crate) const NOW: Timestamp = Timestamp(1_767_225_600);

/// A vault with a fixed master key; import does not use the master key, sealing would.
pub(crate) fn vault() -> &'static Vault {
    static VAULT: OnceLock<Vault> = OnceLock::new();
    VAULT.get_or_init(|| {
        let master =
            MasterKey::from_text(&"ab".repeat(32)).expect("64 hex digits are a master key");
        Vault::new(master)
    })
}

fn key() -> &'static Arc<PrivateKey> {
    static KEY: OnceLock<Arc<PrivateKey>> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = vault()
            .import(KEY_PEM, None)
            .expect("the vault's fixture key imports");
        Arc::new(key)
    })
}

pub(crate) fn signer() -> Signer {
    let domain = DomainName::parse(DOMAIN).expect("example.com is a domain name");
    let selector = Selector::parse(SELECTOR).expect("fuzz is a selector");
    Signer::new(domain, selector, Arc::clone(key()))
}

/// The key record published for the fixture key, as a DNS answer carries it.
pub(crate) fn key_record() -> &'static str {
    static RECORD: OnceLock<String> = OnceLock::new();
    RECORD.get_or_init(|| {
        let public = base64::engine::general_purpose::STANDARD.encode(key().public_key_der());
        format!("v=DKIM1; k=rsa; p={public}")
    })
}

/// The name the key record is looked up at.
pub(crate) fn key_name() -> String {
    format!("{SELECTOR}._domainkey.{DOMAIN}")
}
