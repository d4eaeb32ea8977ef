//! Webhooks (SPEC S10.6): the event types a tenant's endpoint can subscribe to, the endpoint as
//! a stored fact, and the rule for its URL. Every state change of a recipient and of a signing
//! domain or key is one event type; the store names the type when it commits the change, so
//! the outbox row and the change are one transaction.

use std::fmt;
use std::net::IpAddr;

use crate::{TenantId, Timestamp, WebhookEndpointId};

macro_rules! event_types {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// What happened, as an endpoint subscribes to it and receives it in `type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $(#[doc = $doc] $variant,)*
        }

        impl EventType {
            pub const ALL: &[Self] = &[$(Self::$variant,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }
    };
}

event_types! {
    Accepted => "message.accepted", "A message was accepted and committed.";
    Delivered => "message.delivered", "A receiving server accepted a recipient (250).";
    Deferred => "message.deferred", "A recipient failed for now; it is tried again later.";
    Failed => "message.failed", "A recipient failed for good during delivery.";
    Expired => "message.expired", "A recipient was still failing when its retry window ended.";
    Bounced => "message.bounced", "A bounce came back after delivery (SPEC S10.2).";
    SoftBounced => "message.soft_bounced", "A temporary failure came back after delivery.";
    Complained => "message.complained", "The recipient reported the message as spam.";
    Suppressed => "message.suppressed", "A recipient was not sent: its address is suppressed.";
    Unsubscribed => "message.unsubscribed", "The recipient unsubscribed.";
    Retried => "message.retried", "Deferred recipients were made due now by hand.";
    Cancelled => "message.cancelled", "Waiting recipients were cancelled by hand.";
    KeyPending => "key.pending", "A key waits for its DNS record.";
    KeyRotationStarted => "key.rotation_started",
        "An automatic rotation added a key; the detail says which record to publish, if any.";
    KeyActive => "key.active", "A key signs.";
    KeyRetiring => "key.retiring", "A key no longer signs; its record must stay.";
    KeyRetired => "key.retired", "A key's record may be removed from DNS.";
    DomainPending => "domain.pending", "A domain's records are not verified yet.";
    DomainVerified => "domain.verified", "A domain's records were found as needed.";
    DomainWarning => "domain.warning", "A verified domain's records failed a re-check.";
    DomainFailed => "domain.failed", "A domain's records kept failing past the grace period.";
    DomainRecordChanged => "domain.record_changed",
        "A re-check found a record beside DKIM (SPF, DMARC, the return path) changed.";
    DomainActivated => "domain.activated", "Signing was switched on.";
    DomainDeactivated => "domain.deactivated", "Signing was switched off.";
    Test => "test", "A test event sent by hand to check an endpoint.";
}

impl EventType {
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|kind| kind.name() == name)
    }

    /// The type of a message event as the queue records it (`sent`, `bounced`, `retry`, ...).
    pub fn of_message_event(kind: &str) -> Option<Self> {
        Some(match kind {
            "accepted" => Self::Accepted,
            "sent" => Self::Delivered,
            "deferred" => Self::Deferred,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            "bounced" => Self::Bounced,
            "soft_bounced" => Self::SoftBounced,
            "complained" => Self::Complained,
            "suppressed" => Self::Suppressed,
            "unsubscribed" => Self::Unsubscribed,
            "retry" => Self::Retried,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// The event types an endpoint wants: every one, or a chosen set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTypes {
    All,
    Only(Vec<EventType>),
}

impl EventTypes {
    /// Reads names as the API takes them; an empty list or `*` means every type.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut chosen = Vec::new();
        for name in names {
            let name = name.trim();
            if name == "*" {
                return Ok(Self::All);
            }
            let kind = EventType::parse(name).ok_or_else(|| {
                format!("{name:?} is not an event type; the types are listed in the API document")
            })?;
            if !chosen.contains(&kind) {
                chosen.push(kind);
            }
        }
        chosen.sort();
        Ok(match chosen.is_empty() {
            true => Self::All,
            false => Self::Only(chosen),
        })
    }

    /// The stored form: `*`, or `,a,b,` so that one `LIKE '%,a,%'` finds the subscribers of a.
    pub fn stored(&self) -> String {
        match self {
            Self::All => "*".to_owned(),
            Self::Only(kinds) => {
                let names: Vec<&str> = kinds.iter().map(|kind| kind.name()).collect();
                format!(",{},", names.join(","))
            }
        }
    }

    /// Reads the stored form; unknown names (of a later version) are left out.
    pub fn from_stored(text: &str) -> Self {
        match text {
            "*" => Self::All,
            _ => Self::Only(text.split(',').filter_map(EventType::parse).collect()),
        }
    }

    pub fn names(&self) -> Vec<&'static str> {
        match self {
            Self::All => vec!["*"],
            Self::Only(kinds) => kinds.iter().map(|kind| kind.name()).collect(),
        }
    }
}

