//! The MX check: whether a domain can receive mail, which matters for the MAIL FROM domain
//! (bounces go there, and receivers check that it exists) and for replies.

use sealpost_dns::{LookupError, Resolver};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxCause {
    /// MX hosts, ordered by preference.
    Hosts(Vec<(u16, String)>),
    /// A null MX (RFC 7505): the domain says it accepts no mail.
    NullMx,
    /// No MX, but an address record: mail goes to that host (RFC 5321 section 5.1).
    ImplicitMx,
    /// The name exists but has neither MX nor address records.
    NoMailHost,
    NxDomain,
    Dns(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxCheck {
    pub domain: String,
    pub cause: MxCause,
}

impl MxCheck {
    pub fn code(&self) -> &'static str {
        match self.cause {
            MxCause::Hosts(_) => "ok",
            MxCause::NullMx => "null_mx",
            MxCause::ImplicitMx => "implicit_mx",
            MxCause::NoMailHost => "no_mail_host",
            MxCause::NxDomain => "nxdomain",
            MxCause::Dns(_) => "dns_error",
        }
    }

    pub fn describe(&self) -> String {
        match &self.cause {
            MxCause::Hosts(hosts) => {
                let list: Vec<String> = hosts
                    .iter()
                    .map(|(preference, host)| format!("{preference} {host}"))
                    .collect();
                format!("MX: {}", list.join(", "))
            }
            MxCause::NullMx => format!("{} publishes a null MX: it accepts no mail.", self.domain),
            MxCause::ImplicitMx => format!(
                "{} has no MX record; mail goes to its address record.",
                self.domain
            ),
            MxCause::NoMailHost => format!("{} has neither MX nor address records.", self.domain),
            MxCause::NxDomain => format!("{} does not exist in DNS.", self.domain),
            MxCause::Dns(error) => format!("The MX lookup failed: {error}."),
        }
    }

    pub fn fix(&self) -> String {
        match &self.cause {
            MxCause::Hosts(_) => "Nothing to do.".to_owned(),
            MxCause::ImplicitMx => format!(
                "Publish an MX record for {} pointing at the host that receives its mail.",
                self.domain
            ),
            MxCause::NullMx | MxCause::NoMailHost | MxCause::NxDomain => format!(
                "Bounces and replies to {} are lost, and receivers may refuse mail whose MAIL \
                 FROM domain cannot receive mail: publish an MX record.",
                self.domain
            ),
            MxCause::Dns(_) => "Try again later; ask the DNS provider if it persists.".to_owned(),
        }
    }
}

pub async fn check_mx(resolver: &Resolver, domain: &str) -> MxCheck {
    let cause = match resolver.mx(domain).await {
        Ok(mut hosts) => {
            if hosts.iter().any(|(_, host)| host == ".") {
                MxCause::NullMx
            } else {
                hosts.sort_by_key(|(preference, _)| *preference);
                MxCause::Hosts(hosts)
            }
        }
        Err(LookupError::NxDomain) => MxCause::NxDomain,
        Err(LookupError::Temporary(error)) => MxCause::Dns(error),
        Err(LookupError::NoData) => match resolver.ip(domain).await {
            Ok(_) => MxCause::ImplicitMx,
            Err(LookupError::Temporary(error)) => MxCause::Dns(error),
            Err(_) => MxCause::NoMailHost,
        },
    };
    MxCheck {
        domain: domain.to_owned(),
        cause,
    }
}
