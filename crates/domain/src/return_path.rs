//! The return-path domain of a signing domain (SPEC S10.1): the domain mail uses as MAIL FROM so
//! that bounces come back to Sealpost, such as `bounces.client.example` for `client.example`. It
//! lies below its signing domain, so SPF for it aligns (relaxed) with the From domain and a proof
//! of the signing domain covers it; for the signing decision it counts as its signing domain.

use crate::{DomainName, TenantId, Timestamp};

/// A tenant's return-path domain for one of its signing domains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPath {
    pub tenant_id: TenantId,
    /// The signing domain (the From domain) whose mail uses it.
    pub domain: DomainName,
    pub return_path: DomainName,
    pub created_at: Timestamp,
    /// When a DNS check last found its MX and SPF records right; delivery uses it only then.
    pub verified_at: Option<Timestamp>,
}

/// Why a domain cannot be a return path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnPathError {
    #[error(
        "{return_path} is not below {domain}: use a subdomain such as bounces.{domain}, so that \
         SPF aligns with the From domain"
    )]
    NotBelow {
        domain: DomainName,
        return_path: DomainName,
    },
}

impl ReturnPath {
    /// Checks that `return_path` lies strictly below `domain`.
    pub fn check(domain: &DomainName, return_path: &DomainName) -> Result<(), ReturnPathError> {
        let below = return_path
            .as_str()
            .strip_suffix(domain.as_str())
            .is_some_and(|label| label.ends_with('.') && label.len() > 1);
        match below {
            true => Ok(()),
            false => Err(ReturnPathError::NotBelow {
                domain: domain.clone(),
                return_path: return_path.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(domain: &str, return_path: &str, ok: bool) {
        let domain = DomainName::parse(domain).unwrap();
        let return_path = DomainName::parse(return_path).unwrap();
        assert_eq!(ReturnPath::check(&domain, &return_path).is_ok(), ok);
    }

    #[test]
    fn a_return_path_lies_below_its_signing_domain() {
        check("client.example", "bounces.client.example", true);
        check("client.example", "a.b.client.example", true);
        check("client.example", "client.example", false);
        check("client.example", "otherclient.example", false);
        check("client.example", "bounces.other.example", false);
    }
}
