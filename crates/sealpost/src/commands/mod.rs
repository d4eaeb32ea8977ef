//! Operator commands that act on the same database as the server.

mod bounce;
mod check;
mod config_check;
mod delivery;
mod destinations;
mod dkim;
mod dns;
mod doctor;
mod domain;
mod master_key;
mod queue;
mod recheck;
mod return_path;
mod sending_domain;
mod spf;
mod suppression;
mod tenant;
mod troubleshoot;
mod user;
mod webhook;

pub use bounce::{BounceCommand, bounce};
pub use check::{CheckMessage, check_message};
pub use config_check::check_config;
pub use delivery::{DeliveryCommand, delivery};
pub use destinations::destinations;
pub use dkim::{DkimCommand, dkim};
pub use dns::{DnsCommand, dns};
pub use doctor::{Doctor, doctor, platform_settings};
pub use domain::{DomainCommand, domain};
pub use master_key::{MasterKeyCommand, master_key};
pub use queue::{QueueCommand, queue};
pub use return_path::{ReturnPathCommand, return_path};
pub use sending_domain::{SendingDomainCommand, sending_domain};
pub use spf::{PlatformCommand, SpfCommand, platform, spf};
pub use suppression::{SuppressionCommand, suppression};
pub use tenant::{TenantCommand, tenant};
pub use troubleshoot::{Troubleshoot, troubleshoot};
pub use user::{UserCommand, demo_admin, user};
pub use webhook::{WebhookCommand, webhook};

use anyhow::Context as _;
use sealpost_service::Service;
use sealpost_vault::{MasterKey, Vault};

use crate::config::Config;

pub async fn open_service(config: &Config) -> anyhow::Result<Service> {
    let (master, _source) = crate::master_key::load(config, false)?;
    open_service_with(config, master).await
}

pub async fn open_service_with(config: &Config, master: MasterKey) -> anyhow::Result<Service> {
    crate::serve::open(config, Vault::new(master)).await
}

/// A random token for demo mode's operator API access.
pub fn random_token() -> String {
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut bytes))
        .context("read /dev/urandom")
        .expect("the system random source is readable");
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The configuration and resolver of a DNS-using command, with `--nameserver` applied (SPEC
/// S8.5). A configuration that cannot be read is an input error (exit 2).
pub fn dns_setup(
    config: Option<&std::path::Path>,
    nameserver: Option<std::net::SocketAddr>,
) -> anyhow::Result<(Config, sealpost_dns::Resolver)> {
    let input = |error: anyhow::Error| crate::InputError(format!("{error:#}"));
    let mut config = Config::load(config).map_err(input)?;
    if nameserver.is_some() {
        config.nameserver = nameserver;
    }
    let resolver = config.resolver().map_err(input)?;
    Ok((config, resolver))
}

/// The current time for commands, from the one system clock; libraries take the time as an
/// argument.
pub fn now() -> sealpost_domain::Timestamp {
    use sealpost_domain::Clock as _;
    sealpost_domain::SystemClock.now()
}

/// Reads a whole input file, or standard input for `-`, refusing one larger than the largest
/// message Sealpost accepts (so `/dev/zero` or a mistaken file cannot fill the memory); every
/// failure is an input error (exit 2).
pub fn read_input(file: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    let limit = sealpost_domain::limits::message::MAX_BYTES;
    let mut bytes = Vec::new();
    // One byte past the limit tells a file at the limit from a larger one.
    let allowed = limit as u64 + 1;
    let result = if file.as_os_str() == "-" {
        std::io::stdin().take(allowed).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|opened| opened.take(allowed).read_to_end(&mut bytes))
    };
    let name = input_name(file);
    result.map_err(|error| crate::InputError(format!("cannot read {name}: {error}")))?;
    if bytes.len() > limit {
        return Err(crate::InputError(format!(
            "{name} is larger than {limit} bytes ({} MB), the largest message Sealpost accepts",
            limit / (1024 * 1024)
        ))
        .into());
    }
    Ok(bytes)
}

/// A PEM key file (or standard input for `-`) as text. A binary file is most likely a DER key,
/// which the vault does not read: the error says how to convert it.
pub fn read_pem(file: &std::path::Path) -> anyhow::Result<String> {
    let bytes = read_input(file)?;
    String::from_utf8(bytes).map_err(|not_text| {
        let name = input_name(file);
        let der_file = match file.as_os_str() == "-" {
            true => "KEY.der".to_owned(),
            false => file.display().to_string(),
        };
        // Every DER private key (PKCS#1, PKCS#8, encrypted or not) is an ASN.1 SEQUENCE.
        let message = match not_text.as_bytes().first() {
            Some(0x30) => format!(
                "{name} is not text: this looks like a DER key, and a PEM key is needed; \
                 convert it with `openssl pkey -inform DER -in {der_file} -out key.pem`"
            ),
            _ => {
                format!("{name} is not text: a PEM key (-----BEGIN ... PRIVATE KEY-----) is needed")
            }
        };
        crate::InputError(message).into()
    })
}

/// How an input file is named in messages.
fn input_name(file: &std::path::Path) -> String {
    match file.as_os_str() == "-" {
        true => "standard input".to_owned(),
        false => file.display().to_string(),
    }
}
