//! What a tenant sends its IT department in one go (SPEC S2.2, S3.8): every DNS record the
//! signing domain needs, each with its full name, its name relative to the DNS zone, its type
//! and value. The DKIM record carries the domain's key (and a second one its Ed25519 key); SPF is the minimal edit of the record
//! the domain has (or a new one); DMARC is asked for only when the domain has none. DNS is only
//! read here: unlike "Check now", showing the hand-off records nothing and promotes no key.

use sealpost_dnsauth::dmarc::{DmarcFound, organizational_domain};
use sealpost_dnsauth::report::{DomainCheckRequest, check_domain};
use sealpost_domain::{KeyAlgorithm, SigningDomain, SigningDomainId, TenantId, split_txt_value};

use crate::signing_domains::key_dns_record;
use crate::{ServiceError, SigningDomains};

/// Why a record is in the hand-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoffPurpose {
    /// The DKIM record of the key of this algorithm: receivers verify signatures with it.
    Dkim(KeyAlgorithm),
    /// The SPF record with the platform's include: receivers accept the platform's servers.
    Spf,
    /// A DMARC policy, for a domain that has none.
    Dmarc,
}

/// One record to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffRecord {
    pub purpose: HandoffPurpose,
    /// The full name, e.g. `workplace._domainkey.client.example`.
    pub name: String,
    /// The name as DNS providers' forms ask for it, relative to the zone, e.g.
    /// `workplace._domainkey`; `@` for the zone itself.
    pub host: String,
    pub record_type: &'static str,
    pub value: String,
    /// The value as strings of at most 255 characters.
    pub strings: Vec<String>,
    /// The value of the record this one replaces, as DNS shows it now (SPF: the domain's own
    /// record, of which this is the edit), so that IT can see what changes.
    pub replaces: Option<String>,
}

/// Every record the domain needs, and what DNS shows now.
#[derive(Debug, Clone)]
pub struct DnsHandoff {
    /// The DNS zone the relative names are in, e.g. `client.example`.
    pub zone: String,
    pub records: Vec<HandoffRecord>,
    /// Why the SPF record is missing from the hand-off, when it is.
    pub spf_note: Option<String>,
    /// The alternative to the DKIM TXT records (SPEC S11.4): CNAMEs published once into the
    /// platform's DKIM zone, one per selector the keys alternate between, after which no
    /// rotation needs a DNS change. Empty when the platform serves no zone.
    pub delegation: Vec<HandoffRecord>,
    /// Why delegation is not offered for this domain, when the platform serves a zone.
    pub delegation_note: Option<String>,
    /// The signing domain, e.g. `mail.client.example`.
    pub domain: String,
}

/// `name` relative to `zone`: `@` for the zone itself.
pub fn relative_name(name: &str, zone: &str) -> String {
    let name = name.trim_end_matches('.');
    if name.eq_ignore_ascii_case(zone) {
        return "@".to_owned();
    }
    match name
        .len()
        .checked_sub(zone.len() + 1)
        .filter(|cut| name[*cut..].eq_ignore_ascii_case(&format!(".{zone}")))
    {
        Some(cut) => name[..cut].to_owned(),
        None => name.to_owned(),
    }
}

fn record(purpose: HandoffPurpose, zone: &str, name: &str, value: &str) -> HandoffRecord {
    HandoffRecord {
        purpose,
        host: relative_name(name, zone),
        name: name.to_owned(),
        record_type: "TXT",
        value: value.to_owned(),
        strings: split_txt_value(value),
        replaces: None,
    }
}