/// A tenant's webhook endpoint as stored; its secrets are sealed and read elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub tenant_id: TenantId,
    pub url: String,
    pub event_types: EventTypes,
    pub enabled: bool,
    /// Why it was switched off, when the platform did it (days of failed deliveries).
    pub disabled_reason: Option<String>,
    /// Until when the previous secret still signs beside the current one (a rotation).
    pub previous_until: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// Why a URL cannot be a webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    #[error(
        "enter a full URL starting with https:// (or http://), such as https://app.client.example/hooks"
    )]
    Scheme,
    #[error("the URL has no host name")]
    NoHost,
    #[error(
        "the URL may not contain a user name or password; put credentials in the path or rely on the signature"
    )]
    Credentials,
    #[error("the URL is longer than 2,000 characters")]
    TooLong,
    #[error(
        "{0} is a private, loopback or link-local address, which webhooks may not reach on this platform"
    )]
    Private(IpAddr),
}

/// The URL rule for endpoints: http or https, a host, no credentials; an address literal must
/// be public unless the operator allows private ones. Names are checked again when they resolve,
/// at every delivery.
pub fn check_webhook_url(url: &str, allow_private: bool) -> Result<(), WebhookUrlError> {
    if url.len() > 2000 {
        return Err(WebhookUrlError::TooLong);
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or(WebhookUrlError::Scheme)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(WebhookUrlError::Credentials);
    }
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return Err(WebhookUrlError::NoHost);
    }
    if let Ok(ip) = host.parse::<IpAddr>()
        && !allow_private
        && !is_public(ip)
    {
        return Err(WebhookUrlError::Private(ip));
    }
    Ok(())
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared
/// (100.64/10), unspecified, multicast or documentation space, also inside an IPv4-mapped IPv6
/// address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_message_events_map() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.name()), Some(*kind));
        }
        assert_eq!(
            EventType::of_message_event("sent"),
            Some(EventType::Delivered)
        );
        assert_eq!(EventType::of_message_event("sending"), None);
    }

    #[test]
    fn event_type_sets_store_so_that_like_finds_them() {
        let chosen =
            EventTypes::parse(["message.bounced", "message.delivered", "message.bounced"]).unwrap();
        assert_eq!(chosen.stored(), ",message.delivered,message.bounced,");
        assert_eq!(EventTypes::from_stored(&chosen.stored()), chosen);
        assert_eq!(EventTypes::parse([]).unwrap(), EventTypes::All);
        assert_eq!(EventTypes::parse(["*"]).unwrap().stored(), "*");
        assert!(
            EventTypes::parse(["message.opened"])
                .unwrap_err()
                .contains("message.opened")
        );
    }

    #[test]
    fn urls_need_a_scheme_a_host_and_a_public_address() {
        assert_eq!(
            check_webhook_url("https://app.client.example/hooks", false),
            Ok(())
        );
        assert_eq!(
            check_webhook_url("ftp://x", false),
            Err(WebhookUrlError::Scheme)
        );
        assert_eq!(
            check_webhook_url("https:///x", false),
            Err(WebhookUrlError::NoHost)
        );
        assert_eq!(
            check_webhook_url("https://user:pw@app.example/", false),
            Err(WebhookUrlError::Credentials)
        );
        for private in [
            "http://127.0.0.1:8080/",
            "http://10.1.2.3/",
            "http://[::1]/",
            "http://169.254.169.254/",
            "http://[::ffff:192.168.1.1]/",
        ] {
            assert!(
                matches!(
                    check_webhook_url(private, false),
                    Err(WebhookUrlError::Private(_))
                ),
                "{private}"
            );
            assert_eq!(check_webhook_url(private, true), Ok(()), "{private}");
        }
        assert_eq!(check_webhook_url("https://93.184.215.14/", false), Ok(()));
    }
}
