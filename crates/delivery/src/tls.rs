//! TLS policies of the two routes, on rustls with the aws-lc-rs provider: opportunistic TLS to MX
//! hosts without certificate checks (RFC 7435), and validated TLS to tenant relays against
//! Mozilla's roots plus roots the operator adds.

use std::fmt;
use std::sync::Arc;

use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{
    CryptoProvider, WebPkiSupportedAlgorithms, aws_lc_rs, verify_tls12_signature,
    verify_tls13_signature,
};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, ClientConfig, ClientConnection, DigitallySignedStruct, ProtocolVersion, RootCertStore,
    SignatureScheme,
};

/// The TLS of a connection, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// The protocol version, such as `TLSv1.3`.
    pub version: String,
    /// The cipher suite, such as `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// Whether the certificate was validated: always for relays, never for MX hosts, whose
    /// certificates are commonly self-signed (opportunistic TLS, RFC 7435).
    pub certificate_verified: bool,
}

impl fmt::Display for TlsInfo {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let check = match self.certificate_verified {
            true => "certificate verified",
            false => "certificate not checked (opportunistic TLS)",
        };
        write!(formatter, "{}, {}, {check}", self.version, self.cipher)
    }
}

/// The root certificates a relay's certificate must chain to. Cheap to clone.
#[derive(Clone)]
pub struct TrustedRoots {
    store: Arc<RootCertStore>,
}

/// Why extra root certificates were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RootsError {
    /// The text is not PEM, or a certificate in it cannot be decoded.
    #[error("cannot read the PEM certificates: {0}")]
    Pem(String),
    /// The text holds no certificate.
    #[error("the PEM text holds no CERTIFICATE")]
    Empty,
    /// A certificate cannot serve as a trust anchor.
    #[error("a certificate cannot be used as a root: {0}")]
    Certificate(String),
}

impl TrustedRoots {
    /// Mozilla's root certificates (webpki-roots), compiled in.
    pub fn webpki() -> Self {
        let mut store = RootCertStore::empty();
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        Self {
            store: Arc::new(store),
        }
    }

    /// Mozilla's roots plus every certificate in `pem`, such as a company's own CA.
    ///
    /// # Errors
    /// [`RootsError`] when the text holds no certificate or one that cannot be a root.
    pub fn webpki_and_pem(pem: &str) -> Result<Self, RootsError> {
        let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| RootsError::Pem(error.to_string()))?;
        if certificates.is_empty() {
            return Err(RootsError::Empty);
        }
        let mut roots = Self::webpki();
        let store = Arc::make_mut(&mut roots.store);
        for certificate in certificates {
            store
                .add(certificate)
                .map_err(|error| RootsError::Certificate(error.to_string()))?;
        }
        Ok(roots)
    }
}

impl Default for TrustedRoots {
    fn default() -> Self {
        Self::webpki()
    }
}

impl fmt::Debug for TrustedRoots {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TrustedRoots")
            .field("roots", &self.store.len())
            .finish()
    }
}

/// The provider is named explicitly rather than taken from the process default, so that the
/// choice holds whichever rustls providers other crates enable.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

/// A connector for MX hosts: any certificate is accepted, but the handshake signature is still
/// checked against the certificate's key, so the session is encrypted to whoever holds it.
pub(crate) fn opportunistic_connector() -> Result<TlsConnector, rustls::Error> {
    let provider = provider();
    let verifier = AnyCertificate {
        algorithms: provider.signature_verification_algorithms,
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// A connector for relays: the certificate must chain to `roots` and name the host.
pub(crate) fn verifying_connector(roots: &TrustedRoots) -> Result<TlsConnector, rustls::Error> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(Arc::clone(&roots.store))
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The name to send in SNI and, for relays, to find in the certificate. An IP address (a relay
/// given as `192.0.2.1`) is matched against the certificate's IP addresses.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_owned())
        .map_err(|error| format!("{host:?} cannot be used as a TLS server name: {error}"))
}

/// What the handshake settled on.
pub(crate) fn tls_info(connection: &ClientConnection, certificate_verified: bool) -> TlsInfo {
    let version = match connection.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
        Some(ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
        Some(other) => format!("{other:?}"),
        None => "unknown".to_owned(),
    };
    let cipher = match connection.negotiated_cipher_suite() {
        Some(suite) => format!("{:?}", suite.suite()),
        None => "unknown".to_owned(),
    };
    TlsInfo {
        version,
        cipher,
        certificate_verified,
    }
}

/// The certificate verifier of opportunistic TLS: it accepts every certificate (RFC 7435 section
/// 1.3: encryption without authentication beats no encryption) but verifies the handshake
/// signatures as rustls would.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, certificate, signature, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, certificate, signature, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_from_pem() {
        let webpki = TrustedRoots::webpki().store.len();
        assert!(webpki > 100);
        assert!(matches!(
            TrustedRoots::webpki_and_pem(""),
            Err(RootsError::Empty)
        ));
        assert!(matches!(
            TrustedRoots::webpki_and_pem(
                "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"
            ),
            Err(RootsError::Pem(_))
        ));
        assert!(matches!(
            TrustedRoots::webpki_and_pem(
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
            ),
            Err(RootsError::Certificate(_))
        ));
    }
}
