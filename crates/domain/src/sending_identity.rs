//! Sending identities: the domains a tenant has proven in DNS that it controls, and so may use in
//! the `From:` header and the envelope MAIL FROM of its mail. Without the proof, one tenant could
//! send as another tenant's domain from the platform's addresses, which that domain's SPF
//! `include:` authorises, and DMARC would pass.
//!
//! A tenant proves a domain in one of two ways: the DKIM record of one of its signing domains of
//! that domain carries the tenant's own key (only the tenant holds that key, so only someone who
//! controls the zone on the tenant's behalf published it), or a TXT record
//! `_sealpost.<domain>` carries the verification token Sealpost issued to that tenant for that
//! domain (for tenants that publish only the SPF include). A proof of a domain covers its
//! subdomains, because whoever controls a zone controls the names below it.

use std::fmt;

use crate::{DomainName, TenantId, Timestamp};

/// The label under the domain where the verification record is published.
pub const VERIFICATION_LABEL: &str = "_sealpost";

/// What the verification record's value starts with, before the token.
pub const VERIFICATION_PREFIX: &str = "sealpost-verification=";

/// The random token a tenant publishes to prove one domain: 128 bits as 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationToken(String);

impl VerificationToken {
    /// The token for 16 random bytes the caller drew (randomness is passed in, as time is).
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    /// A stored token; `None` when the text is not 32 lowercase hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = text.len() == 32
            && text
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        valid.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a domain was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofMethod {
    /// The DKIM record of one of the tenant's signing domains carried the tenant's key.
    DkimRecord,
    /// The `_sealpost` TXT record carried the tenant's verification token.
    VerificationRecord,
}

impl ProofMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::DkimRecord => "dkim_record",
            Self::VerificationRecord => "verification_record",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "dkim_record" => Some(Self::DkimRecord),
            "verification_record" => Some(Self::VerificationRecord),
            _ => None,
        }
    }
}

/// When and how a domain was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proof {
    pub method: ProofMethod,
    pub proven_at: Timestamp,
}

/// A domain a tenant wants to send as, with its token and, once proven, the proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendingDomain {
    pub tenant_id: TenantId,
    pub domain: DomainName,
    pub token: VerificationToken,
    pub proof: Option<Proof>,
    pub created_at: Timestamp,
}

impl SendingDomain {
    /// The name of the TXT record that proves the domain: `_sealpost.<domain>`.
    pub fn record_name(&self) -> String {
        format!("{VERIFICATION_LABEL}.{}", self.domain)
    }

    /// The value of that record: `sealpost-verification=<token>`.
    pub fn record_value(&self) -> String {
        format!("{VERIFICATION_PREFIX}{}", self.token.as_str())
    }

    /// Whether this domain's proof covers `domain`: the same domain or one below it.
    pub fn covers(&self, domain: &DomainName) -> bool {
        self.proof.is_some() && is_same_or_below(domain, &self.domain)
    }
}

/// Whether `name` is `zone` or a name below it (label-wise, so `notclient.example` is not below
/// `client.example`).
fn is_same_or_below(name: &DomainName, zone: &DomainName) -> bool {
    let (name, zone) = (name.as_str(), zone.as_str());
    name == zone
        || name
            .strip_suffix(zone)
            .is_some_and(|prefix| prefix.ends_with('.'))
}

/// Which address of a message uses the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressRole {
    From,
    MailFrom,
}

impl fmt::Display for AddressRole {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::From => "From",
            Self::MailFrom => "MAIL FROM",
        })
    }
}

/// A message's domain that the tenant has not proven, with the record that would prove it when
/// the tenant has already asked for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnprovenDomain {
    pub role: AddressRole,
    pub domain: DomainName,
    /// `(name, value)` of the TXT record to publish, when the tenant has the domain pending.
    pub record: Option<(String, String)>,
}

impl fmt::Display for UnprovenDomain {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            role,
            domain,
            record,
        } = self;
        write!(
            formatter,
            "the {role} domain {domain} has not been proven to belong to this tenant; "
        )?;
        match record {
            Some((name, value)) => write!(
                formatter,
                "publish the TXT record {name} with the value \"{value}\" (or the DKIM record \
                 of a signing domain of {domain}), then verify the domain"
            ),
            None => write!(
                formatter,
                "add {domain} as a sending domain (or a signing domain) and publish the record \
                 it shows, then verify the domain"
            ),
        }
    }
}

/// Checks that both domains of a message are covered by the tenant's proven domains; the From
/// domain is checked first. `known` holds all of the tenant's sending domains, proven or not, so
/// that the refusal can name the record to publish.
pub fn check_sender_domains(
    from: &DomainName,
    mail_from: &DomainName,
    known: &[SendingDomain],
) -> Result<(), UnprovenDomain> {
    for (role, domain) in [
        (AddressRole::From, from),
        (AddressRole::MailFrom, mail_from),
    ] {
        if known.iter().any(|candidate| candidate.covers(domain)) {
            continue;
        }
        let record = known
            .iter()
            .find(|candidate| &candidate.domain == domain)
            .map(|pending| (pending.record_name(), pending.record_value()));
        return Err(UnprovenDomain {
            role,
            domain: domain.clone(),
            record,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sending_domain(domain: &str, proven: bool) -> SendingDomain {
        SendingDomain {
            tenant_id: TenantId::new(&crate::SystemClock),
            domain: DomainName::parse(domain).unwrap(),
            token: VerificationToken::from_random([0xab; 16]),
            proof: proven.then_some(Proof {
                method: ProofMethod::VerificationRecord,
                proven_at: Timestamp(1),
            }),
            created_at: Timestamp(0),
        }
    }

    #[track_caller]
    fn check(known: &[SendingDomain], from: &str, mail_from: &str, expect: Result<(), &str>) {
        let from = DomainName::parse(from).unwrap();
        let mail_from = DomainName::parse(mail_from).unwrap();
        let outcome = check_sender_domains(&from, &mail_from, known).map_err(|e| e.to_string());
        match (outcome, expect) {
            (Ok(()), Ok(())) => {}
            (Err(text), Err(part)) => assert!(text.contains(part), "{text:?} lacks {part:?}"),
            (outcome, expect) => panic!("got {outcome:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn both_domains_must_be_covered_by_a_proof() {
        let known = [
            sending_domain("client.example", true),
            sending_domain("pending.example", false),
        ];
        check(&known, "client.example", "client.example", Ok(()));
        check(&known, "client.example", "bounces.client.example", Ok(()));
        check(&known, "mail.client.example", "client.example", Ok(()));
        check(
            &known,
            "notclient.example",
            "client.example",
            Err("the From domain notclient.example has not been proven"),
        );
        check(
            &known,
            "client.example",
            "other.example",
            Err("the MAIL FROM domain other.example has not been proven"),
        );
        check(
            &known,
            "pending.example",
            "client.example",
            Err(&format!(
                "publish the TXT record _sealpost.pending.example with the value \
                 \"sealpost-verification={}\"",
                "ab".repeat(16)
            )),
        );
        check(
            &known,
            "unknown.example",
            "client.example",
            Err("add unknown.example as a sending domain"),
        );
        check(&[], "client.example", "client.example", Err("From domain"));
    }

    #[test]
    fn tokens_are_32_lowercase_hex_digits() {
        let token = VerificationToken::from_random([0x0f; 16]);
        assert_eq!(token.as_str(), "0f".repeat(16));
        assert_eq!(VerificationToken::parse(token.as_str()), Some(token));
        assert_eq!(VerificationToken::parse(&"0F".repeat(16)), None);
        assert_eq!(VerificationToken::parse("abc"), None);
    }
}
