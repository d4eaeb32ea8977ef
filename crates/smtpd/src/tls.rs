//! TLS for STARTTLS: a server certificate and key from PEM, or a self-signed one for demos.
//!
//! A [`TlsSettings`] that exists is usable: the PEM is parsed and the rustls configuration built
//! when it is made, so a bad certificate fails at start-up, not at the first STARTTLS. Its
//! certificate can be replaced while listeners run ([`TlsSettings::reload_pem_files`]): every
//! clone shares it, and the next handshake presents the new one.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{self, ServerConfig};

/// A certificate chain and key ready for STARTTLS.
#[derive(Clone)]
pub struct TlsSettings {
    server_config: Arc<ServerConfig>,
    current: Arc<CurrentCertificate>,
}

/// The certificate every handshake presents; a reload swaps it for all clones at once.
#[derive(Debug)]
struct CurrentCertificate(RwLock<Arc<CertifiedKey>>);

impl CurrentCertificate {
    fn get(&self) -> Arc<CertifiedKey> {
        // A writer only swaps an Arc, so a poisoned lock still holds a whole certificate.
        Arc::clone(
            &self
                .0
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    fn set(&self, key: CertifiedKey) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(key);
    }
}

impl ResolvesServerCert for CurrentCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

/// The provider is named here rather than taken from the process default, because the
/// workspace may link more than one rustls provider and then there is no default.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

/// Parses a PEM chain (leaf first) and key, and checks that the key is the leaf's.
fn certified_key(
    certificate_chain_pem: &[u8],
    private_key_pem: &[u8],
) -> Result<CertifiedKey, TlsError> {
    let certificate_chain = CertificateDer::pem_slice_iter(certificate_chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(TlsError::CertificatePem)?;
    if certificate_chain.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    let private_key = PrivateKeyDer::from_pem_slice(private_key_pem).map_err(TlsError::KeyPem)?;
    Ok(CertifiedKey::from_der(
        certificate_chain,
        private_key,
        &provider(),
    )?)
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
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
        let key = certified_key(certificate_chain_pem, private_key_pem)?;
        let current = Arc::new(CurrentCertificate(RwLock::new(Arc::new(key))));
        let server_config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(&current) as Arc<dyn ResolvesServerCert>);
        Ok(Self {
            server_config: Arc::new(server_config),
            current,
        })
    }

    /// Reads the PEM certificate chain and private key from files.
    pub fn from_pem_files(
        certificate_chain_path: &Path,
        private_key_path: &Path,
    ) -> Result<Self, TlsError> {
        Self::from_pem(&read(certificate_chain_path)?, &read(private_key_path)?)
    }

    /// Replaces the certificate and key with those of the files, for every clone of these
    /// settings; connections already encrypted keep theirs. On an error nothing changes.
    pub fn reload_pem_files(
        &self,
        certificate_chain_path: &Path,
        private_key_path: &Path,
    ) -> Result<(), TlsError> {
        let key = certified_key(&read(certificate_chain_path)?, &read(private_key_path)?)?;
        self.current.set(key);
        Ok(())
    }

    /// The certificate chain presented to clients now, leaf first; a demo client trusts the
    /// leaf of a self-signed chain.
    pub fn certificate_chain(&self) -> Vec<CertificateDer<'static>> {
        self.current.get().cert.clone()
    }

    pub(crate) fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.server_config)
    }
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TlsSettings")
            .field("certificates", &self.current.get().cert.len())
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
    fn a_reload_reaches_every_clone_and_a_bad_one_changes_nothing() {
        let first = rcgen::generate_simple_self_signed(vec!["first.test".to_owned()]).unwrap();
        let second = rcgen::generate_simple_self_signed(vec!["second.test".to_owned()]).unwrap();
        let settings = TlsSettings::from_pem(
            first.cert.pem().as_bytes(),
            first.signing_key.serialize_pem().as_bytes(),
        )
        .unwrap();
        let clone = settings.clone();
        let directory = std::env::temp_dir().join(format!("sealpost-tls-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let (certificate, key) = (directory.join("cert.pem"), directory.join("key.pem"));
        std::fs::write(&certificate, second.cert.pem()).unwrap();
        std::fs::write(&key, second.signing_key.serialize_pem()).unwrap();
        settings.reload_pem_files(&certificate, &key).unwrap();
        assert_eq!(clone.certificate_chain()[0], *second.cert.der());

        // The first certificate's key does not match the second certificate: refused, kept.
        std::fs::write(&key, first.signing_key.serialize_pem()).unwrap();
        let refused = settings.reload_pem_files(&certificate, &key);
        assert!(matches!(refused, Err(TlsError::Rustls(_))), "{refused:?}");
        let missing = settings.reload_pem_files(&directory.join("none.pem"), &key);
        assert!(matches!(missing, Err(TlsError::Read { .. })), "{missing:?}");
        assert_eq!(clone.certificate_chain()[0], *second.cert.der());
        std::fs::remove_dir_all(directory).unwrap();
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
