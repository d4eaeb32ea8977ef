//! Signing domains (SPEC S3): a domain a tenant sends from, its DKIM selector, and the facts about
//! its key that may be shown to anyone. Private key material is not represented here at all;
//! only its sealed form, which is opaque without the operator's master key.

use crate::{
    DnsStatus, DomainName, KeyAlgorithm, KeyId, KeyState, RecordFinding, Selector, SigningDomainId,
    TenantId, Timestamp,
};

/// The only RSA modulus size Sealpost accepts for DKIM keys (SPEC S3.4, S3.6).
pub const REQUIRED_KEY_BITS: u32 = 2048;

/// DKIM's hash algorithm. SHA-256 is the only one allowed (RFC 8301 forbids SHA-1 for signing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha256,
}

impl HashAlgorithm {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
        }
    }
}

/// Where a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    Generated,
    Imported,
}

impl KeyOrigin {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Generated => "generated",
            Self::Imported => "imported",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "generated" => Some(Self::Generated),
            "imported" => Some(Self::Imported),
            _ => None,
        }
    }
}

/// A private key as it rests in storage: an encrypted PKCS#8 document and the password that
/// opens it, sealed with the master key. Neither part reveals the key without the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedKey {
    pub encrypted_pkcs8_pem: String,
    pub sealed_password: Vec<u8>,
}

impl std::fmt::Debug for SealedKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SealedKey(..)")
    }
}

/// The public facts about one of a signing domain's keys (SPEC S3.6, S11.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub id: KeyId,
    /// The key's record lives at `<selector>._domainkey.<domain>`; every key of a domain has
    /// its own selector, so an old and a new key can be published side by side.
    pub selector: Selector,
    pub state: KeyState,
    /// When the key entered its state.
    pub state_since: Timestamp,
    /// Promoted by an operator without DNS carrying it.
    pub forced: bool,
    /// RSA (every domain's signing key) or Ed25519 (a second signature, RFC 8463). Each
    /// algorithm has its own life: an Ed25519 key never replaces an RSA key.
    pub algorithm: KeyAlgorithm,
    /// SubjectPublicKeyInfo DER; DKIM's `p=` carries it whole for RSA, its last 32 bytes for
    /// Ed25519 ([`KeyAlgorithm::dkim_public_key`]).
    pub public_key_der: Vec<u8>,
    pub bits: u32,
    pub origin: KeyOrigin,
    pub created_at: Timestamp,
}

impl SigningKey {
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        HashAlgorithm::Sha256
    }

    /// The public key as a PEM document (`-----BEGIN PUBLIC KEY-----`), derived from the DER,
    /// never stored or edited separately.
    pub fn public_key_pem(&self) -> String {
        public_key_pem(&self.public_key_der)
    }
}

