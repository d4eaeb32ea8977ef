//! The request bodies of message submission (SPEC S6.2, S8.1).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A message described by its parts; Sealpost builds the MIME structure.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComposeRequest {
    /// `facilities@client.example` or `Facilities <facilities@client.example>`.
    pub from: String,
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    /// Recipients that receive the message without appearing in its headers.
    #[serde(default)]
    pub bcc: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    /// Extra `X-` or `List-Unsubscribe` headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentRequest>,
    /// The envelope sender; default: the From address.
    pub mail_from: Option<String>,
    /// Add one-click unsubscribe headers (RFC 8058), covered by the DKIM signature; the
    /// message may then have only one recipient, whom the link names.
    #[serde(default)]
    pub one_click_unsubscribe: bool,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRequest {
    pub filename: String,
    pub content_type: String,
    /// The content, base64-encoded.
    pub content_base64: String,
}

/// A ready RFC 5322 message with its envelope.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMessageRequest {
    pub mail_from: String,
    pub recipients: Vec<String>,
    /// The message as text (headers, blank line, body).
    pub raw: Option<String>,
    /// The message base64-encoded, for 8-bit content that is not UTF-8.
    pub raw_base64: Option<String>,
    /// Add one-click unsubscribe headers (RFC 8058), covered by the DKIM signature; the
    /// message may then have only one recipient, whom the link names.
    #[serde(default)]
    pub one_click_unsubscribe: bool,
}
