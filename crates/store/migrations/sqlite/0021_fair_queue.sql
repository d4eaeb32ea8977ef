-- Fair queueing between tenants (SPEC S12). Every recipient gets a place in a virtual time when
-- it is accepted: one past the later of the place served last (queue_clock, moved on by each
-- claim) and the tenant's own last place. A tenant's burst takes places far ahead, so another
-- tenant's next message lands just past what was served and goes out in the next round. Claims
-- take new mail before retries, each in the order of these places.
ALTER TABLE recipients ADD COLUMN fair_key INTEGER NOT NULL DEFAULT 0;
CREATE INDEX recipients_tenant_fair ON recipients (tenant_id, fair_key);
CREATE TABLE queue_clock (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    served INTEGER NOT NULL
);
INSERT INTO queue_clock (id, served) VALUES (1, 0);
