-- Each tenant's delivered, bounced and complained recipients per hour (`sending_counts.rs`).
-- The reputation guard judged a tenant's window by counting its events after every bounce and
-- complaint, which read every delivery of the window each time. Every event of these kinds now
-- adds to its hour's row in the transaction that inserts it; the rows start from the events
-- already stored, so the counts agree with them from the first judgement on. Like the events,
-- the rows are kept until their tenant is deleted: one row per tenant and active hour, where the
-- events are one row per message. Events are timed by the clock, never before 1970; the count
-- leaves earlier times out, since SQL's division rounds them towards zero where the hours the
-- service counts round down.
CREATE TABLE sending_counts (
    tenant_id  TEXT NOT NULL,
    hour       BIGINT NOT NULL,
    sent       BIGINT NOT NULL,
    bounced    BIGINT NOT NULL,
    complained BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, hour)
);
INSERT INTO sending_counts (tenant_id, hour, sent, bounced, complained)
SELECT tenant_id, at / 3600,
       SUM(CASE WHEN kind = 'sent' THEN 1 ELSE 0 END),
       SUM(CASE WHEN kind = 'bounced' THEN 1 ELSE 0 END),
       SUM(CASE WHEN kind = 'complained' THEN 1 ELSE 0 END)
FROM events
WHERE kind IN ('sent', 'bounced', 'complained') AND at >= 0
GROUP BY tenant_id, at / 3600;
