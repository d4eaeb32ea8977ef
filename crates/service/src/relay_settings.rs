//! The E-mail tab's delivery settings (SPEC S1.2, S1.3): native delivery, or the tenant's own
//! mail server with its password sealed by the vault. The password is accepted, sealed and
//! never given back; only `password_set` is shown.

use std::net::IpAddr;

use sealpost_domain::{DeliveryMode, DomainName, RelaySettings, TenantId, TlsMode};
use zeroize::Zeroizing;

use sealpost_delivery::{ConnectionTest, RelayWarning, test_relay_connection};

use crate::worker::relay_config;
use crate::{Relays, ServiceError};

/// What a secret sealed for the relay is bound to, besides the tenant.
pub(crate) const RELAY_PASSWORD: &str = "relay-password";

/// The own-mail-server form as a person fills it in.
#[derive(Clone)]
pub struct RelayForm<'a> {
    pub host: &'a str,
    pub port: u16,
    pub username: &'a str,
    /// A new password; `None` keeps the stored one.
    pub password: Option<&'a str>,
    pub implicit_tls: bool,
    /// `default`, `required` or `none`.
    pub tls_mode: &'a str,
}

impl std::fmt::Debug for RelayForm<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RelayForm")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.map(|_| "redacted"))
            .finish()
    }
}

impl RelayForm<'_> {
    /// The host, trimmed and lowercased, when it is a host name or an IP address.
    pub fn checked_host(&self) -> Result<String, ServiceError> {
        let host = self.host.trim();
        let host_valid = host.parse::<IpAddr>().is_ok() || DomainName::parse(host).is_ok();
        if !host_valid {
            return Err(invalid(
                "host",
                format!(
                    "Enter the mail server's host name or IP address, e.g. smtp.client.example \
                     ({host:?} is neither)"
                ),
            ));
        }
        Ok(host.to_ascii_lowercase())
    }

    /// The settings that are accepted but probably not meant, each with its risk; `stored`
    /// says whether a password is stored for when the form gives none.
    pub fn warnings(&self, stored_password: bool) -> Vec<RelayWarning> {
        let password =
            stored_password || self.password.is_some_and(|password| !password.is_empty());
        match TlsMode::parse(self.tls_mode) {
            Some(tls_mode) => RelayWarning::of(self.implicit_tls, tls_mode, password),
            None => Vec::new(),
        }
    }

    /// Checks every field but the host and the password: the port, the user name (one line)
    /// and the TLS mode with "use SSL". A request that switches to native delivery may carry
    /// these fields; they are checked too, so that a wrong one is never silently accepted.
    pub fn checked_options(&self) -> Result<TlsMode, ServiceError> {
        if self.port == 0 {
            return Err(invalid(
                "port",
                "Enter a port from 1 to 65535: usually 587, or 465 with \"Use SSL\"",
            ));
        }
        if self.username.contains(['\r', '\n']) {
            return Err(invalid("username", "Enter the user name on one line"));
        }
        let tls_mode = TlsMode::parse(self.tls_mode)
            .ok_or_else(|| invalid("tls_mode", "Choose a TLS mode: default, required or none"))?;
        if self.implicit_tls && tls_mode == TlsMode::None {
            return Err(invalid(
                "tls_mode",
                "\"Use SSL\" encrypts from the start, so it cannot go with TLS mode \"None\": \
                 choose \"Default\", or untick \"Use SSL\"",
            ));
        }
        Ok(tls_mode)
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field,
        message: message.into(),
    }
}

impl Relays {
    pub async fn delivery_mode(&self, tenant: TenantId) -> Result<DeliveryMode, ServiceError> {
        // The tenant's existence and its settings are independent reads: they run at once, so a
        // caller waits for the slower of them rather than for both in turn.
        let service = self.service();
        let accounts = service.accounts();
        let (_, mode) = tokio::try_join!(accounts.tenant(tenant), async {
            Ok(self.store.delivery_mode(tenant).await?)
        })?;
        Ok(mode)
    }

    pub async fn set_native_delivery(
        &self,
        tenant: TenantId,
    ) -> Result<DeliveryMode, ServiceError> {
        self.service().accounts().tenant(tenant).await?;
        self.store
            .set_delivery_mode(tenant, &DeliveryMode::Native, None, self.clock.now())
            .await?;
        self.delivery_mode(tenant).await
    }

