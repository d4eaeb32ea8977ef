-- Reads that run on a schedule or for every event, found reading whole tables that only grow:
--
-- A webhook round reads back the rows it has just leased by their lease token, which no index
-- held: every round read the whole outbox, delivered history included, which nothing purges
-- (17 ms on SQLite and 23 ms on PostgreSQL at 200,000 rows, four times a second when idle).
CREATE INDEX webhook_outbox_lease ON webhook_outbox (lease_token)
    WHERE lease_token IS NOT NULL;
-- Deleting an outbox row (with its endpoint, or with its tenant) deletes its attempts, found by
-- the outbox row, which no index held: each deleted row read every attempt ever logged, about
-- 20 ms a row at 290,000 attempts, inside the deleting transaction.
CREATE INDEX webhook_attempts_outbox ON webhook_attempts (outbox_id);
-- After each failed delivery the endpoint's last success is asked; through the index of all its
-- attempts that walked back past every failure since (65 ms behind 200,000 failures). Its
-- successes alone, by time, answer at once.
CREATE INDEX webhook_attempts_success ON webhook_attempts (endpoint_id, at)
    WHERE status >= 200 AND status < 300;
-- Deleting a message (with its tenant) clears its mention in mailings and mail tester
-- addresses, found by message, which no index held: each deleted message read both tables.
CREATE INDEX mailings_message ON mailings (message_id);
CREATE INDEX checker_addresses_message ON checker_addresses (message_id);
-- A webhook round took the due rows through the index by state and due time, and so read past
-- every pending row of a disabled endpoint (they wait until it is enabled again) on every
-- round. The round now starts from the enabled endpoints and reads each one's pending rows by
-- due time.
CREATE INDEX webhook_outbox_pending ON webhook_outbox (endpoint_id, next_attempt_at)
    WHERE state = 'pending';
