//! The DKIM record check (SPEC S3.9): fetch the TXT record at `<selector>._domainkey.<domain>`,
//! join its strings, parse its tags, decode `p=` and compare the *key* with ours, not the text, so
//! that quoting, splitting and tag order at the DNS provider never cause a false alarm. A failure
//! names its cause, including the doubled name that DNS provider forms produce when a tenant
//! types the full name into a field that appends the zone.

use sealpost_dkim::{KeyRecord, PublicKey, fingerprint};
use sealpost_dns::{LookupError, Resolver};
use sealpost_domain::KeyAlgorithm;

/// Why the record is or is not right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DkimRecordCause {
    /// The record carries our key, ready for signing.
    Matches,
    /// The record is valid, but there is no key of ours to compare it with.
    ValidUncompared,
    NoRecord,
    /// The record was found only at `<selector>._domainkey.<domain>.<domain>`.
    DoubledName {
        found_at: String,
    },
    SeveralRecords(usize),
    DifferentKey {
        ours: String,
        published: String,
    },
    Revoked,
    TestingMode,
    KeyTypeNotRsa(String),
    /// The record of an Ed25519 key (RFC 8463) has another `k=`.
    KeyTypeNotEd25519(String),
    HashExcludesSha256(String),
    Syntax(String),
    Dns(String),
    /// The name is a CNAME, but not to the name Sealpost serves the key at, and what it leads
    /// to does not carry the key.
    WrongDelegation {
        points_at: String,
        expected: String,
    },
}

/// How the domain publishes the key record: its own TXT record, or a CNAME into Sealpost's DKIM
/// zone (SPEC S11.4), which serves the record itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DkimPublication {
    Txt,
    Delegated,
}

impl DkimPublication {
    pub fn code(self) -> &'static str {
        match self {
            Self::Txt => "txt",
            Self::Delegated => "cname_delegation",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Txt => "TXT record",
            Self::Delegated => "DKIM by CNAME delegation",
        }
    }
}

impl DkimRecordCause {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Matches => "ok",
            Self::ValidUncompared => "valid_uncompared",
            Self::NoRecord => "no_record",
            Self::DoubledName { .. } => "doubled_name",
            Self::SeveralRecords(_) => "several_records",
            Self::DifferentKey { .. } => "different_key",
            Self::Revoked => "revoked",
            Self::TestingMode => "testing_mode",
            Self::KeyTypeNotRsa(_) => "key_type_not_rsa",
            Self::KeyTypeNotEd25519(_) => "key_type_not_ed25519",
            Self::HashExcludesSha256(_) => "hash_excludes_sha256",
            Self::Syntax(_) => "syntax_error",
            Self::Dns(_) => "dns_error",
            Self::WrongDelegation { .. } => "wrong_delegation",
        }
    }
}

/// The outcome of the check, with what was found and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimRecordCheck {
    pub name: String,
    pub cause: DkimRecordCause,
    /// The joined text of the record(s) found.
    pub found: Vec<String>,
    /// CNAMEs followed to reach the record, in order (empty when there were none).
    pub cname_chain: Vec<String>,
    /// Fingerprint of our key, when we have one.
    pub expected_fingerprint: Option<String>,
    /// The value that should be published, when we have a key.
    pub expected_value: Option<String>,
    /// The algorithm of the key the record must carry.
    pub algorithm: KeyAlgorithm,
    /// Whether the record was reached through the CNAME into Sealpost's zone.
    pub publication: DkimPublication,
}

impl DkimRecordCheck {
    /// True when the record is fit for signing: our key, or a valid key when there is nothing
    /// to compare with. Testing mode passes with a warning.
    pub fn usable(&self) -> bool {
        matches!(
            self.cause,
            DkimRecordCause::Matches
                | DkimRecordCause::ValidUncompared
                | DkimRecordCause::TestingMode
        )
    }

    /// Reads the CNAME found at the record's name against `expected`, the name under which
    /// Sealpost's zone serves this key: the mode is delegated when the CNAME points there; a
    /// CNAME elsewhere that does not lead to the key is named as the cause. A CNAME to the
    /// tenant's own name that carries the key is a TXT record reached through an alias.
    pub fn with_delegation(mut self, expected: &str) -> Self {
        let Some(first) = self.cname_chain.first() else {
            return self;
        };
        let points_at = first.trim_end_matches('.');
        if points_at.eq_ignore_ascii_case(expected) {
            self.publication = DkimPublication::Delegated;
        } else if !self.usable() && !matches!(self.cause, DkimRecordCause::Dns(_)) {
            self.cause = DkimRecordCause::WrongDelegation {
                points_at: points_at.to_owned(),
                expected: expected.to_owned(),
            };
        }
        self
    }

