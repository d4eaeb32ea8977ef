-- Two reads that went through the index by state and read every recipient of a state:
--
-- The oldest waiting message, asked at every metrics scrape, read every waiting recipient for
-- the smallest acceptance time (100,000 of them behind a burst). By state and acceptance time,
-- each waiting state's oldest is the first entry of its range.
--
-- A claim's expired leases, and on SQLite the places of what it has just claimed, read every
-- recipient in flight for the few whose lease has run out or that carry the claim's token. By
-- lease end, among those in flight alone, both read only what they want: the leases ended before
-- now, and the leases the claim has just set.
--
-- The index by state and due time is replaced: the claim indexes of migration 0031 read
-- next_attempt_at, and the reads by state alone (the queue depth and the waiting mail by
-- domain for the metrics, a round's lease renewal, cancelling) go through the new index by state
-- and acceptance time as they went through the old one.
DROP INDEX recipients_due;
CREATE INDEX recipients_waiting ON recipients (state, accepted_at);
CREATE INDEX recipients_leases ON recipients (lease_until) WHERE state = 'sending';
