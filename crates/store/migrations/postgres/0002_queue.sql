-- The durable queue (SPEC S1, S9.3): accepted messages exactly as they will be sent, the
-- delivery state of each recipient with its lease, every attempt, and delivery events.

CREATE TABLE messages (
    id               TEXT PRIMARY KEY NOT NULL,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    mail_from        TEXT NOT NULL,
    raw              BYTEA NOT NULL,
    size             BIGINT NOT NULL,
    signed           BOOLEAN NOT NULL,
    signing_domain   TEXT,
    signing_selector TEXT,
    unsigned_code    TEXT,
    unsigned_reason  TEXT,
    route            TEXT NOT NULL,
    source           TEXT NOT NULL,
    idempotency_key  TEXT,
    accepted_at      BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);

CREATE INDEX messages_tenant ON messages (tenant_id, accepted_at);

CREATE TABLE recipients (
    id              TEXT PRIMARY KEY NOT NULL,
    message_id      TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    tenant_id       TEXT NOT NULL,
    position        BIGINT NOT NULL,
    address         TEXT NOT NULL,
    domain          TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT,
    last_reply      TEXT,
    lease_owner     TEXT,
    lease_until     BIGINT,
    lease_token     TEXT,
    updated_at      BIGINT NOT NULL
);

CREATE INDEX recipients_message ON recipients (message_id);
CREATE INDEX recipients_due ON recipients (state, next_attempt_at);

CREATE TABLE attempts (
    id           TEXT PRIMARY KEY NOT NULL,
    recipient_id TEXT NOT NULL REFERENCES recipients (id) ON DELETE CASCADE,
    message_id   TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT NOT NULL,
    outcome      TEXT NOT NULL,
    reply        TEXT NOT NULL,
    host         TEXT
);

CREATE INDEX attempts_recipient ON attempts (recipient_id);

CREATE TABLE events (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    recipient_id TEXT,
    kind         TEXT NOT NULL,
    detail       TEXT NOT NULL,
    at           BIGINT NOT NULL
);

CREATE INDEX events_tenant ON events (tenant_id, id);