    /// What the tenant's IT department should do, in one or two sentences.
    pub fn fix(&self) -> String {
        let publish = match &self.expected_value {
            Some(value) => format!(
                "Publish a TXT record at {} with the value {value}",
                self.name
            ),
            None => format!("Publish the DKIM TXT record at {}", self.name),
        };
        match &self.cause {
            DkimRecordCause::Matches | DkimRecordCause::ValidUncompared => {
                "Nothing to do.".to_owned()
            }
            DkimRecordCause::NoRecord => format!("{publish}."),
            DkimRecordCause::DoubledName { found_at } => format!(
                "The record was created at {found_at}: the DNS provider appended the domain to a \
                 name that already contained it. Enter only the part before the domain \
                 (\"{}\") as the record name.",
                self.name
                    .strip_suffix(&format!(".{}", domain_of(&self.name)))
                    .unwrap_or(&self.name)
            ),
            DkimRecordCause::SeveralRecords(count) => format!(
                "{count} TXT records exist at {}; receivers may pick any of them. Delete all but \
                 the one with our key.",
                self.name
            ),
            DkimRecordCause::DifferentKey { .. } => format!(
                "The published key is not the one Sealpost signs with (an old key, or a key from \
                 another service). Replace the record: {publish}."
            ),
            DkimRecordCause::Revoked => {
                format!("The record has an empty p=, which revokes the key. {publish}.")
            }
            DkimRecordCause::TestingMode => {
                "The record has t=y (testing): receivers treat the mail as unsigned. Remove t=y \
                 once signing works."
                    .to_owned()
            }
            DkimRecordCause::KeyTypeNotRsa(_)
            | DkimRecordCause::KeyTypeNotEd25519(_)
            | DkimRecordCause::HashExcludesSha256(_) => format!(
                "Sealpost signs with {} under this selector. {publish}.",
                self.algorithm.signature_algorithm()
            ),
            DkimRecordCause::Syntax(_) => format!("The record cannot be read. {publish}."),
            DkimRecordCause::Dns(_) => {
                "The DNS servers of the domain did not answer properly; try again later, and ask \
                 the DNS provider if it persists."
                    .to_owned()
            }
            DkimRecordCause::WrongDelegation { expected, .. } => format!(
                "Change the CNAME at {} to point at {expected}, or delete it and {}.",
                self.name,
                publish.replacen("Publish", "publish", 1)
            ),
        }
    }

    /// The cause as a sentence.
    pub fn describe(&self) -> String {
        match &self.cause {
            DkimRecordCause::Matches => "The record carries Sealpost's key.".to_owned(),
            DkimRecordCause::ValidUncompared => {
                format!(
                    "The record holds a valid {} key (no stored key to compare it with).",
                    self.algorithm.label()
                )
            }
            DkimRecordCause::NoRecord => format!("There is no TXT record at {}.", self.name),
            DkimRecordCause::DoubledName { found_at } => {
                format!("No record at {}, but one at {found_at}.", self.name)
            }
            DkimRecordCause::SeveralRecords(count) => {
                format!("{count} TXT records exist at {}.", self.name)
            }
            DkimRecordCause::DifferentKey { ours, published } => format!(
                "The record holds a different key (published key {published}, ours {ours})."
            ),
            DkimRecordCause::Revoked => "The key is revoked (p= is empty).".to_owned(),
            DkimRecordCause::TestingMode => {
                "The record carries our key but is in testing mode (t=y).".to_owned()
            }
            DkimRecordCause::KeyTypeNotRsa(kind) => format!("The record has k={kind}, not rsa."),
            DkimRecordCause::KeyTypeNotEd25519(kind) => {
                format!("The record has k={kind}, not ed25519.")
            }
            DkimRecordCause::HashExcludesSha256(hashes) => {
                format!("The record allows h={hashes} only, which excludes sha256.")
            }
            DkimRecordCause::Syntax(error) => format!("The record is malformed: {error}."),
            DkimRecordCause::Dns(error) => format!("The DNS lookup failed: {error}."),
            DkimRecordCause::WrongDelegation {
                points_at,
                expected,
            } => format!("The CNAME points at {points_at}, expected {expected}."),
        }
    }
}

fn domain_of(name: &str) -> &str {
    name.split_once("._domainkey.")
        .map_or(name, |(_, domain)| domain)
}

/// Checks the record of `selector` at `domain` against our RSA public key (SubjectPublicKeyInfo
/// DER), or only for validity when `ours` is `None`.
pub async fn check_dkim_record(
    resolver: &Resolver,
    domain: &str,
    selector: &str,
    ours: Option<&[u8]>,
) -> DkimRecordCheck {
    check_dkim_record_for(resolver, domain, selector, KeyAlgorithm::Rsa, ours).await
}

