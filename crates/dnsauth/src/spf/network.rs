//! IP networks: the `ip4`/`ip6` mechanisms and CIDR lengths of SPF, and the platform's sending
//! networks that the tenant check evaluates.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An address with a prefix length, such as `192.0.2.0/24` or `2001:db8::/32`. The address is kept
/// as written, host bits included, because `ip4:192.0.2.5/24` is a valid SPF term that means the
/// whole /24.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

/// Why a text is not a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// The part before the `/` is not an IPv4 or IPv6 address.
    #[error("{0:?} is not an IP address")]
    NotAnAddress(String),
    /// The prefix length is not a number within the address family's length.
    #[error("{0:?} is not a prefix length for this address (0 to 32 for IPv4, 0 to 128 for IPv6)")]
    BadPrefix(String),
}

impl Network {
    /// The network of `prefix` leading bits of `address`.
    ///
    /// # Errors
    /// [`NetworkError::BadPrefix`] when `prefix` exceeds the address length.
    pub fn new(address: IpAddr, prefix: u8) -> Result<Self, NetworkError> {
        if prefix > max_prefix(address) {
            return Err(NetworkError::BadPrefix(prefix.to_string()));
        }
        Ok(Self { address, prefix })
    }

    /// The single address `address` (a /32 or a /128).
    pub fn host(address: IpAddr) -> Self {
        Self {
            address,
            prefix: max_prefix(address),
        }
    }

    /// The address as written.
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether the network is one address.
    pub fn is_host(&self) -> bool {
        self.prefix == max_prefix(self.address)
    }

    /// Whether `ip` lies in this network. Addresses of the other family never do.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = v4_mask(self.prefix);
                u32::from(network) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = v6_mask(self.prefix);
                u128::from(network) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }

    /// The lowest address of the network.
    pub fn first(&self) -> IpAddr {
        match self.address {
            IpAddr::V4(address) => Ipv4Addr::from(u32::from(address) & v4_mask(self.prefix)).into(),
            IpAddr::V6(address) => {
                Ipv6Addr::from(u128::from(address) & v6_mask(self.prefix)).into()
            }
        }
    }

    /// The highest address of the network.
    pub fn last(&self) -> IpAddr {
        match self.address {
            IpAddr::V4(address) => {
                Ipv4Addr::from(u32::from(address) | !v4_mask(self.prefix)).into()
            }
            IpAddr::V6(address) => {
                Ipv6Addr::from(u128::from(address) | !v6_mask(self.prefix)).into()
            }
        }
    }

    /// The SPF mechanism that authorises this network: `ip4:192.0.2.0/24`, `ip6:2001:db8::/32`,
    /// or `ip4:192.0.2.1` for one address.
    pub fn spf_term(&self) -> String {
        let family = match self.address {
            IpAddr::V4(_) => "ip4",
            IpAddr::V6(_) => "ip6",
        };
        format!("{family}:{self}")
    }
}

impl fmt::Display for Network {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.is_host() {
            true => write!(formatter, "{}", self.address),
            false => write!(formatter, "{}/{}", self.address, self.prefix),
        }
    }
}

impl FromStr for Network {
    type Err = NetworkError;

    /// Reads `address` or `address/prefix`, as the configuration writes sending networks.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let address: IpAddr = address
            .trim()
            .parse()
            .map_err(|_| NetworkError::NotAnAddress(address.trim().to_owned()))?;
        match prefix {
            None => Ok(Self::host(address)),
            Some(prefix) => {
                let length = prefix
                    .trim()
                    .parse::<u8>()
                    .map_err(|_| NetworkError::BadPrefix(prefix.trim().to_owned()))?;
                Self::new(address, length)
            }
        }
    }
}

fn max_prefix(address: IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn v4_mask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn v6_mask(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expect: Result<(&str, &str, &str), NetworkError>) {
        let network = text.parse::<Network>();
        let shown = network.map(|network| (network.to_string(), network.first(), network.last()));
        let expect = expect.map(|(shown, first, last)| {
            (
                shown.to_owned(),
                first.parse::<IpAddr>().unwrap(),
                last.parse::<IpAddr>().unwrap(),
            )
        });
        assert_eq!(shown, expect);
    }

    #[test]
    fn parse_show_and_bounds() {
        check("192.0.2.1", Ok(("192.0.2.1", "192.0.2.1", "192.0.2.1")));
        check(
            "192.0.2.0/24",
            Ok(("192.0.2.0/24", "192.0.2.0", "192.0.2.255")),
        );
        check(
            " 192.0.2.77/24 ",
            Ok(("192.0.2.77/24", "192.0.2.0", "192.0.2.255")),
        );
        check("0.0.0.0/0", Ok(("0.0.0.0/0", "0.0.0.0", "255.255.255.255")));
        check("192.0.2.1/32", Ok(("192.0.2.1", "192.0.2.1", "192.0.2.1")));
        check(
            "2001:db8::/32",
            Ok((
                "2001:db8::/32",
                "2001:db8::",
                "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
            )),
        );
        check(
            "2001:db8::1",
            Ok(("2001:db8::1", "2001:db8::1", "2001:db8::1")),
        );
        check("192.0.2.0/33", Err(NetworkError::BadPrefix("33".into())));
        check("2001:db8::/129", Err(NetworkError::BadPrefix("129".into())));
        check("192.0.2.0/x", Err(NetworkError::BadPrefix("x".into())));
        check(
            "mail.example",
            Err(NetworkError::NotAnAddress("mail.example".into())),
        );
    }

    #[test]
    fn contains_only_its_own_family() {
        let network: Network = "192.0.2.0/24".parse().unwrap();
        assert!(network.contains("192.0.2.200".parse().unwrap()));
        assert!(!network.contains("192.0.3.1".parse().unwrap()));
        assert!(!network.contains("::ffff:192.0.2.1".parse().unwrap()));
        let any: Network = "::/0".parse().unwrap();
        assert!(any.contains("2001:db8::1".parse().unwrap()));
        assert!(!any.contains("192.0.2.1".parse().unwrap()));
        assert_eq!(network.spf_term(), "ip4:192.0.2.0/24");
        assert_eq!(
            "2001:db8::1".parse::<Network>().unwrap().spf_term(),
            "ip6:2001:db8::1"
        );
    }
}
