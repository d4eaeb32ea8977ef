//! What `check_host()` is asked (RFC 7208 section 4.1): the client address, the domain, the
//! sender, and the values only macros read, derived from the MAIL FROM or HELO identity.

use std::net::IpAddr;

use sealpost_domain::Timestamp;

/// The arguments of one `check_host()` evaluation. Build it with [`SpfRequest::mail_from`] or
/// [`SpfRequest::helo`], which apply the identity rules of sections 2.3, 2.4 and 4.3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfRequest {
    pub(crate) ip: IpAddr,
    pub(crate) domain: String,
    pub(crate) sender: String,
    pub(crate) local_part: String,
    pub(crate) helo: String,
    pub(crate) receiver: String,
    pub(crate) now: Timestamp,
}

/// The local part used when the sender has none (section 4.3).
const POSTMASTER: &str = "postmaster";

/// `%{r}` when the checking host did not say its name (section 7.3).
const UNKNOWN_RECEIVER: &str = "unknown";

impl SpfRequest {
    /// The MAIL FROM identity: the domain of `mail_from` from the connection of `ip`, which said
    /// `helo`. An empty reverse-path (`""` or `"<>"`, as bounces use) checks the HELO identity
    /// instead (section 2.4); a reverse-path without local part (`@example.com`, or no `@` at
    /// all) gets `postmaster` (section 4.3). Angle brackets around the address are removed.
    /// `now` is what `%{t}` expands to.
    pub fn mail_from(ip: IpAddr, mail_from: &str, helo: &str, now: Timestamp) -> Self {
        let address = mail_from.trim();
        let address = address
            .strip_prefix('<')
            .and_then(|inner| inner.strip_suffix('>'))
            .unwrap_or(address);
        if address.is_empty() {
            return Self::helo(ip, helo, now);
        }
        let (local_part, domain) = match address.rsplit_once('@') {
            Some((local_part, domain)) => (local_part, domain),
            None => ("", address),
        };
        Self::new(ip, local_part, domain, helo, now)
    }

    /// The HELO identity: the domain `helo` with the sender `postmaster@<helo>` (section 2.3).
    pub fn helo(ip: IpAddr, helo: &str, now: Timestamp) -> Self {
        Self::new(ip, "", helo.trim(), helo.trim(), now)
    }

    /// The same request with `%{r}` expanding to `receiver`, the name of the host that checks
    /// (default `unknown`).
    pub fn with_receiver(mut self, receiver: &str) -> Self {
        receiver.clone_into(&mut self.receiver);
        self
    }

    fn new(ip: IpAddr, local_part: &str, domain: &str, helo: &str, now: Timestamp) -> Self {
        let local_part = match local_part.is_empty() {
            true => POSTMASTER,
            false => local_part,
        };
        // An IPv4-mapped IPv6 address is an IPv4 client (section 5, item 9.2).
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        Self {
            ip,
            domain: domain.to_owned(),
            sender: format!("{local_part}@{domain}"),
            local_part: local_part.to_owned(),
            helo: helo.to_owned(),
            receiver: UNKNOWN_RECEIVER.to_owned(),
            now,
        }
    }

    /// The client address (an IPv4-mapped IPv6 address already turned into IPv4).
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The domain whose record is evaluated first.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The sender, always with a local part: `postmaster@<domain>` for the HELO identity.
    pub fn sender(&self) -> &str {
        &self.sender
    }

    /// The HELO/EHLO name, as given.
    pub fn helo_name(&self) -> &str {
        &self.helo
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(request: SpfRequest, ip: &str, domain: &str, sender: &str) {
        assert_eq!(request.ip(), ip.parse::<IpAddr>().unwrap());
        assert_eq!(request.domain(), domain);
        assert_eq!(request.sender(), sender);
    }

    #[test]
    fn identities() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let now = Timestamp(0);
        let mail_from = |from: &str| SpfRequest::mail_from(ip, from, "mx.example.org", now);
        check(
            mail_from("a@example.com"),
            "192.0.2.1",
            "example.com",
            "a@example.com",
        );
        check(
            mail_from("<a@example.com>"),
            "192.0.2.1",
            "example.com",
            "a@example.com",
        );
        check(
            mail_from("Macro Error@x.example"),
            "192.0.2.1",
            "x.example",
            "Macro Error@x.example",
        );
        check(
            mail_from("a@b@example.com"),
            "192.0.2.1",
            "example.com",
            "a@b@example.com",
        );
        check(
            mail_from("@example.net"),
            "192.0.2.1",
            "example.net",
            "postmaster@example.net",
        );
        check(
            mail_from("example.net"),
            "192.0.2.1",
            "example.net",
            "postmaster@example.net",
        );
        check(
            mail_from(""),
            "192.0.2.1",
            "mx.example.org",
            "postmaster@mx.example.org",
        );
        check(
            mail_from("<>"),
            "192.0.2.1",
            "mx.example.org",
            "postmaster@mx.example.org",
        );
        check(
            SpfRequest::helo("::ffff:192.0.2.9".parse().unwrap(), "mx.example.org", now),
            "192.0.2.9",
            "mx.example.org",
            "postmaster@mx.example.org",
        );
        let request = mail_from("a@example.com").with_receiver("mx.receiver.example");
        assert_eq!(request.receiver, "mx.receiver.example");
        assert_eq!(request.helo_name(), "mx.example.org");
    }
}