impl SigningDomains {
    /// The records the signing domain needs, worked out from what DNS shows now.
    pub async fn dns_handoff(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<DnsHandoff, ServiceError> {
        let signing_domain = self.signing_domain(tenant, id).await?;
        self.dns_handoff_of(signing_domain).await
    }

    /// The records a signing domain already read needs, so a page that shows the domain reads
    /// it once. Each record comes from it as `dns_record` and `ed25519_dns_record` make it.
    pub async fn dns_handoff_of(
        &self,
        signing_domain: SigningDomain,
    ) -> Result<DnsHandoff, ServiceError> {
        let record_of = |algorithm| {
            signing_domain
                .current_key_of(algorithm)
                .map(|key| key_dns_record(&signing_domain, key))
        };
        let (dkim, ed25519) = (
            record_of(KeyAlgorithm::Rsa),
            record_of(KeyAlgorithm::Ed25519),
        );
        let (delegation, delegation_note) = self.delegation_records(&signing_domain);
        let domain = signing_domain.domain;
        // SPF and DMARC only: the DKIM record's check is "Check now"'s, which records it.
        let request = DomainCheckRequest {
            domain: domain.as_str(),
            selector: None,
            public_key_der: None,
            mail_from_domain: None,
            platform: self.platform.as_ref(),
            delegated_name: None,
        };
        let report = check_domain(&self.resolver, request, self.clock.now()).await;
        let zone = organizational_domain(&report.domain);
        let mut records = Vec::new();
        // The RSA key's record, then the Ed25519 key's when the domain has one (RFC 8463).
        let dkim = (dkim.map(|record| (KeyAlgorithm::Rsa, record)).into_iter())
            .chain(ed25519.map(|record| (KeyAlgorithm::Ed25519, record)));
        for (algorithm, dkim) in dkim {
            let purpose = HandoffPurpose::Dkim(algorithm);
            records.push(record(purpose, &zone, &dkim.name, &dkim.value));
        }
        let spf_note = match &report.spf {
            Some(spf) => match &spf.suggested {
                Some(suggested) => {
                    let mut spf_record = record(
                        HandoffPurpose::Spf,
                        &zone,
                        &suggested.name,
                        &suggested.value,
                    );
                    spf_record.replaces = spf.records.first().map(|strings| strings.concat());
                    records.push(spf_record);
                    None
                }
                None if spf.records.len() == 1 => None,
                None => Some(
                    "SPF: the domain's SPF record could not be edited automatically; the DNS \
                     check below says what to change."
                        .to_owned(),
                ),
            },
            None => Some(
                "SPF: the platform's sending servers are not configured, so no SPF record can \
                 be given; ask the platform operator."
                    .to_owned(),
            ),
        };
        if matches!(report.dmarc.found, DmarcFound::None) {
            let name = format!("_dmarc.{}", report.dmarc.from_domain);
            records.push(record(
                HandoffPurpose::Dmarc,
                &zone,
                &name,
                &report.dmarc.advised_record,
            ));
        }
        Ok(DnsHandoff {
            zone,
            records,
            spf_note,
            delegation,
            delegation_note,
            domain: report.domain,
        })
    }

    /// The CNAMEs that delegate the domain's keys to the platform's DKIM zone (SPEC S11.4), to
    /// publish once instead of the TXT records.
    ///
    /// # Errors
    /// `Conflict` when the platform serves no DKIM zone or the domain's name is too long for one.
    pub async fn dkim_delegation(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<Vec<HandoffRecord>, ServiceError> {
        let domain = self.signing_domain(tenant, id).await?;
        match self.delegation_records(&domain) {
            (records, _) if !records.is_empty() => Ok(records),
            (_, Some(note)) => Err(ServiceError::Conflict(note)),
            (_, None) => Err(ServiceError::Conflict(
                "the platform serves no DKIM zone, so DKIM by CNAME delegation is not offered; \
                 publish the TXT record"
                    .into(),
            )),
        }
    }

    /// The CNAMEs that delegate the domain's keys: the RSA keys', and the Ed25519 keys' when the
    /// domain has one; or why there are none.
    fn delegation_records(&self, domain: &SigningDomain) -> (Vec<HandoffRecord>, Option<String>) {
        let zone = organizational_domain(domain.domain.as_str());
        let has_ed25519 = domain
            .keys
            .iter()
            .any(|key| key.algorithm == KeyAlgorithm::Ed25519);
        let algorithms =
            std::iter::once(KeyAlgorithm::Rsa).chain(has_ed25519.then_some(KeyAlgorithm::Ed25519));
        let mut records = Vec::new();
        for algorithm in algorithms {
            match self.delegations(domain, algorithm) {
                None => return (Vec::new(), None),
                Some(Err(refusal)) => return (Vec::new(), Some(refusal.to_string())),
                Some(Ok(delegations)) => {
                    records.extend(delegations.into_iter().map(|delegation| HandoffRecord {
                        purpose: HandoffPurpose::Dkim(algorithm),
                        host: relative_name(&delegation.name, &zone),
                        name: delegation.name,
                        record_type: "CNAME",
                        strings: vec![delegation.target.clone()],
                        value: delegation.target,
                        replaces: None,
                    }));
                }
            }
        }
        (records, None)
    }
}

#[cfg(test)]
mod tests {
    use super::relative_name;

    #[track_caller]
    fn check(name: &str, zone: &str, expect: &str) {
        assert_eq!(relative_name(name, zone), expect);
    }

    #[test]
    fn names_relative_to_the_zone() {
        check(
            "workplace._domainkey.client.example",
            "client.example",
            "workplace._domainkey",
        );
        check(
            "workplace._domainkey.mail.client.example",
            "client.example",
            "workplace._domainkey.mail",
        );
        check("client.example", "client.example", "@");
        check("Client.Example.", "client.example", "@");
        check("_dmarc.client.example", "client.example", "_dmarc");
        check("other.example", "client.example", "other.example");
        check("xclient.example", "client.example", "xclient.example");
    }
}
