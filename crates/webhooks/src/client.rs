//! One webhook POST: connect to the first vetted address that answers (the URL's host name is
//! used only for `Host`, SNI and the certificate check), send the request over HTTP/1.1, and read
//! the status and the start of the answer. Redirects are not followed: a 3xx is an answer like
//! any other non-2xx. The whole exchange has one deadline.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto::aws_lc_rs};

/// How much of an answer's body is kept for the delivery log.
const EXCERPT_BYTES: usize = 1024;

/// Where to send: the endpoint's URL and the addresses its host resolved to, already vetted.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: url::Url,
    pub addresses: Vec<SocketAddr>,
}

/// The endpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub status: u16,
    /// The start of the body, for the delivery log.
    pub excerpt: String,
}

impl Posted {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("no connection to {0}")]
    Connect(String),
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("HTTP failed: {0}")]
    Http(String),
    #[error("no answer within {0} seconds")]
    Timeout(u64),
}

/// Sends webhook requests; cheap to clone.
#[derive(Clone)]
pub struct Client {
    tls: TlsConnector,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Client")
    }
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A client that trusts the Web PKI roots for https endpoints.
    pub fn new() -> Self {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("the default protocol versions are supported")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Self {
            tls: TlsConnector::from(Arc::new(config)),
        }
    }

    /// POSTs `body` (JSON) with `headers` and waits at most `timeout` for the answer.
    pub async fn post(
        &self,
        target: &Target,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Posted, SendError> {
        tokio::time::timeout(timeout, self.exchange(target, headers, body))
            .await
            .unwrap_or(Err(SendError::Timeout(timeout.as_secs())))
    }

    async fn exchange(
        &self,
        target: &Target,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
    ) -> Result<Posted, SendError> {
        let url = &target.url;
        let host = url.host_str().unwrap_or_default().to_owned();
        let stream = connect(&target.addresses).await?;
        let mut request = hyper::Request::post(&url[url::Position::BeforePath..])
            .header(
                hyper::header::HOST,
                &url[url::Position::BeforeHost..url::Position::AfterPort],
            )
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, "Sealpost-Webhooks/1");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| SendError::Http(error.to_string()))?;
        match url.scheme() {
            "https" => {
                let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                    .map_err(|error| SendError::Tls(error.to_string()))?;
                let stream = self
                    .tls
                    .connect(name, stream)
                    .await
                    .map_err(|error| SendError::Tls(error.to_string()))?;
                send(stream, request).await
            }
            _ => send(stream, request).await,
        }
    }
}

async fn connect(addresses: &[SocketAddr]) -> Result<TcpStream, SendError> {
    let mut last = String::from("no address");
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(error) => last = format!("{address}: {error}"),
        }
    }
    Err(SendError::Connect(last))
}

async fn send<I>(io: I, request: hyper::Request<Full<Bytes>>) -> Result<Posted, SendError>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let http = |error: hyper::Error| SendError::Http(error.to_string());
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(http)?;
    // The connection is driven beside the request and dropped with it.
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request).await.map_err(http);
    let result = match response {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let mut kept = Vec::new();
            while kept.len() < EXCERPT_BYTES {
                match response.body_mut().frame().await {
                    Some(Ok(frame)) => {
                        if let Some(data) = frame.data_ref() {
                            kept.extend_from_slice(data);
                        }
                    }
                    _ => break,
                }
            }
            kept.truncate(EXCERPT_BYTES);
            Ok(Posted {
                status,
                excerpt: String::from_utf8_lossy(&kept).into_owned(),
            })
        }
        Err(error) => Err(error),
    };
    driver.abort();
    result
}
