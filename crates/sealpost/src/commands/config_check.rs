//! `sealpost config --check FILE`: reads a configuration file as a start would (with the
//! `SEALPOST_` environment on top), refusing unknown keys and contradictory settings by name,
//! and reads the files it points at (the SMTP certificate and key, the master key), without
//! starting anything. Exits 0 when valid, 2 with the first problem otherwise.

use std::path::Path;

use anyhow::Context as _;
use sealpost_smtpd::TlsSettings;
use sealpost_vault::MasterKey;

use crate::InputError;
use crate::config::Config;
use crate::output::Output;

pub fn check_config(file: &Path, output: Output) -> anyhow::Result<()> {
    let name = file.display().to_string();
    let refused = |error: anyhow::Error| InputError(format!("{name}: {error:#}"));
    let config = Config::load(Some(file)).map_err(refused)?;
    referenced_files(&config).map_err(refused)?;
    output.print(&serde_json::json!({"file": name, "valid": true}), || {
        format!("{name}: valid")
    });
    Ok(())
}

/// The files the configuration names are there and usable.
fn referenced_files(config: &Config) -> anyhow::Result<()> {
    if let (Some(certificate), Some(key)) = (&config.smtp.tls_cert, &config.smtp.tls_key) {
        TlsSettings::from_pem_files(certificate, key).context("smtp.tls_cert, smtp.tls_key")?;
    }
    if let Some(path) = &config.master_key_file {
        MasterKey::from_file(path).context("master_key_file")?;
    }
    Ok(())
}
