-- A claim takes the due recipients in the fair queue's order: new mail before retries, each by
-- its place (migration 0021). Without an index in that order, every claim read all waiting
-- recipients and sorted them to keep a hundred: about 65 ms a claim behind a burst of 100,000,
-- with the write lock held throughout, so acceptance stalled while a backlog drained. This
-- index holds only the recipients a claim can take, in the order it takes them; the claim
-- names it (INDEXED BY), reads it from the front and stops at its limit, however deep the
-- queue or long the history. A retry not due yet is read past, as before.
CREATE INDEX recipients_claim_order
    ON recipients ((CASE WHEN attempts = 0 THEN 0 ELSE 1 END), fair_key)
    WHERE state IN ('queued', 'deferred', 'sending');
