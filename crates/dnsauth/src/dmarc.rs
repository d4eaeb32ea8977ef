//! DMARC (RFC 7489): find the policy record of a From domain (at the domain, else at its
//! organisational domain from the public suffix list), read it, predict whether Sealpost's DKIM
//! `d=` and MAIL FROM domain align with the From domain, and advise a policy that never weakens
//! the one the tenant has.

use sealpost_dns::{LookupError, Resolver};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Policy {
    None,
    Quarantine,
    Reject,
}

impl Policy {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Quarantine => "quarantine",
            Self::Reject => "reject",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "quarantine" => Some(Self::Quarantine),
            "reject" => Some(Self::Reject),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlignmentMode {
    Relaxed,
    Strict,
}

impl AlignmentMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Relaxed => "r",
            Self::Strict => "s",
        }
    }
}

/// A parsed DMARC record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcRecord {
    pub policy: Policy,
    pub subdomain_policy: Option<Policy>,
    pub adkim: AlignmentMode,
    pub aspf: AlignmentMode,
    pub pct: u8,
    pub rua: Vec<String>,
    pub ruf: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DmarcError {
    #[error("the record does not start with v=DMARC1")]
    Version,
    #[error("p= is missing")]
    MissingPolicy,
    #[error("{tag}={value} is not a valid value")]
    BadValue { tag: &'static str, value: String },
    #[error("\"{0}\" is not a tag=value pair")]
    Malformed(String),
}

impl DmarcRecord {
    pub fn parse(text: &str) -> Result<Self, DmarcError> {
        let mut tags: Vec<(String, String)> = Vec::new();
        for part in text.split(';') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| DmarcError::Malformed(part.to_owned()))?;
            tags.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        match tags.first() {
            Some((name, value)) if name == "v" && value == "DMARC1" => {}
            _ => return Err(DmarcError::Version),
        }
        let get = |name: &str| {
            tags.iter()
                .find(|(tag, _)| tag == name)
                .map(|(_, value)| value.as_str())
        };
        let bad = |tag: &'static str, value: &str| DmarcError::BadValue {
            tag,
            value: value.to_owned(),
        };
        let rua = uris(get("rua"));
        // RFC 7489 section 6.6.3: a record without p= but with valid rua= is read as p=none.
        let policy = match get("p") {
            Some(value) => Policy::parse(value).ok_or_else(|| bad("p", value))?,
            None if !rua.is_empty() => Policy::None,
            None => return Err(DmarcError::MissingPolicy),
        };
        let subdomain_policy = get("sp")
            .map(|value| Policy::parse(value).ok_or_else(|| bad("sp", value)))
            .transpose()?;
        let mode = |tag: &'static str| -> Result<AlignmentMode, DmarcError> {
            match get(tag).map(str::to_ascii_lowercase).as_deref() {
                None | Some("r") => Ok(AlignmentMode::Relaxed),
                Some("s") => Ok(AlignmentMode::Strict),
                Some(other) => Err(bad(tag, other)),
            }
        };
        let pct = match get("pct") {
            None => 100,
            Some(value) => value
                .parse::<u8>()
                .ok()
                .filter(|pct| *pct <= 100)
                .ok_or_else(|| bad("pct", value))?,
        };
        Ok(Self {
            policy,
            subdomain_policy,
            adkim: mode("adkim")?,
            aspf: mode("aspf")?,
            pct,
            rua,
            ruf: uris(get("ruf")),
        })
    }
}

