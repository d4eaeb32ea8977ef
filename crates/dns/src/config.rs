//! The resolver's configuration and its translation into hickory's name servers and options.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig as HickoryConfig, ResolverOpts,
};

use crate::DnsError;
use crate::resolv_conf;

/// How Sealpost reaches DNS.
#[derive(Debug, Clone)]
pub struct ResolverConfig {
    /// The one name server to ask (SPEC S8.5: `--nameserver 127.0.0.1:5353`); `None` asks the
    /// name servers of `/etc/resolv.conf` on port 53.
    pub nameserver: Option<SocketAddr>,
    /// How long one attempt may take, including a retry over TCP after a truncated UDP answer.
    pub timeout: Duration,
    /// How many times a query is sent before the lookup fails temporarily (at least 1).
    pub attempts: usize,
    /// Whether answers are cached for their TTL. Tests switch it off so that every lookup asks
    /// the server.
    pub cache: bool,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        Self {
            nameserver: None,
            timeout: Duration::from_secs(3),
            attempts: 2,
            cache: true,
        }
    }
}

impl ResolverConfig {
    /// Hickory's view of this configuration.
    pub(crate) fn to_hickory(&self) -> Result<(HickoryConfig, ResolverOpts), DnsError> {
        if self.attempts == 0 {
            return Err(DnsError::InvalidOption("attempts must be at least 1"));
        }
        if self.timeout.is_zero() {
            return Err(DnsError::InvalidOption("timeout must be longer than zero"));
        }
        let servers = match self.nameserver {
            Some(address) => vec![name_server(address.ip(), address.port())],
            None => resolv_conf::nameservers(Path::new(resolv_conf::RESOLV_CONF))?
                .into_iter()
                .map(|ip| name_server(ip, 53))
                .collect(),
        };

        let mut options = ResolverOpts::default();
        options.timeout = self.timeout;
        // Hickory counts retries after the first try, not tries.
        options.attempts = self.attempts - 1;
        // Sealpost checks what the DNS publishes; /etc/hosts must not stand in for it.
        options.use_hosts_file = ResolveHosts::Never;
        if !self.cache {
            // Hickory has no switch for its cache. With no room and a zero lifetime an answer is
            // stale as soon as it is stored, so every lookup goes to the server.
            options.cache_size = 0;
            options.positive_max_ttl = Some(Duration::ZERO);
            options.negative_max_ttl = Some(Duration::ZERO);
        }
        Ok((HickoryConfig::from_name_servers(servers), options))
    }
}

/// A name server reached over UDP and, on the same port, over TCP. Hickory tries UDP first and
/// repeats the query over TCP only when the UDP answer comes back truncated, and only if the
/// server has a TCP connection configured.
fn name_server(ip: IpAddr, port: u16) -> NameServerConfig {
    let mut udp = ConnectionConfig::udp();
    udp.port = port;
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = port;
    NameServerConfig::new(ip, true, vec![udp, tcp])
}