/// [`check_dkim_record`] for a key of `algorithm`: an Ed25519 key's record must say `k=ed25519`
/// and carry the bare 32-byte key (RFC 8463).
pub async fn check_dkim_record_for(
    resolver: &Resolver,
    domain: &str,
    selector: &str,
    algorithm: KeyAlgorithm,
    ours: Option<&[u8]>,
) -> DkimRecordCheck {
    let name = format!("{selector}._domainkey.{domain}");
    let mut check = DkimRecordCheck {
        name: name.clone(),
        cause: DkimRecordCause::NoRecord,
        found: Vec::new(),
        cname_chain: resolver.cname_chain(&name).await,
        expected_fingerprint: ours.map(|ours| fingerprint(published_form(algorithm, ours))),
        expected_value: ours.map(|ours| sealpost_domain::dkim_txt_value_for(algorithm, ours)),
        algorithm,
        publication: DkimPublication::Txt,
    };
    let records = match resolver.txt(&name).await {
        Ok(records) => records,
        Err(LookupError::NxDomain | LookupError::NoData) => {
            let doubled = format!("{name}.{domain}");
            if let Ok(found) = resolver.txt(&doubled).await
                && !found.is_empty()
            {
                check.cause = DkimRecordCause::DoubledName { found_at: doubled };
            }
            return check;
        }
        Err(LookupError::Temporary(error)) => {
            check.cause = DkimRecordCause::Dns(error);
            return check;
        }
    };
    check.found = records
        .iter()
        .map(|record| String::from_utf8_lossy(&record.joined()).into_owned())
        .collect();
    if check.found.len() > 1 {
        check.cause = DkimRecordCause::SeveralRecords(check.found.len());
        return check;
    }
    check.cause = match algorithm {
        KeyAlgorithm::Rsa => judge(&check.found[0], ours),
        KeyAlgorithm::Ed25519 => judge_ed25519(&check.found[0], ours),
    };
    check
}

/// What `p=` carries for our key: the bare key for Ed25519, the whole DER for RSA.
fn published_form(algorithm: KeyAlgorithm, ours: &[u8]) -> &[u8] {
    algorithm.dkim_public_key(ours).unwrap_or(ours)
}

/// The cause for one Ed25519 record's text, compared with our key (SubjectPublicKeyInfo DER).
fn judge_ed25519(text: &str, ours: Option<&[u8]>) -> DkimRecordCause {
    let record = match KeyRecord::parse(text) {
        Ok(record) => record,
        Err(error) => return DkimRecordCause::Syntax(error.to_string()),
    };
    if record.key_type != "ed25519" {
        return DkimRecordCause::KeyTypeNotEd25519(record.key_type);
    }
    if !record.allows_hash("sha256") {
        return DkimRecordCause::HashExcludesSha256(record.hashes.join(":"));
    }
    let Some(PublicKey::Ed25519 { raw: published }) = &record.public_key else {
        return DkimRecordCause::Revoked;
    };
    if let Some(ours) = ours {
        let our_raw = published_form(KeyAlgorithm::Ed25519, ours);
        if our_raw != published.as_slice() {
            return DkimRecordCause::DifferentKey {
                ours: fingerprint(our_raw),
                published: fingerprint(published),
            };
        }
    }
    match (record.testing, ours) {
        (true, _) => DkimRecordCause::TestingMode,
        (false, Some(_)) => DkimRecordCause::Matches,
        (false, None) => DkimRecordCause::ValidUncompared,
    }
}

/// The cause for one RSA record's text, compared with our key.
fn judge(text: &str, ours: Option<&[u8]>) -> DkimRecordCause {
    let record = match KeyRecord::parse(text) {
        Ok(record) => record,
        Err(error) => return DkimRecordCause::Syntax(error.to_string()),
    };
    if record.key_type != "rsa" {
        return DkimRecordCause::KeyTypeNotRsa(record.key_type);
    }
    if !record.allows_hash("sha256") {
        return DkimRecordCause::HashExcludesSha256(record.hashes.join(":"));
    }
    let Some(PublicKey::Rsa {
        der: published_pkcs1,
        ..
    }) = &record.public_key
    else {
        return DkimRecordCause::Revoked;
    };
    if let Some(ours) = ours {
        // Compare the RSA keys themselves: `p=` may be a SubjectPublicKeyInfo or a bare PKCS#1
        // key, and base64 may be split or spaced differently.
        let our_pkcs1 = match KeyRecord::parse(&sealpost_domain::dkim_txt_value(ours)) {
            Ok(KeyRecord {
                public_key: Some(PublicKey::Rsa { der, .. }),
                ..
            }) => der,
            _ => return DkimRecordCause::Syntax("our own key cannot be read".to_owned()),
        };
        if &our_pkcs1 != published_pkcs1 {
            return DkimRecordCause::DifferentKey {
                ours: fingerprint(ours),
                published: fingerprint_of_base64(&record.public_key_base64),
            };
        }
    }
    match (record.testing, ours) {
        (true, _) => DkimRecordCause::TestingMode,
        (false, Some(_)) => DkimRecordCause::Matches,
        (false, None) => DkimRecordCause::ValidUncompared,
    }
}

fn fingerprint_of_base64(text: &str) -> String {
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .unwrap_or_default();
    fingerprint(&der)
}
