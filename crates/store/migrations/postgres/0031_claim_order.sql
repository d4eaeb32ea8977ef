-- A claim takes the due recipients in the fair queue's order: new mail before retries, each by
-- its place (migration 0021). With only the index on state and due time, every claim read all
-- waiting recipients through a bitmap and sorted them all (LockRows keeps PostgreSQL from
-- stopping the sort at the limit) to keep a hundred: 70 ms, with the sort spilled to disk, a
-- claim behind a burst of 100,000; and 33 ms beside 100,000 retries not due yet. Two indexes
-- hold only what a claim can take, each in the order it takes it: mail never tried by its
-- place, read from the front, locked as it goes and left at the claim's limit; and retries by
-- their due time, so only those due are read. The claim repeats each condition word for word
-- so the planner can prove the index usable.
--
-- The indexes are built inside the migration's transaction, so not CONCURRENTLY: on a large
-- recipients table the first start after the upgrade takes a while (seconds per million rows)
-- and holds back writes to the table meanwhile, while every node is stopped anyway.
CREATE INDEX recipients_claim_new ON recipients (fair_key)
    WHERE state IN ('queued', 'deferred') AND attempts = 0;
CREATE INDEX recipients_claim_retry ON recipients ((COALESCE(next_attempt_at, 0)))
    WHERE state IN ('queued', 'deferred') AND attempts <> 0;
