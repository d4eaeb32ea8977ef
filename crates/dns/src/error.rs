//! What can go wrong: a configuration that cannot make a resolver, and the three outcomes of a
//! lookup that found nothing, decided from hickory's error in one `match`.

use std::io;
use std::path::PathBuf;

use hickory_resolver::net::{DnsError as HickoryDnsError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;

/// Why a lookup returned no records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// The name does not exist (NXDOMAIN).
    #[error("the domain name does not exist (NXDOMAIN)")]
    NxDomain,
    /// The name exists but has no record of the type asked for.
    #[error("the domain name has no record of the type asked for")]
    NoData,
    /// SERVFAIL, REFUSED, timeout, network error: worth trying again later.
    #[error("temporary DNS failure: {0}")]
    Temporary(String),
}

/// A configuration from which no resolver can be made.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// No name server was given and the system's resolv.conf could not be read.
    #[error("cannot read {path}: {source}")]
    ReadResolvConf {
        /// The file that was read.
        path: PathBuf,
        /// Why it could not be read.
        source: io::Error,
    },
    /// No name server was given and the system's resolv.conf names none that can be used.
    #[error("{path} names no usable name server; give one explicitly (--nameserver)")]
    NoNameservers {
        /// The file that was read.
        path: PathBuf,
    },
    /// An option is out of range.
    #[error("invalid resolver option: {0}")]
    InvalidOption(&'static str),
    /// Hickory refused the configuration.
    #[error("cannot build the resolver: {0}")]
    Build(String),
}

impl From<NetError> for LookupError {
    fn from(error: NetError) -> Self {
        match error {
            NetError::Dns(HickoryDnsError::NoRecordsFound(NoRecords { response_code, .. })) => {
                match response_code {
                    ResponseCode::NXDomain => Self::NxDomain,
                    ResponseCode::NoError => Self::NoData,
                    // Hickory passes unknown response codes through as answers; one without
                    // records says nothing definite about the name.
                    other => Self::Temporary(rcode_message(other)),
                }
            }
            NetError::Dns(HickoryDnsError::ResponseCode(code)) => {
                Self::Temporary(rcode_message(code))
            }
            other => Self::Temporary(other.to_string()),
        }
    }
}

fn rcode_message(code: ResponseCode) -> String {
    format!(
        "the name server answered {} (rcode {})",
        code,
        u16::from(code)
    )
}

#[cfg(test)]
mod tests {
    use hickory_resolver::proto::op::Query;

    use super::*;

    #[track_caller]
    fn check(error: NetError, expect: LookupError) {
        assert_eq!(LookupError::from(error), expect);
    }

    fn no_records(code: ResponseCode) -> NetError {
        NetError::from(NoRecords::new(Query::default(), code))
    }

    #[test]
    fn hickory_errors_map_to_the_three_outcomes() {
        check(no_records(ResponseCode::NXDomain), LookupError::NxDomain);
        check(no_records(ResponseCode::NoError), LookupError::NoData);
        check(
            no_records(ResponseCode::Unknown(4000)),
            LookupError::Temporary(
                "the name server answered Unknown response code (rcode 4000)".into(),
            ),
        );
        check(
            NetError::Dns(HickoryDnsError::ResponseCode(ResponseCode::ServFail)),
            LookupError::Temporary("the name server answered Server Failure (rcode 2)".into()),
        );
        check(
            NetError::Dns(HickoryDnsError::ResponseCode(ResponseCode::Refused)),
            LookupError::Temporary("the name server answered Query Refused (rcode 5)".into()),
        );
        check(
            NetError::Timeout,
            LookupError::Temporary("request timed out".into()),
        );
        check(
            NetError::Truncated,
            LookupError::Temporary(
                "response was truncated; TCP already tried or no other transport available".into(),
            ),
        );
    }
}
