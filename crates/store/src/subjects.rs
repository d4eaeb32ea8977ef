//! The decoded Subject kept beside each message, so that searching the message list reads a
//! column rather than every source: written when a message is accepted, and filled in when the
//! store opens for messages accepted before the column existed.

use sealpost_domain::{MessageId, MessageSummary};

use crate::{Store, StoreError, with_reader, with_writer};

/// How many messages one pass of the fill reads.
const FILL_BATCH: i64 = 500;

/// The message's Subject as a person reads it: unfolded, with RFC 2047 encoded words decoded;
/// empty when it has none. Only the header block is parsed.
pub(crate) fn subject_of(raw: &[u8]) -> String {
    let head = &raw[..raw.len().min(MessageSummary::HEAD_BYTES)];
    mail_parser::MessageParser::new()
        .parse_headers(head)
        .and_then(|message| message.subject().map(str::to_owned))
        .unwrap_or_default()
}

impl Store {
    /// Gives every message without a stored Subject its own, in batches; returns how many were
    /// filled. It spans tenants, like the queue's work, because it is the store's own upkeep.
    pub(crate) async fn fill_missing_subjects(&self) -> Result<u64, StoreError> {
        let mut filled = 0;
        loop {
            let batch: Vec<(MessageId, Vec<u8>)> = with_reader!(self, pool => {
                sqlx::query_as(
                    "SELECT m.id, substr(s.raw, 1, 8192) FROM messages m \
                     JOIN message_sources s ON s.message_id = m.id \
                     WHERE m.subject IS NULL LIMIT $1",
                )
                .bind(FILL_BATCH)
                .fetch_all(pool)
                .await?
            });
            if batch.is_empty() {
                return Ok(filled);
            }
            for (id, head) in batch {
                with_writer!(self, pool => {
                    sqlx::query("UPDATE messages SET subject = $1 WHERE id = $2")
                        .bind(subject_of(&head))
                        .bind(id)
                        .execute(pool)
                        .await?;
                });
                filled += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::subject_of;

    #[test]
    fn subjects_are_unfolded_and_decoded() {
        assert_eq!(
            subject_of(b"From: a@b.example\r\nSubject: =?utf-8?b?R3LDvMOfZQ==?=\r\n\r\nBody"),
            "Grüße"
        );
        assert_eq!(
            subject_of(b"Subject: Work\r\n order 17\r\nTo: c@d.example\r\n\r\n"),
            "Work order 17"
        );
        assert_eq!(subject_of(b"To: c@d.example\r\n\r\nNo subject"), "");
    }
}