/// A SubjectPublicKeyInfo DER as a PEM document.
pub fn public_key_pem(public_key_der: &[u8]) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(public_key_der);
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningDomain {
    pub id: SigningDomainId,
    pub tenant_id: TenantId,
    pub domain: DomainName,
    /// The selector of the domain's first key; later keys get numbered variants of it.
    pub selector: Selector,
    /// Only active signing domains sign mail (SPEC S3.1), with their active key.
    pub active: bool,
    /// Every key the domain has had, oldest first, retired ones included (their records are the
    /// ones that are safe to remove).
    pub keys: Vec<SigningKey>,
    pub dns: DnsStatus,
    /// What the last re-check found of the records beside DKIM (SPF, DMARC, the return path).
    pub records: Vec<RecordFinding>,
    /// Incremented on every change, so that caches on any node can tell a stale copy.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl SigningDomain {
    /// The RSA key that signs while the domain is active.
    pub fn active_key(&self) -> Option<&SigningKey> {
        self.active_key_of(KeyAlgorithm::Rsa)
    }

    /// The newest RSA key waiting for its record to be published.
    pub fn pending_key(&self) -> Option<&SigningKey> {
        self.pending_key_of(KeyAlgorithm::Rsa)
    }

    /// The active key of `algorithm`.
    pub fn active_key_of(&self, algorithm: KeyAlgorithm) -> Option<&SigningKey> {
        self.keys
            .iter()
            .find(|key| key.state == KeyState::Active && key.algorithm == algorithm)
    }

    /// The newest key of `algorithm` waiting for its record to be published.
    pub fn pending_key_of(&self, algorithm: KeyAlgorithm) -> Option<&SigningKey> {
        self.keys
            .iter()
            .filter(|key| key.state == KeyState::Pending && key.algorithm == algorithm)
            .max_by_key(|key| (key.created_at, key.id))
    }

    /// The keys that sign mail now, in the order of their signatures on a message: the RSA
    /// key, then the Ed25519 key if the domain has an active one (RFC 8463 dual signing). An
    /// Ed25519 key never signs alone, since receivers without RFC 8463 would see no valid
    /// signature.
    pub fn signing_keys(&self) -> Vec<&SigningKey> {
        let Some(rsa) = self.signing_key() else {
            return Vec::new();
        };
        let mut keys = vec![rsa];
        keys.extend(self.active_key_of(KeyAlgorithm::Ed25519));
        keys
    }

    /// The key people mean by "the domain's key": the active one, else the newest pending one.
    pub fn current_key(&self) -> Option<&SigningKey> {
        self.current_key_of(KeyAlgorithm::Rsa)
    }

    /// The active key of `algorithm`, else its newest pending one.
    pub fn current_key_of(&self, algorithm: KeyAlgorithm) -> Option<&SigningKey> {
        self.active_key_of(algorithm)
            .or_else(|| self.pending_key_of(algorithm))
    }

    /// The key that signs mail now: the active key of an active domain.
    pub fn signing_key(&self) -> Option<&SigningKey> {
        self.active.then(|| self.active_key()).flatten()
    }

    /// The selector a freshly created RSA key would get, which IT can be told before it exists.
    pub fn next_selector(&self) -> Selector {
        self.next_selector_for(KeyAlgorithm::Rsa)
    }

    /// The selector a fresh key of `algorithm` would get: Ed25519 keys are named after the
    /// domain's selector with `-ed` (`<selector>-ed`, then numbered), since RFC 8463 wants each
    /// key under a selector of its own.
    pub fn next_selector_for(&self, algorithm: KeyAlgorithm) -> Selector {
        match algorithm {
            KeyAlgorithm::Rsa => crate::next_selector(&self.selector, &self.keys),
            KeyAlgorithm::Ed25519 => {
                let base = Selector::parse(&format!("{}-ed", self.selector))
                    .unwrap_or_else(|_| self.selector.clone());
                crate::next_selector(&base, &self.keys)
            }
        }
    }

    /// The two selectors under which a domain with DKIM by CNAME delegation (SPEC S11.4) keeps
    /// its keys of `algorithm`: the first selector and the one a rotation gives next
    /// (`workplace`, `workplace2`; `workplace-ed`, `workplace-ed2`). The tenant publishes a CNAME
    /// for each once, and keys alternate between them, so no rotation needs a DNS change.
    pub fn delegation_selectors(&self, algorithm: KeyAlgorithm) -> Vec<Selector> {
        let first = match algorithm {
            KeyAlgorithm::Rsa => self.selector.clone(),
            KeyAlgorithm::Ed25519 => Selector::parse(&format!("{}-ed", self.selector))
                .unwrap_or_else(|_| self.selector.clone()),
        };
        let second = Selector::parse(&format!("{first}2")).ok();
        std::iter::once(first).chain(second).collect()
    }

    /// The selector a fresh key of `algorithm` takes on a delegated domain: the first of the
    /// [`delegation_selectors`](Self::delegation_selectors) no unretired key holds. A selector is
    /// reused only once its key has retired: no queued mail needs that key any more, and the
    /// zone serves its record no longer. `None` while both are held (a retiring key must retire
    /// first).
    pub fn next_delegated_selector(&self, algorithm: KeyAlgorithm) -> Option<Selector> {
        self.delegation_selectors(algorithm)
            .into_iter()
            .find(|selector| {
                !self
                    .keys
                    .iter()
                    .any(|key| &key.selector == selector && key.state != KeyState::Retired)
            })
    }

    pub fn key(&self, id: KeyId) -> Option<&SigningKey> {
        self.keys.iter().find(|key| key.id == id)
    }

    /// The name of a key's record: `<selector>._domainkey.<domain>`.
    pub fn record_name(&self, key: &SigningKey) -> String {
        format!("{}._domainkey.{}", key.selector, self.domain)
    }

    /// What the tenant must do about one of the domain's keys, in one sentence.
    pub fn key_next_step(&self, key: &SigningKey) -> String {
        let name = self.record_name(key);
        match key.state {
            KeyState::Pending => format!(
                "Publish the TXT record {name}. Sealpost switches to this key once DNS carries                  it; until then the current key keeps signing."
            ),
            KeyState::Active if self.active => {
                format!("Keep the TXT record {name} published: this key signs.")
            }
            KeyState::Active => format!(
                "Keep the TXT record {name} published; this key signs once signing is switched on."
            ),
            KeyState::Retiring => format!(
                "Keep the TXT record {name} published: mail signed with this key may still be                  verified. Sealpost says when it is safe to remove."
            ),
            KeyState::Retired => format!("Safe to remove from DNS: delete the TXT record {name}."),
        }
    }

    /// What the tenant must do next about the domain as a whole, in one sentence.
    pub fn next_step(&self) -> String {
        use crate::DnsState;
        let Some(current) = self.current_key() else {
            return "Generate a key pair or import a key.".to_owned();
        };
        let name = self.record_name(current);
        match (self.dns.state, current.state, self.active) {
            (DnsState::Warning | DnsState::Failed, _, _) => format!(
                "DNS no longer shows the records this domain needs: check {name} and the \
                 records of retiring keys, and publish them again."
            ),
            (_, KeyState::Pending, _) => format!(
                "Send the TXT record {name} to your IT department; signing starts with this key \
                 once DNS carries it."
            ),
            (_, _, false) => "Switch signing on.".to_owned(),
            (_, _, true) => match self.pending_key() {
                Some(pending) => format!(
                    "Publish the TXT record {} for the new key; the current key keeps signing \
                     until DNS carries it.",
                    self.record_name(pending)
                ),
                None => "Nothing to do: the domain signs.".to_owned(),
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewSigningDomain {
    pub domain: DomainName,
    pub selector: Selector,
}
