//! `sealpost dkim ...`: DKIM tools that need no database.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use sealpost_domain::{
    DkimDnsRecord, DomainName, KeyId, KeyOrigin, Selector, SigningKey, Timestamp,
};
use sealpost_vault::{MasterKey, Vault};
use serde::Serialize;

use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum DkimCommand {
    /// Generate an RSA-2048 key, write it to a new PKCS#8 PEM file (mode 0600) and print the
    /// DNS record that publishes it.
    Keygen {
        #[arg(long)]
        out: PathBuf,
        /// The signing domain, to print the record's full name.
        #[arg(long, requires = "selector")]
        domain: Option<String>,
        #[arg(long, requires = "domain")]
        selector: Option<String>,
    },
}

#[derive(Serialize)]
struct KeygenView {
    path: String,
    bits: u32,
    public_key_pem: String,
    /// Present when `--domain` and `--selector` were given.
    name: Option<String>,
    value: String,
    strings: Vec<String>,
    zone_line: Option<String>,
}

pub fn dkim(command: DkimCommand, output: Output) -> anyhow::Result<()> {
    match command {
        DkimCommand::Keygen {
            out,
            domain,
            selector,
        } => {
            let names = match (domain, selector) {
                (Some(domain), Some(selector)) => Some((
                    DomainName::parse(&domain).context("--domain")?,
                    Selector::parse(&selector).context("--selector")?,
                )),
                _ => None,
            };
            // The vault is used only for generation and export here; its master key is unused.
            let vault = Vault::new(MasterKey::generate());
            let key = vault.generate()?;
            let pem = vault.export_pkcs8_pem(&key);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&out)
                .with_context(|| {
                    format!("cannot create {} (it must not exist yet)", out.display())
                })?;
            file.write_all(pem.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", out.display()))?;

            let public = SigningKey {
                id: KeyId::new(),
                public_key_der: key.public_key_der(),
                bits: key.bits(),
                origin: KeyOrigin::Generated,
                created_at: Timestamp(0),
            };
            let value = sealpost_domain::dkim_txt_value(&public.public_key_der);
            let record = names
                .as_ref()
                .map(|(domain, selector)| DkimDnsRecord::new(domain, selector, &public));
            let view = KeygenView {
                path: out.display().to_string(),
                bits: public.bits,
                public_key_pem: public.public_key_pem(),
                name: record.as_ref().map(|record| record.name.clone()),
                strings: sealpost_domain::split_txt_value(&value),
                value,
                zone_line: record.as_ref().map(|record| record.zone_line.clone()),
            };
            output.print(&view, || {
                let name = view
                    .name
                    .clone()
                    .unwrap_or_else(|| "<selector>._domainkey.<domain>".to_owned());
                let mut text = format!(
                    "RSA-{} private key written to {}\n\nPublish this TXT record:\nName:  {name}\nValue: {}",
                    view.bits, view.path, view.value
                );
                if let Some(zone_line) = &view.zone_line {
                    text.push_str(&format!("\nZone file:\n{zone_line}"));
                }
                text
            });
            Ok(())
        }
    }
}