    /// Switches the tenant to its own mail server. Each field is checked; a password is needed
    /// the first time, and nothing is stored when anything is refused.
    pub async fn set_relay_delivery(
        &self,
        tenant: TenantId,
        form: RelayForm<'_>,
    ) -> Result<DeliveryMode, ServiceError> {
        let host = form.checked_host()?;
        let tls_mode = form.checked_options()?;
        let current = self.delivery_mode(tenant).await?;
        let stored_password = matches!(&current, DeliveryMode::Relay(relay) if relay.password_set)
            || self.store.sealed_relay_password(tenant).await?.is_some();
        let password = form.password.filter(|password| !password.is_empty());
        if password.is_none() && !stored_password && !form.username.is_empty() {
            return Err(invalid(
                "password",
                "Enter the password of the mail server's user",
            ));
        }
        let vault = self.sealing_vault().await?;
        let sealed = password.map(|password| vault.seal_secret(tenant, RELAY_PASSWORD, password));
        let mode = DeliveryMode::Relay(RelaySettings {
            host,
            port: form.port,
            username: form.username.to_owned(),
            implicit_tls: form.implicit_tls,
            tls_mode,
            password_set: true,
        });
        self.store
            .set_delivery_mode(tenant, &mode, sealed.as_deref(), self.clock.now())
            .await?;
        self.delivery_mode(tenant).await
    }

    /// The relay settings with the unsealed password, for the moment of connecting.
    pub(crate) async fn relay_credentials(
        &self,
        tenant: TenantId,
    ) -> Result<Option<(RelaySettings, Zeroizing<String>)>, ServiceError> {
        let DeliveryMode::Relay(relay) = self.store.delivery_mode(tenant).await? else {
            return Ok(None);
        };
        let password = match self.store.sealed_relay_password(tenant).await? {
            Some(sealed) => self.vault.open_secret(tenant, RELAY_PASSWORD, &sealed)?,
            None => Zeroizing::new(String::new()),
        };
        Ok(Some((relay, password)))
    }

    /// The own mail server's settings as saved, also while the tenant delivers natively: they
    /// are kept, disabled, so that switching back does not lose them.
    pub async fn kept_relay(
        &self,
        tenant: TenantId,
    ) -> Result<Option<RelaySettings>, ServiceError> {
        self.service().accounts().tenant(tenant).await?;
        Ok(self.store.kept_relay(tenant).await?)
    }

    /// Tests the settings of a form before they are saved: connect, TLS, AUTH, QUIT, with no
    /// mail sent. Each field is checked as saving checks it; without a new password the stored
    /// one is used, so a person can test a changed port without typing the password again.
    pub async fn test_relay_form(
        &self,
        tenant: TenantId,
        form: RelayForm<'_>,
    ) -> Result<ConnectionTest, ServiceError> {
        let host = form.checked_host()?;
        let tls_mode = form.checked_options()?;
        self.service().accounts().tenant(tenant).await?;
        let password = match form.password.filter(|password| !password.is_empty()) {
            Some(password) => Zeroizing::new(password.to_owned()),
            None => match self.store.sealed_relay_password(tenant).await? {
                Some(sealed) => self.vault.open_secret(tenant, RELAY_PASSWORD, &sealed)?,
                None => Zeroizing::new(String::new()),
            },
        };
        let relay = RelaySettings {
            host,
            port: form.port,
            username: form.username.to_owned(),
            implicit_tls: form.implicit_tls,
            tls_mode,
            password_set: !password.is_empty(),
        };
        let config = relay_config(&relay, &password);
        Ok(test_relay_connection(&self.resolver, &config, &self.relay_test).await)
    }

    /// Connects to the tenant's own mail server, negotiates TLS, authenticates and quits, with
    /// a transcript whose secrets are redacted (SPEC S1.3). No mail is sent.
    pub async fn test_relay(&self, tenant: TenantId) -> Result<ConnectionTest, ServiceError> {
        self.service().accounts().tenant(tenant).await?;
        let (relay, password) = self
            .relay_credentials(tenant)
            .await?
            // A state to change first (switch to the own mail server), not a bad request.
            .ok_or_else(|| {
                ServiceError::Conflict(
                    "mode: the tenant does not use its own mail server".to_owned(),
                )
            })?;
        Ok(test_relay_connection(
            &self.resolver,
            &relay_config(&relay, &password),
            &self.relay_test,
        )
        .await)
    }
}
