//! Reads the SMTP listener's certificate file into the facts `dnsauth::doctor::certificate`
//! judges (names, issuers, dates), with x509-parser.

use sealpost_dnsauth::doctor::{self, CertificateFacts, Check, CheckKind, CheckStatus};
use sealpost_domain::Timestamp;
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;

use super::PlatformSettings;

/// The certificate check for the configured file, or skipped when there is none.
pub fn check(settings: &PlatformSettings, now: Timestamp) -> Check {
    let Some(path) = &settings.tls_certificate else {
        return Check::new(
            CheckKind::TlsCertificate,
            CheckStatus::Skipped,
            "smtp.tls_cert",
        )
        .found("no certificate file is configured");
    };
    let source = path.display().to_string();
    let hostname = settings
        .domain
        .clone()
        .unwrap_or_else(|| settings.helo_name.clone());
    match read_chain(path) {
        Ok(chain) => doctor::certificate(&source, &hostname, &chain, now),
        Err(error) => Check::new(CheckKind::TlsCertificate, CheckStatus::Fail, source)
            .found(error)
            .fix("Point smtp.tls_cert at the PEM chain of the listener's certificate."),
    }
}

fn read_chain(path: &std::path::Path) -> Result<Vec<CertificateFacts>, String> {
    let bytes = std::fs::read(path).map_err(|error| format!("cannot read it: {error}"))?;
    let mut chain = Vec::new();
    for pem in Pem::iter_from_buffer(&bytes) {
        let pem = pem.map_err(|error| format!("not a PEM file: {error}"))?;
        if pem.label != "CERTIFICATE" {
            continue;
        }
        let certificate = pem
            .parse_x509()
            .map_err(|error| format!("a certificate cannot be read: {error}"))?;
        let names = certificate
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|extension| {
                extension
                    .value
                    .general_names
                    .iter()
                    .filter_map(|name| match name {
                        GeneralName::DNSName(name) => Some((*name).to_owned()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let validity = certificate.validity();
        chain.push(CertificateFacts {
            subject: certificate.subject().to_string(),
            issuer: certificate.issuer().to_string(),
            not_before: Timestamp(validity.not_before.timestamp()),
            not_after: Timestamp(validity.not_after.timestamp()),
            names,
        });
    }
    Ok(chain)
}
