-- A claim takes the due recipients in the fair queue's order: new mail before retries, each by
-- its place (migration 0021). Without an index in that order, every claim read all waiting
-- recipients through a bitmap and sorted them all (LockRows keeps PostgreSQL from stopping the
-- sort at the limit) to keep a hundred: about 60 ms and a sort spilled to disk per claim behind
-- a burst of 100,000. This index holds only the recipients a claim can take, in the order it
-- takes them, so the planner reads it from the front, locks as it goes and stops at the limit.
-- The claim repeats this index's condition so the planner can prove it is usable. A retry not
-- due yet is read past, as before.
--
-- Built inside the migration's transaction, so not CONCURRENTLY: on a large recipients table
-- the build holds back writes to it for its duration (seconds per million rows).
CREATE INDEX recipients_claim_order
    ON recipients ((CASE WHEN attempts = 0 THEN 0 ELSE 1 END), fair_key)
    WHERE state IN ('queued', 'deferred', 'sending');
