-- A resume moved the expiry of every message its tenant had waiting on by the pause's length, in
-- one statement over that tenant's waiting mail: the longer the backlog, the longer the resume,
-- until on PostgreSQL it ran into the statement timeout and the tenant could not be resumed at
-- all. A resume now records the pause it ended, one row, and a message's expiry is read as the
-- time it was given at acceptance plus the paused time that fell after its acceptance, summed
-- over its tenant's pauses that ended after it and began before it expired, as the pauses before
-- them moved its expiry (`message_rows.rs`). Recorded pauses never overlap (`reputation.rs`).
-- Only an operator's resume writes a row, so the sum reads few rows of this index, which covers
-- it, however much mail waits.
CREATE TABLE tenant_pauses (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    paused_at  BIGINT NOT NULL,
    resumed_at BIGINT NOT NULL,
    CHECK (paused_at < resumed_at)
);

CREATE INDEX tenant_pauses_resumed ON tenant_pauses (tenant_id, resumed_at, paused_at);
