-- A claim takes the due recipients in the fair queue's order: new mail before retries, each by
-- its place (migration 0021). With only the index on state and due time, every claim read all
-- waiting recipients and sorted them to keep a hundred: 54 ms a claim behind a burst of
-- 100,000, with the write lock held throughout, so acceptance stalled while a backlog drained;
-- and 13 ms beside 100,000 retries not due yet, which it read one by one. Two indexes hold only
-- what a claim can take, each in the order it takes it: mail never tried by its place, read
-- from the front and no further than the claim's limit; and retries by their due time, so only
-- those due are read. The claim names each (INDEXED BY) and repeats its condition word for
-- word, which SQLite needs to use a partial index.
CREATE INDEX recipients_claim_new ON recipients (fair_key)
    WHERE state IN ('queued', 'deferred') AND attempts = 0;
CREATE INDEX recipients_claim_retry ON recipients ((COALESCE(next_attempt_at, 0)))
    WHERE state IN ('queued', 'deferred') AND attempts <> 0;
