//! One-click unsubscribe (SPEC S10.4, RFC 8058). A message sent with it carries
//! `List-Unsubscribe` (an https link to the platform with a token, and a mailto address at the
//! inbound host when one is configured) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`,
//! added before signing so that the signature covers them. The token names the message and
//! carries an HMAC over the tenant and the message under a key derived from the master key, so
//! it cannot be made up; the message has one recipient, so the token names who unsubscribes.
//! Using it records an unsubscribe: the event, and the address on the tenant's suppression list.

use sealpost_domain::{Feedback, MessageId, TenantId, Uuid};
use sealpost_vault::Authenticator;

use crate::{FeedbackLoop, ServiceError};

const PURPOSE: &str = "sealpost/unsubscribe/v1";

/// Bytes of the tag in the token: 128 bits.
const TAG_BYTES: usize = 16;

fn signed_value(tenant: TenantId, message: MessageId) -> [u8; 32] {
    let mut value = [0u8; 32];
    value[..16].copy_from_slice(tenant.as_uuid().as_bytes());
    value[16..].copy_from_slice(message.as_uuid().as_bytes());
    value
}

/// The token of a message: `u-<message id>-<tag>`, also usable as a mailto local part.
fn token(key: &Authenticator, tenant: TenantId, message: MessageId) -> String {
    let tag = key.tag(&signed_value(tenant, message));
    format!(
        "u-{}-{}",
        message.as_uuid().simple(),
        hex::encode(&tag[..TAG_BYTES])
    )
}

/// The message a token names and its tag, when it has the shape of one.
fn parse(token: &str) -> Option<(MessageId, Vec<u8>)> {
    let token = token.to_ascii_lowercase();
    let (id, tag) = token.strip_prefix("u-")?.split_once('-')?;
    let id = Uuid::try_parse(id).ok()?;
    let tag = hex::decode(tag).ok()?;
    (tag.len() == TAG_BYTES).then(|| (MessageId::from(id), tag))
}

/// The headers to add to a message, with their line ends.
pub(crate) fn headers(
    key: &Authenticator,
    tenant: TenantId,
    message: MessageId,
    public_url: &str,
    inbound_host: Option<&str>,
) -> String {
    let token = token(key, tenant, message);
    let mut targets = format!("<{}/unsubscribe/{token}>", public_url.trim_end_matches('/'));
    if let Some(host) = inbound_host {
        targets.push_str(&format!(", <mailto:{token}@{host}>"));
    }
    format!("List-Unsubscribe: {targets}\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
}

impl FeedbackLoop {
    fn unsubscribe_key(&self) -> Authenticator {
        self.vault.authenticator(PURPOSE)
    }

    /// The headers for a new message of the tenant, or why it cannot have them.
    pub(crate) fn unsubscribe_headers(
        &self,
        tenant: TenantId,
        message: MessageId,
    ) -> Result<String, ServiceError> {
        let Some(public_url) = &self.public_url else {
            return Err(ServiceError::Invalid {
                field: "one_click_unsubscribe",
                message: "this platform has no public URL configured for unsubscribe links"
                    .to_owned(),
            });
        };
        let inbound = self.inbound_host.as_ref().map(ToString::to_string);
        Ok(headers(
            &self.unsubscribe_key(),
            tenant,
            message,
            public_url,
            inbound.as_deref(),
        ))
    }

    /// The tenant and message a token names, when it is genuine; `None` for anything else.
    pub async fn unsubscribe_target(
        &self,
        token: &str,
    ) -> Result<Option<(TenantId, MessageId)>, ServiceError> {
        let Some((message, tag)) = parse(token) else {
            return Ok(None);
        };
        let Some(tenant) = self.store.message_tenant(message).await? else {
            return Ok(None);
        };
        let genuine = self
            .unsubscribe_key()
            .verify_prefix(&signed_value(tenant, message), &tag);
        Ok(genuine.then_some((tenant, message)))
    }

    /// Unsubscribes the recipient a token names: an `unsubscribed` event and the address on the
    /// tenant's suppression list. Using a link twice changes nothing more.
    pub async fn unsubscribe(&self, token: &str) -> Result<(), ServiceError> {
        let (tenant, message) = self
            .unsubscribe_target(token)
            .await?
            .ok_or(ServiceError::NotFound("unsubscribe link"))?;
        let queued = self.store.message(tenant, message).await?;
        for recipient in &queued.recipients {
            self.record_feedback(
                tenant,
                recipient.id,
                Feedback::Unsubscribe,
                "one-click unsubscribe (RFC 8058)",
            )
            .await?;
        }
        Ok(())
    }

    /// Whether `address` is a mailto unsubscribe address at the inbound host, with a genuine
    /// token.
    pub(crate) async fn unsubscribe_address(
        &self,
        address: &sealpost_domain::EmailAddress,
    ) -> Result<Option<String>, ServiceError> {
        if self.inbound_host.as_ref() != Some(address.domain()) {
            return Ok(None);
        }
        let token = address.local_part().to_owned();
        Ok(self.unsubscribe_target(&token).await?.map(|_| token))
    }
}

#[cfg(test)]
mod tests {
    use sealpost_vault::{MasterKey, Vault};

    use super::*;

    #[test]
    fn tokens_name_their_message_and_cannot_be_made_up() {
        let vault = Vault::new(MasterKey::generate());
        let key = vault.authenticator(PURPOSE);
        let tenant = TenantId::from(Uuid::from_u128(1));
        let message = MessageId::from(Uuid::from_u128(2));
        let made = token(&key, tenant, message);
        let (named, tag) = parse(&made).unwrap();
        assert_eq!(named, message);
        assert!(key.verify_prefix(&signed_value(tenant, message), &tag));
        let other = TenantId::from(Uuid::from_u128(3));
        assert!(!key.verify_prefix(&signed_value(other, message), &tag));
        assert!(parse("u-nothex-00").is_none());
        assert!(parse(&made[..made.len() - 2]).is_none());
        let headers = headers(
            &key,
            tenant,
            message,
            "https://mail.platform.example/",
            Some("in.platform.example"),
        );
        assert!(headers.starts_with(&format!(
            "List-Unsubscribe: <https://mail.platform.example/unsubscribe/{made}>, <mailto:{made}@in.platform.example>\r\n"
        )), "{headers}");
        assert!(headers.ends_with("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
    }
}
