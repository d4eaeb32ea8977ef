//! A tenant's delivery settings. The sealed relay password is written with the settings and
//! read only by [`Store::sealed_relay_password`]; reading the settings never selects it.

use sealpost_domain::{DeliveryMode, RelaySettings, TenantId, Timestamp, TlsMode};

use crate::{Store, StoreError, with_reader, with_writer};

#[derive(sqlx::FromRow)]
struct SettingsRow {
    mode: String,
    host: Option<String>,
    port: Option<i64>,
    username: Option<String>,
    password_set: bool,
    implicit_tls: bool,
    tls_mode: String,
}

impl SettingsRow {
    fn into_mode(self) -> Result<DeliveryMode, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("delivery settings: {what}"));
        match self.mode.as_str() {
            "native" => Ok(DeliveryMode::Native),
            "relay" => Ok(DeliveryMode::Relay(RelaySettings {
                host: self.host.ok_or_else(|| corrupt("relay without host"))?,
                port: self
                    .port
                    .and_then(|port| u16::try_from(port).ok())
                    .ok_or_else(|| corrupt("port"))?,
                username: self.username.unwrap_or_default(),
                implicit_tls: self.implicit_tls,
                tls_mode: TlsMode::parse(&self.tls_mode).ok_or_else(|| corrupt("tls mode"))?,
                password_set: self.password_set,
            })),
            other => Err(corrupt(other)),
        }
    }
}

impl Store {
    /// The tenant's delivery mode; native when it never chose one.
    pub async fn delivery_mode(&self, tenant: TenantId) -> Result<DeliveryMode, StoreError> {
        let row: Option<SettingsRow> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT mode, host, port, username, sealed_password IS NOT NULL AS password_set, \
                 implicit_tls, tls_mode FROM delivery_settings WHERE tenant_id = $1",
            )
            .bind(tenant)
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some(row) => row.into_mode(),
            None => Ok(DeliveryMode::Native),
        }
    }

    /// The own mail server's settings as stored, whatever the mode: while the tenant delivers
    /// natively they are kept, disabled, for switching back. `None` when none were ever saved.
    pub async fn kept_relay(&self, tenant: TenantId) -> Result<Option<RelaySettings>, StoreError> {
        let row: Option<SettingsRow> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT 'relay' AS mode, host, port, username, \
                 sealed_password IS NOT NULL AS password_set, implicit_tls, tls_mode \
                 FROM delivery_settings WHERE tenant_id = $1 AND host IS NOT NULL",
            )
            .bind(tenant)
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some(row) => match row.into_mode()? {
                DeliveryMode::Relay(relay) => Ok(Some(relay)),
                DeliveryMode::Native => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// Saves the tenant's delivery mode. `sealed_password` replaces the stored one when given;
    /// `None` keeps it, so a form that does not show the password does not erase it. Switching
    /// to native keeps every relay field (TLS choices included), so switching back does not
    /// lose them.
    pub async fn set_delivery_mode(
        &self,
        tenant: TenantId,
        mode: &DeliveryMode,
        sealed_password: Option<&[u8]>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (mode_text, relay) = match mode {
            DeliveryMode::Native => ("native", None),
            DeliveryMode::Relay(relay) => ("relay", Some(relay)),
        };
        with_writer!(self, pool => {
            sqlx::query(
                "INSERT INTO delivery_settings (tenant_id, mode, host, port, username, \
                 sealed_password, implicit_tls, tls_mode, updated_at) \
                 SELECT id, $2, $3, $4, $5, $6, $7, $8, $9 FROM tenants WHERE id = $1 \
                 ON CONFLICT (tenant_id) DO UPDATE SET mode = excluded.mode, \
                 host = COALESCE(excluded.host, delivery_settings.host), \
                 port = COALESCE(excluded.port, delivery_settings.port), \
                 username = COALESCE(excluded.username, delivery_settings.username), \
                 sealed_password = COALESCE(excluded.sealed_password, delivery_settings.sealed_password), \
                 implicit_tls = CASE WHEN excluded.mode = 'native' \
                 THEN delivery_settings.implicit_tls ELSE excluded.implicit_tls END, \
                 tls_mode = CASE WHEN excluded.mode = 'native' \
                 THEN delivery_settings.tls_mode ELSE excluded.tls_mode END, \
                 updated_at = excluded.updated_at",
            )
            .bind(tenant)
            .bind(mode_text)
            .bind(relay.map(|relay| relay.host.as_str()))
            .bind(relay.map(|relay| i64::from(relay.port)))
            .bind(relay.map(|relay| relay.username.as_str()))
            .bind(sealed_password)
            .bind(relay.is_some_and(|relay| relay.implicit_tls))
            .bind(relay.map_or("default", |relay| relay.tls_mode.as_str()))
            .bind(now.0)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The sealed relay password, for the moment of connecting.
    pub async fn sealed_relay_password(
        &self,
        tenant: TenantId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Option<Vec<u8>>,)> = with_reader!(self, pool => {
            sqlx::query_as("SELECT sealed_password FROM delivery_settings WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.and_then(|(sealed,)| sealed))
    }
}

#[cfg(test)]
mod tests {
    use sealpost_domain::{DeliveryMode, RelaySettings, Timestamp, TlsMode};

    use crate::tests::{for_each_backend, tenant};

    #[tokio::test]
    async fn switching_to_native_keeps_the_relay_settings_disabled() {
        for_each_backend(|store| async move {
            let acme = tenant("acme");
            store.create_tenant(&acme).await.unwrap();
            assert_eq!(store.kept_relay(acme.id).await.unwrap(), None);
            let relay = RelaySettings {
                host: "smtp.client.test".to_owned(),
                port: 465,
                username: "facilities".to_owned(),
                implicit_tls: true,
                tls_mode: TlsMode::Required,
                password_set: true,
            };
            let mode = DeliveryMode::Relay(relay.clone());
            store
                .set_delivery_mode(acme.id, &mode, Some(b"sealed"), Timestamp(1))
                .await
                .unwrap();
            store
                .set_delivery_mode(acme.id, &DeliveryMode::Native, None, Timestamp(2))
                .await
                .unwrap();

            assert_eq!(
                store.delivery_mode(acme.id).await.unwrap(),
                DeliveryMode::Native
            );
            assert_eq!(store.kept_relay(acme.id).await.unwrap(), Some(relay));
            assert_eq!(
                store.sealed_relay_password(acme.id).await.unwrap(),
                Some(b"sealed".to_vec())
            );
        })
        .await;
    }
}
