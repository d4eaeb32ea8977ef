-- Lists that page and search on the server (issue 16, item 4). Each message keeps its decoded
-- Subject beside its source, so a search reads a column instead of every message's source.
-- Rows accepted before this migration get theirs when the store opens (decoding a Subject
-- needs a MIME parser, which SQL lacks); the partial index finds them without a scan.
-- Every list is read in its page order by (tenant, time, id) or (tenant, name, email), which
-- these indexes serve; the old (tenant, time) indexes are covered by the new ones.

ALTER TABLE messages ADD COLUMN subject TEXT;
CREATE INDEX messages_subject_missing ON messages (id) WHERE subject IS NULL;

DROP INDEX messages_tenant;
-- The page index also holds what a search reads of a message, so that searching reads the
-- index and never a row (in SQLite a row's later columns sit behind its source, which can be
-- megabytes long).
CREATE INDEX messages_tenant_page ON messages (tenant_id, accepted_at, id, subject, mail_from);
CREATE INDEX recipients_message_state ON recipients (message_id, state);

DROP INDEX mailings_tenant;
CREATE INDEX mailings_tenant_page ON mailings (tenant_id, created_at, id);
CREATE INDEX mailing_recipients_message ON mailing_recipients (message_id);
CREATE INDEX contacts_tenant_name ON contacts (tenant_id, name, email);

DROP INDEX checker_reports_tenant;
CREATE INDEX checker_reports_tenant_page ON checker_reports (tenant_id, received_at, id);
