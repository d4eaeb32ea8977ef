-- A paused tenant's mail is held (SPEC S10.5), and the claim passed it over one row at a time:
-- the claim's indexes held every waiting recipient, and the claim read a paused tenant's from
-- the front of the new mail and among the due retries, at every claim, to leave them where they
-- were. Behind a paused tenant's 100,000 waiting messages every claim read 100,000 rows.
--
-- Pausing a tenant now marks its waiting mail held, and resuming it releases it; mail accepted
-- while its tenant is paused is held from the start. The claim's indexes leave held mail out, so
-- a claim never reads it. A recipient is held only while its tenant is paused, never otherwise,
-- or its mail would never go; the claim still checks the pause, and passes over a paused
-- tenant's mail that is not held. The mail of tenants paused now is marked at the first start,
-- in batches, as a pause marks it (`held_mail.rs`), not here in one statement.
ALTER TABLE recipients ADD COLUMN held BOOLEAN NOT NULL DEFAULT FALSE;
DROP INDEX recipients_claim_new;
DROP INDEX recipients_claim_retry;
CREATE INDEX recipients_claim_new ON recipients (fair_key)
    WHERE state IN ('queued', 'deferred') AND attempts = 0 AND NOT held;
CREATE INDEX recipients_claim_retry ON recipients ((COALESCE(next_attempt_at, 0)))
    WHERE state IN ('queued', 'deferred') AND attempts <> 0 AND NOT held;
-- Resuming finds the held mail of its tenant among the held alone, not among the tenant's
-- history.
CREATE INDEX recipients_held ON recipients (tenant_id) WHERE held;
