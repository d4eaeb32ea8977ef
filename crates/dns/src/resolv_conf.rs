//! The name servers of the system's `/etc/resolv.conf`, for when no `--nameserver` is given.
//!
//! Only `nameserver` lines are read. Sealpost asks for absolute names, so `search`, `domain` and
//! `ndots` do not apply, and its own configuration sets the timeout and the attempts. Reading the
//! file here keeps hickory's `system-config` feature (and its platform crates) out of the build.

use std::net::IpAddr;
use std::path::Path;

use crate::DnsError;

/// Where the system keeps its resolver configuration.
pub(crate) const RESOLV_CONF: &str = "/etc/resolv.conf";

/// glibc uses at most this many name servers (`MAXNS`); later lines are ignored there too.
const MAX_NAMESERVERS: usize = 3;

/// Reads the name servers from the resolv.conf at `path`.
pub(crate) fn nameservers(path: &Path) -> Result<Vec<IpAddr>, DnsError> {
    let text = std::fs::read_to_string(path).map_err(|source| DnsError::ReadResolvConf {
        path: path.to_owned(),
        source,
    })?;
    let nameservers = parse(&text);
    if nameservers.is_empty() {
        return Err(DnsError::NoNameservers {
            path: path.to_owned(),
        });
    }
    Ok(nameservers)
}

/// The addresses of the `nameserver` lines, in order. Like glibc, an address that does not parse
/// is skipped; that includes a link-local IPv6 address with a `%zone`, which hickory cannot
/// address.
fn parse(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => words.next()?.parse().ok(),
                _ => None,
            }
        })
        .take(MAX_NAMESERVERS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expect: &[&str]) {
        let expect: Vec<IpAddr> = expect.iter().map(|ip| ip.parse().unwrap()).collect();
        assert_eq!(parse(text), expect);
    }

    #[test]
    fn nameserver_lines() {
        check("nameserver 192.0.2.1\n", &["192.0.2.1"]);
        check("nameserver\t2001:db8::1  \n", &["2001:db8::1"]);
        check(
            "# generated\n; comment\nsearch example.com\noptions ndots:2\nnameserver 192.0.2.1\n",
            &["192.0.2.1"],
        );
        check(
            "#nameserver 192.0.2.1\n nameserver 192.0.2.2",
            &["192.0.2.2"],
        );
        check(
            "nameserver fe80::1%eth0\nnameserver 192.0.2.1",
            &["192.0.2.1"],
        );
        check("nameserver not-an-address\nnameserver", &[]);
        check(
            "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\nnameserver 192.0.2.4",
            &["192.0.2.1", "192.0.2.2", "192.0.2.3"],
        );
        check("", &[]);
    }

    #[test]
    fn a_file_without_nameservers_is_an_error() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("resolv.conf");
        std::fs::write(&path, "search example.com\n").unwrap();
        let error = nameservers(&path).unwrap_err();
        assert!(matches!(error, DnsError::NoNameservers { .. }), "{error}");

        let error = nameservers(&directory.path().join("missing")).unwrap_err();
        assert!(matches!(error, DnsError::ReadResolvConf { .. }), "{error}");
    }
}
