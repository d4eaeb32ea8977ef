-- A mailing sends one message per recipient contact, so that no recipient sees the others'
-- addresses; each recipient row records its own queued message. Mailings sent before this
-- change went out as one message to all their recipients: each recipient row points at it.

ALTER TABLE mailing_recipients ADD COLUMN message_id TEXT REFERENCES messages (id) ON DELETE SET NULL;

UPDATE mailing_recipients
SET message_id = (SELECT mailings.message_id FROM mailings WHERE mailings.id = mailing_recipients.mailing_id);
