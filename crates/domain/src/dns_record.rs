//! The DKIM TXT record a tenant's IT department must publish (SPEC S3.8).

use base64::Engine as _;

use crate::{DomainName, KeyAlgorithm, Selector};

/// One TXT string may hold at most 255 bytes (RFC 1035 section 3.3); longer values are published
/// as several strings that receivers join.
const MAX_TXT_STRING: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimDnsRecord {
    /// Fully qualified owner name, without the trailing dot.
    pub name: String,
    pub record_type: &'static str,
    /// The whole value, as most DNS provider forms want it.
    pub value: String,
    /// The value cut into strings of at most 255 characters, for providers that want them split.
    pub strings: Vec<String>,
    /// A line for a BIND-style zone file.
    pub zone_line: String,
    pub advice: &'static str,
}

impl DkimDnsRecord {
    /// The record publishing the RSA key `public_key_der` (SubjectPublicKeyInfo) under
    /// `selector`.
    pub fn new(domain: &DomainName, selector: &Selector, public_key_der: &[u8]) -> Self {
        Self::for_key(domain, selector, KeyAlgorithm::Rsa, public_key_der)
    }

    /// The record publishing a key of either algorithm (SubjectPublicKeyInfo) under `selector`.
    pub fn for_key(
        domain: &DomainName,
        selector: &Selector,
        algorithm: KeyAlgorithm,
        public_key_der: &[u8],
    ) -> Self {
        let name = format!("{selector}._domainkey.{domain}");
        let value = dkim_txt_value_for(algorithm, public_key_der);
        let strings = split_txt_value(&value);
        let quoted: Vec<String> = strings.iter().map(|part| format!("\"{part}\"")).collect();
        let zone_line = format!("{name}. 3600 IN TXT ( {} )", quoted.join(" "));
        Self {
            name,
            record_type: "TXT",
            value,
            strings,
            zone_line,
            advice: "Publish this TXT record in the domain's DNS. Sealpost checks DNS on its \
                     own and signs with the key once the record carries it.",
        }
    }
}

/// The TXT value that publishes an RSA public key (SubjectPublicKeyInfo DER) for DKIM.
pub fn dkim_txt_value(public_key_der: &[u8]) -> String {
    dkim_txt_value_for(KeyAlgorithm::Rsa, public_key_der)
}

/// The TXT value that publishes a public key (SubjectPublicKeyInfo DER) of `algorithm`:
/// `v=DKIM1; k=ed25519; p=` with the bare 32-byte key for Ed25519 (RFC 8463 section 4.2). A DER
/// that is not of the algorithm is published whole, so a mistake shows in the check instead of
/// vanishing.
pub fn dkim_txt_value_for(algorithm: KeyAlgorithm, public_key_der: &[u8]) -> String {
    let key = algorithm
        .dkim_public_key(public_key_der)
        .unwrap_or(public_key_der);
    let public_key = base64::engine::general_purpose::STANDARD.encode(key);
    format!("v=DKIM1; k={algorithm}; p={public_key}")
}

/// Cuts an ASCII TXT value into strings of at most 255 characters.
pub fn split_txt_value(value: &str) -> Vec<String> {
    value
        .as_bytes()
        .chunks(MAX_TXT_STRING)
        .map(|chunk| String::from_utf8(chunk.to_vec()).expect("the value is ASCII"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_is_split_into_strings_of_at_most_255() {
        // A 2048-bit SubjectPublicKeyInfo is 294 bytes, so its base64 is 392 characters.
        let record = DkimDnsRecord::new(
            &DomainName::parse("client.example").unwrap(),
            &Selector::parse("workplace").unwrap(),
            &[0x30; 294],
        );
        assert_eq!(record.name, "workplace._domainkey.client.example");
        assert!(record.value.starts_with("v=DKIM1; k=rsa; p=MDAw"));
        assert_eq!(record.value.len(), "v=DKIM1; k=rsa; p=".len() + 392);
        assert_eq!(record.strings.len(), 2);
        assert_eq!(record.strings[0].len(), 255);
        assert_eq!(record.strings.concat(), record.value);
        assert!(record.zone_line.starts_with(
            "workplace._domainkey.client.example. 3600 IN TXT ( \"v=DKIM1; k=rsa; p="
        ));
        assert!(record.zone_line.ends_with("\" )"));
    }
}
