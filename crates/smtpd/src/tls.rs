//! TLS for STARTTLS: a server certificate and key from PEM, or a self-signed one for demos.
//!
//! A [`TlsSettings`] that exists is usable: the PEM is parsed and the rustls configuration built
//! when it is made, so a bad certificate fails at start-up, not at the first STARTTLS.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

/// A certificate chain and key ready for STARTTLS.
#[derive(Clone)]
pub struct TlsSettings {
    server_config: Arc<ServerConfig>,
    certificate_chain: Vec<CertificateDer<'static>>,
}

/// Why TLS settings could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the certificate PEM holds no CERTIFICATE block")]
    NoCertificate,
    #[error("cannot read the certificate PEM: {0}")]
    CertificatePem(pem::Error),
    #[error("cannot read the private key PEM: {0}")]
    KeyPem(pem::Error),
    #[error("the certificate and key are not usable for TLS: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

impl TlsSettings {
    /// Builds the settings from a PEM certificate chain (leaf first) and a PEM private key
    /// (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(
        certificate_chain_pem: &[u8],
        private_key_pem: &[u8],
    ) -> Result<Self, TlsError> {
        let certificate_chain = CertificateDer::pem_slice_iter(certificate_chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(TlsError::CertificatePem)?;
        if certificate_chain.is_empty() {
            return Err(TlsError::NoCertificate);
        }
        let private_key =
            PrivateKeyDer::from_pem_slice(private_key_pem).map_err(TlsError::KeyPem)?;
        // The provider is named here rather than taken from the process default, because the
        // workspace may link more than one rustls provider and then there is no default.
        let server_config =
            ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_single_cert(certificate_chain.clone(), private_key)?;
        Ok(Self {
            server_config: Arc::new(server_config),
            certificate_chain,
        })
    }

    /// Reads the PEM certificate chain and private key from files.
    pub fn from_pem_files(
        certificate_chain_path: &Path,
        private_key_path: &Path,
    ) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                path: path.to_owned(),
                source,
            })
        };
        Self::from_pem(&read(certificate_chain_path)?, &read(private_key_path)?)
    }

    /// The certificate chain presented to clients, leaf first; a demo client trusts the leaf
    /// of a self-signed chain.
    pub fn certificate_chain(&self) -> &[CertificateDer<'static>] {
        &self.certificate_chain
    }

    pub(crate) fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.server_config)
    }
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TlsSettings")
            .field("certificates", &self.certificate_chain.len())
            .finish_non_exhaustive()
    }
}

/// Makes a self-signed certificate (ECDSA P-256) for `hostname` with a fresh key, for the demo
/// mode and tests; clients must be told to trust it.
pub fn self_signed_tls(hostname: &str) -> Result<TlsSettings, TlsError> {
    let certified = rcgen::generate_simple_self_signed(vec![hostname.to_owned()])?;
    TlsSettings::from_pem(
        certified.cert.pem().as_bytes(),
        certified.signing_key.serialize_pem().as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::{TlsError, TlsSettings, self_signed_tls};

    #[test]
    fn self_signed_settings_carry_their_certificate() {
        let settings = self_signed_tls("localhost").expect("self-signed certificate");
        assert_eq!(settings.certificate_chain().len(), 1);
    }

    #[test]
    fn pem_without_a_certificate_is_refused() {
        let refused = TlsSettings::from_pem(b"", b"");
        assert!(
            matches!(refused, Err(TlsError::NoCertificate)),
            "{refused:?}"
        );
    }
}
