-- Each message's source in a table of its own. SQLite keeps a row's columns in order, and a
-- column stored after a large BLOB is reached only by walking the BLOB's chain of overflow
-- pages: with the source inside `messages`, every list, figure and claim that read a message's
-- small columns read its whole source as well. Both backends keep the same schema.
CREATE TABLE message_sources (
    message_id TEXT PRIMARY KEY NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL,
    raw        BYTEA NOT NULL
);
INSERT INTO message_sources (message_id, tenant_id, raw) SELECT id, tenant_id, raw FROM messages;
ALTER TABLE messages DROP COLUMN raw;