fn uris(value: Option<&str>) -> Vec<String> {
    value
        .map(|value| {
            value
                .split(',')
                .map(|uri| uri.trim().to_owned())
                .filter(|uri| !uri.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The organisational domain (RFC 7489 section 3.2) from the public suffix list the `psl` crate
/// embeds: the registrable domain, or the name itself when it is a public suffix.
pub fn organizational_domain(domain: &str) -> String {
    let lower = domain.trim_end_matches('.').to_ascii_lowercase();
    psl::domain_str(&lower).unwrap_or(&lower).to_owned()
}

/// Whether `identifier` (a DKIM `d=` or MAIL FROM domain) aligns with the From domain.
pub fn aligned(from_domain: &str, identifier: &str, mode: AlignmentMode) -> bool {
    let from_domain = from_domain.trim_end_matches('.').to_ascii_lowercase();
    let identifier = identifier.trim_end_matches('.').to_ascii_lowercase();
    match mode {
        AlignmentMode::Strict => from_domain == identifier,
        AlignmentMode::Relaxed => {
            organizational_domain(&from_domain) == organizational_domain(&identifier)
        }
    }
}

/// What the DMARC lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DmarcFound {
    Record {
        /// Where it was found: `_dmarc.<from domain>` or `_dmarc.<organisational domain>`.
        name: String,
        text: String,
        record: DmarcRecord,
    },
    None,
    Several {
        name: String,
        count: usize,
    },
    Invalid {
        name: String,
        text: String,
        error: DmarcError,
    },
    Dns(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcCheck {
    pub from_domain: String,
    pub organizational_domain: String,
    pub found: DmarcFound,
    /// The policy that applies to mail From this domain (`sp=` for a subdomain of the domain
    /// that published the record).
    pub applied_policy: Option<Policy>,
    pub dkim_domain: String,
    pub dkim_aligned: bool,
    pub mail_from_domain: String,
    pub spf_aligned: bool,
    /// The record to publish; never weaker than the one the domain has.
    pub advised_record: String,
}

/// Looks up and judges the DMARC record that applies to mail From `from_domain`, signed with
/// `d=dkim_domain` and sent with a MAIL FROM in `mail_from_domain`.
pub async fn check_dmarc(
    resolver: &Resolver,
    from_domain: &str,
    dkim_domain: &str,
    mail_from_domain: &str,
) -> DmarcCheck {
    let organizational = organizational_domain(from_domain);
    let mut found = lookup(resolver, from_domain).await;
    if found == DmarcFound::None && organizational != from_domain {
        found = lookup(resolver, &organizational).await;
    }
    let (adkim, aspf, applied_policy) = match &found {
        DmarcFound::Record { name, record, .. } => {
            let at_organizational = *name != format!("_dmarc.{from_domain}");
            let policy = if at_organizational {
                record.subdomain_policy.unwrap_or(record.policy)
            } else {
                record.policy
            };
            (record.adkim, record.aspf, Some(policy))
        }
        _ => (AlignmentMode::Relaxed, AlignmentMode::Relaxed, None),
    };
    let advised_record = advise(from_domain, &found);
    DmarcCheck {
        from_domain: from_domain.to_owned(),
        organizational_domain: organizational,
        applied_policy,
        dkim_domain: dkim_domain.to_owned(),
        dkim_aligned: aligned(from_domain, dkim_domain, adkim),
        mail_from_domain: mail_from_domain.to_owned(),
        spf_aligned: aligned(from_domain, mail_from_domain, aspf),
        found,
        advised_record,
    }
}

async fn lookup(resolver: &Resolver, domain: &str) -> DmarcFound {
    let name = format!("_dmarc.{domain}");
    let records = match resolver.txt(&name).await {
        Ok(records) => records,
        Err(LookupError::NxDomain | LookupError::NoData) => return DmarcFound::None,
        Err(LookupError::Temporary(error)) => return DmarcFound::Dns(error),
    };
    // Only records that start with the version tag count (RFC 7489 section 6.6.3).
    let texts: Vec<String> = records
        .iter()
        .map(|record| String::from_utf8_lossy(&record.joined()).trim().to_owned())
        .filter(|text| text.to_ascii_lowercase().starts_with("v=dmarc1"))
        .collect();
    match texts.as_slice() {
        [] => DmarcFound::None,
        [text] => match DmarcRecord::parse(text) {
            Ok(record) => DmarcFound::Record {
                name,
                text: text.clone(),
                record,
            },
            Err(error) => DmarcFound::Invalid {
                name,
                text: text.clone(),
                error,
            },
        },
        several => DmarcFound::Several {
            name,
            count: several.len(),
        },
    }
}

/// The record to recommend. A domain without a valid record starts at `p=none` with aggregate
/// reports, the safe first step; an existing policy is kept as it is, so advice never weakens a
/// stricter policy; reports are added when the record has none.
fn advise(from_domain: &str, found: &DmarcFound) -> String {
    let organizational = organizational_domain(from_domain);
    match found {
        DmarcFound::Record { text, record, .. } if record.rua.is_empty() => {
            format!(
                "{}; rua=mailto:dmarc-reports@{organizational}",
                text.trim_end_matches([';', ' '])
            )
        }
        DmarcFound::Record { text, .. } => text.clone(),
        _ => format!("v=DMARC1; p=none; rua=mailto:dmarc-reports@{organizational}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_parse(
        text: &str,
        expected: Result<(Policy, Option<Policy>, &str, &str, u8), DmarcError>,
    ) {
        let parsed = DmarcRecord::parse(text).map(|record| {
            (
                record.policy,
                record.subdomain_policy,
                record.adkim.as_str(),
                record.aspf.as_str(),
                record.pct,
            )
        });
        assert_eq!(parsed, expected);
    }

    #[test]
    fn records() {
        check_parse(
            "v=DMARC1; p=reject",
            Ok((Policy::Reject, None, "r", "r", 100)),
        );
        check_parse(
            "v=DMARC1;p=quarantine;sp=none;adkim=s;aspf=s;pct=50;",
            Ok((Policy::Quarantine, Some(Policy::None), "s", "s", 50)),
        );
        check_parse(
            "v=DMARC1; rua=mailto:a@b.example",
            Ok((Policy::None, None, "r", "r", 100)),
        );
        check_parse("v=DMARC1", Err(DmarcError::MissingPolicy));
        check_parse("p=none; v=DMARC1", Err(DmarcError::Version));
        check_parse(
            "v=DMARC1; p=block",
            Err(DmarcError::BadValue {
                tag: "p",
                value: "block".into(),
            }),
        );
        check_parse(
            "v=DMARC1; p=none; pct=101",
            Err(DmarcError::BadValue {
                tag: "pct",
                value: "101".into(),
            }),
        );
        check_parse(
            "v=DMARC1; p=none; adkim=x",
            Err(DmarcError::BadValue {
                tag: "adkim",
                value: "x".into(),
            }),
        );
    }

    #[test]
    fn organisational_domains_and_alignment() {
        assert_eq!(organizational_domain("mail.client.co.uk"), "client.co.uk");
        assert_eq!(organizational_domain("client.example.com"), "example.com");
        assert!(aligned(
            "client.co.uk",
            "bounce.client.co.uk",
            AlignmentMode::Relaxed
        ));
        assert!(!aligned(
            "client.co.uk",
            "bounce.client.co.uk",
            AlignmentMode::Strict
        ));
        assert!(!aligned("a.co.uk", "b.co.uk", AlignmentMode::Relaxed));
        assert!(aligned(
            "Client.Example.com",
            "client.example.com.",
            AlignmentMode::Strict
        ));
    }

    #[test]
    fn advice_never_weakens() {
        let strict = DmarcFound::Record {
            name: "_dmarc.client.example".into(),
            text: "v=DMARC1; p=reject; rua=mailto:x@client.example".into(),
            record: DmarcRecord::parse("v=DMARC1; p=reject; rua=mailto:x@client.example").unwrap(),
        };
        assert_eq!(
            advise("client.example", &strict),
            "v=DMARC1; p=reject; rua=mailto:x@client.example"
        );
        let no_reports = DmarcFound::Record {
            name: "_dmarc.client.example".into(),
            text: "v=DMARC1; p=quarantine;".into(),
            record: DmarcRecord::parse("v=DMARC1; p=quarantine;").unwrap(),
        };
        assert_eq!(
            advise("client.example", &no_reports),
            "v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@client.example"
        );
        assert_eq!(
            advise("mail.client.example", &DmarcFound::None),
            "v=DMARC1; p=none; rua=mailto:dmarc-reports@client.example"
        );
    }
}
