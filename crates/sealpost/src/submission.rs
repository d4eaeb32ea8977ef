//! SMTP submission wired to the service (SPEC S8.2): a tenant logs in with its name as the user
//! name and one of its API keys as the password, as hosted mail services do, so credentials are
//! stored hashed once, revoked in one place, and never become a second secret to manage.

use std::sync::Arc;

use sealpost_service::{ApiKeyLogin, Sender, Service, ServiceError, Submission};
use sealpost_smtpd::{
    BackendError, Identity, ReceivedEnvelope, Rejection, SmtpdConfig, SubmissionBackend,
    SubmitError, TlsSettings,
};

use crate::config::Config;

#[derive(Debug, Clone)]
pub struct ServiceBackend {
    pub service: Service,
}

impl ServiceBackend {
    /// The identity of a login with the key `login` found, when the user name names the key's
    /// tenant: a key pasted into the wrong application's settings fails loudly instead of
    /// sending as another tenant.
    fn identity(
        username: &str,
        login: Result<Option<ApiKeyLogin>, ServiceError>,
    ) -> Result<Option<Identity>, BackendError> {
        let Some(login) = login.map_err(BackendError::new)? else {
            return Ok(None);
        };
        Ok((login.tenant.name.as_str() == username).then(|| Identity {
            tenant: login.tenant.id.to_string(),
            username: username.to_owned(),
            credential: login.key_hash,
        }))
    }
}

impl SubmissionBackend for ServiceBackend {
    /// AUTH reads the key from the store, so a revoked key is refused at once.
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Identity>, BackendError> {
        let accounts = self.service.accounts();
        Self::identity(username, accounts.authenticate_api_key(password).await)
    }

    /// Before each transaction the key is taken from what this node has seen: each submission's
    /// own read confirms it, and a key revoked since is refused then (`LoginRevoked`).
    async fn recheck_login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Identity>, BackendError> {
        let accounts = self.service.accounts();
        Self::identity(username, accounts.api_key_login(password).await)
    }

    async fn submit(
        &self,
        identity: Option<&Identity>,
        envelope: ReceivedEnvelope,
        message: Vec<u8>,
    ) -> Result<String, SubmitError> {
        let identity = identity.ok_or_else(|| {
            SubmitError::Temporary(BackendError::new("submission without an identity"))
        })?;
        let tenant = identity
            .tenant
            .parse()
            .map_err(|_| SubmitError::Temporary(BackendError::new("unknown tenant id")))?;
        let sender = Sender::ApiKey {
            tenant,
            key_hash: identity.credential.clone(),
        };
        let submission = Submission {
            mail_from: envelope.mail_from,
            recipients: envelope.rcpt_to,
            raw: message,
            idempotency_key: None,
            source: sealpost_domain::SubmissionSource::Smtp,
        };
        match self.service.submissions().submit(sender, submission).await {
            Ok(accepted) => Ok(accepted.id.to_string()),
            Err(ServiceError::ApiKeyRefused) => Err(SubmitError::LoginRevoked),
            Err(ServiceError::Invalid { field, message }) => Err(SubmitError::Permanent(
                Rejection::new(550, [5, 6, 0], format!("{field}: {message}")),
            )),
            // RFC 3463 5.7.1: the sender is not authorised to use this address.
            Err(error @ ServiceError::Unproven(_)) => Err(SubmitError::Permanent(Rejection::new(
                550,
                [5, 7, 1],
                error.to_string(),
            ))),
            // RFC 3463 5.3.4: the message is too big for the system.
            Err(error @ ServiceError::TooLarge(_)) => Err(SubmitError::Permanent(Rejection::new(
                552,
                [5, 3, 4],
                error.to_string(),
            ))),
            Err(other) => Err(SubmitError::Temporary(BackendError::new(other))),
        }
    }
}

/// The listener's settings from the configuration; demo mode makes a self-signed certificate
/// and lets loopback clients log in without TLS.
pub fn smtpd_config(config: &Config, demo: bool) -> anyhow::Result<Arc<SmtpdConfig>> {
    let hostname = config
        .platform
        .domain
        .clone()
        .unwrap_or_else(|| "localhost".to_owned());
    let mut smtpd = SmtpdConfig::new(hostname.clone());
    smtpd.tls = match (&config.smtp.tls_cert, &config.smtp.tls_key) {
        (Some(cert), Some(key)) => Some(TlsSettings::from_pem_files(cert, key)?),
        (None, None) if demo => Some(sealpost_smtpd::self_signed_tls(&hostname)?),
        (None, None) => None,
        _ => anyhow::bail!("smtp.tls_cert and smtp.tls_key must be set together"),
    };
    smtpd.allow_plain_auth_on_loopback = config.smtp.allow_plain_auth_on_loopback || demo;
    if let Some(connections) = config.smtp.connections_per_client {
        anyhow::ensure!(
            connections > 0,
            "smtp.connections_per_client must be at least 1"
        );
        smtpd.limits.max_connections_per_client = connections;
    }
    Ok(Arc::new(smtpd))
}
