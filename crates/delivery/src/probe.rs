//! The outbound probe of `sealpost doctor`: can this host open an SMTP connection at all? It
//! connects to the first mail host of a well-known domain and reads the greeting, then closes
//! without a command, since many hosting providers block outbound port 25 silently.

use std::net::SocketAddr;
use std::time::Duration;

use sealpost_dns::Resolver;
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpStream;

use crate::mx::{Exchanges, order_exchanges};

/// Why the probe found no reachable SMTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeFailure {
    /// The probe domain's mail host could not be found, so nothing was tried.
    NoTarget(String),
    /// The connection to `target` did not open or gave no SMTP greeting.
    Connection { target: String, error: String },
}

/// Connects to the lowest-preference MX host of `domain` on `port` within `timeout`; returns the
/// target (`host [address]:port`) when the server greeted with 220.
pub async fn probe_smtp(
    resolver: &Resolver,
    domain: &str,
    port: u16,
    timeout: Duration,
) -> Result<String, ProbeFailure> {
    let exchanges = resolver
        .mx(domain)
        .await
        .map_err(|error| ProbeFailure::NoTarget(format!("MX lookup of {domain}: {error}")))?;
    let host = match order_exchanges(exchanges, || 0) {
        Exchanges::Hosts(names) if !names.is_empty() => names[0].clone(),
        _ => return Err(ProbeFailure::NoTarget(format!("{domain} has no MX host"))),
    };
    let addresses = resolver
        .ip(&host)
        .await
        .map_err(|error| ProbeFailure::NoTarget(format!("address of {host}: {error}")))?;
    let Some(&ip) = addresses.first() else {
        return Err(ProbeFailure::NoTarget(format!("{host} has no address")));
    };
    let address = SocketAddr::new(ip, port);
    let target = format!("{host} [{ip}]:{port}");
    let failed = |error: String| ProbeFailure::Connection {
        target: target.clone(),
        error,
    };
    let mut stream = match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
        Err(_) => {
            return Err(failed(format!(
                "no answer within {} seconds (timed out)",
                timeout.as_secs()
            )));
        }
        Ok(Err(error)) => return Err(failed(format!("the connection failed: {error}"))),
        Ok(Ok(stream)) => stream,
    };
    let mut greeting = [0u8; 512];
    let read = tokio::time::timeout(timeout, stream.read(&mut greeting)).await;
    match read {
        Ok(Ok(length)) if greeting[..length].starts_with(b"220") => Ok(target),
        Ok(Ok(length)) => Err(failed(format!(
            "the server did not greet with 220: {:?}",
            String::from_utf8_lossy(&greeting[..length.min(80)])
        ))),
        Ok(Err(error)) => Err(failed(error.to_string())),
        Err(_) => Err(failed(format!(
            "no greeting within {} seconds",
            timeout.as_secs()
        ))),
    }
}
