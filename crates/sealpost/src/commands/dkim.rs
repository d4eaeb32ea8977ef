//! `sealpost dkim ...`: DKIM tools that need no database: key generation, signing a file the
//! way the server signs mail, and verification with the cause of every failure.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use sealpost_domain::{DkimDnsRecord, DomainName, Selector, Timestamp};
use sealpost_vault::{MasterKey, Vault};
use sealpost_views::dkim_verification::VerificationView;
use serde::Serialize;

use crate::InputError;
use crate::output::{Output, Status};

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
    /// Sign a message (complete it first, as the server does) and print the signed message.
    Sign(SignArguments),
    /// Verify every DKIM signature of a message with keys from DNS. Exits 0 when every
    /// signature passes, 1 when any fails or there is none, 2 on usage or input errors.
    Verify {
        /// The message file, or - for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
        /// The DNS server to ask, such as 127.0.0.1:5353 (default: configuration, then the
        /// system's resolver).
        #[arg(long)]
        nameserver: Option<std::net::SocketAddr>,
    },
}

/// The arguments of `sealpost dkim sign`.
#[derive(Debug, Args)]
pub struct SignArguments {
    /// The private key (PEM: PKCS#8 or PKCS#1, encrypted or not; RSA-2048).
    #[arg(long)]
    key: PathBuf,
    /// The environment variable holding the key's password, if it is encrypted.
    #[arg(long)]
    password_env: Option<String>,
    #[arg(long)]
    domain: String,
    #[arg(long)]
    selector: String,
    /// The signing time (t=) in seconds since the Unix epoch; default: now.
    #[arg(long)]
    timestamp: Option<i64>,
    /// The message file, or - for standard input.
    #[arg(default_value = "-")]
    file: PathBuf,
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

pub async fn dkim(
    command: DkimCommand,
    config: Option<&std::path::Path>,
    output: Output,
) -> anyhow::Result<ExitCode> {
    match command {
        DkimCommand::Sign(arguments) => sign(arguments),
        DkimCommand::Verify { file, nameserver } => verify(config, output, file, nameserver).await,
        DkimCommand::Keygen {
            out,
            domain,
            selector,
        } => keygen(output, out, domain, selector),
    }
}

/// Signs a message file the way the server signs mail and writes it to standard output.
fn sign(arguments: SignArguments) -> anyhow::Result<ExitCode> {
    let SignArguments {
        key,
        password_env,
        domain,
        selector,
        timestamp,
        file,
    } = arguments;
    let domain =
        DomainName::parse(&domain).map_err(|error| InputError(format!("--domain: {error}")))?;
    let selector =
        Selector::parse(&selector).map_err(|error| InputError(format!("--selector: {error}")))?;
    let pem = super::read_pem(&key)?;
    let password =
        match password_env {
            Some(variable) => Some(std::env::var(&variable).map_err(|_| {
                InputError(format!("the environment variable {variable} is not set"))
            })?),
            None => None,
        };
    let vault = Vault::new(MasterKey::generate());
    let private_key = vault
        .import(&pem, password.as_deref())
        .map_err(|error| InputError(format!("{}: {error}", key.display())))?;
    let message = super::read_input(&file)?;
    let timestamp = timestamp.unwrap_or_else(|| super::now().0);
    let prepared = sealpost_dkim::prepare(&message, Timestamp(timestamp), &domain)
        .map_err(|error| InputError(format!("the message cannot be signed: {error}")))?;
    let signer = sealpost_dkim::Signer::new(domain, selector, std::sync::Arc::new(private_key));
    let signed = signer
        .sign(&prepared.message, timestamp)
        .map_err(|error| InputError(format!("the message cannot be signed: {error}")))?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&signed)
        .and_then(|()| stdout.flush())
        .context("write the signed message")?;
    Ok(ExitCode::SUCCESS)
}

/// Verifies every signature of a message file with keys from DNS.
async fn verify(
    config: Option<&std::path::Path>,
    output: Output,
    file: PathBuf,
    nameserver: Option<std::net::SocketAddr>,
) -> anyhow::Result<ExitCode> {
    let (_config, resolver) = super::dns_setup(config, nameserver)?;
    let message = super::read_input(&file)?;
    let now = super::now().0;
    let report = sealpost_dkim::verify_with_dns(&message, &resolver, Timestamp(now))
        .await
        .map_err(|error| InputError(format!("the message cannot be read: {error}")))?;
    let view = VerificationView::from(&report);
    output.print(&view, || verification_text(&view));
    Ok(match report.result() {
        sealpost_dkim::DkimResult::Pass => Status::Done,
        _ => Status::Problem,
    }
    .into())
}

/// Generates a key into a new file and prints the record that publishes it.
fn keygen(
    output: Output,
    out: PathBuf,
    domain: Option<String>,
    selector: Option<String>,
) -> anyhow::Result<ExitCode> {
    let names = match (domain, selector) {
        (Some(domain), Some(selector)) => Some((
            DomainName::parse(&domain).map_err(|error| InputError(format!("--domain: {error}")))?,
            Selector::parse(&selector)
                .map_err(|error| InputError(format!("--selector: {error}")))?,
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
        .map_err(|error| {
            InputError(format!(
                "cannot create {} (it must not exist yet): {error}",
                out.display()
            ))
        })?;
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", out.display()))?;

    let public_key_der = key.public_key_der();
    let value = sealpost_domain::dkim_txt_value(&public_key_der);
    let record = names
        .as_ref()
        .map(|(domain, selector)| DkimDnsRecord::new(domain, selector, &public_key_der));
    let view = KeygenView {
        path: out.display().to_string(),
        bits: key.bits(),
        public_key_pem: sealpost_domain::public_key_pem(&public_key_der),
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
    Ok(ExitCode::SUCCESS)
}

/// The verification report as a person reads it.
fn verification_text(view: &VerificationView) -> String {
    let mut text = format!("DKIM: {} ({})\n", view.result, view.summary);
    for (index, signature) in view.signatures.iter().enumerate() {
        let field = |value: &Option<String>| value.clone().unwrap_or_else(|| "?".to_owned());
        text.push_str(&format!(
            "\nSignature {}: d={} s={} a={}\n  result: {} ({})\n  {}\n  {}\n",
            index + 1,
            field(&signature.d),
            field(&signature.s),
            field(&signature.a),
            signature.result,
            signature.cause,
            signature.cause_text,
            signature.detail,
        ));
        for warning in &signature.warnings {
            text.push_str(&format!(
                "  warning ({}): {}\n",
                warning.code, warning.message
            ));
        }
        if let Some(key) = &signature.key {
            text.push_str(&format!(
                "  key: {} k={} {} bits{}{}\n",
                key.name,
                key.key_type,
                key.bits
                    .map_or_else(|| "?".to_owned(), |bits| bits.to_string()),
                if key.testing { " t=y" } else { "" },
                key.fingerprint
                    .as_ref()
                    .map(|fingerprint| format!(" fingerprint {fingerprint}"))
                    .unwrap_or_default(),
            ));
        }
    }
    text.trim_end().to_owned()
}
