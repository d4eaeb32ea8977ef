-- Sealpost foundation schema for SQLite: tenants, their API keys and their signing domains.
-- Identifiers are UUID text; times are seconds since the Unix epoch.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
);

CREATE TABLE tenants (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    label      TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE signing_domains (
    id                  TEXT PRIMARY KEY NOT NULL,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    domain              TEXT NOT NULL,
    selector            TEXT NOT NULL,
    active              BOOLEAN NOT NULL,
    version             INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    key_id              TEXT,
    key_public_der      BLOB,
    key_bits            INTEGER,
    key_origin          TEXT,
    key_created_at      INTEGER,
    key_encrypted_pkcs8 TEXT,
    key_sealed_password BLOB,
    UNIQUE (tenant_id, domain, selector),
    CHECK (active = 0 OR key_id IS NOT NULL)
);
