-- The suppression list (SPEC S10.3): per tenant, the addresses it no longer mails, why (a hard
-- bounce, a complaint, an unsubscribe, or an entry added by hand), when, and the message that
-- caused it. Addresses are kept in lowercase, the form in which they are looked up. The causing
-- message is not a foreign key: the entry outlives the message.

CREATE TABLE suppressions (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    address    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    message_id TEXT,
    detail     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, address),
    CHECK (reason IN ('hard_bounce', 'complaint', 'unsubscribe', 'manual'))
);

CREATE INDEX suppressions_created ON suppressions (tenant_id, created_at);
