-- Webhooks (SPEC S10.6). An endpoint is one tenant's URL with the event types it wants; its
-- signing secret is sealed with the master key (bound to the tenant and the endpoint), and during
-- a rotation the previous secret stays, sealed too, until previous_until.
--
-- webhook_outbox is the durable outbox: a row per event and subscribed endpoint, inserted in the
-- same transaction as the state change it reports (by the store's event macros), then delivered
-- with retries. stream orders delivery: a row is sent only when no earlier row of its endpoint
-- and stream (a message, a signing domain) is still pending.

CREATE TABLE webhook_endpoints (
    id                     TEXT PRIMARY KEY NOT NULL,
    tenant_id              TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url                    TEXT NOT NULL,
    -- '*' for every type, else ',type,type,' so that one LIKE finds a subscriber.
    event_types            TEXT NOT NULL,
    secret_sealed          BLOB NOT NULL,
    previous_secret_sealed BLOB,
    previous_until         INTEGER,
    enabled                BOOLEAN NOT NULL,
    disabled_reason        TEXT,
    created_at             INTEGER NOT NULL
);

CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id);

CREATE TABLE webhook_outbox (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id       TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    tenant_id         TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    stream            TEXT NOT NULL,
    message_id        TEXT,
    recipient_id      TEXT,
    signing_domain_id TEXT,
    detail            TEXT NOT NULL,
    event_at          INTEGER NOT NULL,
    -- pending, delivered, failed (given up after the retry window)
    state             TEXT NOT NULL,
    attempts          INTEGER NOT NULL,
    next_attempt_at   INTEGER NOT NULL,
    leased_until      INTEGER,
    lease_token       TEXT,
    last_status       TEXT,
    created_at        INTEGER NOT NULL
);

CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt_at);
CREATE INDEX webhook_outbox_stream ON webhook_outbox (endpoint_id, stream, state, id);

CREATE TABLE webhook_attempts (
    id             TEXT PRIMARY KEY NOT NULL,
    outbox_id      INTEGER NOT NULL REFERENCES webhook_outbox (id) ON DELETE CASCADE,
    endpoint_id    TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL,
    at             INTEGER NOT NULL,
    -- The HTTP status, or NULL when no answer came (the error says why).
    status         INTEGER,
    latency_ms     INTEGER NOT NULL,
    response       TEXT NOT NULL,
    error          TEXT
);

CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, at);
